/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live tests, how the bytes move: the local copy (a reflink, or the data
 * extents only) into volumes libvirt creates, libvirt's copy where the
 * local one must not be used, and copies in parallel, with their
 * failures and signals rolled back. See src/dc-copy.c.
 */
#include "config.h"

#include "dc-test-assert.h"
#include "live-fixture.h"
#include "dc-test-util.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* The fixture's source (a qcow2 system disk, a sparse raw volume disk,
 * the NVRAM) on a local connection: every volume is filled by the local
 * copy, byte for byte (the qcow2 file itself too, so its compat level
 * and features come along), as sparse as the source. */
static void
test_live_copy_local (LiveFixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *clone = NULL;
  int status;

  SKIP_WITHOUT_DAEMON ();
  status = dc_test_domclone (&out, &err, "-v", f->src, NULL);
  g_test_message ("exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 0);
  clone = g_strdup_printf ("%s-clone1", f->src);
  g_assert_cmpuint (dc_test_count_of (err, ", by a local copy\n"), ==, 3);
  g_assert_cmpuint (dc_test_count_of (err, "by libvirt's copy"), ==, 0);
  {
    g_autofree char *a = g_strdup_printf ("%s/%s.qcow2", f->dir, f->src);
    g_autofree char *b = g_strdup_printf ("%s/%s.qcow2", f->dir, clone);
    live_assert_same_file (a, b);
  }
  {
    g_autofree char *a = live_path_in (f, "data.raw");
    g_autofree char *name = g_strdup_printf ("%s-vdb.raw", clone);
    g_autofree char *b = live_path_in (f, name);
    live_assert_same_file (a, b);
  }
  {
    g_autofree char *a = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, f->src);
    g_autofree char *b = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, clone);
    live_assert_same_file (a, b);
  }
  /* libvirt sees the volume as it now is, not as it created it */
  {
    g_autoptr (DcPool) pool = virStoragePoolLookupByName (live_conn, f->pool);
    g_autofree char *name = g_strdup_printf ("%s-vdb.raw", clone);
    g_autoptr (DcVol) vol = virStorageVolLookupByName (pool, name);
    g_autofree char *path = live_path_in (f, name);
    virStorageVolInfo info;

    g_assert_nonnull (vol);
    g_assert_cmpint (virStorageVolGetInfo (vol, &info), ==, 0);
    g_assert_cmpuint (info.capacity, ==, 64 * MiB);
    g_assert_cmpuint (info.allocation, ==, live_allocated_bytes (path));
  }
}

/* A qcow2 with a backing file is not copied as its bytes (the copy
 * would still depend on the backing file): libvirt converts it, and
 * the clone stands alone. */
