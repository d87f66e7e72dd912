/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "dc-result.h"
#include "dc-util.h"

G_BEGIN_DECLS

gboolean dc_exist_check (virConnectPtr conn, const char *source, const char *name, DcCloneResult **existing,
                         GError **error);

G_END_DECLS
