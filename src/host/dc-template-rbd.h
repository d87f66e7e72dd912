/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "dc-rbd.h"

G_BEGIN_DECLS

GPtrArray *dc_template_rbd_images (virConnectPtr conn, const char *xml, GError **error);
gboolean dc_template_rbd_snaps_make (virConnectPtr conn, GPtrArray *images, GPtrArray *made, GError **error);
void dc_template_rbd_snaps_undo (virConnectPtr conn, GPtrArray *made);
gboolean dc_template_rbd_snaps_drop (virConnectPtr conn, GPtrArray *images, GError **error);

G_END_DECLS
