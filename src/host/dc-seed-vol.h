/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "dc-plan.h"
#include "dc-util.h"

G_BEGIN_DECLS

GBytes *dc_vol_download (virConnectPtr conn, virStorageVolPtr vol, guint64 offset, guint64 length,
                         GError **error);
gboolean dc_vol_upload (virConnectPtr conn, virStorageVolPtr vol, GBytes *bytes, GError **error);

/* Called once the new volume exists, before anything is written to it:
 * it is the run's to remove from then on. */
typedef void (*DcSeedCreated) (gpointer data, const DcCopy *vol);

gboolean dc_seed_make (virConnectPtr conn, const DcPlan *plan, const DcSeed *seed, gboolean local_conn,
                       DcSeedCreated created, gpointer data, virStorageVolInfo *info, GError **error);

G_END_DECLS
