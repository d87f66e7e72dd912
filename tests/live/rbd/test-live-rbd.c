/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live tests, Ceph RBD: a one-node Ceph cluster (tests/ceph-one-node.sh,
 * started once for the program inside the harness's private network
 * namespace) under the private libvirtd. Network disks and volumes of an
 * rbd pool are cloned on the Ceph side: independent images (no parent,
 * no snapshot left on the source), byte for byte (read back with
 * librbd), again after the source changed, started under TCG; linked
 * clones of a template are copy-on-write children of its snapshot, and
 * the template reads as before after a child is written; --print-xml,
 * --json, --count, --exist-ok; rollback after a failure and after
 * SIGKILL with --cleanup; refusals of other network disks, and a
 * cluster no key reaches. Skipped only without the Ceph packages.
 */
#include "config.h"

#include "dc-test-assert.h"
#include "dc-test-util.h"
#include "dc-xml.h"
#include "live-fixture.h"

#include <errno.h>
#include <json-glib/json-glib.h>
#include <rados/librados.h>
#include <rbd/librbd.h>
#include <signal.h>
#include <string.h>

#define SECRET_UUID "6b0c1d9e-52a4-4c39-8f55-0d1c2e3f4a5b"
#define PRIVATE_SECRET_UUID "7c1d2e0f-63b5-4d4a-9066-1e2d3f405b6c"
#define IMAGE_SIZE (64 * MiB)

/* The cluster, for the whole program */
static char *ceph_dir;        /* NULL: no cluster, every test skips */
static char *ceph_conf;       /* its ceph.conf */
static rados_t cluster;       /* the test's own client (client.admin) */
static rados_ioctx_t io;      /* on pool "rbd" */
static const char *ceph_skip; /* why there is no cluster */

typedef struct
{
  char *src;   /* source domain */
  char *image; /* its image in pool "rbd" */
} RbdFixture;

/* --- the cluster -------------------------------------------------------- */

static char *
ceph_script (void)
{
  return g_test_build_filename (G_TEST_DIST, "ceph-one-node.sh", NULL);
}

/* Defines libvirt secret @uuid holding client.libvirt's key. */
static void
define_secret (const char *uuid, gboolean private)
{
  g_autofree char *xml =
    g_strdup_printf ("<secret ephemeral='no' private='%s'><uuid>%s</uuid>"
                     "<usage type='ceph'><name>client.libvirt %s</name></usage></secret>",
                     private ? "yes" : "no", uuid, uuid);
  virSecretPtr secret = virSecretDefineXML (live_conn, xml, 0);
  char key[128] = { 0 };
  size_t len = sizeof (key);
  g_autofree guchar *raw = NULL;
  gsize raw_len = 0;
  char *outbuf = NULL;
  size_t outlen = 0;
  const char *cmd = "{\"prefix\": \"auth get-key\", \"entity\": \"client.libvirt\", \"format\": \"plain\"}";
  const char *cmds[] = { cmd };

  g_assert_nonnull (secret);
  g_assert_cmpint (rados_mon_command (cluster, cmds, 1, NULL, 0, &outbuf, &outlen, NULL, NULL), ==, 0);
  len = MIN (outlen, sizeof (key) - 1);
  memcpy (key, outbuf, len);
  rados_buffer_free (outbuf);
  g_strstrip (key);
  raw = g_base64_decode (key, &raw_len);
  g_assert_cmpint (virSecretSetValue (secret, raw, raw_len, 0), ==, 0);
  virSecretFree (secret);
}

static void
ceph_up (void)
{
  g_autofree char *script = ceph_script ();
  const char *check[] = { script, "check", NULL };
  g_autofree char *keyring = NULL;

  if (live_conn == NULL)
    return;
  if (dc_test_run (check, NULL, NULL) != 0)
    {
      ceph_skip =
        "the Ceph packages are missing (ceph-mon ceph-mgr ceph-osd ceph-common; scripts/install-deps.sh)";
      return;
    }
  ceph_dir = g_build_filename (live_state_dir, "ceph", NULL);
  {
    const char *up[] = { script, "up", ceph_dir, NULL };
    dc_test_run_ok (up);
  }
  ceph_conf = g_build_filename (ceph_dir, "ceph.conf", NULL);
  g_assert_cmpint (rados_create (&cluster, "admin"), ==, 0);
  g_assert_cmpint (rados_conf_read_file (cluster, ceph_conf), ==, 0);
  g_assert_cmpint (rados_connect (cluster), ==, 0);
  g_assert_cmpint (rados_ioctx_create (cluster, "rbd", &io), ==, 0);
  define_secret (SECRET_UUID, FALSE);
  define_secret (PRIVATE_SECRET_UUID, TRUE);
}

static void
ceph_down (void)
{
  g_autofree char *script = ceph_script ();
  const char *down[] = { script, "down", ceph_dir, NULL };

  if (ceph_dir == NULL)
    return;
  rados_ioctx_destroy (io);
  rados_shutdown (cluster);
  dc_test_run_ok (down);
}

