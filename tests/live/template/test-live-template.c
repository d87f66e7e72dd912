/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live tests, templates and linked clones: --make-template and
 * --unmake-template against a private libvirtd, linked clones as qcow2
 * overlays on the template's volumes (read back with qemu-img), their
 * refusals, and a linked clone that fails at its last step.
 */
#include "config.h"

#include "dc-test-assert.h"
#include "dc-metadata.h"
#include "dc-xml.h"
#include "live-fixture.h"
#include "dc-test-util.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>

/* The targets of @name's disks marked <readonly/>, in order, joined
 * with spaces */
static char *
readonly_in (const char *xml)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autoptr (xmlDoc) doc = dc_xml_parse (xml, "domain", "test", &ctxt, &error);
  g_autoptr (GPtrArray) targets = NULL;
  GString *out = g_string_new (NULL);

  g_assert_no_error (error);
  targets = dc_xml_nodes (ctxt, NULL, "/domain/devices/disk[readonly]/target/@dev");
  for (guint i = 0; i < targets->len; i++)
    {
      g_autoptr (DcXmlChar) dev = xmlNodeGetContent (targets->pdata[i]);

      g_string_append_printf (out, "%s%s", i ? " " : "", (const char *) dev);
    }
  return g_string_free (out, FALSE);
}

static char *
readonly_disks (const char *name)
{
  g_autofree char *xml = live_domain_xml (name);

  return readonly_in (xml);
}

static DcMetadata *
metadata_of (const char *name)
{
  g_autoptr (DcDomain) dom = virDomainLookupByName (live_conn, name);
  g_autofree char *xml =
    virDomainGetMetadata (dom, VIR_DOMAIN_METADATA_ELEMENT, DC_METADATA_URI, VIR_DOMAIN_AFFECT_CONFIG);
  g_autoptr (GError) error = NULL;
  DcMetadata *md = dc_metadata_parse (xml, &error);

  g_assert_no_error (error);
  return md;
}

static void
make_template_ok (const LiveFixture *f)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = dc_test_domclone (&out, &err, "--make-template", f->src, NULL);

  g_test_message ("make-template: exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (err, ==, "");
}

/* --make-template marks exactly the writable disks (vda, vdb) read-only,
 * leaves the shareable one and the CD-ROM as they are, and records the
 * two; a second run changes nothing and says so. */
static void
test_live_make_template (LiveFixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *expect = NULL;
  g_autofree char *ro = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *xml_again = NULL;
  g_autoptr (DcMetadata) md = NULL;
  int status;

  SKIP_WITHOUT_DAEMON ();
  ro = readonly_disks (f->src);
  g_assert_cmpstr (ro, ==, "sda");
  g_clear_pointer (&ro, g_free);

  status = dc_test_domclone (&out, &err, "--make-template", f->src, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (err, ==, "");
  expect = g_strdup_printf ("Made %s a template; read-only now: vda, vdb.\n", f->src);
  g_assert_cmpstr (out, ==, expect);

  ro = readonly_disks (f->src);
  g_assert_cmpstr (ro, ==, "vda vdb sda");
  md = metadata_of (f->src);
  g_assert_true (md->template);
  g_assert_cmpuint (md->template_disks->len, ==, 2);
  g_assert_cmpstr (md->template_disks->pdata[0], ==, "vda");
  g_assert_cmpstr (md->template_disks->pdata[1], ==, "vdb");

  /* again: nothing changes, exit 0 */
  xml = live_domain_xml (f->src);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  status = dc_test_domclone (&out, &err, "--make-template", "--json", f->src, NULL);
  g_assert_cmpint (status, ==, 0);
  {
    g_autoptr (JsonNode) root = dc_test_json_parse (out);
    JsonObject *o = json_node_get_object (root);
    JsonObject *t = json_object_get_object_member (o, "template");

    g_assert_false (json_object_get_boolean_member (o, "changed"));
    g_assert_true (json_object_get_boolean_member (t, "is_template"));
    g_assert_cmpstr (json_object_get_string_member (t, "name"), ==, f->src);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (t, "disks")), ==, 0);
  }
  xml_again = live_domain_xml (f->src);
  g_assert_cmpstr (xml_again, ==, xml);
}

