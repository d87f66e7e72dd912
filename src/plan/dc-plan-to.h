/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-plan-to.h: what a clone onto another host (--to) decides beyond
 * a clone on one host: where its volumes go there, and what it refuses.
 */
#pragma once

#include "dc-env-iface.h"
#include "dc-xml.h"

G_BEGIN_DECLS

const DcPoolInfo *dc_plan_to_pool (DcEnv *env, GHashTable *pools, const char *name, GError **error);
gboolean dc_plan_to_check_chain (const char *what, const DcVolInfo *info, gboolean bytes_only,
                                 GError **error);
gboolean dc_plan_to_shared_there (DcEnv *env, const char *what, const char *type, xmlNode *source,
                                  gboolean *there, GError **error);

G_END_DECLS