/* --- images --------------------------------------------------------------- */

/* Creates @name with @features and writes a pattern of @seed into 8 MiB
 * of it, at 0 and at 40 MiB. */
static void
image_create (const char *name, guint64 features, guint32 seed)
{
  rbd_image_t image;
  int order = 22;
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  g_autofree guint32 *chunk = g_new (guint32, MiB / 4);
  const guint64 at[] = { 0, 40 * MiB };

  g_assert_cmpint (rbd_create2 (io, name, IMAGE_SIZE, features, &order), ==, 0);
  g_assert_cmpint (rbd_open (io, name, &image, NULL), ==, 0);
  for (gsize i = 0; i < G_N_ELEMENTS (at); i++)
    for (guint64 off = 0; off < 4 * MiB; off += MiB)
      {
        for (gsize j = 0; j < MiB / 4; j++)
          chunk[j] = g_rand_int (rand);
        g_assert_cmpint (rbd_write (image, at[i] + off, MiB, (const char *) chunk), ==, (int) MiB);
      }
  g_assert_cmpint (rbd_close (image), ==, 0);
}

/* Writes @text at @offset of image @name. */
static void
image_write (const char *name, guint64 offset, const char *text)
{
  rbd_image_t image;

  g_assert_cmpint (rbd_open (io, name, &image, NULL), ==, 0);
  g_assert_cmpint (rbd_write (image, offset, strlen (text), text), ==, (int) strlen (text));
  g_assert_cmpint (rbd_close (image), ==, 0);
}

static gboolean
image_exists (const char *name)
{
  rbd_image_t image;
  int rc = rbd_open_read_only (io, name, &image, NULL);

  if (rc == 0)
    rbd_close (image);
  g_assert_true (rc == 0 || rc == -ENOENT);
  return rc == 0;
}

/* The sha256 of image @name's bytes, read with librbd */
static char *
image_sha256 (const char *name)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree char *buf = g_malloc (4 * MiB);
  rbd_image_t image;
  uint64_t size = 0;

  g_assert_cmpint (rbd_open_read_only (io, name, &image, NULL), ==, 0);
  g_assert_cmpint (rbd_get_size (image, &size), ==, 0);
  for (uint64_t off = 0; off < size; off += 4 * MiB)
    {
      ssize_t n = rbd_read (image, off, MIN (4 * MiB, size - off), buf);

      g_assert_cmpint (n, ==, (ssize_t) MIN (4 * MiB, size - off));
      g_checksum_update (sum, (const guchar *) buf, n);
    }
  rbd_close (image);
  return g_strdup_printf ("%" G_GUINT64_FORMAT ":%s", size, g_checksum_get_string (sum));
}

/* "features F parent P snaps S1,S2(protected)" of image @name */
static char *
image_facts (const char *name)
{
  rbd_image_t image;
  uint64_t features = 0;
  rbd_linked_image_spec_t parent = { 0 };
  rbd_snap_spec_t psnap = { 0 };
  rbd_snap_info_t snaps[16];
  int max = G_N_ELEMENTS (snaps);
  int n, rc;
  GString *out = g_string_new (NULL);

  g_assert_cmpint (rbd_open_read_only (io, name, &image, NULL), ==, 0);
  g_assert_cmpint (rbd_get_features (image, &features), ==, 0);
  g_string_append_printf (out, "features %" G_GUINT64_FORMAT " parent ", features);
  rc = rbd_get_parent (image, &parent, &psnap);
  if (rc == 0)
    {
      g_string_append_printf (out, "%s/%s@%s", parent.pool_name, parent.image_name, psnap.name);
      rbd_linked_image_spec_cleanup (&parent);
      rbd_snap_spec_cleanup (&psnap);
    }
  else
    {
      g_assert_cmpint (rc, ==, -ENOENT);
      g_string_append (out, "none");
    }
  n = rbd_snap_list (image, snaps, &max);
  g_assert_cmpint (n, >=, 0);
  g_string_append (out, " snaps");
  for (int i = 0; i < n; i++)
    {
      int protected = 0;

      g_assert_cmpint (rbd_snap_is_protected (image, snaps[i].name, &protected), ==, 0);
      g_string_append_printf (out, " %s%s", snaps[i].name, protected ? "(protected)" : "");
    }
  rbd_snap_list_end (snaps);
  rbd_close (image);
  return g_string_free (out, FALSE);
}

/* Every image of pool "rbd" with its facts, one a line: what the
 * cluster holds, for "nothing changed" */
static char *
ceph_snapshot (void)
{
  rbd_image_spec_t specs[64];
  size_t n = G_N_ELEMENTS (specs);
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  GString *out = g_string_new (NULL);

  g_assert_cmpint (rbd_list2 (io, specs, &n), ==, 0);
  for (size_t i = 0; i < n; i++)
    {
      g_autofree char *facts = image_facts (specs[i].name);

      g_ptr_array_add (lines, g_strdup_printf ("%s: %s", specs[i].name, facts));
    }
  rbd_image_spec_list_cleanup (specs, n);
  g_ptr_array_sort (lines, dc_test_compare_strings);
  for (guint i = 0; i < lines->len; i++)
    g_string_append_printf (out, "%s\n", (const char *) lines->pdata[i]);
  return g_string_free (out, FALSE);
}

