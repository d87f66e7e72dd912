/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "dc-name.h"
#include "dc-error.h"

#include <string.h>

typedef struct
{
  const char *name;
  gboolean valid;
} NameCase;

static const NameCase name_cases[] = {
  { "a", TRUE },
  { "natty-nilgai", TRUE },
  { "web1", TRUE },
  { "A-1-b", TRUE },
  { "x23456789012345678901234567890123456789012345678901234567890123", TRUE }, /* 63 */
  { "x234567890123456789012345678901234567890123456789012345678901234", FALSE }, /* 64 */
  { "", FALSE },
  { "1abc", FALSE },
  { "-abc", FALSE },
  { "abc-", FALSE },
  { "a_b", FALSE },
  { "a.b", FALSE },
  { "..", FALSE },
  { "a/b", FALSE },
  { "a b", FALSE },
  { "a'b", FALSE },
  { "a\"b", FALSE },
  { "a<b", FALSE },
  { "a&b", FALSE },
  { "caf\xc3\xa9", FALSE },
  { "a\nb", FALSE },
  { "a\tb", FALSE },
  { "--name", FALSE },
  { "-x", FALSE },
};

static void
test_name_validate (gconstpointer data)
{
  const NameCase *c = data;
  g_autoptr (GError) error = NULL;
  gboolean ok = dc_name_validate (c->name, &error);

  g_assert_cmpint (ok, ==, c->valid);
  if (c->valid)
    g_assert_no_error (error);
  else
    {
      g_assert_error (error, DC_ERROR, DC_ERROR_INVALID_NAME);
      g_assert_true (g_str_has_prefix (error->message, "invalid name '"));
      g_assert_null (strchr (error->message, '\n'));
    }
}

static void
test_name_auto (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *n1 = dc_name_auto ("natty-nilgai", 1, &error);
  g_autofree char *n42 = dc_name_auto ("natty-nilgai", 42, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (n1, ==, "natty-nilgai-clone1");
  g_assert_cmpstr (n42, ==, "natty-nilgai-clone42");
}

static void
test_name_auto_too_long (void)
{
  /* 57 characters: "-clone1" makes 64 */
  g_autofree char *src = g_strconcat ("x", "23456789012345678901234567890123456789012345678901234567", NULL);
  g_autofree char *src56 = g_strndup (src, 56);
  g_autoptr (GError) error = NULL;
  g_autofree char *name = NULL;

  g_assert_cmpint (strlen (src), ==, 57);
  name = dc_name_auto (src, 1, &error);
  g_assert_null (name);
  g_assert_error (error, DC_ERROR, DC_ERROR_INVALID_NAME);
  g_assert_nonnull (strstr (error->message, "--name"));

  g_clear_error (&error);
  g_clear_pointer (&name, g_free);
  name = dc_name_auto (src56, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (strlen (name), ==, 63);
}

static void
test_name_auto_invalid_source (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *name = dc_name_auto ("my_vm", 1, &error);

  g_assert_null (name);
  g_assert_error (error, DC_ERROR, DC_ERROR_INVALID_NAME);
}

typedef struct
{
  const char *str;
  const char *expect;
} ReplaceCase;

static void
test_name_replace (void)
{
  static const ReplaceCase cases[] = {
    { "natty-nilgai.qcow2", "natty-nilgai-clone1.qcow2" },
    { "natty-nilgai", "natty-nilgai-clone1" },
    { "natty-nilgai_VARS.fd", "natty-nilgai-clone1_VARS.fd" },
    { "data-natty-nilgai-2.raw", "data-natty-nilgai-clone1-2.raw" },
    { "/x/natty-nilgai/natty-nilgai.log", "/x/natty-nilgai/natty-nilgai-clone1.log" },
    { "xnatty-nilgai.qcow2", NULL },
    { "natty-nilgai2.qcow2", NULL },
    { "data.raw", NULL },
  };

  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = dc_name_replace (cases[i].str, "natty-nilgai", "natty-nilgai-clone1");
      g_assert_cmpstr (got, ==, cases[i].expect);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  for (size_t i = 0; i < G_N_ELEMENTS (name_cases); i++)
    {
      g_autofree char *escaped = g_strescape (name_cases[i].name, NULL);
      g_autofree char *path = NULL;

      /* test paths must be printable and free of '/' */
      g_strdelimit (escaped, "/", '|');
      path = g_strdup_printf ("/name/validate/%zu-%s", i, escaped);
      g_test_add_data_func (path, &name_cases[i], test_name_validate);
    }
  g_test_add_func ("/name/auto/number", test_name_auto);
  g_test_add_func ("/name/auto/too-long", test_name_auto_too_long);
  g_test_add_func ("/name/auto/invalid-source", test_name_auto_invalid_source);
  g_test_add_func ("/name/replace", test_name_replace);
  return g_test_run ();
}
