/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live tests, cloud-init seeds: a source with a NoCloud seed (an ISO 9660
 * image labelled cidata, built here) as a CD-ROM in its pool and two
 * network interfaces. Its clone must get a seed volume of its own, with
 * the clone's instance-id, host name and MACs and the source's user-data;
 * the source's image is never written; a plain ISO stays shared; a run
 * that fails after the seed was made removes it; and a clone over a
 * remote (TCP) connection, which reads and writes through libvirt's
 * streams, gets its seed too.
 */
#include "config.h"

#include "dc-xml.h"
#include "dc-test-assert.h"
#include "live-fixture.h"
#include "seed-iso.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>

static const char user_data[] = "#cloud-config\npassword: s3cret\nruncmd:\n  - echo 52:54:00:00:00:01\n";

/* Builds the source's seed: instance-id and host name after the source,
 * a network-config naming both its MACs (one in upper case). */
static GBytes *
make_seed (const LiveFixture *f, const char *label)
{
  g_autofree char *meta = g_strdup_printf ("instance-id: %s\nlocal-hostname: %s\n", f->src, f->src);
  const char *files[] = {
    "meta-data",
    meta,
    "user-data",
    user_data,
    "vendor-data",
    "",
    "network-config",
    "version: 2\nethernets:\n  a:\n    match: {macaddress: '52:54:00:00:00:01'}\n"
    "  b:\n    match: {macaddress: '52:54:00:00:00:02'}\n",
    NULL,
  };

  return seed_iso_build (label, files);
}

static void
write_bytes (const char *path, GBytes *bytes)
{
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, g_bytes_get_data (bytes, NULL), (gssize) g_bytes_get_size (bytes), &error);
  g_assert_no_error (error);
}

/* The source gets the seed (sdb: @seed, else one in its pool named after
 * it) and a plain ISO (sdc), both read-only CD-ROMs, and a second
 * interface. Returns the seed's path. */
static char *
give_seed_at (const LiveFixture *f, const char *where)
{
  g_autofree char *name = g_strdup_printf ("%s-seed.iso", f->src);
  char *seed = where ? g_strdup (where) : live_path_in (f, name);
  g_autofree char *plain = live_path_in (f, "plain.iso");
  g_autoptr (GBytes) seed_iso = make_seed (f, "cidata");
  const char *plain_files[] = { "README", "not a seed\n", NULL };
  g_autoptr (GBytes) plain_iso = seed_iso_build ("DATA", plain_files);
  g_autoptr (DcDomain) src = virDomainLookupByName (live_conn, f->src);
  g_autoptr (DcPool) pool = virStoragePoolLookupByName (live_conn, f->pool);
  const char *devices[3];
  g_autofree char *d0 = NULL;
  g_autofree char *d1 = NULL;

  write_bytes (seed, seed_iso);
  write_bytes (plain, plain_iso);
  g_assert_cmpint (virStoragePoolRefresh (pool, 0), ==, 0);
  d0 = g_strdup_printf ("<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='%s'/>"
                        "<target dev='sdb' bus='sata'/><readonly/></disk>",
                        seed);
  d1 = g_strdup_printf ("<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='%s'/>"
                        "<target dev='sdc' bus='sata'/><readonly/></disk>",
                        plain);
  devices[0] = d0;
  devices[1] = d1;
  devices[2] = "<interface type='user'><mac address='52:54:00:00:00:02'/><model type='virtio'/></interface>";
  for (guint i = 0; i < G_N_ELEMENTS (devices); i++)
    g_assert_cmpint (virDomainAttachDeviceFlags (src, devices[i], VIR_DOMAIN_AFFECT_CONFIG), ==, 0);
  return seed;
}

static char *
give_seed (const LiveFixture *f)
{
  return give_seed_at (f, NULL);
}

static char *
xpath_string (const char *xml, const char *xpath)
{
  g_autoptr (xmlDoc) doc = xmlReadMemory (xml, (int) strlen (xml), NULL, NULL, XML_PARSE_NONET);
  g_autoptr (xmlXPathContext) ctxt = xmlXPathNewContext (doc);
  g_autoptr (xmlXPathObject) obj = xmlXPathEvalExpression (BAD_CAST xpath, ctxt);

  return obj && obj->stringval ? g_strdup ((const char *) obj->stringval) : NULL;
}

