/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "dc-metadata.h"

#include <string.h>

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
  g_assert_cmpstr (
    xml, ==,
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
  g_autoptr (DcMetadata) a =
    dc_metadata_parse ("<domclone:domclone xmlns:domclone=\"http://domclone.org/xmlns/domclone/1.0\">\n"
                       "  <domclone:counter> 7 </domclone:counter>\n</domclone:domclone>",
                       &error);

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

/* The <building> marker a clone carries while it is made: written and
 * read back whole, as the clean-up of a killed run depends on it. */
static void
test_metadata_building_roundtrip (void)
{
  g_autoptr (DcMetadata) md = dc_metadata_new ();
  g_autoptr (DcMetadata) back = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *xml = NULL;
  const DcOwnedVolume *v;

  md->origin_name = g_strdup ("src");
  md->origin_uuid = g_strdup ("6f1c5c3e-8a55-4d47-9d2a-3b3c2c1f0e01");
  md->origin_time = g_strdup ("2026-11-28T02:00:00Z");
  md->building = dc_building_new ();
  md->building->host = g_strdup ("host&1");
  md->building->boot = g_strdup ("0f3e6b1c-0000-4000-8000-000000000001");
  md->building->pid = 4242;
  md->building->start = 987654321;
  dc_building_add_volume (md->building, "default", "src-clone1.qcow2", NULL);
  dc_building_add_volume (md->building, "domclone-0123456789abcdef", "src-clone1_VARS.fd",
                          "/var/lib/libvirt/qemu/nvram");
  xml = dc_metadata_format (md);
  g_assert_cmpstr (
    xml, ==,
    "<domclone xmlns=\"http://domclone.org/xmlns/domclone/1.0\">"
    "<origin name=\"src\" uuid=\"6f1c5c3e-8a55-4d47-9d2a-3b3c2c1f0e01\" time=\"2026-11-28T02:00:00Z\"/>"
    "<building host=\"host&amp;1\" boot=\"0f3e6b1c-0000-4000-8000-000000000001\" pid=\"4242\" start=\"987654321\">"
    "<volume pool=\"default\" name=\"src-clone1.qcow2\"/>"
    "<volume pool=\"domclone-0123456789abcdef\" name=\"src-clone1_VARS.fd\" dir=\"/var/lib/libvirt/qemu/nvram\"/>"
    "</building>"
    "</domclone>");

  back = dc_metadata_parse (xml, &error);
  g_assert_no_error (error);
  g_assert_nonnull (back->building);
  g_assert_cmpstr (back->building->host, ==, "host&1");
  g_assert_cmpstr (back->building->boot, ==, md->building->boot);
  g_assert_cmpuint (back->building->pid, ==, 4242);
  g_assert_cmpuint (back->building->start, ==, 987654321);
  g_assert_cmpuint (back->building->volumes->len, ==, 2);
  v = back->building->volumes->pdata[0];
  g_assert_cmpstr (v->pool, ==, "default");
  g_assert_cmpstr (v->name, ==, "src-clone1.qcow2");
  g_assert_null (v->open_dir);
  v = back->building->volumes->pdata[1];
  g_assert_cmpstr (v->pool, ==, "domclone-0123456789abcdef");
  g_assert_cmpstr (v->open_dir, ==, "/var/lib/libvirt/qemu/nvram");
}

/* A marker without a usable pid or start time cannot tell a live run
 * from a dead one: refused, so nothing is removed on its word. */
static void
test_metadata_building_bad (void)
{
  static const char *bad[] = {
    "<domclone><building host='h' boot='b' start='1'/></domclone>",
    "<domclone><building host='h' boot='b' pid='0' start='1'/></domclone>",
    "<domclone><building host='h' boot='b' pid='12' start='x'/></domclone>",
    "<domclone><building host='h' boot='b' pid='99999999999' start='1'/></domclone>",
  };

  for (size_t i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (DcMetadata) md = dc_metadata_parse (bad[i], &error);

      g_assert_null (md);
      g_assert_error (error, DC_ERROR, DC_ERROR_XML);
    }
}

/* The template mark and the disks it made read-only, as --make-template
 * writes them; a counter update (parse, count, format) keeps them. */
static void
test_metadata_template_roundtrip (void)
{
  g_autoptr (DcMetadata) md = dc_metadata_new ();
  g_autoptr (DcMetadata) back = NULL;
  g_autoptr (DcMetadata) counted = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *again = NULL;

  md->template = TRUE;
  g_ptr_array_add (md->template_disks, g_strdup ("vda"));
  g_ptr_array_add (md->template_disks, g_strdup ("sd&b"));
  xml = dc_metadata_format (md);
  g_assert_cmpstr (xml, ==,
                   "<domclone xmlns=\"http://domclone.org/xmlns/domclone/1.0\">"
                   "<template><readonly disk=\"vda\"/><readonly disk=\"sd&amp;b\"/></template>"
                   "</domclone>");
  back = dc_metadata_parse (xml, &error);
  g_assert_no_error (error);
  g_assert_true (back->template);
  g_assert_cmpuint (back->template_disks->len, ==, 2);
  g_assert_cmpstr (back->template_disks->pdata[1], ==, "sd&b");

  /* what dc_count_clone does to the source's metadata */
  back->counter = 4;
  again = dc_metadata_format (back);
  counted = dc_metadata_parse (again, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (counted->counter, ==, 4);
  g_assert_true (counted->template);
  g_assert_cmpuint (counted->template_disks->len, ==, 2);
  g_assert_cmpstr (counted->template_disks->pdata[0], ==, "vda");
}

/* A template that made no disk read-only (all were already) is still a
 * template; a domain without the element is not. */
static void
test_metadata_template_empty (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DcMetadata) md =
    dc_metadata_parse ("<domclone:domclone xmlns:domclone=\"http://domclone.org/xmlns/domclone/1.0\">\n"
                       "  <domclone:counter>2</domclone:counter>\n"
                       "  <domclone:template/>\n"
                       "</domclone:domclone>",
                       &error);
  g_autoptr (DcMetadata) plain = dc_metadata_parse (
    "<domclone xmlns=\"http://domclone.org/xmlns/domclone/1.0\"><counter>2</counter></domclone>", &error);

  g_assert_no_error (error);
  g_assert_true (md->template);
  g_assert_cmpuint (md->template_disks->len, ==, 0);
  g_assert_cmpuint (md->counter, ==, 2);
  g_assert_false (plain->template);
}

/* A linked clone says so in its origin; a full clone says nothing. */
static void
test_metadata_origin_linked (void)
{
  g_autoptr (DcMetadata) md = dc_metadata_new ();
  g_autoptr (DcMetadata) back = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *xml = NULL;

  md->origin_name = g_strdup ("base");
  md->origin_uuid = g_strdup ("6f1c5c3e-8a55-4d47-9d2a-3b3c2c1f0e01");
  md->origin_time = g_strdup ("2026-11-27T21:00:00Z");
  md->origin_linked = TRUE;
  xml = dc_metadata_format (md);
  g_assert_nonnull (strstr (xml, " linked=\"yes\""));
  back = dc_metadata_parse (xml, &error);
  g_assert_no_error (error);
  g_assert_true (back->origin_linked);
  g_assert_false (back->template);

  md->origin_linked = FALSE;
  g_clear_pointer (&xml, g_free);
  xml = dc_metadata_format (md);
  g_assert_null (strstr (xml, "linked"));
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
  g_test_add_func ("/metadata/building/roundtrip", test_metadata_building_roundtrip);
  g_test_add_func ("/metadata/building/bad", test_metadata_building_bad);
  g_test_add_func ("/metadata/template/roundtrip", test_metadata_template_roundtrip);
  g_test_add_func ("/metadata/template/empty", test_metadata_template_empty);
  g_test_add_func ("/metadata/origin/linked", test_metadata_origin_linked);
  return g_test_run ();
}
