/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live tests, sparse and thick stay what they were: the local copy
 * (src/dc-copy.c) of a preallocated (thick) raw disk comes out fully
 * allocated, and of a sparse one as sparse, on ext4 and on XFS (with
 * and without reflinks), and on a file system whose SEEK_HOLE reports
 * no holes (bindfs, a FUSE file system that does not pass lseek on).
 * Each case mounts a file system of its own: root only.
 */
#include "config.h"

#include "dc-test-assert.h"
#include "live-fixture.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define THICK_SIZE (32 * MiB)
#define SPARSE_SIZE (64 * MiB)

typedef struct
{
  const char *name;    /* in paths */
  const char *mkfs[6]; /* live_mount_loop_fs() appends the image */
} FsCase;

static const FsCase fs_ext4 = { "ext4", { "mkfs.ext4", "-q", "-F", NULL } };
static const FsCase fs_xfs = { "xfs", { "mkfs.xfs", "-q", "-m", "reflink=0", NULL } };
static const FsCase fs_xfs_reflink = { "xfs-reflink", { "mkfs.xfs", "-q", "-m", "reflink=1", NULL } };

/* A thick raw file: 2 MiB of data, the rest preallocated (unwritten
 * extents, which SEEK_DATA skips on ext4 and XFS) */
static void
write_thick (const char *path)
{
  const gsize offsets[] = { 0, 10 * MiB };

  live_write_pattern (path, THICK_SIZE, offsets, G_N_ELEMENTS (offsets), 11);
  {
    g_auto (DcFd) fd = g_open (path, O_WRONLY, 0);

    g_assert_cmpint (fd, >=, 0);
    g_assert_cmpint (posix_fallocate (fd, 0, THICK_SIZE), ==, 0);
    g_assert_cmpint (fsync (fd), ==, 0);
  }
  g_assert_cmpuint (live_allocated_bytes (path), >=, THICK_SIZE);
}

/* A sparse raw file: 2 MiB of data in 64 MiB */
static void
write_sparse (const char *path)
{
  const gsize offsets[] = { 0, 30 * MiB };

  live_write_pattern (path, SPARSE_SIZE, offsets, G_N_ELEMENTS (offsets), 12);
  g_assert_cmpuint (live_allocated_bytes (path), <, 4 * MiB);
}

static void
assert_same_bytes (const char *a, const char *b)
{
  g_autofree char *sa = live_sha256_file (a);
  g_autofree char *sb = live_sha256_file (b);

  g_assert_cmpstr (sb, ==, sa);
}

/* On @data's file system, a thick disk's clone is thick and a sparse
 * disk's clone sparse, both with the source's bytes. */
