/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-vol-io.h: a volume's bytes through libvirt streams.
 */
#pragma once

#include "dc-util.h"

G_BEGIN_DECLS

gboolean dc_vol_io_send (virStreamPtr out, const char *data, size_t len, const char *dst, GError **error);
gboolean dc_vol_io_stream (virStorageVolPtr src, virStorageVolPtr dst, gsize *done, GError **error);
GBytes *dc_vol_io_download (virConnectPtr conn, virStorageVolPtr vol, guint64 offset, guint64 length,
                            GError **error);
gboolean dc_vol_io_upload (virConnectPtr conn, virStorageVolPtr vol, GBytes *bytes, GError **error);

G_END_DECLS