/* Checks the overlay @path: qcow2 on @base, the backing format recorded
 * in its header (libvirt will not probe it), reading as @base does, and
 * tiny. */
static void
assert_overlay (const char *path, const char *base, const char *base_format)
{
  g_autoptr (JsonNode) root = dc_test_qemu_img_info (path);
  JsonObject *info = json_node_get_object (root);
  const char *compare[] = { "qemu-img", "compare", "-q", "-U", path, base, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert_cmpstr (json_object_get_string_member (info, "format"), ==, "qcow2");
  g_assert_cmpstr (json_object_get_string_member (info, "backing-filename"), ==, base);
  g_assert_cmpstr (json_object_get_string_member (info, "backing-filename-format"), ==, base_format);
  g_assert_cmpint (dc_test_run (compare, &out, &err), ==, 0);
  g_test_message ("%s: %" G_GUINT64_FORMAT " bytes allocated", path, live_allocated_bytes (path));
  g_assert_cmpuint (live_allocated_bytes (path), <, MiB);
}

/* A linked clone of a template: an overlay per protected disk, with the
 * template's volume as backing file; the clone's disks are writable
 * qcow2, its NVRAM a copy, its metadata no template mark but a linked
 * origin. Writing into the clone leaves the base as it was.
 *
 * Longer than 60 lines: one scenario, each step starting from what the
 * step before left; it reads best in that order.
 */
static void
test_live_linked_clone (LiveFixture *f, gconstpointer data)
{
  g_autofree char *clone = g_strdup_printf ("%s-clone1", f->src);
  g_autofree char *base_sys = g_strdup_printf ("%s/%s.qcow2", f->dir, f->src);
  g_autofree char *base_data = live_path_in (f, "data.raw");
  g_autofree char *sys = g_strdup_printf ("%s/%s.qcow2", f->dir, clone);
  g_autofree char *data_ovl = g_strdup_printf ("%s/%s-vdb.qcow2", f->dir, clone);
  g_autofree char *sum_sys = NULL;
  g_autofree char *sum_data = NULL;
  g_autofree char *sum_after = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *ro = NULL;
  g_autoptr (DcMetadata) md = NULL;
  g_autoptr (DcMetadata) tmd = NULL;
  int status;

  SKIP_WITHOUT_DAEMON ();
  make_template_ok (f);
  sum_sys = live_sha256_file (base_sys);
  sum_data = live_sha256_file (base_data);

  status = dc_test_domclone (&out, &err, "--linked", "--json", f->src, NULL);
  g_test_message ("linked: exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (err, ==, "");
  {
    g_autoptr (JsonNode) root = dc_test_json_parse (out);
    JsonObject *o = json_node_get_object (root);
    JsonObject *c = json_object_get_object_member (o, "clone");
    JsonArray *vols = json_object_get_array_member (c, "volumes");
    JsonObject *v0, *v1;

    g_assert_true (json_object_get_boolean_member (o, "changed"));
    g_assert_true (json_object_get_boolean_member (c, "linked"));
    g_assert_cmpstr (json_object_get_string_member (c, "name"), ==, clone);
    g_assert_cmpuint (json_array_get_length (vols), ==, 3); /* vda, vdb, NVRAM */
    v0 = json_array_get_object_element (vols, 0);
    v1 = json_array_get_object_element (vols, 1);
    g_assert_cmpstr (json_object_get_string_member (v0, "disk"), ==, "vda");
    g_assert_cmpstr (json_object_get_string_member (v0, "path"), ==, sys);
    g_assert_cmpstr (json_object_get_string_member (v0, "backing"), ==, base_sys);
    g_assert_cmpstr (json_object_get_string_member (v0, "format"), ==, "qcow2");
    g_assert_cmpstr (json_object_get_string_member (v1, "path"), ==, data_ovl);
    g_assert_cmpstr (json_object_get_string_member (v1, "backing"), ==, base_data);
    g_assert_cmpint (json_object_get_int_member (v1, "capacity"), ==, 64 * MiB);
    g_assert_true (json_object_get_null_member (json_array_get_object_element (vols, 2), "backing"));
  }

  assert_overlay (sys, base_sys, "qcow2");
  assert_overlay (data_ovl, base_data, "raw");

  /* the clone's own disks are writable; the template's still are not */
  ro = readonly_disks (clone);
  g_assert_cmpstr (ro, ==, "sda");
  g_clear_pointer (&ro, g_free);
  ro = readonly_disks (f->src);
  g_assert_cmpstr (ro, ==, "vda vdb sda");
  md = metadata_of (clone);
  g_assert_false (md->template);
  g_assert_true (md->origin_linked);
  tmd = metadata_of (f->src);
  g_assert_true (tmd->template); /* the counter update kept the mark */
  g_assert_cmpuint (tmd->counter, ==, 1);
  {
    g_autofree char *nvram = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, clone);
    g_assert_true (g_file_test (nvram, G_FILE_TEST_IS_REGULAR));
  }

  /* a write into the clone's overlay: the clone differs, the base not */
  {
    const char *write[] = { "qemu-io", "-f", "qcow2", "-c", "write -P 0xab 0 1M", sys, NULL };
    const char *compare[] = { "qemu-img", "compare", "-q", "-U", sys, base_sys, NULL };
    g_autofree char *o = NULL;
    g_autofree char *e = NULL;

    dc_test_run_ok (write);
    g_assert_cmpint (dc_test_run (compare, &o, &e), ==, 1);
  }
  sum_after = live_sha256_file (base_sys);
  g_assert_cmpstr (sum_after, ==, sum_sys);
  g_clear_pointer (&sum_after, g_free);
  sum_after = live_sha256_file (base_data);
  g_assert_cmpstr (sum_after, ==, sum_data);

  /* The clone starts, beside its running template: libvirt follows the
   * backing chain from the overlay's header (no <backingStore> in the
   * domain XML) and QEMU opens the base read-only for both. */
  {
    g_autoptr (DcDomain) tdom = virDomainLookupByName (live_conn, f->src);
    g_autoptr (DcDomain) cdom = virDomainLookupByName (live_conn, clone);
    g_autofree char *live = NULL;
    g_autofree char *backing = g_strdup_printf ("<source file='%s'", base_sys);

    if (virDomainCreate (tdom) < 0 || virDomainCreate (cdom) < 0)
      g_error ("cannot start the template and its linked clone: %s", virGetLastErrorMessage ());
    live = virDomainGetXMLDesc (cdom, 0);
    dc_assert_contains (live, "<backingStore type='file'");
    dc_assert_contains (live, backing);
    g_assert_cmpint (virDomainDestroy (cdom), ==, 0);
    g_assert_cmpint (virDomainDestroy (tdom), ==, 0);
  }
  g_clear_pointer (&sum_after, g_free);
  sum_after = live_sha256_file (base_sys);
  g_assert_cmpstr (sum_after, ==, sum_sys);
}

/* Refusals of --linked: a plain domain (naming --make-template, JSON
 * code not-a-template), and a base that cannot back an overlay. */
static void
test_live_linked_refused (LiveFixture *f, gconstpointer data)
{
  const LiveRefusal plain = { "not a template", 1, "run 'domclone --make-template" };
  const char *args[] = { "--linked", f->src, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  SKIP_WITHOUT_DAEMON ();
  live_assert_refused (f, &plain, args);
  status = dc_test_domclone (&out, &err, "--linked", "--json", f->src, NULL);
  g_assert_cmpint (status, ==, 1);
  {
    g_autoptr (JsonNode) root = dc_test_json_parse (out);
    JsonObject *e = json_object_get_object_member (json_node_get_object (root), "error");

    g_assert_cmpstr (json_object_get_string_member (e, "code"), ==, "not-a-template");
  }

  /* a vmdk disk: qcow2 cannot sit on it */
  {
    g_autofree char *vmdk = live_path_in (f, "old.vmdk");
    const char *create[] = { "qemu-img", "create", "-q", "-f", "vmdk", vmdk, "16M", NULL };
    g_autofree char *xml =
      g_strdup_printf ("<disk type='file' device='disk'><driver name='qemu' type='vmdk'/>"
                       "<source file='%s'/><target dev='vdd' bus='virtio'/></disk>",
                       vmdk);
    g_autoptr (DcDomain) src = virDomainLookupByName (live_conn, f->src);
    g_autoptr (DcPool) pool = virStoragePoolLookupByName (live_conn, f->pool);
    const LiveRefusal vmdk_base = { "vmdk base", 1,
                                    "cannot make a linked clone of disk 'vdd': its volume '" };

    dc_test_run_ok (create);
    g_assert_cmpint (virStoragePoolRefresh (pool, 0), ==, 0);
    g_assert_cmpint (virDomainAttachDeviceFlags (src, xml, VIR_DOMAIN_AFFECT_CONFIG), ==, 0);
    make_template_ok (f);
    live_assert_refused (f, &vmdk_base, args);
  }
}

/* --unmake-template is refused while a linked clone reads the template;
 * once it is gone, the template is a plain domain again, its XML as
 * before --make-template but for domclone's metadata (here: the
 * counter). Unmaking again changes nothing. */
static void
test_live_unmake_template (LiveFixture *f, gconstpointer data)
{
  g_autofree char *clone = g_strdup_printf ("%s-clone1", f->src);
  g_autofree char *original = live_domain_xml_without_metadata (f->src);
  g_autofree char *restored = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *expect = NULL;
  g_autofree char *ro = NULL;
  g_autoptr (DcMetadata) md = NULL;
  const LiveRefusal alive = { "linked clone alive", 1, "has 1 linked clone (" };
  const char *args[] = { "--unmake-template", f->src, NULL };
  int status;

  SKIP_WITHOUT_DAEMON ();
  make_template_ok (f);
  {
    const char *linked[] = { "--linked", f->src, NULL };

    g_assert_cmpint (dc_test_domclone_argv (linked, &out, &err), ==, 0);
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  live_assert_refused (f, &alive, args);
  status = dc_test_domclone (&out, &err, "--unmake-template", "--json", f->src, NULL);
  g_assert_cmpint (status, ==, 1);
  dc_assert_contains (err, clone);
  {
    g_autoptr (JsonNode) root = dc_test_json_parse (out);
    JsonObject *e = json_object_get_object_member (json_node_get_object (root), "error");

    g_assert_cmpstr (json_object_get_string_member (e, "code"), ==, "has-linked-clones");
  }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  live_delete_clone (clone);
  status = dc_test_domclone (&out, &err, "--unmake-template", f->src, NULL);
  g_test_message ("unmake: exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  expect = g_strdup_printf ("%s is no template any more; writable again: vda, vdb.\n", f->src);
  g_assert_cmpstr (out, ==, expect);
  ro = readonly_disks (f->src);
  g_assert_cmpstr (ro, ==, "sda");
  md = metadata_of (f->src);
  g_assert_false (md->template);
  g_assert_cmpuint (md->counter, ==, 1);
  restored = live_domain_xml_without_metadata (f->src);
  g_assert_cmpstr (restored, ==, original);

  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_clear_pointer (&expect, g_free);
  status = dc_test_domclone (&out, &err, "--unmake-template", f->src, NULL);
  g_assert_cmpint (status, ==, 0);
  expect = g_strdup_printf ("%s is not a template; nothing changed.\n", f->src);
  g_assert_cmpstr (out, ==, expect);
}

/* A template can still be started: QEMU opens its disks read-only (no
 * error, the guest sees read-only disks); while it runs, it can be
 * neither cloned nor made a plain domain. */
static void
test_live_template_started (LiveFixture *f, gconstpointer data)
{
  g_autoptr (DcDomain) dom = NULL;
  const LiveRefusal running = { "template running", 1, "is running; shut it down first" };
  const char *linked[] = { "--linked", f->src, NULL };
  const char *unmake[] = { "--unmake-template", f->src, NULL };

  SKIP_WITHOUT_DAEMON ();
  make_template_ok (f);
  dom = virDomainLookupByName (live_conn, f->src);
  if (virDomainCreate (dom) < 0)
    g_error ("a template does not start: %s", virGetLastErrorMessage ());
  live_assert_refused (f, &running, linked);
  live_assert_refused (f, &running, unmake);
  g_assert_cmpint (virDomainDestroy (dom), ==, 0);
}

/* A SATA hard disk: libvirt refuses <readonly/> on it, so the one
 * redefinition fails with libvirt's reason and nothing changes. */
static void
test_live_template_sata (LiveFixture *f, gconstpointer data)
{
  g_autofree char *disk = live_path_in (f, "sata.raw");
  g_autofree char *xml = g_strdup_printf ("<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                                          "<source file='%s'/><target dev='sdb' bus='sata'/></disk>",
                                          disk);
  g_autoptr (DcDomain) src = virDomainLookupByName (live_conn, f->src);
  const LiveRefusal sata = { "sata disk", 1, "cannot make a template of '" };
  const char *args[] = { "--make-template", f->src, NULL };
  const gsize offsets[] = { 0 };

  SKIP_WITHOUT_DAEMON ();
  live_write_pattern (disk, MiB, offsets, 1, 5);
  g_assert_cmpint (virDomainAttachDeviceFlags (src, xml, VIR_DOMAIN_AFFECT_CONFIG), ==, 0);
  live_assert_refused (f, &sata, args);
}

/* --print-xml with --linked: the overlays' paths, writable, and nothing
 * made. */
static void
test_live_linked_print_xml (LiveFixture *f, gconstpointer data)
{
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *overlay = NULL;
  int status;

  SKIP_WITHOUT_DAEMON ();
  make_template_ok (f);
  before = live_snapshot ();
  status = dc_test_domclone (&out, &err, "--linked", "--print-xml", f->src, NULL);
  g_assert_cmpint (status, ==, 0);
  overlay = g_strdup_printf ("<source file=\"%s/%s-clone1.qcow2\"/>", f->dir, f->src);
  dc_assert_contains (out, overlay);
  g_clear_pointer (&overlay, g_free);
  /* vdb is a volume disk: it stays one, on the overlay volume */
  overlay = g_strdup_printf ("<source pool=\"%s\" volume=\"%s-clone1-vdb.qcow2\"/>", f->pool, f->src);
  dc_assert_contains (out, overlay);
  {
    g_autofree char *ro = readonly_in (out);

    g_assert_cmpstr (ro, ==, "sda"); /* its own disks are writable */
  }
  dc_assert_contains (out, "linked=\"yes\"");
  after = live_snapshot ();
  g_assert_cmpstr (after, ==, before);
}

/* --count with --linked: every clone is linked; --unmake-template names
 * them all. */
static void
test_live_linked_count (LiveFixture *f, gconstpointer data)
{
  g_autofree char *base = g_strdup_printf ("%s/%s.qcow2", f->dir, f->src);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const LiveRefusal alive = { "two linked clones", 1, "has 2 linked clones (" };
  const char *unmake[] = { "--unmake-template", f->src, NULL };
  int status;

  SKIP_WITHOUT_DAEMON ();
  make_template_ok (f);
  status = dc_test_domclone (&out, &err, "--linked", "--count", "2", f->src, NULL);
  g_test_message ("count: exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  for (int i = 1; i <= 2; i++)
    {
      g_autofree char *sys = g_strdup_printf ("%s/%s-clone%d.qcow2", f->dir, f->src, i);
      g_autoptr (JsonNode) root = dc_test_qemu_img_info (sys);

      g_assert_cmpstr (json_object_get_string_member (json_node_get_object (root), "backing-filename"), ==,
                       base);
    }
  live_assert_refused (f, &alive, unmake);
}

/* A linked clone that fails at its last step (the template's counter
 * cannot be saved: its config file is bind-mounted onto itself, so
 * libvirt cannot rename over it) removes its overlays, NVRAM and domain:
 * the daemon is as before. Root only (mount). */
static void
test_live_linked_rollback (LiveFixture *f, gconstpointer data)
{
  g_autofree char *err = NULL;
  const char *args[] = { "--linked", f->src, NULL };

  SKIP_WITHOUT_DAEMON ();
  make_template_ok (f);
  err = live_assert_fails_cleanly_pinned (f, args);
  if (err == NULL)
    return;
  dc_assert_contains (err, "; everything this run created was removed\n");
  {
    g_autofree char *nvram = g_strdup_printf ("%s/%s-clone1_VARS.fd", f->nvram_dir, f->src);
    g_autofree char *ovl = g_strdup_printf ("%s/%s-clone1.qcow2", f->dir, f->src);

    g_assert_false (g_file_test (nvram, G_FILE_TEST_EXISTS));
    g_assert_false (g_file_test (ovl, G_FILE_TEST_EXISTS));
  }
}

/* The XML libvirt gives volume @name of @pool. */
static char *
vol_xml (const char *pool_name, const char *name)
{
  g_autoptr (DcPool) pool = virStoragePoolLookupByName (live_conn, pool_name);
  g_autoptr (DcVol) vol = pool ? virStorageVolLookupByName (pool, name) : NULL;

  g_assert_nonnull (vol);
  return virStorageVolGetXMLDesc (vol, 0);
}

/* A linked clone's overlays are written by domclone, not by a qemu-img
 * that libvirt spawns, and libvirt must see each as it sees its own: a
 * qcow2 volume on its base, of its base's size. The proof: libvirt's
 * copy of the new overlay (virStorageVolCreateXMLFrom, which reads the
 * volume as libvirt sees it) reads as the template's disk does; had
 * libvirt taken it for raw, the copy would hold the overlay's header. */
static void
test_live_linked_overlay_here (LiveFixture *f, gconstpointer data)
{
  g_autofree char *clone = g_strdup_printf ("%s-clone1", f->src);
  g_autofree char *base_sys = g_strdup_printf ("%s/%s.qcow2", f->dir, f->src);
  g_autofree char *ovl = g_strdup_printf ("%s.qcow2", clone);
  g_autofree char *copy = g_strdup_printf ("%s/libvirt-copy.qcow2", f->dir);
  g_autofree char *ovl_path = g_strdup_printf ("%s/%s", f->dir, ovl);
  g_autofree char *xml = NULL;
  g_autofree char *backing = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *compare[] = { "qemu-img", "compare", "-q", "-U", base_sys, copy, NULL };
  int status;

  SKIP_WITHOUT_DAEMON ();
  make_template_ok (f);
  status = dc_test_domclone (&out, &err, "-v", "--linked", f->src, NULL);
  g_test_message ("linked: exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  dc_assert_contains (err, "as a qcow2 overlay written here");
  dc_assert_contains (err, "written here (no qemu-img)");

  xml = vol_xml (f->pool, ovl);
  dc_assert_contains (xml, "<format type='qcow2'/>");
  backing = g_strdup_printf ("<backingStore>\n    <path>%s</path>\n    <format type='qcow2'/>", base_sys);
  dc_assert_contains (xml, backing);
  {
    g_autoptr (DcPool) pool = virStoragePoolLookupByName (live_conn, f->pool);
    g_autoptr (DcVol) src = virStorageVolLookupByName (pool, ovl);
    g_autoptr (DcVol) made = virStorageVolCreateXMLFrom (
      pool,
      "<volume><name>libvirt-copy.qcow2</name><capacity>0</capacity><target><format type='qcow2'/></target></volume>",
      src, 0);

    g_assert_nonnull (made);
  }
  g_assert_cmpint (dc_test_run (compare, NULL, NULL), ==, 0);
  assert_overlay (ovl_path, base_sys, "qcow2");
}

/* How many of the libvirt calls the log @log holds (LIBVIRT_LOG_FILTERS
 * "1:libvirt": every public API call, one line each) are of @call, with
 * @args among their arguments if given */
static guint
calls_of (const char *log, const char *call, const char *args)
{
  g_autofree char *needle = g_strdup_printf (" : %s:", call);
  g_auto (GStrv) lines = g_strsplit (log, "\n", -1);
  guint n = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    n += strstr (lines[i], needle) != NULL && (args == NULL || strstr (lines[i], args) != NULL);
  return n;
}

/* A linked clone asks the daemon only what it must (issue 18): each
 * storage pool is looked up once per run, however many volumes it
 * holds (but domclone's temporary pools, which another run may close
 * and open again), and metadata is written twice: the clone's marker
 * dropped once complete (the <building> marker it is defined with
 * names the sameness proofs' scratch volumes already), the source's
 * counter. The directory of the overlays is proven with the first
 * overlay itself. Counted in libvirt's own log of its API calls. */
static void
test_live_linked_calls (LiveFixture *f, gconstpointer data)
{
  g_autofree char *dir = g_dir_make_tmp ("calls-XXXXXX", NULL);
  g_autofree char *log_path = g_build_filename (dir, "libvirt.log", NULL);
  g_autofree char *outputs = g_strdup_printf ("LIBVIRT_LOG_OUTPUTS=1:file:%s", log_path);
  const char *env[] = { "LIBVIRT_LOG_FILTERS=1:libvirt", outputs, NULL };
  const char *args[] = { "--linked", f->src, NULL };
  g_autoptr (GSubprocess) proc = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *log = NULL;
  g_autofree char *clone = g_strdup_printf ("%s-clone1", f->src);
  g_autofree char *pool_arg = NULL;
  int status;

  SKIP_WITHOUT_DAEMON ();
  g_assert_nonnull (dir);
  make_template_ok (f);
  proc = dc_test_spawn_domclone_env (args, env);
  out = dc_test_communicate (proc, &err, &status);
  g_test_message ("linked: exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  g_assert_true (live_domain_exists (clone));
  g_assert_true (g_file_get_contents (log_path, &log, NULL, NULL));
  pool_arg = g_strdup_printf (", name=%s", f->pool);
  g_test_message ("lookups of pool '%s' %u, metadata written %u", f->pool,
                  calls_of (log, "virStoragePoolLookupByName", pool_arg),
                  calls_of (log, "virDomainSetMetadata", NULL));
  g_assert_cmpuint (calls_of (log, "virDomainDefineXML", NULL), ==, 1);
  g_assert_cmpuint (calls_of (log, "virStoragePoolLookupByName", pool_arg), ==, 1);
  g_assert_cmpuint (calls_of (log, "virStoragePoolLookupByVolume", NULL), ==, 0);
  /* two proofs (the pool's directory, the NVRAM's), no marker written
   * for either; the pool's with the first overlay itself, no scratch
   * volume made for it */
  g_assert_cmpuint (calls_of (log, "virStorageVolUpload", NULL), ==, 2);
  g_assert_cmpuint (calls_of (log, "virStorageVolCreateXML", "<name>domclone-proof-"), ==, 1);
  g_assert_cmpuint (calls_of (log, "virDomainSetMetadata", NULL), ==, 2);
  g_assert_cmpuint (calls_of (log, "virDomainIsPersistent", NULL), ==, 1);
  g_unlink (log_path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  live_init (&argc, &argv);
  LIVE_TEST ("/live/template/make", test_live_make_template);
  LIVE_TEST ("/live/template/unmake", test_live_unmake_template);
  LIVE_TEST ("/live/template/started", test_live_template_started);
  LIVE_TEST ("/live/template/sata", test_live_template_sata);
  LIVE_TEST ("/live/linked/clone", test_live_linked_clone);
  LIVE_TEST ("/live/linked/overlay-here", test_live_linked_overlay_here);
  LIVE_TEST ("/live/linked/calls", test_live_linked_calls);
  LIVE_TEST ("/live/linked/refused", test_live_linked_refused);
  LIVE_TEST ("/live/linked/print-xml", test_live_linked_print_xml);
  LIVE_TEST ("/live/linked/count", test_live_linked_count);
  LIVE_TEST ("/live/linked/rollback", test_live_linked_rollback);
  return live_run ();
}
