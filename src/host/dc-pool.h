/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-pool.h: temporary pools over directories, shared between runs.
 */
#pragma once

#include "dc-util.h"

G_BEGIN_DECLS

/* how often a use of a shared temporary pool is tried */
#define DC_POOL_ATTEMPTS 20

gboolean dc_pool_open_dir (virConnectPtr conn, const char *dir, char **name, GError **error);
gboolean dc_pool_make_dir (virConnectPtr conn, const char *dir, const char *owner, const char *group,
                           char **name, GError **error);
GPtrArray *dc_pool_missing_dirs (virConnectPtr conn, const char *dir);
gboolean dc_pool_dir_has (virConnectPtr conn, const char *dir, const char *name, gboolean *has,
                          GError **error);
void dc_pool_close_dirs (virConnectPtr conn);
void dc_pool_sweep (virConnectPtr conn);
void dc_pool_close_dirs_on (virConnectPtr conn, virConnectPtr other);
gboolean dc_pool_vanished (void);

/* The handles of the pools one run uses, looked up once (dc-pool.c) */
typedef struct _DcPoolCache DcPoolCache;

DcPoolCache *dc_pool_cache_new (virConnectPtr conn);
void dc_pool_cache_free (DcPoolCache *cache);
virStoragePoolPtr dc_pool_cache_lookup (DcPoolCache *cache, virConnectPtr conn, const char *name);
void dc_pool_cache_forget (DcPoolCache *cache, const char *name);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcPoolCache, dc_pool_cache_free)

G_END_DECLS
