/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live tests, a clone shaped on the way (issue 17): --memory and
 * --vcpus in the defined XML; --resize of a qcow2 and a raw disk (by
 * the local copy and by libvirt's copy) and of a linked clone's
 * overlay, each grown with the source's data up to the old size
 * (qemu-img compare, which takes a longer image's tail for zeros);
 * --disk share (the clone names the source's volume, nothing copied)
 * and skip (the disk gone, nothing made for it); --format both ways,
 * qemu-img compare equal and <driver type> to match; refusals (a
 * shrink names the current size) that change nothing; and a shaped
 * clone failing at its last step, rolled back whole.
 *
 * The fixture's source (tests/lib/live-fixture.c): vda a 32 MiB qcow2
 * file, vdb a 64 MiB raw volume, vdc a shareable raw disk, sda a CD-ROM.
 */
#include "config.h"

#include "dc-test-assert.h"
#include "dc-test-util.h"
#include "live-fixture.h"

#include <glib/gstdio.h>
#include <string.h>

/* Runs domclone with @args (and @env, if set); returns its stdout */
static char *
shape_clone (const char *const *args, const char *const *env)
{
  g_autoptr (GSubprocess) proc = dc_test_spawn_domclone_env (args, env);
  g_autofree char *err = NULL;
  int status;
  char *out = dc_test_communicate (proc, &err, &status);

  g_test_message ("domclone: exit %d:\n%s", status, err);
  g_assert_cmpint (status, ==, 0);
  return out;
}

/* qemu-img compare of @a (format @fa) and @b (@fb): equal */
static void
assert_same_content (const char *a, const char *fa, const char *b, const char *fb)
{
  const char *argv[] = { "qemu-img", "compare", "-U", "-f", fa, "-F", fb, a, b, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = dc_test_run (argv, &out, &err);

  g_test_message ("qemu-img compare %s %s: exit %d: %s%s", a, b, status, out, err);
  g_assert_cmpint (status, ==, 0);
}

/* The format and virtual size qemu-img reads in @path */
static gint64
image_size (const char *path, const char *format)
{
  g_autoptr (JsonNode) info = dc_test_qemu_img_info (path);
  JsonObject *o = json_node_get_object (info);

  g_assert_cmpstr (json_object_get_string_member (o, "format"), ==, format);
  return json_object_get_int_member (o, "virtual-size");
}

/* The volume of disk @disk in the clone's --json object @out */
static JsonObject *
json_volume (JsonObject *root, const char *disk)
{
  JsonArray *vols = json_object_get_array_member (json_object_get_object_member (root, "clone"), "volumes");

  for (guint i = 0; i < json_array_get_length (vols); i++)
    {
      JsonObject *v = json_array_get_object_element (vols, i);

      if (g_strcmp0 (json_object_get_string_member_with_default (v, "disk", ""), disk) == 0)
        return v;
    }
  g_error ("no volume for disk '%s' in the JSON", disk);
}

/* What --json says became of disk @disk */
static const char *
json_disk_action (JsonObject *root, const char *disk)
{
  JsonArray *disks = json_object_get_array_member (json_object_get_object_member (root, "clone"), "disks");

  for (guint i = 0; i < json_array_get_length (disks); i++)
    {
      JsonObject *d = json_array_get_object_element (disks, i);

      if (g_strcmp0 (json_object_get_string_member (d, "disk"), disk) == 0)
        return json_object_get_string_member (d, "action");
    }
  return NULL;
}

static void
test_live_shape_memory_vcpus (LiveFixture *f, gconstpointer data)
{
  g_autofree char *name = NULL;
  const char *print[] = { "--print-xml", "--memory", "256M", "--vcpus", "2", NULL, NULL };
  const char *args[] = { "--json", "--memory", "256M", "--vcpus", "2", "--name", NULL, NULL, NULL };
  g_autofree char *planned = NULL;
  g_autofree char *out = NULL;
  g_autofree char *xml = NULL;
  g_autoptr (JsonObject) root = NULL;
  JsonObject *clone;

  SKIP_WITHOUT_DAEMON ();
  name = g_strdup_printf ("%s-sized", f->src);
  print[5] = f->src;
  planned = shape_clone (print, NULL);
  dc_assert_contains (planned, "KiB\">262144</memory>");
  dc_assert_contains (planned, ">2</vcpu>");

  args[6] = name;
  args[7] = f->src;
  out = shape_clone (args, NULL);
  root = dc_test_json_object (out);
  clone = json_object_get_object_member (root, "clone");
  g_assert_cmpint (json_object_get_int_member (clone, "memory"), ==, 256 * MiB);
  g_assert_cmpint (json_object_get_int_member (clone, "vcpus"), ==, 2);

  xml = live_domain_xml (name);
  dc_assert_contains (xml, "<memory unit='KiB'>262144</memory>");
  dc_assert_contains (xml, "<currentMemory unit='KiB'>262144</currentMemory>");
  dc_assert_contains (xml, ">2</vcpu>");
}

/* --resize vda (qcow2) to 64M and vdb (raw) by +32M, with @env */
static void
resize_and_check (LiveFixture *f, const char *const *env)
{
  g_autofree char *name = g_strdup_printf ("%s-grown", f->src);
  const char *args[] = {
    "--json", "--resize", "vda=64M", "--resize", "vdb=+32M", "--name", name, f->src, NULL
  };
  g_autofree char *out = shape_clone (args, env);
  g_autoptr (JsonObject) root = dc_test_json_object (out);
  g_autofree char *src_vda = g_strdup_printf ("%s/%s.qcow2", f->dir, f->src);
  g_autofree char *src_vdb = live_path_in (f, "data.raw");
  g_autofree char *vda = g_strdup_printf ("%s/%s.qcow2", f->dir, name);
  g_autofree char *vdb = g_strdup_printf ("%s/%s-vdb.raw", f->dir, name);
  GStatBuf st;

  g_assert_cmpint (image_size (vda, "qcow2"), ==, 64 * MiB);
  g_assert_cmpint (image_size (vdb, "raw"), ==, 96 * MiB);
  g_assert_cmpint (g_stat (vdb, &st), ==, 0);
  g_assert_cmpint (st.st_size, ==, 96 * MiB);
  /* the source's data, then zeros */
  assert_same_content (src_vda, "qcow2", vda, "qcow2");
  assert_same_content (src_vdb, "raw", vdb, "raw");
  g_assert_cmpint (image_size (src_vda, "qcow2"), ==, 32 * MiB);
  g_assert_cmpint (json_object_get_int_member (json_volume (root, "vda"), "capacity"), ==, 64 * MiB);
  g_assert_cmpint (json_object_get_int_member (json_volume (root, "vdb"), "capacity"), ==, 96 * MiB);
  /* sparse: the grown part takes no room */
  g_assert_cmpuint (live_allocated_bytes (vdb), <=, live_allocated_bytes (src_vdb) + 64 * 1024);
}

/* the local copy (the default here) */
static void
test_live_shape_resize_local (LiveFixture *f, gconstpointer data)
{
  SKIP_WITHOUT_DAEMON ();
  resize_and_check (f, NULL);
}

/* libvirt's copy: qemu-img convert (which makes the source's size) and
 * libvirt's raw loop */
static void
test_live_shape_resize_libvirt (LiveFixture *f, gconstpointer data)
{
  const char *env[] = { "DOMCLONE_LOCAL_COPY=0", NULL };

  SKIP_WITHOUT_DAEMON ();
  resize_and_check (f, env);
}

/* a linked clone's overlay is made larger than its base */
static void
test_live_shape_resize_linked (LiveFixture *f, gconstpointer data)
{
  g_autofree char *name = NULL;
  const char *make[] = { "--make-template", NULL, NULL };
  const char *args[] = { "--linked", "--resize", "vda=+16M", "--name", NULL, NULL, NULL };
  g_autofree char *out = NULL;
  g_autofree char *src_vda = NULL;
  g_autofree char *vda = NULL;
  g_autofree char *sum = NULL;
  g_autofree char *after = NULL;

  SKIP_WITHOUT_DAEMON ();
  name = g_strdup_printf ("%s-linked", f->src);
  src_vda = g_strdup_printf ("%s/%s.qcow2", f->dir, f->src);
  vda = g_strdup_printf ("%s/%s.qcow2", f->dir, name);
  make[1] = f->src;
  g_free (shape_clone (make, NULL));
  sum = live_sha256_file (src_vda);
  args[4] = name;
  args[5] = f->src;
  out = shape_clone (args, NULL);
  g_assert_cmpint (image_size (vda, "qcow2"), ==, 48 * MiB);
  assert_same_content (src_vda, "qcow2", vda, "qcow2");
  after = live_sha256_file (src_vda);
  g_assert_cmpstr (after, ==, sum);
}

/* --disk vda=skip --disk vdb=share: nothing copied for either */
static void
test_live_shape_share_skip (LiveFixture *f, gconstpointer data)
{
  g_autofree char *name = NULL;
  const char *args[] = { "--json", "--disk", "vda=skip", "--disk", "vdb=share", "--name", NULL, NULL, NULL };
  g_autoptr (DcPool) pool = virStoragePoolLookupByName (live_conn, f->pool);
  g_autofree char *out = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *share = NULL;
  g_autoptr (JsonObject) root = NULL;
  int vols_before, vols_after;

  SKIP_WITHOUT_DAEMON ();
  name = g_strdup_printf ("%s-lean", f->src);
  vols_before = virStoragePoolNumOfVolumes (pool);
  args[6] = name;
  args[7] = f->src;
  out = shape_clone (args, NULL);
  root = dc_test_json_object (out);
  g_assert_cmpstr (json_disk_action (root, "vda"), ==, "skip");
  g_assert_cmpstr (json_disk_action (root, "vdb"), ==, "share");
  g_assert_cmpstr (json_disk_action (root, "vdc"), ==, "share");
  g_assert_cmpstr (json_disk_action (root, "sda"), ==, "share");
  {
    JsonArray *warnings =
      json_object_get_array_member (json_object_get_object_member (root, "clone"), "warnings");

    g_assert_cmpuint (json_array_get_length (warnings), ==, 1);
    dc_assert_contains (json_array_get_string_element (warnings, 0), "shares writable disk 'vdb'");
  }

  xml = live_domain_xml (name);
  g_test_message ("clone XML:\n%s", xml);
  dc_assert_not_contains (xml, "dev='vda'");
  share = g_strdup_printf ("<source pool='%s' volume='data.raw'/>", f->pool);
  dc_assert_contains (xml, share);
  g_assert_cmpint (virStoragePoolRefresh (pool, 0), ==, 0);
  vols_after = virStoragePoolNumOfVolumes (pool);
  g_assert_cmpint (vols_after, ==, vols_before);
  {
    g_autofree char *copy = g_strdup_printf ("%s/%s.qcow2", f->dir, name);

    g_assert_false (g_file_test (copy, G_FILE_TEST_EXISTS));
  }
  /* an --exist-ok rerun reports the same, from the clone's metadata */
  {
    const char *again[] = { "--json", "--exist-ok", "--name", name, f->src, NULL };
    g_autofree char *out2 = shape_clone (again, NULL);
    g_autoptr (JsonObject) root2 = dc_test_json_object (out2);

    g_assert_false (json_object_get_boolean_member (root2, "changed"));
    g_assert_cmpstr (json_disk_action (root2, "vda"), ==, "skip");
    g_assert_cmpstr (json_disk_action (root2, "vdb"), ==, "share");
    g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (root2, "clone"), "memory"),
                     ==, 128 * MiB);
  }
}

/* --format @format: every copied disk in it, the same content */
static void
test_live_shape_format (LiveFixture *f, gconstpointer data)
{
  const char *format = data;
  g_autofree char *name = NULL;
  const char *args[] = { "--json", "--format", format, "--name", NULL, NULL, NULL };
  g_autofree char *out = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *src_vda = NULL;
  g_autofree char *src_vdb = NULL;
  g_autoptr (JsonObject) root = NULL;
  JsonObject *vda, *vdb;

  SKIP_WITHOUT_DAEMON ();
  name = g_strdup_printf ("%s-%s", f->src, format);
  src_vda = g_strdup_printf ("%s/%s.qcow2", f->dir, f->src);
  src_vdb = live_path_in (f, "data.raw");
  args[4] = name;
  args[5] = f->src;
  out = shape_clone (args, NULL);
  root = dc_test_json_object (out);
  vda = json_volume (root, "vda");
  vdb = json_volume (root, "vdb");
  g_assert_cmpstr (json_object_get_string_member (vda, "format"), ==, format);
  g_assert_cmpstr (json_object_get_string_member (vdb, "format"), ==, format);
  g_assert_cmpint (image_size (json_object_get_string_member (vda, "path"), format), ==, 32 * MiB);
  g_assert_cmpint (image_size (json_object_get_string_member (vdb, "path"), format), ==, 64 * MiB);
  assert_same_content (src_vda, "qcow2", json_object_get_string_member (vda, "path"), format);
  assert_same_content (src_vdb, "raw", json_object_get_string_member (vdb, "path"), format);
  /* the converted volume is named for its format */
  g_assert_true (g_str_has_suffix (
    json_object_get_string_member (g_str_equal (format, "raw") ? vda : vdb, "path"), format));

  xml = live_domain_xml (name);
  g_test_message ("clone XML:\n%s", xml);
  {
    g_autofree char *driver = g_strdup_printf ("<driver name='qemu' type='%s'/>", format);

    /* vda, vdb; vdc and the CD-ROM are shared and stay raw */
    g_assert_cmpuint (dc_test_count_of (xml, driver), ==, g_str_equal (format, "raw") ? 4 : 2);
  }
}

/* Refused before anything is made, exit 2, the daemon unchanged */
static void
test_live_shape_refused (LiveFixture *f, gconstpointer data)
{
  const struct
  {
    LiveRefusal r;
    const char *args[4];
  } cases[] = {
    { { "shrink", 2, "its capacity is 32 MiB (33554432 bytes)" }, { "--resize", "vda=16M" } },
    { { "unknown target", 2, "the source has no disk 'vdz'" }, { "--disk", "vdz=skip" } },
    { { "resize a CD-ROM", 2, "only a copied disk is resized" }, { "--resize", "sda=+1G" } },
    { { "copy a CD-ROM", 2, "has nothing of its own to copy" }, { "--disk", "sda=copy" } },
    { { "more vCPUs than q35 takes", 2, "takes at most" }, { "--vcpus", "4096" } },
    { { "format with linked", 2, "it takes no --format" }, { "--format", "raw", "--linked" } },
  };

  SKIP_WITHOUT_DAEMON ();
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GPtrArray) args = g_ptr_array_new ();

      for (size_t j = 0; j < G_N_ELEMENTS (cases[i].args) && cases[i].args[j] != NULL; j++)
        g_ptr_array_add (args, (gpointer) cases[i].args[j]);
      g_ptr_array_add (args, f->src);
      g_ptr_array_add (args, NULL);
      live_assert_refused (f, &cases[i].r, (const char *const *) args->pdata);
    }
}

