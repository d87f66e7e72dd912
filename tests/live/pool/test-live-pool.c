/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live tests, where the new volumes go: --pool (another pool, on the
 * same file system or another one), and disks outside any pool, which
 * are copied through a temporary pool over their directory and leave
 * no pool behind.
 */
#include "config.h"

#include "dc-test-assert.h"
#include "live-fixture.h"
#include "dc-pool.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Two qcow2 images hold the same guest data. */
static void
assert_same_image (const char *a, const char *b)
{
  const char *argv[] = { "qemu-img", "compare", "-q", a, b, NULL };

  dc_test_run_ok (argv);
}

/* The pool lines of live_snapshot(): which pools exist, and how */
static char *
pools_of (const char *snapshot)
{
  g_auto (GStrv) lines = g_strsplit (snapshot, "\n", -1);
  GString *out = g_string_new (NULL);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "pool "))
      g_string_append_printf (out, "%s\n", lines[i]);
  return g_string_free (out, FALSE);
}

/* Mounts a tmpfs of @size on @dir, made if missing; FALSE (the test
 * skipped) where this process may not mount. */
static gboolean
mount_tmpfs (const char *dir, const char *size)
{
  g_autofree char *opt = g_strdup_printf ("size=%s", size);
  const char *argv[] = { "mount", "-t", "tmpfs", "-o", opt, "tmpfs", dir, NULL };

  if (geteuid () != 0)
    {
      g_test_skip ("needs root to mount a tmpfs");
      return FALSE;
    }
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  dc_test_run_ok (argv);
  return TRUE;
}

static void
umount_dir (const char *dir)
{
  const char *argv[] = { "umount", dir, NULL };

  dc_test_run_ok (argv);
}

/* The volume of @clone (JSON) that backs disk @disk */
static JsonObject *
volume_of_disk (JsonObject *clone, const char *disk)
{
  JsonArray *vols = json_object_get_array_member (clone, "volumes");

  for (guint i = 0; i < json_array_get_length (vols); i++)
    {
      JsonObject *v = json_array_get_object_element (vols, i);
      JsonNode *d = json_object_get_member (v, "disk");

      if (d != NULL && !JSON_NODE_HOLDS_NULL (d) && g_strcmp0 (json_node_get_string (d), disk) == 0)
        return v;
    }
  g_test_message ("no volume for disk '%s'", disk);
  g_assert_not_reached ();
  return NULL;
}

/*
 * --pool into @pool_name, a second active pool over @target: the disks' volumes are
 * there, byte for byte, sparse and with their modes; the file disk names
 * the new path, the volume disk the new pool; the NVRAM stays in its
 * directory, and nothing new is in the source's pool. Returns stderr.
 *
 * Longer than 60 lines: one --pool run, every volume it makes checked
 * together.
 */
