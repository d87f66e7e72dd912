/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-overlay.h: a linked clone's qcow2 overlay, written here.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean dc_overlay_write (const char *path, guint64 capacity, const char *backing,
                           const char *backing_format, GError **error);

G_END_DECLS
