/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "dc-test-assert.h"
#include "dc-metadata.h"
#include "dc-protect.h"
#include "dc-xml.h"

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
/* An RBD image in the marker carries how to reach its cluster, and
 * reads back the same: the disk's monitors, auth user and secret */
static void
test_metadata_building_rbd (void)
{
  const char *disk = "<disk type='network' device='disk'><auth username='libvirt'>"
                     "<secret type='ceph' uuid='0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f'/></auth>"
                     "<source protocol='rbd' name='vms/tenant&amp;a/web'><host name='ceph1' port='6789'/>"
                     "<host name='::1' port='3300'/><host name='ceph3'/></source></disk>";
  g_autoptr (GError) error = NULL;
  g_autoptr (xmlDoc) doc = dc_xml_parse (disk, "disk", "test", NULL, &error);
  g_autoptr (DcRbdSource) src = doc ? dc_rbd_source_from_disk (xmlDocGetRootElement (doc), &error) : NULL;
  g_autoptr (DcMetadata) md = dc_metadata_new ();
  g_autoptr (DcMetadata) back = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *hosts = NULL;
  g_autofree char *name = NULL;
  const DcOwnedVolume *v;

  g_assert_no_error (error);
  g_assert_cmpstr (src->pool, ==, "vms");
  g_assert_cmpstr (src->nspace, ==, "tenant&a");
  g_assert_cmpstr (src->image, ==, "web");
  hosts = dc_rbd_source_hosts (src);
  g_assert_cmpstr (hosts, ==, "ceph1:6789,[::1]:3300,ceph3");
  md->building = dc_building_new ();
  md->building->pid = 1;
  dc_building_add_volume (md->building, "vms", "web-clone1", NULL);
  ((DcOwnedVolume *) md->building->volumes->pdata[0])->rbd = dc_rbd_source_copy (src, "web-clone1");
  xml = dc_metadata_format (md);
  dc_assert_contains (xml,
                      "<rbd pool=\"vms\" namespace=\"tenant&amp;a\" image=\"web-clone1\" user=\"libvirt\" "
                      "secret=\"0b1c2d3e-4f50-4617-8829-3a4b5c6d7e8f\"><host name=\"ceph1:6789\"/>");
  back = dc_metadata_parse (xml, &error);
  g_assert_no_error (error);
  v = back->building->volumes->pdata[0];
  g_assert_nonnull (v->rbd);
  g_assert_true (dc_rbd_source_same_cluster (v->rbd, src));
  name = dc_rbd_source_name (v->rbd, NULL);
  g_assert_cmpstr (name, ==, "vms/tenant&a/web-clone1");

  /* a snapshot, or no pool, is no writable disk's image */
  for (guint i = 0; i < 3; i++)
    {
      static const char *const bad[] = { "pool/image@snap", "image", "pool//image" };
      g_autoptr (GError) err = NULL;
      g_autoptr (DcRbdSource) one = g_new0 (DcRbdSource, 1);

      g_assert_false (dc_rbd_source_split_name (bad[i], one, &err));
      g_assert_error (err, DC_ERROR, DC_ERROR_UNSUPPORTED);
    }
}

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

  /* what dc_counter_count_clone does to the source's metadata */
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
  dc_assert_contains (xml, " linked=\"yes\"");
  back = dc_metadata_parse (xml, &error);
  g_assert_no_error (error);
  g_assert_true (back->origin_linked);
  g_assert_false (back->template);

  md->origin_linked = FALSE;
  g_clear_pointer (&xml, g_free);
  xml = dc_metadata_format (md);
  dc_assert_not_contains (xml, "linked");
}