/* The daemon's and the cluster's state together */
static char *
world_snapshot (void)
{
  g_autofree char *daemon = live_snapshot ();
  g_autofree char *ceph = ceph_snapshot ();

  return g_strconcat (daemon, "--- ceph\n", ceph, NULL);
}

/* --- the fixture ---------------------------------------------------------- */

/* A network disk on image @image, with the monitors and the secret */
static char *
network_disk (const char *image, const char *secret)
{
  return g_strdup_printf ("<disk type='network' device='disk'><driver name='qemu' type='raw'/>"
                          "<auth username='libvirt'><secret type='ceph' uuid='%s'/></auth>"
                          "<source protocol='rbd' name='rbd/%s'><host name='127.0.0.1' port='6789'/></source>"
                          "<target dev='vda' bus='virtio'/></disk>",
                          secret, image);
}

static void
define_domain (const char *name, const char *disks)
{
  g_autofree char *xml =
    g_strdup_printf ("<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>"
                     "<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>%s</devices></domain>",
                     name, disks);
  g_autoptr (DcDomain) dom = virDomainDefineXML (live_conn, xml);

  g_assert_nonnull (dom);
}

static guint rbd_serial;

static void
rbd_setup (RbdFixture *f, gconstpointer data)
{
  const char *secret = data ? data : SECRET_UUID;
  g_autofree char *disk = NULL;

  if (live_conn == NULL || ceph_dir == NULL)
    {
      g_test_skip (live_conn == NULL ? "no private libvirt daemon (run through tests/with-libvirtd.sh)"
                                     : ceph_skip);
      return;
    }
  rbd_serial++;
  f->src = g_strdup_printf ("rvm%u", rbd_serial);
  f->image = g_strdup_printf ("img%u", rbd_serial);
  image_create (f->image, RBD_FEATURES_DEFAULT, rbd_serial);
  disk = network_disk (f->image, secret);
  define_domain (f->src, disk);
}

/* Removes the images of pool "rbd" named after the fixture (children
 * first), and its domains */
static void
rbd_teardown (RbdFixture *f, gconstpointer data)
{
  rbd_image_spec_t specs[64];
  size_t n = G_N_ELEMENTS (specs);

  if (f->src == NULL)
    return;
  live_remove_test_objects (f->src, NULL);
  g_assert_cmpint (rbd_list2 (io, specs, &n), ==, 0);
  for (size_t i = 0; i < n; i++)
    if (g_str_has_prefix (specs[i].name, f->src))
      g_assert_cmpint (rbd_remove (io, specs[i].name), ==, 0);
  rbd_image_spec_list_cleanup (specs, n);
  {
    rbd_image_t image;

    if (rbd_open (io, f->image, &image, NULL) == 0)
      {
        rbd_snap_remove2 (image, "domclone-template", RBD_SNAP_REMOVE_UNPROTECT, NULL, NULL);
        rbd_close (image);
      }
  }
  rbd_remove (io, f->image);
  g_free (f->src);
  g_free (f->image);
}

#define RBD_TEST(path, func, data) g_test_add ((path), RbdFixture, (data), rbd_setup, (func), rbd_teardown)
#define SKIP_WITHOUT_CEPH(f)                                                                                 \
  do                                                                                                         \
    {                                                                                                        \
      if ((f)->src == NULL)                                                                                  \
        return;                                                                                              \
    }                                                                                                        \
  while (0)

static char *
domclone_ok (const char *const *args)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = dc_test_domclone_argv (args, &out, &err);

  g_test_message ("domclone: exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  return g_steal_pointer (&out);
}

/* The <source name> of clone @name's disk vda */
static char *
clone_source_name (const char *name)
{
  g_autofree char *xml = live_domain_xml (name);
  g_autoptr (GError) error = NULL;
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autoptr (xmlDoc) doc = dc_xml_parse (xml, "domain", "clone", &ctxt, &error);

  g_assert_no_error (error);
  dc_assert_contains (xml, "<host name='127.0.0.1' port='6789'/>");
  dc_assert_contains (xml, "<secret type='ceph' uuid='" SECRET_UUID "'/>");
  return dc_xml_string (ctxt, NULL, "/domain/devices/disk[target/@dev='vda']/source/@name");
}

/* An independent copy: same bytes and features as @src_image, no
 * parent, no snapshot; the source has none either */
static void
assert_independent_copy (const char *src_image, const char *copy)
{
  g_autofree char *src_sum = image_sha256 (src_image);
  g_autofree char *copy_sum = image_sha256 (copy);
  g_autofree char *src_facts = image_facts (src_image);
  g_autofree char *copy_facts = image_facts (copy);

  g_assert_cmpstr (copy_sum, ==, src_sum);
  g_assert_cmpstr (copy_facts, ==, src_facts);
  dc_assert_contains (copy_facts, " parent none snaps");
  g_assert_true (g_str_has_suffix (copy_facts, " snaps"));
}

