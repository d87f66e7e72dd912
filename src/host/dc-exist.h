/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "dc-run.h"

G_BEGIN_DECLS

gboolean dc_exist_check (virConnectPtr conn, const DcCloneOptions *opts, DcCloneResult **existing,
                         GError **error);

G_END_DECLS
