/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The host scan's reading of a domain's MAC addresses without a parse
 * (dc_scan_quick), against what the parse finds, and the highest
 * <source>-cloneN among the names a scan listed.
 */
#include "config.h"

#include "dc-scan.h"
#include "dc-xml.h"

/* as libvirt 9 formats a shut-off domain with two interfaces */
static const char two_nics[] = "<domain type='qemu'>\n"
                               "  <name>web</name>\n"
                               "  <uuid>0b9ae7b4-7e0c-4a34-9d1b-1a6b9e2c3f10</uuid>\n"
                               "  <devices>\n"
                               "    <interface type='network'>\n"
                               "      <mac address='52:54:00:AA:0b:01'/>\n"
                               "      <source network='default'/>\n"
                               "    </interface>\n"
                               "    <interface type='user'>\n"
                               "      <mac address='52:54:00:aa:0b:02' type='static'/>\n"
                               "      <model type='virtio'/>\n"
                               "    </interface>\n"
                               "  </devices>\n"
                               "</domain>\n";

static const char running[] = "<domain type='kvm' id='7'>\n"
                              "  <name>db</name>\n"
                              "  <devices>\n"
                              "    <interface type='bridge'>\n"
                              "      <mac address='52:54:00:00:00:07'/>\n"
                              "      <target dev='vnet3'/>\n"
                              "    </interface>\n"
                              "  </devices>\n"
                              "</domain>\n";

/* a clone being built: its marker is for the parse to read */
static const char marked[] = "<domain type='qemu'>\n"
                             "  <name>web-clone3</name>\n"
                             "  <metadata>\n"
                             "    <domclone:domclone xmlns:domclone='" DC_METADATA_URI "'>\n"
                             "      <building/>\n"
                             "    </domclone:domclone>\n"
                             "  </metadata>\n"
                             "  <devices>\n"
                             "    <interface type='user'><mac address='52:54:00:00:00:08'/></interface>\n"
                             "  </devices>\n"
                             "</domain>\n";

/* an interface whose address is not written the way libvirt writes it */
static const char odd_mac[] = "<domain type='qemu'>\n"
                              "  <devices>\n"
                              "    <interface type='user'><mac address=\"52:54:00:00:00:09\"/></interface>\n"
                              "  </devices>\n"
                              "</domain>\n";

static gint
by_string (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

/* the addresses the parse finds, lower case, sorted */
static GPtrArray *
parsed_macs (const char *xml)
{
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autoptr (xmlDoc) doc = dc_xml_parse (xml, "domain", "domain XML", &ctxt, NULL);
  g_autoptr (GPtrArray) nodes = NULL;
  GPtrArray *macs = g_ptr_array_new_with_free_func (g_free);

  g_assert_nonnull (doc);
  nodes = dc_xml_nodes (ctxt, NULL, "/domain/devices/interface/mac/@address");
  for (guint i = 0; i < nodes->len; i++)
    {
      g_autoptr (DcXmlChar) mac = xmlNodeGetContent (nodes->pdata[i]);

      g_ptr_array_add (macs, g_ascii_strdown ((const char *) mac, -1));
    }
  g_ptr_array_sort (macs, by_string);
  return macs;
}

static void
test_scan_quick_as_parse (void)
{
  const char *xmls[] = { two_nics, running };

  for (gsize k = 0; k < G_N_ELEMENTS (xmls); k++)
    {
      g_autoptr (GPtrArray) macs = g_ptr_array_new_with_free_func (g_free);
      g_autoptr (GPtrArray) want = parsed_macs (xmls[k]);
      gboolean runs = FALSE;

      g_assert_true (dc_scan_quick (xmls[k], macs, &runs));
      g_ptr_array_sort (macs, by_string);
      g_assert_cmpuint (macs->len, ==, want->len);
      for (guint i = 0; i < macs->len; i++)
        g_assert_cmpstr (macs->pdata[i], ==, want->pdata[i]);
      g_assert_cmpint (runs, ==, k == 1);
    }
}

static void
test_scan_quick_lower_case (void)
{
  g_autoptr (GPtrArray) macs = g_ptr_array_new_with_free_func (g_free);
  gboolean runs = TRUE;

  g_assert_true (dc_scan_quick (two_nics, macs, &runs));
  g_assert_false (runs);
  g_assert_cmpuint (macs->len, ==, 2);
  g_assert_cmpstr (macs->pdata[0], ==, "52:54:00:aa:0b:01");
  g_assert_cmpstr (macs->pdata[1], ==, "52:54:00:aa:0b:02");
}

/* what it cannot be sure of goes to the parse */
static void
test_scan_quick_gives_up (void)
{
  const char *xmls[] = { marked, odd_mac, "<domain type='qemu'", "<network><name>default</name></network>" };

  for (gsize k = 0; k < G_N_ELEMENTS (xmls); k++)
    {
      g_autoptr (GPtrArray) macs = g_ptr_array_new_with_free_func (g_free);
      gboolean runs = FALSE;

      g_assert_false (dc_scan_quick (xmls[k], macs, &runs));
    }
}

static void
test_scan_highest_clone (void)
{
  DcHostScan scan = { .names = g_ptr_array_new_with_free_func (g_free) };
  const char *names[] = { "web",           "web-clone2", "web-clone10", "web-clone-3", "web-clone9x",
                          "webby-clone40", "web-clone0", "db-clone77",  "web.1-clone5" };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    g_ptr_array_add (scan.names, g_strdup (names[i]));
  g_assert_cmpuint (dc_host_scan_highest_clone (&scan, "web"), ==, 10);
  g_assert_cmpuint (dc_host_scan_highest_clone (&scan, "db"), ==, 77);
  g_assert_cmpuint (dc_host_scan_highest_clone (&scan, "web.1"), ==, 5);
  g_assert_cmpuint (dc_host_scan_highest_clone (&scan, "mail"), ==, 0);
  g_ptr_array_unref (scan.names);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/scan/quick/as-parse", test_scan_quick_as_parse);
  g_test_add_func ("/scan/quick/lower-case", test_scan_quick_lower_case);
  g_test_add_func ("/scan/quick/gives-up", test_scan_quick_gives_up);
  g_test_add_func ("/scan/highest-clone", test_scan_highest_clone);
  return g_test_run ();
}
