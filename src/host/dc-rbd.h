/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-rbd.h: Ceph RBD images through librbd and librados.
 */
#pragma once

#include "dc-env-iface.h"
#include "dc-rbdsrc.h"
#include "dc-util.h"

G_BEGIN_DECLS

/* A connection to one Ceph cluster */
typedef struct _DcRbdConn DcRbdConn;

DcRbdConn *dc_rbd_connect (virConnectPtr conn, const DcRbdSource *src, GError **error);
void dc_rbd_conn_free (DcRbdConn *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcRbdConn, dc_rbd_conn_free)
const char *dc_rbd_conn_how (const DcRbdConn *c);

gboolean dc_rbd_stat (DcRbdConn *c, const DcRbdSource *src, DcRbdImage *out, GError **error);
gboolean dc_rbd_deep_copy (DcRbdConn *c, const DcRbdSource *src, const char *dst, gsize *done,
                           GError **error);
gboolean dc_rbd_clone (DcRbdConn *c, const DcRbdSource *src, const char *dst, GError **error);
gboolean dc_rbd_remove (DcRbdConn *c, const DcRbdSource *src, GError **error);
gboolean dc_rbd_snap_make (DcRbdConn *c, const DcRbdSource *src, gboolean *made, GError **error);
gboolean dc_rbd_snap_drop (DcRbdConn *c, const DcRbdSource *src, GError **error);

gboolean dc_rbd_remove_image (virConnectPtr conn, const DcRbdSource *src, GError **error);

G_END_DECLS
