/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "dc-plan.h"
#include "dc-util.h"

G_BEGIN_DECLS

GBytes *dc_seed_vol_bytes (virConnectPtr conn, const DcPlan *plan, const DcSeed *seed, char **xml,
                           GError **error);

G_END_DECLS
