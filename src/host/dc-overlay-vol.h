/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-overlay-vol.h: qcow2 volumes (overlays, copies) written here into
 * raw volumes libvirt made, and libvirt brought to see them as its own.
 */
#pragma once

#include "dc-run-priv.h"
#include "dc-copy.h"

G_BEGIN_DECLS

char *dc_overlay_vol_here (DcRun *run, const DcCopy *copy, gboolean local, guint64 *capacity,
                           gboolean *prove);
GPtrArray *dc_overlay_vol_list_new (void);
void dc_overlay_vol_written (DcRun *run, const DcCopy *copy, virStorageVolPtr vol);
gboolean dc_overlay_vol_fill (DcRun *run, const DcCopy *copy, virStorageVolPtr dst, const char *path,
                              guint64 capacity, gboolean prove, DcCopyWay *way, GError **error);
gboolean dc_overlay_vol_settle (DcRun *run, GError **error);

G_END_DECLS
