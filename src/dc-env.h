/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "dc-plan.h"

G_BEGIN_DECLS

DcEnv *dc_env_live_new (virConnectPtr conn);
void dc_env_live_free (DcEnv *env);
DcVolInfo *dc_vol_info_from_xml (const char *xml, const char *pool, const char *pool_path,
                                 GError **error);

G_END_DECLS