static char *
clone_into_pool (const LiveFixture *f, const char *target, const char *pool_name, const char *verbose)
{
  const char *args[] = { verbose, "--json", "--pool", pool_name, "@", NULL };
  g_autoptr (JsonObject) o = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *clone = g_strdup_printf ("%s-clone1", f->src);
  g_autofree char *qcow2 = g_strdup_printf ("%s.qcow2", clone);
  g_autofree char *raw = g_strdup_printf ("%s-vdb.raw", clone);
  g_autofree char *xml = NULL;
  JsonObject *c, *v;
  int status;

  /* --print-xml plans the same and changes nothing */
  {
    g_autofree char *before = live_snapshot ();
    g_autofree char *after = NULL;
    g_autofree char *planned = g_strdup_printf ("<source file=\"%s/%s\"/>", target, qcow2);

    status = dc_test_domclone (&out, &err, "--print-xml", "--pool", pool_name, f->src, NULL);
    g_assert_cmpint (status, ==, 0);
    dc_assert_contains (out, planned);
    after = live_snapshot ();
    g_assert_cmpstr (after, ==, before);
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  o = live_run_json (f, args, &status, &err);
  g_assert_cmpint (status, ==, 0);
  g_assert_true (json_object_get_boolean_member (o, "changed"));
  c = json_object_get_object_member (o, "clone");

  {
    g_autofree char *a = g_strdup_printf ("%s/%s.qcow2", f->dir, f->src);
    g_autofree char *b = g_build_filename (target, qcow2, NULL);

    live_assert_same_file (a, b);
    assert_same_image (a, b);
    v = volume_of_disk (c, "vda");
    g_assert_cmpstr (json_object_get_string_member (v, "pool"), ==, pool_name);
    g_assert_cmpstr (json_object_get_string_member (v, "path"), ==, b);
  }
  {
    g_autofree char *a = live_path_in (f, "data.raw");
    g_autofree char *b = g_build_filename (target, raw, NULL);

    live_assert_same_file (a, b);
    v = volume_of_disk (c, "vdb");
    g_assert_cmpstr (json_object_get_string_member (v, "pool"), ==, pool_name);
  }
  /* the NVRAM stays where libvirt keeps it */
  {
    g_autofree char *nvram = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, clone);

    g_assert_cmpstr (json_object_get_string_member (c, "nvram"), ==, nvram);
    g_assert_true (g_file_test (nvram, G_FILE_TEST_IS_REGULAR));
  }
  /* nothing of the clone in the source's pool */
  {
    g_autofree char *a = live_path_in (f, qcow2);
    g_autofree char *b = live_path_in (f, raw);

    g_assert_false (g_file_test (a, G_FILE_TEST_EXISTS));
    g_assert_false (g_file_test (b, G_FILE_TEST_EXISTS));
  }
  xml = live_domain_xml (clone);
  {
    g_autofree char *file = g_strdup_printf ("<source file='%s/%s'", target, qcow2);
    g_autofree char *vol = g_strdup_printf ("<source pool='%s' volume='%s'", pool_name, raw);

    dc_assert_contains (xml, file);
    dc_assert_contains (xml, vol);
  }
  return g_steal_pointer (&err);
}

/* dir → dir on the same file system */
static void
test_live_pool_into_dir (LiveFixture *f, gconstpointer data)
{
  g_autofree char *target = NULL;
  g_autofree char *pool_name = NULL;
  g_autofree char *err = NULL;

  SKIP_WITHOUT_DAEMON ();
  target = g_strdup_printf ("%s/backup-%s", live_state_dir, f->src);
  pool_name = g_strdup_printf ("backup-%s", f->src);
  g_assert_cmpint (g_mkdir_with_parents (target, 0755), ==, 0);
  live_define_pool (pool_name, target);
  err = clone_into_pool (f, target, pool_name, "-v");
  live_remove_pool (pool_name);
}

/* dir → dir on another file system (a tmpfs): no reflink, and
 * copy_file_range fails with EXDEV, so the local copy reads and writes,
 * still skipping holes */
static void
test_live_pool_other_fs (LiveFixture *f, gconstpointer data)
{
  g_autofree char *target = NULL;
  g_autofree char *pool_name = NULL;
  g_autofree char *err = NULL;

  SKIP_WITHOUT_DAEMON ();
  target = live_small_pool (f, 256, &pool_name);
  if (target == NULL)
    return;
  err = clone_into_pool (f, target, pool_name, "-vv");
  dc_assert_contains (err, "domclone: debug: copy_file_range cannot copy '");
  dc_assert_contains (err, "(Invalid cross-device link): reading and writing instead\n");
  dc_assert_not_contains (err, "by libvirt's copy");
  live_small_pool_remove (pool_name, target);
}

/* An fs pool: libvirt mounts an ext4 image (a loop device) on its
 * directory when it starts the pool and unmounts it when it stops. */
