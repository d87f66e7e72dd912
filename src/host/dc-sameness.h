/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-sameness.h: whether a directory this process sees is the one the
 * daemon sees (see dc-sameness.c).
 */
#pragma once

#include "dc-run-priv.h"

G_BEGIN_DECLS

typedef enum
{
  DC_SAME_UNKNOWN = 0,
  DC_SAME_PROVEN,
  DC_SAME_DISPROVEN,
} DcSame;

DcSame dc_sameness_of_dir (DcRun *run, const char *pool_name, const char *open_dir, const char *dir);
void dc_sameness_name_scratch (DcRun *run, GPtrArray *volumes, DcBuilding *building);
DcSame dc_sameness_known (DcRun *run, const char *dir);
DcSame dc_sameness_prove_with (DcRun *run, virStorageVolPtr vol, const char *path);

G_END_DECLS
