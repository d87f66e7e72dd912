/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-test-util.c: see dc-test-util.h.
 */
#include "config.h"

#include "dc-test-util.h"

#include "dc-test-spawn.h"

#include <string.h>

/**
 * dc_test_compare_strings:
 *
 * Orders two `char *` in an array, for g_ptr_array_sort() and qsort().
 */
int
dc_test_compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/**
 * dc_test_count_of:
 * @haystack: a text
 * @needle: a part of it, not empty
 *
 * Returns: how many times @needle stands in @haystack
 */
guint
dc_test_count_of (const char *haystack, const char *needle)
{
  guint n = 0;

  g_assert_true (needle[0] != '\0');
  for (const char *p = strstr (haystack, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

/**
 * dc_test_json_parse:
 * @text: JSON text, which must parse
 *
 * Returns: (transfer full): its root node
 */
JsonNode *
dc_test_json_parse (const char *text)
{
  g_autoptr (GError) error = NULL;
  JsonNode *root = json_from_string (text, &error);

  if (error != NULL)
    g_test_message ("not JSON: %s", text);
  g_assert_no_error (error);
  g_assert_nonnull (root);
  return root;
}

/**
 * dc_test_json_object:
 * @text: JSON text, which must be one object
 *
 * Returns: (transfer full): the object
 */
JsonObject *
dc_test_json_object (const char *text)
{
  g_autoptr (JsonNode) root = dc_test_json_parse (text);

  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  return json_object_ref (json_node_get_object (root));
}

/**
 * dc_test_qemu_img_info:
 * @path: an image file (opened without a lock: -U)
 *
 * Returns: (transfer full): `qemu-img info --output=json` of @path, parsed
 */
JsonNode *
dc_test_qemu_img_info (const char *path)
{
  const char *argv[] = { "qemu-img", "info", "--output=json", "-U", path, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = dc_test_run (argv, &out, &err);

  g_test_message ("qemu-img info %s: exit %d: %s", path, status, err);
  g_assert_cmpint (status, ==, 0);
  return dc_test_json_parse (out);
}
