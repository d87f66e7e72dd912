/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One DNS label, so the name can also be the guest's hostname. */
#define DC_NAME_MAX 63

gboolean dc_name_validate (const char *name, GError **error);
char *dc_name_auto (const char *source, guint n, GError **error);
char *dc_name_replace (const char *str, const char *from, const char *to);

G_END_DECLS