static const char protect_in[] = "<domain type=\"qemu\">\n"
                                 "  <name>gold</name>\n"
                                 "  <devices>\n"
                                 "    <disk type=\"file\" device=\"disk\">\n"
                                 "      <source file=\"/img/gold.qcow2\"/>\n"
                                 "      <target dev=\"vda\" bus=\"virtio\"/>\n"
                                 "    </disk>\n"
                                 "    <disk type=\"file\" device=\"disk\">\n"
                                 "      <source file=\"/img/ref.raw\"/>\n"
                                 "      <target dev=\"vdb\" bus=\"virtio\"/>\n"
                                 "      <readonly/>\n"
                                 "    </disk>\n"
                                 "    <disk type=\"file\" device=\"disk\">\n"
                                 "      <source file=\"/img/cluster.raw\"/>\n"
                                 "      <target dev=\"vdc\" bus=\"virtio\"/>\n"
                                 "      <shareable/>\n"
                                 "    </disk>\n"
                                 "    <disk type=\"file\" device=\"cdrom\">\n"
                                 "      <source file=\"/img/boot.iso\"/>\n"
                                 "      <target dev=\"sda\" bus=\"sata\"/>\n"
                                 "    </disk>\n"
                                 "    <disk type=\"file\" device=\"floppy\">\n"
                                 "      <source file=\"/img/a.img\"/>\n"
                                 "      <target dev=\"fda\" bus=\"fdc\"/>\n"
                                 "    </disk>\n"
                                 "  </devices>\n"
                                 "</domain>\n";

static GPtrArray *
readonly_targets (const char *xml)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autoptr (xmlDoc) doc = dc_xml_parse (xml, "domain", "test", &ctxt, &error);
  g_autoptr (GPtrArray) nodes = NULL;
  GPtrArray *targets = g_ptr_array_new_with_free_func (g_free);

  g_assert_no_error (error);
  nodes = dc_xml_nodes (ctxt, NULL, "/domain/devices/disk[readonly]/target/@dev");
  for (guint i = 0; i < nodes->len; i++)
    g_ptr_array_add (targets, (char *) xmlNodeGetContent (nodes->pdata[i]));
  return targets;
}

/* --make-template marks the writable disks (the floppy too) and only
 * them, records them, and a second run changes nothing; unmaking gives
 * the XML back as it was. */
static void
test_protect_roundtrip (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) disks = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) again_disks = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) back_disks = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) ro = NULL;
  g_autofree char *made = NULL;
  g_autofree char *again = NULL;
  g_autofree char *back = NULL;
  g_autofree char *twice = NULL;
  g_autofree char *original = NULL;
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autoptr (xmlDoc) doc = NULL;
  g_autoptr (DcMetadata) md = NULL;

  g_assert_true (dc_protect_xml (protect_in, &made, disks, &error));
  g_assert_no_error (error);
  g_assert_nonnull (made);
  g_assert_cmpuint (disks->len, ==, 2);
  g_assert_cmpstr (disks->pdata[0], ==, "vda");
  g_assert_cmpstr (disks->pdata[1], ==, "fda");
  ro = readonly_targets (made);
  g_assert_cmpuint (ro->len, ==, 3); /* vda, vdb (already), fda */
  dc_assert_not_contains (made, "<shareable/>\n      <readonly/>");
  doc = dc_xml_parse (made, "domain", "test", &ctxt, &error);
  md = dc_metadata_of_domain (ctxt, &error);
  g_assert_no_error (error);
  g_assert_true (md->template);
  g_assert_cmpuint (md->template_disks->len, ==, 2);
  g_assert_cmpstr (md->template_disks->pdata[0], ==, "vda");
  g_assert_cmpstr (md->template_disks->pdata[1], ==, "fda");

  g_assert_true (dc_protect_xml (made, &again, again_disks, &error));
  g_assert_no_error (error);
  g_assert_null (again);
  g_assert_cmpuint (again_disks->len, ==, 0);

  g_assert_true (dc_unprotect_xml (made, &back, back_disks, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (back_disks->len, ==, 2);
  {
    g_autoptr (xmlDoc) orig = dc_xml_parse (protect_in, "domain", "test", NULL, &error);

    original = dc_xml_format (xmlDocGetRootElement (orig), TRUE);
  }
  g_assert_cmpstr (back, ==, original);

  /* unmaking what is no template changes nothing */
  g_ptr_array_set_size (back_disks, 0);
  g_assert_true (dc_unprotect_xml (back, &twice, back_disks, &error));
  g_assert_no_error (error);
  g_assert_null (twice);
}

/* The counter and the origin stay when the template mark goes; a disk
 * made writable again by hand is protected again by a second
 * --make-template. */
static void
test_protect_keeps_counter (void)
{
  static const char in[] = "<domain><name>t</name><metadata>"
                           "<domclone xmlns=\"http://domclone.org/xmlns/domclone/1.0\"><counter>7</counter>"
                           "<template><readonly disk=\"vda\"/></template></domclone></metadata><devices>"
                           "<disk type=\"file\"><source file=\"/i/t.qcow2\"/><target dev=\"vda\"/></disk>"
                           "</devices></domain>";
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) disks = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *made = NULL;
  g_autofree char *back = NULL;

  g_assert_true (dc_protect_xml (in, &made, disks, &error));
  g_assert_no_error (error);
  g_assert_nonnull (made);
  g_assert_cmpuint (disks->len, ==, 1);
  dc_assert_contains (made, "<counter>7</counter>");
  dc_assert_contains (made, "<template>");
  dc_assert_contains (made, "<readonly disk=\"vda\"/>");
  dc_assert_contains (made, "<readonly/>");

  g_ptr_array_set_size (disks, 0);
  g_assert_true (dc_unprotect_xml (made, &back, disks, &error));
  g_assert_no_error (error);
  dc_assert_contains (back, "<counter>7</counter>");
  dc_assert_not_contains (back, "template");
  dc_assert_not_contains (back, "<readonly/>");
}

