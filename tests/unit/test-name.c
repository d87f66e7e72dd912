/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "dc-test-assert.h"
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
  { "x23456789012345678901234567890123456789012345678901234567890123", TRUE },   /* 63 */
  { "x234567890123456789012345678901234567890123456789012345678901234", FALSE }, /* 64 */
  { "", FALSE },
  { "1abc", FALSE },
  { "-abc", FALSE },
  { "abc-", FALSE },
  { "a_b", TRUE },
  { "a.b", TRUE },
  { "ubuntu22.04", TRUE },
  { "win2k22", TRUE },
  { "my_vm", TRUE },
  { "centos-stream9", TRUE },
  { "a.b_c-d.e9", TRUE },
  { "x2345678901234567890123456789012345678901234567890123456789.123", TRUE },   /* 63 */
  { "x2345678901234567890123456789012345678901234567890123456789.1234", FALSE }, /* 64 */
  { "..", FALSE },
  { "a..b", FALSE },
  { ".ab", FALSE },
  { "ab.", FALSE },
  { "_ab", FALSE },
  { "ab_", FALSE },
  { "a-", FALSE },
  { "1a", FALSE },
  { "a.b.", FALSE },
  { "a:b", FALSE },
  { "a\\b", FALSE },
  { "a*b", FALSE },
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
  dc_assert_contains (error->message, "--name");

  g_clear_error (&error);
  g_clear_pointer (&name, g_free);
  name = dc_name_auto (src56, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (strlen (name), ==, 63);
}

static void
test_name_auto_invalid_source (void)
{
  static const char *const sources[] = { "my vm", "9lives", "a..b", "a/b" };

  for (size_t i = 0; i < G_N_ELEMENTS (sources); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *name = dc_name_auto (sources[i], 1, &error);

      g_assert_null (name);
      g_assert_error (error, DC_ERROR, DC_ERROR_INVALID_NAME);
    }
}

/* virt-install names domains after the OS: such a source clones without
 * --name */
static void
test_name_auto_dotted_source (void)
{
  static const struct
  {
    const char *source;
    const char *expect;
  } cases[] = {
    { "ubuntu22.04", "ubuntu22.04-clone1" },
    { "win2k22", "win2k22-clone1" },
    { "my_vm", "my_vm-clone1" },
    { "fedora.39_x", "fedora.39_x-clone1" },
  };

  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *name = dc_name_auto (cases[i].source, 1, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (name, ==, cases[i].expect);
    }
}

/* The rule each kind of invalid name breaks is the one the message names. */
static void
test_name_validate_messages (void)
{
  static const struct
  {
    const char *name;
    const char *part;
  } cases[] = {
    { "a/b", "use only letters, digits, hyphens, dots and underscores" },
    { "a b", "use only letters, digits, hyphens, dots and underscores" },
    { ".ab", "must start with a letter" },
    { "_ab", "must start with a letter" },
    { "1a", "must start with a letter" },
    { "ab.", "must end with a letter or a digit" },
    { "ab_", "must end with a letter or a digit" },
    { "a-", "must end with a letter or a digit" },
    { "a..b", "must not hold two dots in a row" },
    { "x2345678901234567890123456789012345678901234567890123456789.1234",
      "at most 63 characters, it has 64" },
  };

  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_false (dc_name_validate (cases[i].name, &error));
      g_assert_error (error, DC_ERROR, DC_ERROR_INVALID_NAME);
      dc_assert_contains (error->message, cases[i].part);
    }
}

static gboolean
is_hostname (const char *host)
{
  size_t len = strlen (host);

  if (len == 0 || len > 63 || !g_ascii_isalpha (host[0]) || !g_ascii_isalnum (host[len - 1]))
    return FALSE;
  for (size_t i = 0; i < len; i++)
    if (!g_ascii_isalnum (host[i]) && host[i] != '-')
      return FALSE;
  return TRUE;
}

static void
test_name_to_hostname (void)
{
  static const struct
  {
    const char *name;
    const char *expect;
  } cases[] = {
    { "ubuntu22.04-clone1", "ubuntu22-04-clone1" },   { "my_vm", "my-vm" },   { "win2k22", "win2k22" },
    { "natty-nilgai-clone1", "natty-nilgai-clone1" }, { "a._b.c", "a--b-c" },
  };

  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *host = dc_name_to_hostname (cases[i].name);
      g_assert_cmpstr (host, ==, cases[i].expect);
    }

  /* every valid name gives a valid host name (one DNS label) */
  for (size_t i = 0; i < G_N_ELEMENTS (name_cases); i++)
    {
      g_autofree char *host = NULL;

      if (!name_cases[i].valid)
        continue;
      host = dc_name_to_hostname (name_cases[i].name);
      g_assert_true (is_hostname (host));
    }
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

/* A dot or an underscore in the source's name is part of it; next to it,
 * one is a word boundary like a hyphen. */
static void
test_name_replace_dots (void)
{
  static const struct
  {
    const char *str;
    const char *from;
    const char *expect;
  } cases[] = {
    { "ubuntu22.04.qcow2", "ubuntu22.04", "ubuntu22.04-clone1.qcow2" },
    { "ubuntu22.04", "ubuntu22.04", "ubuntu22.04-clone1" },
    { "ubuntu22.04_VARS.fd", "ubuntu22.04", "ubuntu22.04-clone1_VARS.fd" },
    { "/var/log/ubuntu22.04/ubuntu22.04-serial.log", "ubuntu22.04",
      "/var/log/ubuntu22.04/ubuntu22.04-clone1-serial.log" },
    { "ubuntu22.045.qcow2", "ubuntu22.04", NULL },
    { "xubuntu22.04.qcow2", "ubuntu22.04", NULL },
    /* the dot is a dot, not any character */
    { "ubuntu22x04.qcow2", "ubuntu22.04", NULL },
    { "my_vm.qcow2", "my_vm", "my_vm-clone1.qcow2" },
    { "my_vm_2.raw", "my_vm", "my_vm-clone1_2.raw" },
    { "my_vm2.raw", "my_vm", NULL },
  };

  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *to = g_strconcat (cases[i].from, "-clone1", NULL);
      g_autofree char *got = dc_name_replace (cases[i].str, cases[i].from, to);

      g_assert_cmpstr (got, ==, cases[i].expect);
      /* never "-clone1-clone1", "-clone-clone" */
      if (got != NULL)
        dc_assert_not_contains (got, "clone1-clone");
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
  g_test_add_func ("/name/auto/dotted-source", test_name_auto_dotted_source);
  g_test_add_func ("/name/validate/messages", test_name_validate_messages);
  g_test_add_func ("/name/replace", test_name_replace);
  g_test_add_func ("/name/replace/dots", test_name_replace_dots);
  g_test_add_func ("/name/hostname", test_name_to_hostname);
  return g_test_run ();
}
