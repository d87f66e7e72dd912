/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "dc-plan.h"
#include "dc-rbd.h"
#include "dc-scan.h"
#include "dc-util.h"

G_BEGIN_DECLS

DcEnv *dc_env_live_new (virConnectPtr conn, const DcHostScan *scan);
DcEnv *dc_env_live_new_read_only (virConnectPtr conn, const DcHostScan *scan);
DcEnv *dc_env_live_new_to (virConnectPtr src, virConnectPtr dst, const DcHostScan *scan, gboolean read_only);
void dc_env_live_free (DcEnv *env);
DcRbdConn *dc_env_live_rbd (DcEnv *env, const DcRbdSource *src, GError **error);
virStoragePoolPtr dc_env_live_pool (DcEnv *env, virConnectPtr conn, const char *name);
void dc_env_live_pool_forget (DcEnv *env, virConnectPtr conn, const char *name);

G_END_DECLS
