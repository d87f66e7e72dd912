/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "dc-plan.h"
#include "dc-scan.h"
#include "dc-util.h"

G_BEGIN_DECLS

DcEnv *dc_env_live_new (virConnectPtr conn, const DcHostScan *scan);
DcEnv *dc_env_live_new_read_only (virConnectPtr conn, const DcHostScan *scan);
void dc_env_live_free (DcEnv *env);
/* how often a use of a shared temporary pool is tried */
#define DC_DIR_POOL_ATTEMPTS 20

gboolean dc_dir_pool_open (virConnectPtr conn, const char *dir, char **name, GError **error);
gboolean dc_dir_pool_make (virConnectPtr conn, const char *dir, const char *owner, const char *group,
                           char **name, GError **error);
void dc_dir_pools_close (virConnectPtr conn);
gboolean dc_libvirt_pool_vanished (void);
gboolean dc_connection_is_local (virConnectPtr conn);

G_END_DECLS
