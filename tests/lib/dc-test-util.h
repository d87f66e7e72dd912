/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-test-util.h: small helpers every kind of test program shares,
 * without a daemon: sorting strings, counting a part of a text, reading JSON (asserting that it
 * parses), and qemu-img's view of an image.
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

int dc_test_compare_strings (gconstpointer a, gconstpointer b);
guint dc_test_count_of (const char *haystack, const char *needle);
JsonNode *dc_test_json_parse (const char *text);
JsonObject *dc_test_json_object (const char *text);
JsonNode *dc_test_qemu_img_info (const char *path);

G_END_DECLS