/* A shaped clone (grown, converted, one disk skipped) that fails at its
 * last step leaves nothing behind */
static void
test_live_shape_rollback (LiveFixture *f, gconstpointer data)
{
  const char *args[] = { "--resize", "vda=+16M", "--format", "raw", "--disk", "vdc=skip", NULL, NULL };
  g_autofree char *err = NULL;

  SKIP_WITHOUT_DAEMON ();
  args[6] = f->src;
  err = live_assert_fails_cleanly_pinned (f, args);
  if (err == NULL)
    return;
  dc_assert_contains (err, "everything this run created was removed");
}

int
main (int argc, char **argv)
{
  live_init (&argc, &argv);
  LIVE_TEST ("/live/shape/memory-vcpus", test_live_shape_memory_vcpus);
  LIVE_TEST ("/live/shape/resize/local", test_live_shape_resize_local);
  LIVE_TEST ("/live/shape/resize/libvirt", test_live_shape_resize_libvirt);
  LIVE_TEST ("/live/shape/resize/linked", test_live_shape_resize_linked);
  LIVE_TEST ("/live/shape/share-skip", test_live_shape_share_skip);
  g_test_add ("/live/shape/format/qcow2", LiveFixture, "qcow2", live_fixture_setup, test_live_shape_format,
              live_fixture_teardown);
  g_test_add ("/live/shape/format/raw", LiveFixture, "raw", live_fixture_setup, test_live_shape_format,
              live_fixture_teardown);
  LIVE_TEST ("/live/shape/refused", test_live_shape_refused);
  LIVE_TEST ("/live/shape/rollback", test_live_shape_rollback);
  return live_run ();
}
