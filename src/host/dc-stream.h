/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "dc-util.h"

G_BEGIN_DECLS

gboolean dc_stream_copy (virConnectPtr conn, virStorageVolPtr src, virStorageVolPtr dst, gsize *done,
                         GError **error);

G_END_DECLS