/* --- full clones ----------------------------------------------------------- */

/* After the source changed, a second clone has the change and @first,
 * the first clone's image, not; the second clone starts under TCG (QEMU
 * opens the new image through its rbd driver). */
static void
assert_second_clone_and_start (RbdFixture *f, const char *first)
{
  const char *again[] = { f->src, NULL };
  g_autofree char *first_sum = image_sha256 (first);
  g_autofree char *clone2 = g_strdup_printf ("%s-clone2", f->src);
  g_autofree char *second = NULL;
  g_autofree char *second_sum = NULL;
  g_autofree char *first_after = NULL;
  g_autoptr (DcDomain) clone = NULL;

  image_write (f->image, 5 * MiB, "written after the first clone");
  g_free (domclone_ok (again));
  second = clone_source_name (clone2);
  assert_independent_copy (f->image, second + 4);
  second_sum = image_sha256 (second + 4);
  first_after = image_sha256 (first);
  g_assert_cmpstr (second_sum, !=, first_sum);
  g_assert_cmpstr (first_after, ==, first_sum);

  clone = virDomainLookupByName (live_conn, clone2);
  g_assert_nonnull (clone);
  if (virDomainCreate (clone) != 0)
    g_error ("the clone does not start: %s", virGetLastErrorMessage ());
  g_assert_cmpint (virDomainIsActive (clone), ==, 1);
  virDomainDestroy (clone);
}

/* A network disk: the clone's disk names a new image beside the source's
 * with the same monitors and secret; same bytes and features, no
 * parent, no snapshot on either; --json lists it. Cloned again after the
 * source changed, the second clone has the change, the first not. The
 * clone starts under TCG (QEMU opens the image through its rbd driver). */
static void
test_rbd_network_full (RbdFixture *f, gconstpointer data)
{
  const char *args[] = { "--json", "-v", f->src, NULL };
  g_autofree char *out = NULL;
  g_autofree char *name = NULL;
  g_autofree char *source_sum = NULL;
  g_autoptr (JsonObject) obj = NULL;
  JsonObject *vol;

  SKIP_WITHOUT_CEPH (f);
  source_sum = image_sha256 (f->image);
  out = domclone_ok (args);
  /* the source is only read */
  {
    g_autofree char *source_after = image_sha256 (f->image);

    g_assert_cmpstr (source_after, ==, source_sum);
  }
  obj = dc_test_json_object (out);
  vol = json_array_get_object_element (
    json_object_get_array_member (json_object_get_object_member (obj, "clone"), "volumes"), 0);
  g_assert_cmpstr (json_object_get_string_member (vol, "pool"), ==, "rbd");
  g_assert_cmpstr (json_object_get_string_member (vol, "disk"), ==, "vda");
  g_assert_cmpint (json_object_get_int_member (vol, "capacity"), ==, IMAGE_SIZE);
  name = g_strdup_printf ("rbd/%s", json_object_get_string_member (vol, "name"));
  g_assert_cmpstr (json_object_get_string_member (vol, "path"), ==, name);
  {
    g_autofree char *clone1 = g_strdup_printf ("%s-clone1", f->src);
    g_autofree char *named = clone_source_name (clone1);

    g_assert_cmpstr (named, ==, name);
  }
  assert_independent_copy (f->image, name + 4);

  assert_second_clone_and_start (f, name + 4);
}

/* A linked clone of @vm, whose disk is a volume of the rbd pool @pool on
 * @f's image: a child of the template's snapshot, a volume of the same
 * pool */
static void
assert_pool_linked (RbdFixture *f, virStoragePoolPtr pool, const char *vm)
{
  const char *make[] = { "--make-template", vm, NULL };
  const char *linked[] = { "--linked", "--name", NULL, vm, NULL };
  g_autofree char *child = g_strdup_printf ("%s-l", vm);
  g_autofree char *image = g_strdup_printf ("%s-vda", child);
  g_autofree char *facts = NULL;
  g_autofree char *want = g_strdup_printf ("parent rbd/%s@domclone-template snaps", f->image);
  g_autoptr (DcVol) child_vol = NULL;

  g_free (domclone_ok (make));
  linked[2] = child;
  g_free (domclone_ok (linked));
  facts = image_facts (image);
  dc_assert_contains (facts, want);
  child_vol = virStorageVolLookupByName (pool, image);
  g_assert_nonnull (child_vol);
}

/* A volume of an rbd storage pool: the clone's disk names a new volume
 * of the same pool, which libvirt lists; an independent copy, and no
 * snapshot on the source (libvirt's own volume copy leaves one, and
 * makes a child). */