/* Checks clone @clone's seed: a CD-ROM still, read-only, on a new
 * volume in the source's pool whose files are the source's rewritten
 * for @clone. */
static void
check_clone_seed_at (const LiveFixture *f, const char *clone, const char *seed, const char *expect_path)
{
  g_autofree char *xml = live_domain_xml (clone);
  g_autofree char *path = xpath_string (xml, "string(/domain/devices/disk[target/@dev='sdb']/source/@file)");
  g_autofree char *ro = xpath_string (xml, "string(count(/domain/devices/disk[target/@dev='sdb']/readonly))");
  g_autofree char *device = xpath_string (xml, "string(/domain/devices/disk[target/@dev='sdb']/@device)");
  g_autofree char *mac0 = xpath_string (xml, "string(/domain/devices/interface[1]/mac/@address)");
  g_autofree char *mac1 = xpath_string (xml, "string(/domain/devices/interface[2]/mac/@address)");
  g_autofree char *plain = xpath_string (xml, "string(/domain/devices/disk[target/@dev='sdc']/source/@file)");
  g_autofree char *label = NULL;
  g_autofree char *meta = NULL;
  g_autofree char *net = NULL;
  g_autoptr (GHashTable) files = NULL;
  g_autoptr (GBytes) iso = NULL;
  g_autoptr (DcVol) vol = NULL;

  g_assert_cmpstr (path, ==, expect_path);
  g_assert_cmpstr (path, !=, seed);
  g_assert_cmpstr (device, ==, "cdrom");
  g_assert_cmpstr (ro, ==, "1");
  /* a volume libvirt knows, in the source's pool (if it is in one) */
  if (g_str_has_prefix (path, f->dir))
    {
      vol = virStorageVolLookupByPath (live_conn, path);
      g_assert_nonnull (vol);
    }
  /* the plain ISO is shared */
  {
    g_autofree char *shared = live_path_in (f, "plain.iso");
    g_assert_cmpstr (plain, ==, shared);
  }

  iso = seed_iso_read_file (path, &label, &files);
  g_assert_cmpstr (label, ==, "cidata");
  g_assert_cmpuint (g_hash_table_size (files), ==, 4);
  meta = g_strdup_printf ("instance-id: %s\nlocal-hostname: %s\n", clone, clone);
  g_assert_cmpstr (g_hash_table_lookup (files, "meta-data"), ==, meta);
  g_assert_cmpstr (g_hash_table_lookup (files, "user-data"), ==, user_data);
  g_assert_cmpstr (g_hash_table_lookup (files, "vendor-data"), ==, "");
  g_assert_cmpstr (mac0, !=, "52:54:00:00:00:01");
  net = g_strdup_printf ("version: 2\nethernets:\n  a:\n    match: {macaddress: '%s'}\n"
                         "  b:\n    match: {macaddress: '%s'}\n",
                         mac0, mac1);
  g_assert_cmpstr (g_hash_table_lookup (files, "network-config"), ==, net);
}

static void
check_clone_seed (const LiveFixture *f, const char *clone, const char *seed)
{
  g_autofree char *name = g_strdup_printf ("%s-seed.iso", clone);
  g_autofree char *path = live_path_in (f, name);

  check_clone_seed_at (f, clone, seed, path);
}

/* A seed in no pool is reached as the NVRAM is, through a temporary
 * pool over its directory; the clone's goes beside it, and no pool is
 * left behind. */
