/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The length of one DNS label, so the guest's host name made from the
 * name (dc_name_to_hostname()) is one. */
#define DC_NAME_MAX 63

gboolean dc_name_validate (const char *name, GError **error);
char *dc_name_auto (const char *source, guint n, GError **error);
char *dc_name_replace (const char *str, const char *from, const char *to);
char *dc_name_to_hostname (const char *name);

G_END_DECLS