static void
test_live_pool_fs (LiveFixture *f, gconstpointer data)
{
  g_autofree char *image = NULL;
  g_autofree char *target = NULL;
  g_autofree char *pool_name = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *err = NULL;
  g_autoptr (DcPool) pool = NULL;
  g_autofree char *mkfs_path = g_find_program_in_path ("mkfs.ext4");

  SKIP_WITHOUT_DAEMON ();
  if (geteuid () != 0 || mkfs_path == NULL)
    {
      g_test_skip ("needs root and mkfs.ext4 for a pool libvirt mounts");
      return;
    }
  image = g_strdup_printf ("%s/fs-%s.img", live_state_dir, f->src);
  target = g_strdup_printf ("%s/fs-%s", live_state_dir, f->src);
  pool_name = g_strdup_printf ("fs-%s", f->src);
  g_assert_cmpint (g_mkdir_with_parents (target, 0755), ==, 0);
  {
    const char *mkfs[] = { "mkfs.ext4", "-q", "-F", image, "256M", NULL };
    dc_test_run_ok (mkfs);
  }
  xml = g_strdup_printf ("<pool type='fs'><name>%s</name>"
                         "<source><device path='%s'/><format type='ext4'/></source>"
                         "<target><path>%s</path></target></pool>",
                         pool_name, image, target);
  pool = virStoragePoolDefineXML (live_conn, xml, 0);
  g_assert_nonnull (pool);
  if (virStoragePoolCreate (pool, 0) < 0)
    {
      g_autofree char *why =
        g_strdup_printf ("libvirt cannot mount an fs pool here: %s", virGetLastErrorMessage ());
      virStoragePoolUndefine (pool);
      g_test_skip (why);
      return;
    }
  err = clone_into_pool (f, target, pool_name, "-vv");
  dc_assert_contains (err, "(Invalid cross-device link): reading and writing instead\n");
  live_remove_pool (pool_name);
  g_unlink (image);
}

/* A pool that is not there, or not running, or holds a volume under the
 * planned name: refused, exit 1, nothing changed; --json names the
 * kind.
 *
 * Longer than 60 lines: one scenario, each step starting from what the
 * step before left; it reads best in that order.
 */
static void
test_live_pool_refused (LiveFixture *f, gconstpointer data)
{
  g_autofree char *parked = NULL;
  g_autofree char *parked_dir = NULL;
  g_autofree char *backup = NULL;
  g_autofree char *backup_dir = NULL;

  SKIP_WITHOUT_DAEMON ();
  parked = g_strdup_printf ("parked-%s", f->src);
  parked_dir = g_strdup_printf ("%s/parked-%s", live_state_dir, f->src);
  backup = g_strdup_printf ("backup-%s", f->src);
  backup_dir = g_strdup_printf ("%s/backup-%s", live_state_dir, f->src);
  g_assert_cmpint (g_mkdir_with_parents (parked_dir, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (backup_dir, 0755), ==, 0);
  {
    g_autofree char *xml = g_strdup_printf ("<pool type='dir'><name>%s</name>"
                                            "<target><path>%s</path></target></pool>",
                                            parked, parked_dir);
    g_autoptr (DcPool) pool = virStoragePoolDefineXML (live_conn, xml, 0);

    g_assert_nonnull (pool);
  }
  live_define_pool (backup, backup_dir);

  {
    const LiveRefusal r = { "missing pool", 1, "domclone: storage pool 'no-such-pool' not found; " };
    const char *args[] = { "--pool", "no-such-pool", f->src, NULL };
    live_assert_refused (f, &r, args);
  }
  {
    g_autofree char *part = g_strdup_printf ("storage pool '%s' is not active; start it", parked);
    const LiveRefusal r = { "inactive pool", 1, part };
    const char *args[] = { "--pool", parked, f->src, NULL };
    live_assert_refused (f, &r, args);
  }
  {
    /* a file under the planned name, which the pool has not listed yet:
     * the target pool is refreshed before names are checked */
    g_autofree char *leftover = g_strdup_printf ("%s/%s-clone1.qcow2", backup_dir, f->src);
    g_autofree char *part =
      g_strdup_printf ("volume '%s-clone1.qcow2' already exists in pool '%s'", f->src, backup);
    const LiveRefusal r = { "name taken in the pool", 1, part };
    const char *args[] = { "--pool", backup, f->src, NULL };

    g_assert_true (g_file_set_contents (leftover, "precious", -1, NULL));
    live_assert_refused (f, &r, args);
    g_assert_true (g_file_test (leftover, G_FILE_TEST_IS_REGULAR));
    g_unlink (leftover);
  }
  /* the codes --json gives */
  {
    const char *cases[][2] = { { "no-such-pool", "pool-not-found" }, { parked, "pool-inactive" } };

    for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        const char *args[] = { "--json", "--pool", cases[i][0], "@", NULL };
        g_autofree char *err = NULL;
        int status;
        g_autoptr (JsonObject) o = live_run_json (f, args, &status, &err);

        g_assert_cmpint (status, ==, 1);
        g_assert_false (json_object_get_boolean_member (o, "changed"));
        g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (o, "error"), "code"),
                         ==, cases[i][1]);
      }
  }
  g_assert_cmpuint (live_counter_of (f->src), ==, 0);
  live_remove_pool (parked);
  live_remove_pool (backup);
}