static void
test_live_seed_outside_pools (LiveFixture *f, gconstpointer data)
{
  g_autofree char *dir = g_strdup_printf ("%s/loose-%s", live_state_dir, f->src);
  g_autofree char *seed = g_build_filename (dir, "seed.iso", NULL);
  g_autofree char *clone = g_strdup_printf ("%s-clone1", f->src);
  g_autofree char *expect = g_strdup_printf ("%s/%s-sdb.iso", dir, clone);
  g_autofree char *sum = NULL;
  g_autofree char *sum_after = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  SKIP_WITHOUT_DAEMON ();
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_free (give_seed_at (f, seed));
  sum = live_sha256_file (seed);
  before = live_snapshot ();
  status = dc_test_domclone (&out, &err, f->src, NULL);
  g_test_message ("exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 0);
  check_clone_seed_at (f, clone, seed, expect);
  sum_after = live_sha256_file (seed);
  g_assert_cmpstr (sum_after, ==, sum);
  /* the temporary pool is closed again */
  after = live_snapshot ();
  dc_assert_not_contains (before, "pool domclone-");
  dc_assert_not_contains (after, "pool domclone-");
  live_delete_clone (clone);
  g_assert_cmpint (g_unlink (expect), ==, 0);
}

/* With --pool the seed goes where the disks go. */
static void
test_live_seed_pool (LiveFixture *f, gconstpointer data)
{
  g_autofree char *dir = g_strdup_printf ("%s/other-%s", live_state_dir, f->src);
  g_autofree char *pool_name = g_strdup_printf ("other-%s", f->src);
  g_autofree char *clone = g_strdup_printf ("%s-clone1", f->src);
  g_autofree char *expect = g_strdup_printf ("%s/%s-seed.iso", dir, clone);
  g_autofree char *seed = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  SKIP_WITHOUT_DAEMON ();
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  live_define_pool (pool_name, dir);
  seed = give_seed (f);
  status = dc_test_domclone (&out, &err, "--pool", pool_name, f->src, NULL);
  g_test_message ("exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 0);
  check_clone_seed_at (f, clone, seed, expect);
  {
    g_autoptr (DcVol) vol = virStorageVolLookupByPath (live_conn, expect);
    g_autoptr (DcPool) pool = NULL;

    g_assert_nonnull (vol);
    pool = virStoragePoolLookupByVolume (vol);
    g_assert_cmpstr (virStoragePoolGetName (pool), ==, pool_name);
  }
  {
    g_autoptr (DcPool) pool = virStoragePoolLookupByName (live_conn, pool_name);

    virStoragePoolDestroy (pool);
    virStoragePoolUndefine (pool);
  }
}

/* --count: each clone gets a seed of its own. */
static void
test_live_seed_count (LiveFixture *f, gconstpointer data)
{
  g_autofree char *seed = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  SKIP_WITHOUT_DAEMON ();
  seed = give_seed (f);
  status = dc_test_domclone (&out, &err, "--count", "2", f->src, NULL);
  g_test_message ("exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 0);
  for (guint n = 1; n <= 2; n++)
    {
      g_autofree char *clone = g_strdup_printf ("%s-clone%u", f->src, n);

      check_clone_seed (f, clone, seed);
    }
}

static void
test_live_seed_clone (LiveFixture *f, gconstpointer data)
{
  g_autofree char *seed = NULL;
  g_autofree char *sum = NULL;
  g_autofree char *sum_after = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *clone = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonArray *volumes;
  gboolean listed = FALSE;
  int status;

  SKIP_WITHOUT_DAEMON ();
  seed = give_seed (f);
  sum = live_sha256_file (seed);
  clone = g_strdup_printf ("%s-clone1", f->src);

  status = dc_test_domclone (&out, &err, "--json", f->src, NULL);
  g_test_message ("exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 0);
  check_clone_seed (f, clone, seed);
  sum_after = live_sha256_file (seed);
  g_assert_cmpstr (sum_after, ==, sum);

  /* --json lists the seed's volume like the others */
  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  volumes = json_object_get_array_member (
    json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)), "clone"), "volumes");
  for (guint i = 0; i < json_array_get_length (volumes); i++)
    {
      JsonObject *v = json_array_get_object_element (volumes, i);
      g_autofree char *name = g_strdup_printf ("%s-seed.iso", clone);

      if (g_strcmp0 (json_object_get_string_member (v, "disk"), "sdb") != 0)
        continue;
      listed = TRUE;
      g_assert_cmpstr (json_object_get_string_member (v, "name"), ==, name);
      g_assert_cmpstr (json_object_get_string_member (v, "pool"), ==, f->pool);
      g_assert_cmpstr (json_object_get_string_member (v, "format"), ==, "raw");
      g_assert_cmpint (json_object_get_int_member (v, "capacity"), >, 32768);
    }
  g_assert_true (listed);

  /* the seed's volume is named after the clone, so it goes with it */
  live_delete_clone (clone);
  {
    g_autofree char *left = g_strdup_printf ("%s/%s-seed.iso", f->dir, clone);
    g_assert_false (g_file_test (left, G_FILE_TEST_EXISTS));
  }
}

/* --print-xml names the seed the clone would get, and makes nothing. */
static void
test_live_seed_print_xml (LiveFixture *f, gconstpointer data)
{
  g_autofree char *seed = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *path = NULL;
  g_autofree char *expect = NULL;
  int status;

  SKIP_WITHOUT_DAEMON ();
  seed = give_seed (f);
  before = live_snapshot ();
  status = dc_test_domclone (&out, &err, "-v", "--print-xml", f->src, NULL);
  g_test_message ("exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 0);
  after = live_snapshot ();
  g_assert_cmpstr (after, ==, before);
  path = xpath_string (out, "string(/domain/devices/disk[target/@dev='sdb']/source/@file)");
  expect = g_strdup_printf ("%s/%s-clone1-seed.iso", f->dir, f->src);
  g_assert_cmpstr (path, ==, expect);
  /* -v lists it with the copies */
  dc_assert_contains (err, "seed the cloud-init seed of disk 'sdb'");
}

/* A run that fails after the seed was made (the source's definition
 * cannot be replaced, so the counter update, the last step, fails)
 * removes it with everything else. Root only (mount). */
static void
test_live_seed_rollback (LiveFixture *f, gconstpointer data)
{
  g_autofree char *seed = NULL;
  g_autofree char *sum = NULL;
  g_autofree char *sum_after = NULL;
  g_autofree char *err = NULL;
  const char *args[] = { "-v", f->src, NULL };

  SKIP_WITHOUT_DAEMON ();
  seed = give_seed (f);
  sum = live_sha256_file (seed);
  err = live_assert_fails_cleanly_pinned (f, args);
  if (err == NULL)
    return;
  /* the seed was made before the failure */
  dc_assert_contains (err, "made the cloud-init seed of disk 'sdb'");
  dc_assert_contains (err, "everything this run created was removed");
  {
    g_autofree char *left = g_strdup_printf ("%s/%s-clone1-seed.iso", f->dir, f->src);
    g_assert_false (g_file_test (left, G_FILE_TEST_EXISTS));
  }
  sum_after = live_sha256_file (seed);
  g_assert_cmpstr (sum_after, ==, sum);
}

/* Over TCP nothing of the daemon's files is seen from here: the label
 * and the image are read, and the new one written, through libvirt. */
static void
test_live_seed_remote (LiveFixture *f, gconstpointer data)
{
  const char *uri = g_getenv ("DOMCLONE_TEST_TCP_URI");
  g_autofree char *seed = NULL;
  g_autofree char *sum = NULL;
  g_autofree char *sum_after = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *clone = NULL;
  int status;

  SKIP_WITHOUT_DAEMON ();
  if (uri == NULL || uri[0] == '\0')
    {
      g_test_skip ("no TCP listener: DOMCLONE_TEST_TCP_URI is unset");
      return;
    }
  seed = give_seed (f);
  sum = live_sha256_file (seed);
  clone = g_strdup_printf ("%s-clone1", f->src);
  status = dc_test_domclone (&out, &err, "-v", "-c", uri, f->src, NULL);
  g_test_message ("exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 0);
  dc_assert_contains (err, "made the cloud-init seed of disk 'sdb'");
  check_clone_seed (f, clone, seed);
  sum_after = live_sha256_file (seed);
  g_assert_cmpstr (sum_after, ==, sum);
}

int
main (int argc, char **argv)
{
  live_init (&argc, &argv);
  LIVE_TEST ("/live/seed/clone", test_live_seed_clone);
  LIVE_TEST ("/live/seed/print-xml", test_live_seed_print_xml);
  LIVE_TEST ("/live/seed/outside-pools", test_live_seed_outside_pools);
  LIVE_TEST ("/live/seed/pool", test_live_seed_pool);
  LIVE_TEST ("/live/seed/count", test_live_seed_count);
  LIVE_TEST ("/live/seed/rollback", test_live_seed_rollback);
  LIVE_TEST ("/live/seed/remote", test_live_seed_remote);
  return live_run ();
}