static void
test_rbd_pool_full (RbdFixture *f, gconstpointer data)
{
  g_autofree char *pool_xml = g_strdup_printf (
    "<pool type='rbd'><name>ceph-%s</name><source><name>rbd</name><host name='127.0.0.1' port='6789'/>"
    "<auth username='libvirt' type='ceph'><secret uuid='%s'/></auth></source></pool>",
    f->src, SECRET_UUID);
  g_autofree char *disk = NULL;
  g_autofree char *vm = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *pool_name = NULL;
  g_autoptr (DcPool) pool = NULL;
  g_autoptr (DcVol) vol = NULL;
  const char *args[] = { "--name", NULL, NULL, NULL };
  g_autofree char *clone = NULL;

  SKIP_WITHOUT_CEPH (f);
  pool = virStoragePoolCreateXML (live_conn, pool_xml, 0);
  g_assert_nonnull (pool);
  pool_name = g_strdup_printf ("ceph-%s", f->src);
  vm = g_strdup_printf ("%s-vol", f->src);
  disk = g_strdup_printf ("<disk type='volume' device='disk'><driver name='qemu' type='raw'/>"
                          "<source pool='%s' volume='%s'/><target dev='vda' bus='virtio'/></disk>",
                          pool_name, f->image);
  define_domain (vm, disk);
  clone = g_strdup_printf ("%s-c", vm);
  args[1] = clone;
  args[2] = vm;
  g_free (domclone_ok (args));

  xml = live_domain_xml (clone);
  {
    g_autofree char *want = g_strdup_printf ("<source pool='%s' volume='%s-c-vda'/>", pool_name, vm);
    g_autofree char *image = g_strdup_printf ("%s-c-vda", vm);

    dc_assert_contains (xml, want);
    vol = virStorageVolLookupByName (pool, image);
    g_assert_nonnull (vol);
    assert_independent_copy (f->image, image);
  }
  assert_pool_linked (f, pool, vm);
  virStoragePoolDestroy (pool);
}

/* --print-xml names the new image and changes nothing, in libvirt or in
 * the cluster; --count 2 makes two images; an --exist-ok rerun changes
 * nothing. */
static void
test_rbd_auto (RbdFixture *f, gconstpointer data)
{
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *xml = NULL;
  const char *print[] = { "--print-xml", f->src, NULL };
  const char *count[] = { "--count", "2", f->src, NULL };
  const char *exist[] = { "--exist-ok", "--name", NULL, f->src, NULL };
  g_autofree char *c1 = g_strdup_printf ("%s-clone1", f->src);
  g_autofree char *c2 = g_strdup_printf ("%s-clone2", f->src);
  g_autofree char *want = NULL;

  SKIP_WITHOUT_CEPH (f);
  before = world_snapshot ();
  xml = domclone_ok (print);
  after = world_snapshot ();
  g_assert_cmpstr (after, ==, before);
  want = g_strdup_printf ("name=\"rbd/%s-vda\"", c1);
  dc_assert_contains (xml, want);

  g_free (domclone_ok (count));
  {
    g_autofree char *i1 = g_strdup_printf ("%s-vda", c1);
    g_autofree char *i2 = g_strdup_printf ("%s-vda", c2);

    assert_independent_copy (f->image, i1);
    assert_independent_copy (f->image, i2);
  }
  exist[2] = c2;
  g_free (before);
  before = world_snapshot ();
  g_free (domclone_ok (exist));
  g_free (after);
  after = world_snapshot ();
  g_assert_cmpstr (after, ==, before);
}

/* On a terminal, the deep copy's progress (librbd's callback) is drawn
 * on stderr as any copy's, up to the image's whole size; script(1)
 * gives the run a pseudo-terminal. */
static void
test_rbd_progress (RbdFixture *f, gconstpointer data)
{
  g_autofree char *cmd = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *script = g_find_program_in_path ("script");

  SKIP_WITHOUT_CEPH (f);
  if (script == NULL)
    {
      g_test_skip ("script(1) is missing (bsdutils)");
      return;
    }
  cmd = g_strdup_printf ("'%s' '%s'", g_getenv ("DOMCLONE"), f->src);
  {
    const char *argv[] = { "script", "-qec", cmd, "/dev/null", NULL };

    g_assert_cmpint (dc_test_run (argv, &out, &err), ==, 0);
  }
  g_test_message ("on a terminal: %s", out);
  dc_assert_contains (out, "\r\033[Kdisk 'vda' ");
  /* the whole image, counted by the callback up to the end */
  {
    g_autofree char *size = g_format_size (IMAGE_SIZE);
    g_autofree char *all = g_strdup_printf ("%s of %s", size, size);

    dc_assert_contains (out, all);
  }
}

/* --- linked clones ------------------------------------------------------- */

/* --make-template protects a snapshot of the image; --linked makes a
 * copy-on-write child of it in well under a second; the template's
 * image reads the same after the child is written; --unmake-template is
 * refused while the child exists and removes the snapshot after. */