static void
test_live_sparse_thick (LiveFixture *f, gconstpointer data)
{
  const FsCase *fs = data;
  g_autofree char *image = g_strdup_printf ("%s/%s-%s.img", live_state_dir, fs->name, f->src);
  g_autofree char *dir = g_strdup_printf ("%s/%s-%s", live_state_dir, fs->name, f->src);
  g_autofree char *pool_name = g_strdup_printf ("%s-%s", fs->name, f->src);
  g_autofree char *thick = NULL;
  g_autofree char *sparse = NULL;
  g_autofree char *thick_clone = NULL;
  g_autofree char *sparse_clone = NULL;
  g_autofree char *clone = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  SKIP_WITHOUT_DAEMON ();
  if (!live_mount_loop_fs (fs->mkfs, image, 512 * MiB, dir))
    return;
  thick = g_build_filename (dir, "thick.raw", NULL);
  sparse = g_build_filename (dir, "sparse.raw", NULL);
  write_thick (thick);
  write_sparse (sparse);
  live_define_pool (pool_name, dir);
  live_attach_disk (f, "vdf", "raw", thick);
  live_attach_disk (f, "vdg", "raw", sparse);

  status = dc_test_domclone (&out, &err, "-v", f->src, NULL);
  g_test_message ("exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 0);
  clone = g_strdup_printf ("%s-clone1", f->src);
  thick_clone = g_strdup_printf ("%s/%s-vdf.raw", dir, clone);
  sparse_clone = g_strdup_printf ("%s/%s-vdg.raw", dir, clone);
  g_test_message ("thick: %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT
                  " bytes allocated; sparse: %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT,
                  live_allocated_bytes (thick), live_allocated_bytes (thick_clone),
                  live_allocated_bytes (sparse), live_allocated_bytes (sparse_clone));
  dc_assert_contains (err, "copying disk 'vdf': 'thick.raw'");
  dc_assert_not_contains (err, "libvirt copied it");
  assert_same_bytes (thick, thick_clone);
  assert_same_bytes (sparse, sparse_clone);
  g_assert_cmpuint (live_allocated_bytes (thick_clone), >=, THICK_SIZE);
  g_assert_cmpuint (live_allocated_bytes (sparse_clone), <, 4 * MiB);

  live_delete_clone (clone);
  live_remove_pool (pool_name);
  {
    const char *argv[] = { "umount", dir, NULL };
    dc_test_run_ok (argv);
  }
  g_unlink (image);
}

/* Where SEEK_HOLE reports the whole file as data (bindfs does not pass
 * lseek on to the file system below), a sparse disk's clone is still
 * sparse: blocks of zeros are not written.
 *
 * Longer than 60 lines: one scenario, each step starting from what the
 * step before left; it reads best in that order.
 */
static void
test_live_sparse_no_seek_hole (LiveFixture *f, gconstpointer data)
{
  g_autofree char *lower = g_strdup_printf ("%s/lower-%s", live_state_dir, f->src);
  g_autofree char *dir = g_strdup_printf ("%s/fuse-%s", live_state_dir, f->src);
  g_autofree char *pool_name = g_strdup_printf ("fuse-%s", f->src);
  g_autofree char *bindfs = g_find_program_in_path ("bindfs");
  g_autofree char *sparse = NULL;
  g_autofree char *sparse_clone = NULL;
  g_autofree char *clone = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  off_t hole;
  int status;

  SKIP_WITHOUT_DAEMON ();
  if (geteuid () != 0 || bindfs == NULL)
    {
      g_test_skip ("needs root and bindfs, a FUSE file system");
      return;
    }
  g_assert_cmpint (g_mkdir_with_parents (lower, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  {
    const char *argv[] = { "bindfs", lower, dir, NULL };
    g_autofree char *mount_out = NULL;
    g_autofree char *mount_err = NULL;

    if (dc_test_run (argv, &mount_out, &mount_err) != 0)
      {
        g_autofree char *why = g_strdup_printf ("cannot mount bindfs here: %s", mount_err);
        g_test_skip (why);
        return;
      }
  }
  sparse = g_build_filename (dir, "sparse.raw", NULL);
  write_sparse (sparse);
  /* the case at hand: through the FUSE mount, no holes */
  {
    g_auto (DcFd) fd = g_open (sparse, O_RDONLY, 0);

    g_assert_cmpint (fd, >=, 0);
    hole = lseek (fd, 0, SEEK_HOLE);
  }
  g_test_message ("SEEK_HOLE from 0 on bindfs: %" G_GINT64_FORMAT, (gint64) hole);
  if (hole != (off_t) SPARSE_SIZE)
    {
      const char *argv[] = { "umount", dir, NULL };

      dc_test_run_ok (argv);
      g_test_skip ("bindfs here passes SEEK_HOLE on: not the case this test is for");
      return;
    }
  live_define_pool (pool_name, dir);
  live_attach_disk (f, "vdf", "raw", sparse);

  status = dc_test_domclone (&out, &err, "-vv", f->src, NULL);
  g_test_message ("exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 0);
  clone = g_strdup_printf ("%s-clone1", f->src);
  sparse_clone = g_strdup_printf ("%s/%s-vdf.raw", dir, clone);
  g_test_message ("sparse: %" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT " bytes allocated",
                  live_allocated_bytes (sparse), live_allocated_bytes (sparse_clone));
  dc_assert_not_contains (err, "copied disk 'vdf': libvirt copied it");
  assert_same_bytes (sparse, sparse_clone);
  g_assert_cmpuint (live_allocated_bytes (sparse_clone), <, 4 * MiB);
  dc_assert_contains (err, "leaving out blocks of zeros");

  live_delete_clone (clone);
  live_remove_pool (pool_name);
  {
    const char *argv[] = { "umount", dir, NULL };
    dc_test_run_ok (argv);
  }
}

int
main (int argc, char **argv)
{
  live_init (&argc, &argv);
  g_test_add ("/live/sparse/thick-ext4", LiveFixture, &fs_ext4, live_fixture_setup, test_live_sparse_thick,
              live_fixture_teardown);
  g_test_add ("/live/sparse/thick-xfs", LiveFixture, &fs_xfs, live_fixture_setup, test_live_sparse_thick,
              live_fixture_teardown);
  g_test_add ("/live/sparse/thick-xfs-reflink", LiveFixture, &fs_xfs_reflink, live_fixture_setup,
              test_live_sparse_thick, live_fixture_teardown);
  LIVE_TEST ("/live/sparse/no-seek-hole", test_live_sparse_no_seek_hole);
  return live_run ();
}
