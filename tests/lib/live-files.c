/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The live tests' files (declared in live-fixture.h): patterns written
 * into them, their hashes and allocation, a clone's file compared byte
 * for byte (and hole for hole) with its source, a loop-mounted file
 * system to fill.
 */
#include "config.h"

#include "dc-test-assert.h"
#include "dc-test-util.h"
#include "live-fixture.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void
live_write_pattern (const char *path, gsize size, const gsize *offsets, gsize n_offsets, guint32 seed)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  g_autofree guint8 *chunk = g_malloc (MiB);
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, size), ==, 0);
  for (gsize i = 0; i < n_offsets; i++)
    {
      for (gsize j = 0; j < MiB; j++)
        chunk[j] = (guint8) g_rand_int (rand);
      g_assert_cmpint (pwrite (fd, chunk, MiB, offsets[i]), ==, MiB);
    }
  g_assert_cmpint (close (fd), ==, 0);
}

/* read(2), not mmap: on tmpfs, mapping a hole allocates it */
char *
live_sha256_file (const char *path)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guint8 *buf = g_malloc (MiB);
  g_auto (DcFd) fd = open (path, O_RDONLY);
  ssize_t n;

  g_assert_cmpint (fd, >=, 0);
  while ((n = read (fd, buf, MiB)) > 0)
    g_checksum_update (sum, buf, n);
  g_assert_cmpint (n, ==, 0);
  return g_strdup (g_checksum_get_string (sum));
}

guint64
live_allocated_bytes (const char *path)
{
  struct stat st;

  g_assert_cmpint (stat (path, &st), ==, 0);
  return (guint64) st.st_blocks * 512;
}

/**
 * live_assert_same_file:
 * @src: a source file
 * @clone: its copy
 *
 * @clone is a byte-for-byte copy of @src, of its size, no more
 * allocated than it (64 KiB of slack), with the same mode.
 */
void
live_assert_same_file (const char *src, const char *clone)
{
  g_autofree char *a = live_sha256_file (src);
  g_autofree char *b = live_sha256_file (clone);
  struct stat st_src, st_clone;

  g_assert_cmpint (stat (src, &st_src), ==, 0);
  g_assert_cmpint (stat (clone, &st_clone), ==, 0);
  g_test_message ("%s: %" G_GUINT64_FORMAT " of %" G_GINT64_FORMAT
                  " bytes allocated (source %" G_GUINT64_FORMAT ")",
                  clone, live_allocated_bytes (clone), (gint64) st_clone.st_size, live_allocated_bytes (src));
  g_assert_cmpstr (b, ==, a);
  g_assert_cmpint (st_clone.st_size, ==, st_src.st_size);
  g_assert_cmpuint (live_allocated_bytes (clone), <=, live_allocated_bytes (src) + 64 * 1024);
  g_assert_cmpint (st_clone.st_mode & 07777, ==, st_src.st_mode & 07777);
}

/* The data extents of @fd (SEEK_DATA/SEEK_HOLE), as offset, end pairs */
static GArray *
data_extents (int fd)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (gint64));
  off_t pos = 0;

  for (;;)
    {
      off_t data = lseek (fd, pos, SEEK_DATA);
      off_t hole;

      if (data < 0)
        break; /* ENXIO: no data after @pos */
      hole = lseek (fd, data, SEEK_HOLE);
      g_assert_cmpint (hole, >, data);
      g_array_append_val (out, data);
      g_array_append_val (out, hole);
      pos = hole;
    }
  return out;
}

/* Whether [@start, @end) holds data in one of @a, @b: compared there */
static void
compare_range (int fa, int fb, gint64 start, gint64 end)
{
  g_autofree guint8 *x = g_malloc (MiB);
  g_autofree guint8 *y = g_malloc (MiB);

  for (gint64 at = start; at < end; at += MiB)
    {
      size_t len = (size_t) MIN ((gint64) MiB, end - at);

      g_assert_cmpint (pread (fa, x, len, at), ==, (ssize_t) len);
      g_assert_cmpint (pread (fb, y, len, at), ==, (ssize_t) len);
      if (memcmp (x, y, len) != 0)
        g_error ("the copy differs from its source between %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT, at,
                 at + (gint64) len);
    }
}

/**
 * live_assert_same_sparse_file:
 * @src: a big sparse source file
 * @clone: its copy
 *
 * As live_assert_same_file(), reading only where either file holds
 * data (a hole reads as zeros in both): an 8 GiB disk with a few MiB
 * in it is compared in a moment.
 */
void
live_assert_same_sparse_file (const char *src, const char *clone)
{
  int fa = open (src, O_RDONLY);
  int fb = open (clone, O_RDONLY);
  struct stat st_src, st_clone;
  g_autoptr (GArray) ea = NULL;
  g_autoptr (GArray) eb = NULL;

  g_assert_cmpint (fa, >=, 0);
  g_assert_cmpint (fb, >=, 0);
  g_assert_cmpint (fstat (fa, &st_src), ==, 0);
  g_assert_cmpint (fstat (fb, &st_clone), ==, 0);
  g_assert_cmpint (st_clone.st_size, ==, st_src.st_size);
  ea = data_extents (fa);
  eb = data_extents (fb);
  for (guint i = 0; i < ea->len; i += 2)
    compare_range (fa, fb, g_array_index (ea, gint64, i), g_array_index (ea, gint64, i + 1));
  for (guint i = 0; i < eb->len; i += 2)
    compare_range (fa, fb, g_array_index (eb, gint64, i), g_array_index (eb, gint64, i + 1));
  close (fa);
  close (fb);
  g_test_message ("%s: %" G_GUINT64_FORMAT " of %" G_GINT64_FORMAT
                  " bytes allocated (source %" G_GUINT64_FORMAT ")",
                  clone, live_allocated_bytes (clone), (gint64) st_clone.st_size, live_allocated_bytes (src));
  g_assert_cmpuint (live_allocated_bytes (clone), <=, live_allocated_bytes (src) + 64 * 1024);
}

/**
 * live_mount_loop_fs:
 * @mkfs: the command that makes the file system, without the image
 *   (appended)
 * @image: the image file to make, of @size bytes, sparse
 * @size: its size
 * @dir: where to mount it, made if missing
 *
 * Mounts a fresh file system on a loop device at @dir; unmount it with
 * umount(8).
 *
 * Returns: %FALSE, with the test skipped, where this host cannot (not
 * root, no @mkfs, no loop device)
 */
gboolean
live_mount_loop_fs (const char *const *mkfs, const char *image, gsize size, const char *dir)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *mkfs_path = g_find_program_in_path (mkfs[0]);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *mount[] = { "mount", "-o", "loop", image, dir, NULL };

  if (geteuid () != 0 || mkfs_path == NULL)
    {
      g_autofree char *why = g_strdup_printf ("needs root and %s", mkfs[0]);
      g_test_skip (why);
      return FALSE;
    }
  {
    g_auto (DcFd) fd = g_open (image, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    g_assert_cmpint (fd, >=, 0);
    g_assert_cmpint (ftruncate (fd, size), ==, 0);
  }
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  for (guint i = 0; mkfs[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) mkfs[i]);
  g_ptr_array_add (argv, (gpointer) image);
  g_ptr_array_add (argv, NULL);
  dc_test_run_ok ((const char *const *) argv->pdata);
  if (dc_test_run (mount, &out, &err) != 0)
    {
      g_autofree char *why = g_strdup_printf ("cannot mount a loop device here: %s", err);
      g_test_skip (why);
      return FALSE;
    }
  return TRUE;
}
