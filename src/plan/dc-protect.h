/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-protect.h: a domain made a template and back, as a rewrite of its
 * XML (no libvirt call here).
 */
#pragma once

#include "dc-error.h"

G_BEGIN_DECLS

gboolean dc_protect_xml (const char *xml, char **new_xml, GPtrArray *disks, GError **error);
gboolean dc_unprotect_xml (const char *xml, char **new_xml, GPtrArray *disks, GError **error);

G_END_DECLS
