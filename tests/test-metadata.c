/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "dc-metadata.h"

static void
test_metadata_empty (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DcMetadata) md = dc_metadata_parse (NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (md->counter, ==, 0);
  g_assert_null (md->origin_name);
}

static void
test_metadata_roundtrip (void)
{
  g_autoptr (DcMetadata) md = dc_metadata_new ();
  g_autoptr (DcMetadata) back = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *xml = NULL;

  md->counter = 12;
  md->origin_name = g_strdup ("a&b<c>");
  md->origin_uuid = g_strdup ("6f1c5c3e-8a55-4d47-9d2a-3b3c2c1f0e01");
  md->origin_time = g_strdup ("2026-11-27T21:00:00Z");
  xml = dc_metadata_format (md);
  g_assert_cmpstr (xml, ==,
                   "<domclone xmlns=\"http://domclone.org/xmlns/domclone/1.0\">"
                   "<counter>12</counter>"
                   "<origin name=\"a&amp;b&lt;c&gt;\" uuid=\"6f1c5c3e-8a55-4d47-9d2a-3b3c2c1f0e01\" time=\"2026-11-27T21:00:00Z\"/>"
                   "</domclone>");

  back = dc_metadata_parse (xml, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (back->counter, ==, 12);
  g_assert_cmpstr (back->origin_name, ==, "a&b<c>");
  g_assert_cmpstr (back->origin_uuid, ==, md->origin_uuid);
  g_assert_cmpstr (back->origin_time, ==, md->origin_time);
}

static void
test_metadata_counter_only (void)
{
  g_autoptr (DcMetadata) md = dc_metadata_new ();
  g_autofree char *xml = NULL;

  md->counter = 3;
  xml = dc_metadata_format (md);
  g_assert_cmpstr (xml, ==,
                   "<domclone xmlns=\"http://domclone.org/xmlns/domclone/1.0\">"
                   "<counter>3</counter>"
                   "</domclone>");
}

/* As virDomainGetMetadata returns it: prefixed or not, with spaces. */
static void
test_metadata_parse_libvirt (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DcMetadata) a = dc_metadata_parse (
    "<domclone:domclone xmlns:domclone=\"http://domclone.org/xmlns/domclone/1.0\">\n"
    "  <domclone:counter> 7 </domclone:counter>\n</domclone:domclone>", &error);

  g_assert_no_error (error);
  g_assert_cmpuint (a->counter, ==, 7);
}

static void
test_metadata_parse_bad (void)
{
  static const char *bad[] = {
    "<domclone><counter>-1</counter></domclone>",
    "<domclone><counter>seven</counter></domclone>",
    "<domclone><counter>99999999999999999999</counter></domclone>",
    "<other/>",
    "<domclone>",
  };

  for (size_t i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (DcMetadata) md = dc_metadata_parse (bad[i], &error);

      g_assert_null (md);
      g_assert_error (error, DC_ERROR, DC_ERROR_XML);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_add_func ("/metadata/empty", test_metadata_empty);
  g_test_add_func ("/metadata/roundtrip", test_metadata_roundtrip);
  g_test_add_func ("/metadata/counter-only", test_metadata_counter_only);
  g_test_add_func ("/metadata/parse-libvirt", test_metadata_parse_libvirt);
  g_test_add_func ("/metadata/parse-bad", test_metadata_parse_bad);
  return g_test_run ();
}
