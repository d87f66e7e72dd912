/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

GBytes *seed_iso_build (const char *label, const char *const *files);
GHashTable *seed_iso_read (GBytes *iso, char **label);
GBytes *seed_iso_read_file (const char *path, char **label, GHashTable **files);

G_END_DECLS
