/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "dc-metadata.h"
#include "dc-scan.h"
#include "dc-util.h"

G_BEGIN_DECLS

/* how long --cleanup waits for libvirt to finish a leftover copy */
#define DC_CLEANUP_WAIT_SECONDS 3600

typedef enum
{
  DC_BUILDER_ALIVE,
  DC_BUILDER_DEAD,
  DC_BUILDER_UNKNOWN, /* another host: we cannot tell */
} DcBuilderState;

DcBuilding *dc_cleanup_building_self (void);
DcBuilderState dc_cleanup_builder_state (const DcBuilding *b);
gboolean dc_cleanup (virConnectPtr conn, const DcHostScan *scan, virConnectPtr src_conn, const char *source,
                     gboolean wait, GPtrArray *removed, GError **error);
gboolean dc_cleanup_remove_volume (virConnectPtr conn, const char *pool, const char *name,
                                   const char *open_dir, gint64 deadline, gboolean *busy, GError **error);
gboolean dc_cleanup_refresh_pool (virConnectPtr conn, const char *pool, GError **error);
gboolean dc_cleanup_remove_rbd (virConnectPtr conn, const char *pool, const DcRbdSource *rbd, GError **error);
gboolean dc_cleanup_undefine_domain (virDomainPtr dom, const char *name, GError **error);

G_END_DECLS