/* A qcow2 and a raw disk in a directory no pool covers: copied beside
 * their sources (the qcow2 named after the clone, the raw one after its
 * target), identical, sparse, with their modes; the clone's disks stay
 * file disks naming the copies; the temporary pool is gone afterwards.
 * With --pool they go into that pool instead.
 *
 * Longer than 60 lines: one scenario, each step starting from what the
 * step before left; it reads best in that order.
 */
static void
test_live_pool_outside (LiveFixture *f, gconstpointer data)
{
  g_autofree char *stray = NULL;
  g_autofree char *qcow2 = NULL;
  g_autofree char *raw = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *pools_before = NULL;
  g_autofree char *pools_after = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *clone = NULL;
  const gsize offsets[] = { 0, 5 * MiB, 30 * MiB };
  int status;

  SKIP_WITHOUT_DAEMON ();
  stray = g_strdup_printf ("%s/stray-%s", live_state_dir, f->src);
  g_assert_cmpint (g_mkdir_with_parents (stray, 0755), ==, 0);
  qcow2 = g_strdup_printf ("%s/%s-extra.qcow2", stray, f->src);
  raw = g_build_filename (stray, "scratch.raw", NULL);
  {
    g_autofree char *tmp = g_build_filename (stray, "pattern.tmp", NULL);
    const char *argv[] = { "qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", tmp, qcow2, NULL };

    live_write_pattern (tmp, 48 * MiB, offsets, G_N_ELEMENTS (offsets), 4242);
    dc_test_run_ok (argv);
    g_unlink (tmp);
  }
  live_write_pattern (raw, 40 * MiB, offsets, 2, 4343);
  g_assert_cmpint (g_chmod (qcow2, 0640), ==, 0);
  g_assert_cmpint (g_chmod (raw, 0604), ==, 0);
  live_attach_disk (f, "vdf", "qcow2", qcow2);
  live_attach_disk (f, "vdg", "raw", raw);

  before = live_snapshot ();
  pools_before = pools_of (before);
  /* --print-xml plans it without opening the temporary pool */
  {
    g_autofree char *planned = g_strdup_printf ("<source file=\"%s/%s-clone1-vdg.raw\"/>", stray, f->src);
    g_autofree char *unchanged = NULL;

    status = dc_test_domclone (&out, &err, "--print-xml", f->src, NULL);
    g_assert_cmpint (status, ==, 0);
    dc_assert_contains (out, planned);
    unchanged = live_snapshot ();
    g_assert_cmpstr (unchanged, ==, before);
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }
  status = dc_test_domclone (&out, &err, "-v", f->src, NULL);
  g_test_message ("exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 0);
  clone = g_strdup_printf ("%s-clone1", f->src);
  {
    g_autofree char *b = g_strdup_printf ("%s/%s-extra.qcow2", stray, clone);

    live_assert_same_file (qcow2, b);
    assert_same_image (qcow2, b);
  }
  {
    g_autofree char *b = g_strdup_printf ("%s/%s-vdg.raw", stray, clone);

    live_assert_same_file (raw, b);
  }
  xml = live_domain_xml (clone);
  {
    g_autofree char *a = g_strdup_printf ("<disk type='file' device='disk'>\n      <driver name='qemu' "
                                          "type='qcow2'/>\n      <source file='%s/%s-extra.qcow2'/>",
                                          stray, clone);
    g_autofree char *b = g_strdup_printf ("<source file='%s/%s-vdg.raw'/>", stray, clone);

    dc_assert_contains (xml, a);
    dc_assert_contains (xml, b);
  }
  after = live_snapshot ();
  pools_after = pools_of (after);
  g_assert_cmpstr (pools_after, ==, pools_before);

  /* with --pool: into that pool */
  {
    g_autofree char *backup = g_strdup_printf ("backup-%s", f->src);
    g_autofree char *backup_dir = g_strdup_printf ("%s/backup-%s", live_state_dir, f->src);
    g_autofree char *clone2 = g_strdup_printf ("%s-clone2", f->src);
    g_autofree char *a = g_strdup_printf ("%s/%s-extra.qcow2", backup_dir, clone2);
    g_autofree char *b = g_strdup_printf ("%s/%s-vdg.raw", backup_dir, clone2);

    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
    g_assert_cmpint (g_mkdir_with_parents (backup_dir, 0755), ==, 0);
    live_define_pool (backup, backup_dir);
    status = dc_test_domclone (&out, &err, "--pool", backup, f->src, NULL);
    g_test_message ("exit %d: %s", status, err);
    g_assert_cmpint (status, ==, 0);
    live_assert_same_file (qcow2, a);
    live_assert_same_file (raw, b);
    live_remove_pool (backup);
  }
}

/* A disk outside any pool whose copy runs out of space half-way (a
 * 16 MiB tmpfs holding 10 MiB of data): the partial file is removed,
 * as is the temporary pool; nothing else is there. */
static void
test_live_pool_outside_enospc (LiveFixture *f, gconstpointer data)
{
  g_autofree char *small = NULL;
  g_autofree char *big = NULL;
  g_autofree char *err = NULL;
  g_autofree char *sum = NULL;
  g_autofree char *sum_after = NULL;
  const gsize offsets[] = { 0, MiB, 2 * MiB, 3 * MiB, 4 * MiB, 5 * MiB, 6 * MiB, 7 * MiB, 8 * MiB, 9 * MiB };
  const char *args[] = { f->src, NULL };

  SKIP_WITHOUT_DAEMON ();
  small = g_strdup_printf ("%s/full-%s", live_state_dir, f->src);
  if (!mount_tmpfs (small, "16m"))
    return;
  big = g_build_filename (small, "big.raw", NULL);
  live_write_pattern (big, 12 * MiB, offsets, G_N_ELEMENTS (offsets), 99);
  sum = live_sha256_file (big);
  live_attach_disk (f, "vdf", "raw", big);

  err = live_assert_fails_cleanly (args, NULL, 1);
  dc_assert_contains (err, "cannot clone disk 'vdf'");
  dc_assert_contains (err, "No space left on device");
  dc_assert_contains (err, "; everything this run created was removed\n");
  sum_after = live_sha256_file (big);
  g_assert_cmpstr (sum_after, ==, sum);
  {
    g_autoptr (GDir) dir = g_dir_open (small, 0, NULL);
    const char *name;
    guint n = 0;

    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_test_message ("left in %s: %s", small, name);
        n++;
      }
    g_assert_cmpuint (n, ==, 1);
  }
  g_assert_cmpuint (live_counter_of (f->src), ==, 0);
  umount_dir (small);
}