/* <volumes>: what a complete clone's run made, read back as written;
 * an attribute without a value is left out, and a volume without pool
 * or name is no volume */
static void
test_metadata_volumes_roundtrip (void)
{
  g_autoptr (DcMetadata) md = dc_metadata_new ();
  g_autoptr (DcMetadata) back = NULL;
  g_autoptr (DcMetadata) partial = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *again = NULL;
  DcOwnedVolume *v = dc_owned_volume_new ("default", "web & co.qcow2", NULL);
  DcOwnedVolume *nvram = dc_owned_volume_new ("domclone-1", "web_VARS.fd", "/var/lib/libvirt/qemu/nvram");
  const DcOwnedVolume *b;

  md->origin_name = g_strdup ("src");
  v->disk = g_strdup ("vda");
  v->path = g_strdup ("/images/web & co.qcow2");
  v->format = g_strdup ("qcow2");
  v->backing = g_strdup ("/images/base.qcow2");
  g_ptr_array_add (md->volumes, v);
  g_ptr_array_add (md->volumes, nvram);
  xml = dc_metadata_format (md);
  dc_assert_contains (xml, "<volumes>");
  dc_assert_not_contains (xml, "disk=\"\"");
  back = dc_metadata_parse (xml, &error);
  g_assert_no_error (error);
  g_assert_false (dc_metadata_is_empty (back));
  g_assert_cmpuint (back->volumes->len, ==, 2);
  b = back->volumes->pdata[0];
  g_assert_cmpstr (b->disk, ==, "vda");
  g_assert_cmpstr (b->pool, ==, "default");
  g_assert_cmpstr (b->name, ==, "web & co.qcow2");
  g_assert_cmpstr (b->path, ==, "/images/web & co.qcow2");
  g_assert_cmpstr (b->format, ==, "qcow2");
  g_assert_cmpstr (b->backing, ==, "/images/base.qcow2");
  g_assert_null (b->open_dir);
  b = back->volumes->pdata[1];
  g_assert_null (b->disk);
  g_assert_cmpstr (b->open_dir, ==, "/var/lib/libvirt/qemu/nvram");
  again = dc_metadata_format (back);
  g_assert_cmpstr (again, ==, xml);

  partial = dc_metadata_parse ("<domclone xmlns='http://domclone.org/xmlns/domclone/1.0'><volumes>"
                               "<volume name='x'/><volume pool='p' name='y'/></volumes></domclone>",
                               &error);
  g_assert_no_error (error);
  g_assert_cmpuint (partial->volumes->len, ==, 1);
  g_assert_cmpstr (((const DcOwnedVolume *) partial->volumes->pdata[0])->name, ==, "y");
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
  g_test_add_func ("/metadata/building/rbd", test_metadata_building_rbd);
  g_test_add_func ("/metadata/template/roundtrip", test_metadata_template_roundtrip);
  g_test_add_func ("/metadata/template/empty", test_metadata_template_empty);
  g_test_add_func ("/metadata/origin/linked", test_metadata_origin_linked);
  g_test_add_func ("/metadata/volumes/roundtrip", test_metadata_volumes_roundtrip);
  g_test_add_func ("/metadata/protect/roundtrip", test_protect_roundtrip);
  g_test_add_func ("/metadata/protect/keeps-counter", test_protect_keeps_counter);
  return g_test_run ();
}