static void
test_rbd_linked (RbdFixture *f, gconstpointer data)
{
  const char *make[] = { "--make-template", f->src, NULL };
  const char *linked[] = { "--linked", "--name", NULL, f->src, NULL };
  const char *unmake[] = { "--unmake-template", f->src, NULL };
  g_autofree char *child = g_strdup_printf ("%s-l1", f->src);
  g_autofree char *child_image = g_strdup_printf ("%s-vda", child);
  g_autofree char *template_sum = NULL;
  g_autofree char *facts = NULL;
  g_autofree char *want = NULL;
  g_autofree char *err = NULL;
  gint64 start;

  SKIP_WITHOUT_CEPH (f);
  g_free (domclone_ok (make));
  facts = image_facts (f->image);
  dc_assert_contains (facts, "snaps domclone-template(protected)");
  template_sum = image_sha256 (f->image);

  linked[2] = child;
  start = g_get_monotonic_time ();
  g_free (domclone_ok (linked));
  /* its speed is bench/'s to measure; the parent below is what makes it
   * fast */
  g_test_message ("linked clone: %.3f s", (g_get_monotonic_time () - start) / 1e6);
  g_free (facts);
  facts = image_facts (child_image);
  want = g_strdup_printf ("parent rbd/%s@domclone-template snaps", f->image);
  dc_assert_contains (facts, want);
  {
    g_autofree char *before_write = image_sha256 (child_image);
    g_autofree char *after_write = NULL;
    g_autofree char *template_after = NULL;

    g_assert_cmpstr (before_write, ==, template_sum);
    image_write (child_image, 0, "the child writes over the template's first bytes");
    after_write = image_sha256 (child_image);
    template_after = image_sha256 (f->image);
    g_assert_cmpstr (after_write, !=, template_sum);
    g_assert_cmpstr (template_after, ==, template_sum);
  }

  {
    const char *cmd[] = { "--unmake-template", f->src, NULL };
    err = live_assert_fails_cleanly (cmd, NULL, 1);
    dc_assert_contains (err, "linked clone");
  }
  live_remove_test_objects (child, NULL);
  g_assert_cmpint (rbd_remove (io, child_image), ==, 0);
  g_free (domclone_ok (unmake));
  g_free (facts);
  facts = image_facts (f->image);
  g_assert_true (g_str_has_suffix (facts, " snaps"));
}

/* An image without the layering feature: a full clone all the same, and
 * a clear refusal of --linked that changes nothing. */
static void
test_rbd_no_layering (RbdFixture *f, gconstpointer data)
{
  g_autofree char *name = g_strdup_printf ("%s-flat", f->src);
  g_autofree char *vm = g_strdup_printf ("%s-f", f->src);
  g_autofree char *disk = network_disk (name, SECRET_UUID);
  const char *full[] = { vm, NULL };
  const char *make[] = { "--make-template", vm, NULL };
  const char *linked[] = { "--linked", vm, NULL };
  g_autofree char *err = NULL;
  g_autofree char *image = NULL;

  SKIP_WITHOUT_CEPH (f);
  image_create (name, RBD_FEATURE_EXCLUSIVE_LOCK, 77);
  define_domain (vm, disk);
  g_free (domclone_ok (full));
  image = g_strdup_printf ("%s-clone1-vda", vm);
  assert_independent_copy (name, image);
  g_free (domclone_ok (make));
  err = live_assert_fails_cleanly (linked, NULL, 1);
  dc_assert_contains (err, "lacks the layering feature");
}

/* --- failures ------------------------------------------------------------ */

/* A run that fails at its last step (the source's config pinned, so its
 * counter cannot be saved) removes the image it made: libvirt and the
 * cluster as they were. */
static void
test_rbd_rollback (RbdFixture *f, gconstpointer data)
{
  LiveFixture lf = { .src = f->src };
  const char *args[] = { f->src, NULL };
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *err = NULL;

  SKIP_WITHOUT_CEPH (f);
  before = ceph_snapshot ();
  err = live_assert_fails_cleanly_pinned (&lf, args);
  if (err == NULL)
    return;
  dc_assert_contains (err, "everything this run created was removed");
  after = ceph_snapshot ();
  g_assert_cmpstr (after, ==, before);
}

/* Runs domclone on a new source "@f->src-b" with a 1 GiB image holding
 * 64 MiB of data and SIGKILLs it while librbd copies: the clone
 * "@f->src-b-clone1" is left with its <building> marker naming its image
 * "@f->src-b-clone1-vda". Returns the snapshot of libvirt and the
 * cluster before the run. */
