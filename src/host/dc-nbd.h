/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-nbd.h: a disk exported over NBD (a pull-mode backup job's) read
 * into a volume through a sparse libvirt stream.
 */
#pragma once

#include "dc-util.h"

G_BEGIN_DECLS

gboolean dc_nbd_to_volume (const char *socket, const char *host, guint port, const char *export,
                           virStorageVolPtr dst, gsize *done, GError **error);

G_END_DECLS
