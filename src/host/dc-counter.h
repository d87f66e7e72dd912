/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-counter.h: the clone counter in the source's domclone metadata.
 */
#pragma once

#include "dc-run-priv.h"

G_BEGIN_DECLS

gboolean dc_counter_count (DcRun *run, const char *source_name, guint64 number, guint64 *counter,
                           GError **error);

G_END_DECLS