static char *
kill_mid_copy (RbdFixture *f)
{
  g_autofree char *big = g_strdup_printf ("%s-big", f->src);
  g_autofree char *vm = g_strdup_printf ("%s-b", f->src);
  g_autofree char *disk = network_disk (big, SECRET_UUID);
  g_autofree char *clone = g_strdup_printf ("%s-clone1", vm);
  g_autofree char *image = g_strdup_printf ("%s-vda", clone);
  const char *args[] = { vm, NULL };
  g_autofree char *before = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;
  rbd_image_t handle;

  /* 64 MiB of data in 1 GiB: long enough a copy to be caught in it */
  image_create (big, RBD_FEATURES_DEFAULT, 5);
  g_assert_cmpint (rbd_open (io, big, &handle, NULL), ==, 0);
  g_assert_cmpint (rbd_resize (handle, 1024 * MiB), ==, 0);
  {
    g_autofree char *chunk = g_malloc (4 * MiB);

    memset (chunk, 0x5a, 4 * MiB);
    for (guint64 off = 64 * MiB; off < 1024 * MiB; off += 64 * MiB)
      g_assert_cmpint (rbd_write (handle, off, 4 * MiB, chunk), ==, (int) (4 * MiB));
  }
  rbd_close (handle);
  define_domain (vm, disk);
  before = world_snapshot ();

  proc = dc_test_spawn_domclone (args);
  for (int i = 0; i < 20000 && !image_exists (image); i++)
    g_usleep (1000);
  g_subprocess_send_signal (proc, SIGKILL);
  g_test_message ("killed %s the copy began", image_exists (image) ? "after" : "before");
  g_assert_true (g_subprocess_wait (proc, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (live_has_building_marker (clone));
  return g_steal_pointer (&before);
}

/* SIGKILL while librbd copies: the clone is left with its <building>
 * marker naming the image; --cleanup removes both. */
static void
test_rbd_sigkill (RbdFixture *f, gconstpointer data)
{
  g_autofree char *vm = g_strdup_printf ("%s-b", f->src);
  g_autofree char *clone = g_strdup_printf ("%s-clone1", vm);
  g_autofree char *image = g_strdup_printf ("%s-vda", clone);
  const char *cleanup[] = { "--cleanup", vm, NULL };
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  SKIP_WITHOUT_CEPH (f);
  before = kill_mid_copy (f);
  g_free (domclone_ok (cleanup));
  g_assert_false (live_domain_exists (clone));
  g_assert_false (image_exists (image));
  after = world_snapshot ();
  g_assert_cmpstr (after, ==, before);
}

/* How many clients watch image @name */
static size_t
image_watchers (const char *name)
{
  rbd_image_watcher_t watchers[8];
  size_t n = G_N_ELEMENTS (watchers);
  rbd_image_t image;

  /* opened read-only, the test itself adds no watch */
  g_assert_cmpint (rbd_open_read_only (io, name, &image, NULL), ==, 0);
  g_assert_cmpint (rbd_watchers_list (image, watchers, &n), ==, 0);
  rbd_watchers_list_cleanup (watchers, n);
  rbd_close (image);
  return n;
}

/* A killed run's client may still hold the image open: Ceph keeps the
 * watch of a client that vanished until osd_client_watch_timeout
 * (5 s in tests/ceph-one-node.sh's cluster, 30 s by default) and
 * refuses to remove a watched image. --cleanup waits for the watch to
 * go, then removes the image. ("rbd watch" stands for the killed run's
 * client, which holds the image in only some of the moments a SIGKILL
 * can hit; it is killed once --cleanup says it waits, so the wait is
 * seen whatever the timing.) */
static void
test_rbd_cleanup_watched (RbdFixture *f, gconstpointer data)
{
  g_autofree char *vm = g_strdup_printf ("%s-b", f->src);
  g_autofree char *clone = g_strdup_printf ("%s-clone1", vm);
  g_autofree char *image = g_strdup_printf ("%s-vda", clone);
  g_autofree char *spec = NULL;
  const char *cleanup[] = { "--cleanup", vm, NULL };
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *line = NULL;
  g_autofree char *out = NULL;
  g_autofree char *rest = NULL;
  g_autoptr (GSubprocess) watch = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GDataInputStream) err = NULL;
  g_autoptr (GError) error = NULL;
  int status;

  SKIP_WITHOUT_CEPH (f);
  before = kill_mid_copy (f);
  if (!image_exists (image))
    {
      g_test_skip ("the run was killed before it made its image");
      return;
    }
  spec = g_strdup_printf ("rbd/%s", image);
  /* stdin a pipe: "rbd watch" runs until it reads a line */
  watch = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error, "rbd",
                            "--conf", ceph_conf, "watch", spec, NULL);
  g_assert_no_error (error);
  for (int i = 0; i < 500 && image_watchers (image) == 0; i++)
    g_usleep (20000);
  g_assert_cmpuint (image_watchers (image), >=, 1);

  proc = dc_test_spawn_domclone (cleanup);
  err = g_data_input_stream_new (g_subprocess_get_stderr_pipe (proc));
  line = g_data_input_stream_read_line (err, NULL, NULL, &error);
  g_assert_no_error (error);
  g_test_message ("--cleanup: %s", line);
  dc_assert_contains (line, "is still open");
  g_subprocess_send_signal (watch, SIGKILL);
  g_assert_true (g_subprocess_wait (watch, NULL, &error));
  g_assert_no_error (error);

  out = dc_test_communicate (proc, &rest, &status);
  g_test_message ("--cleanup: exit %d: %s%s", status, out, rest);
  g_assert_cmpint (status, ==, 0);
  g_assert_false (live_domain_exists (clone));
  g_assert_false (image_exists (image));
  after = world_snapshot ();
  g_assert_cmpstr (after, ==, before);
}

/* Over a remote URI (TCP, as far as domclone can tell), the cluster is
 * reached the same way: the monitors the disk names, the key libvirt's
 * secret holds. */