/* Makes and deletes a small raw volume in @pool: the handle works */
static void
assert_pool_handle_works (virStoragePoolPtr pool, const LiveFixture *f)
{
  g_autoptr (DcVol) vol = virStorageVolCreateXML (
    pool,
    "<volume><name>cache-probe.raw</name><capacity>4096</capacity><target><format type='raw'/></target></volume>",
    0);
  g_autofree char *path = vol ? virStorageVolGetPath (vol) : NULL;
  g_autofree char *want = g_build_filename (f->dir, "cache-probe.raw", NULL);

  if (vol == NULL)
    g_error ("a kept pool handle does not work: %s", virGetLastErrorMessage ());
  g_assert_cmpstr (path, ==, want);
  g_assert_true (g_file_test (want, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpint (virStorageVolDelete (vol, 0), ==, 0);
  g_assert_false (g_file_test (want, G_FILE_TEST_EXISTS));
}

/* The handle a run keeps for each pool (dc_pool_cache_lookup(), issue
 * 18) stays right while the pool is stopped and started again (libvirt
 * finds a pool by its UUID, which it keeps); a pool undefined and
 * defined again under the same name has a new UUID: the kept handle
 * then fails as the pool being gone (what the copy step takes for a
 * reason to look it up anew), and once forgotten the lookup finds the
 * new pool. domclone's temporary pools are never kept. */
static void
test_live_pool_cache (LiveFixture *f, gconstpointer data)
{
  g_autoptr (DcPoolCache) cache = NULL;
  g_autoptr (DcPool) kept = NULL;
  g_autoptr (DcPool) again = NULL;

  SKIP_WITHOUT_DAEMON ();
  cache = dc_pool_cache_new (live_conn);
  kept = dc_pool_cache_lookup (cache, live_conn, f->pool);
  g_assert_nonnull (kept);

  /* stopped and started again, by another handle */
  {
    g_autoptr (DcPool) other = virStoragePoolLookupByName (live_conn, f->pool);

    g_assert_cmpint (virStoragePoolDestroy (other), ==, 0);
    g_assert_cmpint (virStoragePoolCreate (other, 0), ==, 0);
  }
  again = dc_pool_cache_lookup (cache, live_conn, f->pool);
  g_assert_true (again == kept);
  g_clear_pointer (&again, virStoragePoolFree);
  assert_pool_handle_works (kept, f);

  /* undefined and defined again: a new UUID */
  {
    g_autoptr (DcPool) other = virStoragePoolLookupByName (live_conn, f->pool);

    g_assert_cmpint (virStoragePoolDestroy (other), ==, 0);
    g_assert_cmpint (virStoragePoolUndefine (other), ==, 0);
    live_define_pool (f->pool, f->dir);
  }
  g_assert_cmpint (virStoragePoolRefresh (kept, 0), <, 0);
  g_assert_cmpint (virGetLastErrorCode (), ==, VIR_ERR_NO_STORAGE_POOL);
  again = dc_pool_cache_lookup (cache, live_conn, f->pool);
  g_assert_true (again == kept);
  g_clear_pointer (&again, virStoragePoolFree);
  dc_pool_cache_forget (cache, f->pool);
  again = dc_pool_cache_lookup (cache, live_conn, f->pool);
  g_assert_nonnull (again);
  g_assert_true (again != kept);
  assert_pool_handle_works (again, f);
  g_clear_pointer (&again, virStoragePoolFree);

  /* another connection's pools are looked up there, not kept */
  {
    g_autoptr (DcConnect) other = virConnectOpen (NULL);

    g_assert_nonnull (other);
    again = dc_pool_cache_lookup (cache, other, f->pool);
    g_assert_nonnull (again);
    g_assert_true (virStoragePoolGetConnect (again) == other);
    g_clear_pointer (&again, virStoragePoolFree);
  }
}

int
main (int argc, char **argv)
{
  live_init (&argc, &argv);
  LIVE_TEST ("/live/pool/into-dir", test_live_pool_into_dir);
  LIVE_TEST ("/live/pool/other-fs", test_live_pool_other_fs);
  LIVE_TEST ("/live/pool/fs-pool", test_live_pool_fs);
  LIVE_TEST ("/live/pool/refused", test_live_pool_refused);
  LIVE_TEST ("/live/pool/outside", test_live_pool_outside);
  LIVE_TEST ("/live/pool/outside-enospc", test_live_pool_outside_enospc);
  LIVE_TEST ("/live/pool/cache", test_live_pool_cache);
  return live_run ();
}