static void
test_live_copy_backing_by_libvirt (LiveFixture *f, gconstpointer data)
{
  g_autofree char *base = live_path_in (f, "base.qcow2");
  g_autofree char *overlay = live_path_in (f, "overlay.qcow2");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *clone_path = NULL;
  int status;

  SKIP_WITHOUT_DAEMON ();
  {
    const char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", base, "16M", NULL };
    dc_test_run_ok (argv);
  }
  {
    const char *argv[] = { "qemu-io", "-c", "write -P 0x5a 0 1M", base, NULL };
    dc_test_run_ok (argv);
  }
  {
    const char *argv[] = {
      "qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base, overlay, NULL
    };
    dc_test_run_ok (argv);
  }
  live_attach_disk (f, "vdf", "qcow2", overlay);

  status = dc_test_domclone (&out, &err, "-v", f->src, NULL);
  g_test_message ("exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 0);
  dc_assert_contains (err, "copying disk 'vdf': 'overlay.qcow2' in pool");
  dc_assert_contains (err, "-clone1-vdf.qcow2' in pool '");
  g_assert_cmpuint (dc_test_count_of (err, "by libvirt's copy"), ==, 1);
  g_assert_cmpuint (dc_test_count_of (err, ", by a local copy\n"), ==, 3);

  clone_path = g_strdup_printf ("%s/%s-clone1-vdf.qcow2", f->dir, f->src);
  {
    const char *argv[] = { "qemu-img", "compare", "-q", overlay, clone_path, NULL };
    dc_test_run_ok (argv);
  }
  {
    const char *argv[] = { "qemu-img", "info", clone_path, NULL };
    g_autofree char *info = NULL;
    g_autofree char *ierr = NULL;

    g_assert_cmpint (dc_test_run (argv, &info, &ierr), ==, 0);
    dc_assert_not_contains (info, "backing file");
  }
}

/* Four qcow2 disks and a raw one, copied four at a time: all of them
 * byte-identical and as sparse as their sources. */
static void
test_live_copy_parallel (LiveFixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *devs[] = { "vdf", "vdg", "vdh", "vdi" };
  int status;

  SKIP_WITHOUT_DAEMON ();
  for (size_t i = 0; i < G_N_ELEMENTS (devs); i++)
    {
      g_autofree char *name = g_strdup_printf ("par-%s.qcow2", devs[i]);
      g_autofree char *path = live_path_in (f, name);
      g_autofree char *pattern = g_strdup_printf ("write -P 0x%02x %zuM 2M", (guint) (0x10 + i), 4 * i);
      const char *create[] = { "qemu-img", "create", "-q", "-f", "qcow2", path, "64M", NULL };
      const char *write[] = { "qemu-io", "-c", pattern, path, NULL };

      dc_test_run_ok (create);
      dc_test_run_ok (write);
      live_attach_disk (f, devs[i], "qcow2", path);
    }

  status = dc_test_domclone (&out, &err, "-v", "--jobs", "4", f->src, NULL);
  g_test_message ("exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 0);
  dc_assert_contains (err, "copying 7 volumes, 4 at a time");
  for (size_t i = 0; i < G_N_ELEMENTS (devs); i++)
    {
      g_autofree char *name = g_strdup_printf ("par-%s.qcow2", devs[i]);
      g_autofree char *clone_name = g_strdup_printf ("%s-clone1-%s.qcow2", f->src, devs[i]);
      g_autofree char *a = live_path_in (f, name);
      g_autofree char *b = live_path_in (f, clone_name);

      live_assert_same_file (a, b);
    }
  {
    g_autofree char *a = live_path_in (f, "data.raw");
    g_autofree char *name = g_strdup_printf ("%s-clone1-vdb.raw", f->src);
    g_autofree char *b = live_path_in (f, name);
    live_assert_same_file (a, b);
  }
}

static guint64
fs_used_bytes (const char *dir)
{
  struct statvfs sv;

  g_assert_cmpint (statvfs (dir, &sv), ==, 0);
  return (guint64) (sv.f_blocks - sv.f_bfree) * sv.f_frsize;
}

/* On XFS with reflinks, a disk is cloned without copying its data: the
 * clone shares the source's extents, the file system grows by next to
 * nothing, and the bytes are the same.
 *
 * Longer than 60 lines: one scenario, each step starting from what the
 * step before left; it reads best in that order.
 */
static void
test_live_copy_reflink (LiveFixture *f, gconstpointer data)
{
  g_autofree char *image = g_strdup_printf ("%s/xfs-%s.img", live_state_dir, f->src);
  g_autofree char *dir = g_strdup_printf ("%s/xfs-%s", live_state_dir, f->src);
  g_autofree char *pool_name = g_strdup_printf ("xfs-%s", f->src);
  g_autofree char *disk = NULL;
  g_autofree char *clone_disk = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *mkfs[] = { "mkfs.xfs", "-q", "-m", "reflink=1", NULL };
  /* 48 MiB of data in a 1 GiB sparse raw disk */
  const gsize offsets[] = { 0, 10 * MiB, 100 * MiB, 500 * MiB, 900 * MiB, 1000 * MiB };
  guint64 used_before, used_after;
  int status;

  SKIP_WITHOUT_DAEMON ();
  if (!live_mount_loop_fs (mkfs, image, 512 * MiB, dir))
    return;
  disk = g_build_filename (dir, "big.raw", NULL);
  live_write_pattern (disk, 1024 * MiB, offsets, G_N_ELEMENTS (offsets), 4242);
  /* fill whole extents, not the 1 MiB the pattern writes: 8 MiB each */
  for (size_t i = 0; i < G_N_ELEMENTS (offsets); i++)
    {
      g_autofree char *cmd = g_strdup_printf ("write -P 0x%02x %zu 8M", (guint) (0x40 + i), offsets[i]);
      const char *argv[] = { "qemu-io", "-f", "raw", "-c", cmd, disk, NULL };
      dc_test_run_ok (argv);
    }
  live_define_pool (pool_name, dir);
  {
    g_autoptr (DcDomain) src = virDomainLookupByName (live_conn, f->src);
    g_autofree char *xml = g_strdup_printf ("<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                                            "<source file='%s'/><target dev='vdf' bus='virtio'/></disk>",
                                            disk);
    g_assert_cmpint (virDomainAttachDeviceFlags (src, xml, VIR_DOMAIN_AFFECT_CONFIG), ==, 0);
  }
  {
    const char *argv[] = { "sync", NULL };
    dc_test_run_ok (argv);
  }
  used_before = fs_used_bytes (dir);

  status = dc_test_domclone (&out, &err, "-v", f->src, NULL);
  g_test_message ("exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 0);
  dc_assert_contains (err, "copied disk 'vdf': a reflink");
  {
    const char *argv[] = { "sync", NULL };
    dc_test_run_ok (argv);
  }
  used_after = fs_used_bytes (dir);
  g_test_message ("file system used: %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT
                  " bytes; data %" G_GUINT64_FORMAT,
                  used_before, used_after, live_allocated_bytes (disk));
  g_assert_cmpuint (live_allocated_bytes (disk), >=, 48 * MiB);
  /* a copy would take 48 MiB more; shared extents take (almost) none */
  g_assert_cmpuint (used_after, <, used_before + 4 * MiB);
  clone_disk = g_strdup_printf ("%s/%s-clone1-vdf.raw", dir, f->src);
  {
    g_autofree char *a = live_sha256_file (disk);
    g_autofree char *b = live_sha256_file (clone_disk);
    g_assert_cmpstr (b, ==, a);
  }

  {
    g_autofree char *clone = g_strdup_printf ("%s-clone1", f->src);
    live_delete_clone (clone);
  }
  {
    g_autoptr (DcPool) pool = virStoragePoolLookupByName (live_conn, pool_name);
    const char *argv[] = { "umount", dir, NULL };

    if (pool != NULL)
      {
        virStoragePoolDestroy (pool);
        virStoragePoolUndefine (pool);
      }
    dc_test_run_ok (argv);
    g_unlink (image);
  }
}

/* Two disks copied at once onto a 16 MiB tmpfs that holds only one of
 * them: the local copy runs out of space half-way; the other copy is
 * waited for, then everything is rolled back. */
static void
test_live_copy_parallel_enospc (LiveFixture *f, gconstpointer data)
{
  g_autofree char *small = NULL;
  g_autofree char *small_pool = NULL;
  g_autofree char *err = NULL;
  const gsize offsets[] = { 0, MiB, 2 * MiB, 3 * MiB, 4 * MiB };
  const char *names[] = { "a.raw", "b.raw" };
  const char *devs[] = { "vdf", "vdg" };
  const char *args[] = { "-v", "-j", "4", f->src, NULL };

  SKIP_WITHOUT_DAEMON ();
  small = live_small_pool (f, 16, &small_pool);
  if (small == NULL)
    return;
  for (size_t i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (small, names[i], NULL);
      g_autoptr (DcDomain) src = virDomainLookupByName (live_conn, f->src);
      g_autoptr (DcPool) pool = virStoragePoolLookupByName (live_conn, small_pool);
      g_autofree char *xml =
        g_strdup_printf ("<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                         "<source file='%s'/><target dev='%s' bus='virtio'/></disk>",
                         path, devs[i]);

      live_write_pattern (path, 6 * MiB, offsets, G_N_ELEMENTS (offsets), 31 + i);
      g_assert_cmpint (virDomainAttachDeviceFlags (src, xml, VIR_DOMAIN_AFFECT_CONFIG), ==, 0);
      g_assert_cmpint (virStoragePoolRefresh (pool, 0), ==, 0);
    }

  err = live_assert_fails_cleanly (args, NULL, 1);
  dc_assert_contains (err, "No space left on device");
  dc_assert_contains (err, "; everything this run created was removed\n");
  dc_assert_not_contains (err, "rollback incomplete");
  g_assert_cmpuint (live_counter_of (f->src), ==, 0);
  {
    g_autofree char *nvram = g_strdup_printf ("%s/%s-clone1_VARS.fd", f->nvram_dir, f->src);
    g_assert_false (g_file_test (nvram, G_FILE_TEST_EXISTS));
  }

  live_small_pool_remove (small_pool, small);
}

/* SIGTERM while two of libvirt's copies run side by side: both are
 * waited for (they cannot be cut short), then everything is removed. */
static void
test_live_copy_parallel_sigterm (LiveFixture *f, gconstpointer data)
{
  g_autofree char *big2 = live_path_in (f, "big2.raw");
  g_autofree char *before = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  const gsize offsets[] = { 0, 2048 * MiB };

  SKIP_WITHOUT_DAEMON ();
  live_write_pattern (big2, 3 * 1024 * MiB, offsets, G_N_ELEMENTS (offsets), 5);
  live_attach_disk (f, "vdf", "raw", big2);
  /* a second big disk, and the clone started with both copying (by
   * libvirt: the local copy would be done before the signal) */
  {
    const char *args[] = { f->src, NULL };
    const char *env[] = { "DOMCLONE_LOCAL_COPY=0", NULL };
    g_autofree char *first = live_add_big_disk (f);
    g_autofree char *second = g_strdup_printf ("%s-clone1-vdf.raw", f->src);

    before = live_snapshot ();
    proc = dc_test_spawn_domclone_env (args, env);
    live_wait_for_copy_start (f, first);
    live_wait_for_copy_start (f, second);
  }

  err = live_assert_sigterm_rolls_back (proc, before);
  g_assert_cmpuint (live_counter_of (f->src), ==, 0);
}

/* On a terminal, the copies' progress is drawn on stderr (a line per
 * volume and a total, redrawn in place); with --quiet, or when stderr is
 * not a terminal, nothing but the result. script(1) gives the run a
 * pseudo-terminal. */
static void
test_live_copy_progress (LiveFixture *f, gconstpointer data)
{
  g_autofree char *cmd = NULL;
  g_autofree char *quiet_cmd = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  SKIP_WITHOUT_DAEMON ();
  g_autofree char *script = g_find_program_in_path ("script");

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
  dc_assert_contains (out, "\r\033[Kdisk 'vdb' ");
  dc_assert_contains (out, "\r\033[Kthe NVRAM ");
  dc_assert_contains (out, "\r\033[Ktotal ");
  dc_assert_contains (out, "/s\r\n");
  {
    g_autofree char *expected = g_strdup_printf ("\nCloned from %s to %s-clone1.\r\n", f->src, f->src);
    g_assert_true (g_str_has_suffix (out, expected));
  }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  quiet_cmd = g_strdup_printf ("'%s' --quiet '%s'", g_getenv ("DOMCLONE"), f->src);
  {
    const char *argv[] = { "script", "-qec", quiet_cmd, "/dev/null", NULL };

    g_assert_cmpint (dc_test_run (argv, &out, &err), ==, 0);
  }
  {
    g_autofree char *expected = g_strdup_printf ("Cloned from %s to %s-clone2.\r\n", f->src, f->src);
    g_assert_cmpstr (out, ==, expected);
  }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* not a terminal: the result line alone */
  g_assert_cmpint (dc_test_domclone (&out, &err, f->src, NULL), ==, 0);
  g_assert_cmpstr (err, ==, "");
}

/* SIGTERM during a local copy stops it between two chunks (it is not
 * waited for, as libvirt's are): exit 1, nothing left. 1 GiB of written
 * zeros (data extents, not holes) keeps the copy going long enough; one
 * copy at a time, so the big one is the one under way. */
static void
test_live_copy_local_sigterm (LiveFixture *f, gconstpointer data)
{
  g_autofree char *big = live_path_in (f, "zeros.raw");
  g_autofree char *clone_vol = g_strdup_printf ("%s-clone1-vdf.raw", f->src);
  g_autofree char *of = g_strdup_printf ("of=%s", big);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  const char *args[] = { "-v", "-j", "1", f->src, NULL };
  const char *dd[] = { "dd", "if=/dev/zero", of, "bs=8M", "count=128", "status=none", NULL };
  gint64 signalled;
  int status;

  SKIP_WITHOUT_DAEMON ();
  dc_test_run_ok (dd);
  live_attach_disk (f, "vdf", "raw", big);
  before = live_snapshot ();
  proc = dc_test_spawn_domclone (args);
  live_wait_for_copy_start (f, clone_vol);
  g_subprocess_send_signal (proc, SIGTERM);
  signalled = g_get_monotonic_time ();
  out = dc_test_communicate (proc, &err, &status);
  g_test_message ("SIGTERM: exit %d after %.2f s: %s", status, (g_get_monotonic_time () - signalled) / 1e6,
                  err);
  g_assert_cmpint (status, ==, 1);
  g_assert_cmpstr (out, ==, "");
  /* cut short inside the copy, not after it */
  dc_assert_contains (err, "domclone: cannot clone disk 'vdf': interrupted by Terminated; "
                           "everything this run created was removed\n");
  dc_assert_not_contains (err, "copied disk 'vdf'");
  after = live_snapshot ();
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpuint (live_counter_of (f->src), ==, 0);
  g_unlink (big);
}

/* A qcow2 with an internal snapshot is not copied as its bytes either
 * (libvirt's copy drops the snapshots, as it does for any qcow2 it
 * converts); with -vv the reason is said. */
static void
test_live_copy_snapshot_by_libvirt (LiveFixture *f, gconstpointer data)
{
  g_autofree char *disk = live_path_in (f, "snap.qcow2");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *create[] = { "qemu-img", "create", "-q", "-f", "qcow2", disk, "16M", NULL };
  const char *snapshot[] = { "qemu-img", "snapshot", "-c", "before", disk, NULL };
  int status;

  SKIP_WITHOUT_DAEMON ();
  dc_test_run_ok (create);
  dc_test_run_ok (snapshot);
  live_attach_disk (f, "vdf", "qcow2", disk);

  status = dc_test_domclone (&out, &err, "-vv", f->src, NULL);
  g_test_message ("exit %d", status);
  g_assert_cmpint (status, ==, 0);
  dc_assert_contains (err, "domclone: debug: disk 'vdf' goes through libvirt: it has internal snapshots\n");
  g_assert_cmpuint (dc_test_count_of (err, "by libvirt's copy"), ==, 1);
  g_assert_cmpuint (dc_test_count_of (err, ", by a local copy\n"), ==, 3);
  {
    g_autofree char *clone = g_strdup_printf ("%s/%s-clone1-vdf.qcow2", f->dir, f->src);
    const char *argv[] = { "qemu-img", "compare", "-q", disk, clone, NULL };
    dc_test_run_ok (argv);
  }
}

int
main (int argc, char **argv)
{
  live_init (&argc, &argv);
  LIVE_TEST ("/live/copy/local", test_live_copy_local);
  LIVE_TEST ("/live/copy/backing-by-libvirt", test_live_copy_backing_by_libvirt);
  LIVE_TEST ("/live/copy/snapshot-by-libvirt", test_live_copy_snapshot_by_libvirt);
  LIVE_TEST ("/live/copy/parallel", test_live_copy_parallel);
  LIVE_TEST ("/live/copy/reflink", test_live_copy_reflink);
  LIVE_TEST ("/live/copy/parallel-enospc", test_live_copy_parallel_enospc);
  LIVE_TEST ("/live/copy/parallel-sigterm", test_live_copy_parallel_sigterm);
  LIVE_TEST ("/live/copy/progress", test_live_copy_progress);
  LIVE_TEST ("/live/copy/local-sigterm", test_live_copy_local_sigterm);
  return live_run ();
}