static void
test_rbd_remote (RbdFixture *f, gconstpointer data)
{
  const char *uri = g_getenv ("DOMCLONE_TEST_TCP_URI");
  g_autofree char *clone = g_strdup_printf ("%s-tcp", f->src);
  g_autofree char *image = g_strdup_printf ("%s-vda", clone);
  const char *args[] = { "-c", uri, "--name", clone, f->src, NULL };

  SKIP_WITHOUT_CEPH (f);
  if (uri == NULL)
    {
      g_test_skip ("no TCP listener (root harness only)");
      return;
    }
  g_free (domclone_ok (args));
  assert_independent_copy (f->image, image);
}

/* Other network disks are refused before anything is made, naming the
 * protocol; so is --pool for an RBD disk. */
static void
test_rbd_refused (RbdFixture *f, gconstpointer data)
{
  static const char *const protocols[][2] = {
    { "iscsi", "iqn.2013-07.com.example:iscsi-nopool/1" },
    { "nbd", "export" },
    { "gluster", "volume/image.raw" },
    { "http", "/image.raw" },
  };

  SKIP_WITHOUT_CEPH (f);
  for (gsize i = 0; i < G_N_ELEMENTS (protocols); i++)
    {
      g_autofree char *vm = g_strdup_printf ("%s-%s", f->src, protocols[i][0]);
      g_autofree char *disk =
        g_strdup_printf ("<disk type='network' device='disk'><driver name='qemu' type='raw'/>"
                         "<source protocol='%s' name='%s'><host name='192.0.2.1' port='3260'/></source>"
                         "<target dev='vda' bus='virtio'/></disk>",
                         protocols[i][0], protocols[i][1]);
      const char *args[] = { vm, NULL };
      g_autofree char *err = NULL;
      g_autofree char *want = g_strdup_printf ("a writable 'network' disk (protocol '%s')", protocols[i][0]);

      define_domain (vm, disk);
      err = live_assert_fails_cleanly (args, NULL, 1);
      dc_assert_contains (err, want);
    }
}

/* The key: libvirt's secret first; a private secret cannot be read, and
 * then this host's Ceph configuration reaches the cluster; with neither,
 * one clear error and nothing changed. */
static void
test_rbd_keys (RbdFixture *f, gconstpointer data)
{
  const char *args[] = { "-v", f->src, NULL };
  const char *quiet[] = { f->src, NULL };
  g_autofree char *conf_env = g_strdup_printf ("CEPH_CONF=%s", ceph_conf);
  const char *none[] = { "CEPH_CONF=/nonexistent/ceph.conf", NULL };
  const char *with_conf[] = { conf_env, NULL };
  g_autofree char *err = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  int status = -1;
  g_autofree char *out = NULL;
  g_autofree char *image = g_strdup_printf ("%s-clone1-vda", f->src);

  SKIP_WITHOUT_CEPH (f);
  err = live_assert_fails_cleanly (quiet, none, 1);
  dc_assert_contains (err, "cannot reach the Ceph cluster of RBD image");
  dc_assert_contains (err, "libvirt's secret");
  dc_assert_contains (err, "with this host's Ceph configuration");
  g_assert_cmpuint (dc_test_count_of (err, "domclone: "), ==, 1);
  g_assert_false (image_exists (image));

  /* the host's ceph.conf, which names the client.libvirt keyring */
  g_clear_pointer (&err, g_free);
  proc = dc_test_spawn_domclone_env (args, with_conf);
  out = dc_test_communicate (proc, &err, &status);
  g_test_message ("exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 0);
  dc_assert_contains (err, "this host's Ceph configuration and keyring");
  assert_independent_copy (f->image, image);
}

int
main (int argc, char **argv)
{
  int ret;

  live_init (&argc, &argv);
  ceph_up ();
  RBD_TEST ("/live/rbd/network/full", test_rbd_network_full, NULL);
  RBD_TEST ("/live/rbd/pool/full", test_rbd_pool_full, NULL);
  RBD_TEST ("/live/rbd/auto", test_rbd_auto, NULL);
  RBD_TEST ("/live/rbd/progress", test_rbd_progress, NULL);
  RBD_TEST ("/live/rbd/linked", test_rbd_linked, NULL);
  RBD_TEST ("/live/rbd/no-layering", test_rbd_no_layering, NULL);
  RBD_TEST ("/live/rbd/rollback", test_rbd_rollback, NULL);
  RBD_TEST ("/live/rbd/sigkill", test_rbd_sigkill, NULL);
  RBD_TEST ("/live/rbd/cleanup-watched", test_rbd_cleanup_watched, NULL);
  RBD_TEST ("/live/rbd/refused", test_rbd_refused, NULL);
  RBD_TEST ("/live/rbd/remote", test_rbd_remote, NULL);
  RBD_TEST ("/live/rbd/keys", test_rbd_keys, PRIVATE_SECRET_UUID);
  ret = live_run ();
  ceph_down ();
  return ret;
}
