/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The local copy engine (dc_copy_file) without a daemon: files of odd
 * sizes, sparse files, holes at the end, thick files, a destination
 * longer than the source, a missing source, the write-back it starts
 * chunk by chunk, and a copy between two file systems, where
 * copy_file_range() fails with EXDEV and the engine reads and writes
 * instead.
 */
#include "config.h"

#include "dc-copy.h"
#include "dc-overlay.h"
#include "dc-util.h"
#include "dc-test-assert.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define KiB ((gsize) 1024)
#define MiB ((gsize) 1024 * 1024)
/* the engine's chunk (DC_COPY_CHUNK in dc-copy.c) */
#define CHUNK (8 * MiB)

typedef struct
{
  char *dir; /* a scratch directory, removed at the end */
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("dc-test-copy-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
remove_tree (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (dir);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  remove_tree (f->dir);
  g_free (f->dir);
}

/* Writes @len bytes of a pattern no block of which is all zeros (seeded
 * by @seed) at @off of @fd. */
static void
write_at (int fd, gsize off, gsize len, guint32 seed)
{
  g_autofree guint8 *buf = g_malloc (len);

  for (gsize i = 0; i < len; i++)
    buf[i] = (guint8) (((i + seed) * 2654435761u) >> 24) | 1;
  g_assert_cmpint (pwrite (fd, buf, len, (off_t) off), ==, (gssize) len);
}

/* Makes @path: @size bytes, with data only at the @n (offset, length)
 * pairs of @extents, holes elsewhere. */
static char *
make_file (const char *dir, const char *name, gsize size, const gsize *extents, guint n)
{
  char *path = g_build_filename (dir, name, NULL);
  int fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

  g_assert_cmpint (fd, >=, 0);
  for (guint i = 0; i < n; i++)
    write_at (fd, extents[2 * i], extents[2 * i + 1], i + 1);
  g_assert_cmpint (ftruncate (fd, (off_t) size), ==, 0);
  g_assert_cmpint (close (fd), ==, 0);
  return path;
}

/* An empty file as libvirt creates it for the new volume */
static char *
make_dst (const char *dir, const char *name)
{
  return make_file (dir, name, 0, NULL, 0);
}

static guint64
allocated (const char *path)
{
  struct stat st;

  g_assert_cmpint (stat (path, &st), ==, 0);
  return (guint64) st.st_blocks * 512;
}

/* @dst holds @src's bytes, has its size, and is no more allocated than
 * it (a little slack). */
static void
assert_copy (const char *src, const char *dst)
{
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  gsize la = 0, lb = 0;
  g_autoptr (GError) error = NULL;

  g_file_get_contents (src, &a, &la, &error);
  g_assert_no_error (error);
  g_file_get_contents (dst, &b, &lb, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (lb, ==, la);
  g_assert_true (memcmp (a, b, la) == 0);
  g_test_message ("%s: %" G_GUINT64_FORMAT " bytes allocated of %" G_GSIZE_FORMAT
                  " (source %" G_GUINT64_FORMAT ")",
                  dst, allocated (dst), lb, allocated (src));
  g_assert_cmpuint (allocated (dst), <=, allocated (src) + 64 * KiB);
}

/* Copies @src to @dst, which must work; returns the way. */
static DcCopyWay
copy_ok (const char *src, const char *dst, gsize *done)
{
  g_autoptr (GError) error = NULL;
  DcCopyWay way = DC_COPY_BY_LIBVIRT;

  g_assert_true (dc_copy_file (src, dst, &way, done, &error));
  g_assert_no_error (error);
  g_assert_true (way == DC_COPY_BY_SPARSE || way == DC_COPY_BY_REFLINK);
  return way;
}

/* Sizes around every boundary the engine has: nothing, one byte, a
 * zero block (4 KiB) and a byte either side, a chunk (8 MiB) and a
 * byte either side; every byte is data. */
static void
test_copy_odd_sizes (Fixture *f, gconstpointer data)
{
  static const gsize sizes[] = { 0, 1, 511, 4095, 4096, 4097, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 4099 };

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autofree char *name = g_strdup_printf ("src-%" G_GSIZE_FORMAT, sizes[i]);
      g_autofree char *dname = g_strdup_printf ("dst-%" G_GSIZE_FORMAT, sizes[i]);
      gsize extent[] = { 0, sizes[i] };
      g_autofree char *src = make_file (f->dir, name, sizes[i], extent, sizes[i] > 0 ? 1 : 0);
      g_autofree char *dst = make_dst (f->dir, dname);
      gsize done = 0;

      g_test_message ("size %" G_GSIZE_FORMAT, sizes[i]);
      if (copy_ok (src, dst, &done) == DC_COPY_BY_SPARSE)
        g_assert_cmpuint (done, ==, sizes[i]);
      assert_copy (src, dst);
    }
}

/* A sparse file: data at the start, in the middle (at an odd offset and
 * of an odd length, across a chunk boundary) and at the end; the holes
 * stay holes, and only the data counts as progress. */
static void
test_copy_sparse (Fixture *f, gconstpointer data)
{
  const gsize size = 40 * MiB;
  const gsize extents[] = { 0, 4 * KiB, CHUNK - 3 * KiB - 5, 64 * KiB + 7, size - 4 * KiB, 4 * KiB };
  g_autofree char *src = make_file (f->dir, "sparse", size, extents, 3);
  g_autofree char *dst = make_dst (f->dir, "sparse-copy");
  gsize done = 0;

  g_assert_cmpuint (allocated (src), <, 1 * MiB);
  if (copy_ok (src, dst, &done) == DC_COPY_BY_SPARSE)
    g_assert_cmpuint (done, <, 1 * MiB);
  assert_copy (src, dst);
  g_assert_cmpuint (allocated (dst), <, 1 * MiB);
}

/* A hole at the end: the copy keeps the full size, not just up to the
 * last data; and a file that is all hole. */
static void
test_copy_hole_at_end (Fixture *f, gconstpointer data)
{
  const gsize extents[] = { 0, 1 * MiB + 3 };
  g_autofree char *src = make_file (f->dir, "tail", 17 * MiB + 5, extents, 1);
  g_autofree char *dst = make_dst (f->dir, "tail-copy");
  g_autofree char *empty = make_file (f->dir, "hole", 9 * MiB + 1, NULL, 0);
  g_autofree char *empty_dst = make_dst (f->dir, "hole-copy");

  copy_ok (src, dst, NULL);
  assert_copy (src, dst);
  g_assert_cmpuint (allocated (dst), <, 2 * MiB);

  copy_ok (empty, empty_dst, NULL);
  assert_copy (empty, empty_dst);
  g_assert_cmpuint (allocated (empty_dst), <=, 64 * KiB);
}

/* A thick (preallocated) source makes a thick copy. */
static void
test_copy_thick (Fixture *f, gconstpointer data)
{
  const gsize size = 3 * MiB + 4096;
  g_autofree char *src = g_build_filename (f->dir, "thick", NULL);
  g_autofree char *dst = make_dst (f->dir, "thick-copy");
  int fd = g_open (src, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (posix_fallocate (fd, 0, (off_t) size), ==, 0);
  write_at (fd, 1 * MiB, 5, 7);
  g_assert_cmpint (close (fd), ==, 0);
  g_assert_cmpuint (allocated (src), >=, size);

  copy_ok (src, dst, NULL);
  assert_copy (src, dst);
  g_assert_cmpuint (allocated (dst), >=, size);
}

/* The new volume's file may hold bytes already (libvirt's allocation,
 * a longer file): the copy replaces them all. */
static void
test_copy_longer_dst (Fixture *f, gconstpointer data)
{
  const gsize extents[] = { 4 * KiB, 100 };
  const gsize old[] = { 0, 6 * MiB };
  g_autofree char *src = make_file (f->dir, "short", 1 * MiB, extents, 1);
  g_autofree char *dst = make_file (f->dir, "long", 6 * MiB, old, 1);

  copy_ok (src, dst, NULL);
  assert_copy (src, dst);
}

/* How many pages of the first @len bytes of @path are dirty in the page
 * cache, not yet on their way to disk (its pages' flags, through
 * /proc/self/pagemap and /proc/kpageflags); -1 where this process may
 * not read them (not root) */
static gint64
dirty_pages (const char *path, gsize len)
{
  const gsize page = (gsize) sysconf (_SC_PAGESIZE);
  g_auto (DcFd) fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  g_auto (DcFd) pagemap = g_open ("/proc/self/pagemap", O_RDONLY | O_CLOEXEC, 0);
  g_auto (DcFd) kpageflags = g_open ("/proc/kpageflags", O_RDONLY | O_CLOEXEC, 0);
  const volatile guint8 *map;
  gint64 dirty = 0;

  g_assert_cmpint (fd, >=, 0);
  if (pagemap < 0 || kpageflags < 0)
    return -1;
  map = mmap (NULL, len, PROT_READ, MAP_SHARED, fd, 0);
  g_assert_true (map != MAP_FAILED);
  for (gsize off = 0; off < len && dirty >= 0; off += page)
    {
      guint64 entry = 0, flags = 0, pfn;

      (void) map[off]; /* mapped in: the page is in the cache already */
      g_assert_cmpint (pread (pagemap, &entry, 8, (off_t) (((guintptr) map + off) / page * 8)), ==, 8);
      pfn = entry & ((G_GUINT64_CONSTANT (1) << 55) - 1);
      /* bit 63: present; the frame number reads 0 without CAP_SYS_ADMIN */
      if ((entry >> 63) == 0 || pfn == 0 || pread (kpageflags, &flags, 8, (off_t) (pfn * 8)) != 8)
        dirty = -1;
      else if (flags & (1 << 4)) /* KPF_DIRTY */
        dirty++;
    }
  g_assert_cmpint (munmap ((void *) map, len), ==, 0);
  return dirty;
}

typedef struct
{
  const char *dst;
  gsize *done;
  gint64 dirty; /* out: dirty pages of the first chunk, once copied */
} ChunkWatch;

/* Once the first chunk is copied, counts its dirty pages while the
 * copy goes on */
static gpointer
watch_first_chunk (gpointer data)
{
  ChunkWatch *w = data;

  while ((gsize) g_atomic_pointer_get (w->done) < CHUNK)
    g_usleep (20);
  w->dirty = dirty_pages (w->dst, CHUNK);
  return NULL;
}

/* The copy starts the write-back of each chunk it copied, so the disk
 * writes while the copy still reads and the flush at the end waits for
 * the last chunk only: the pages of the first chunk are on their way
 * to disk, or there, while the next ones are copied, not dirty until
 * that flush. */
static void
test_copy_writeback (Fixture *f, gconstpointer data)
{
  const gsize size = 16 * CHUNK;
  const gsize extents[] = { 0, size };
  g_autofree char *src = make_file (f->dir, "big", size, extents, 1);
  g_autofree char *dst = make_dst (f->dir, "big-copy");
  gsize done = 0;
  ChunkWatch w = { dst, &done, 0 };
  g_autoptr (GThread) watcher = NULL;

  g_auto (DcFd) probe = g_open (src, O_RDONLY | O_CLOEXEC, 0);
  gint64 probed;

  /* the source, written just now and flushed: dirty still where its
   * file system writes nothing back (tmpfs) */
  g_assert_cmpint (probe, >=, 0);
  g_assert_cmpint (
    sync_file_range (probe, 0, 0,
                     SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER),
    ==, 0);
  probed = dirty_pages (src, CHUNK);
  if (probed != 0)
    {
      /* not a regression: only root may read the pages' flags, and a
       * file system without write-back keeps its pages dirty */
      g_test_skip (probed < 0 ? "needs root, to read /proc/kpageflags"
                              : "the temporary directory's file system writes nothing back (tmpfs)");
      return;
    }
  watcher = g_thread_new ("watch", watch_first_chunk, &w);
  g_assert_cmpint (copy_ok (src, dst, &done), ==, DC_COPY_BY_SPARSE);
  g_thread_join (g_steal_pointer (&watcher));
  g_test_message ("%" G_GINT64_FORMAT " of the first chunk's %" G_GSIZE_FORMAT
                  " pages dirty while the copy went on",
                  w.dirty, CHUNK / (gsize) sysconf (_SC_PAGESIZE));
  g_assert_cmpint (w.dirty, >=, 0);
  g_assert_cmpint (w.dirty, <, (gint64) (CHUNK / (gsize) sysconf (_SC_PAGESIZE) / 10));
  assert_copy (src, dst);
}

/* A source that is not there: an error that names it, and no crash */
static void
test_copy_missing (Fixture *f, gconstpointer data)
{
  g_autofree char *src = g_build_filename (f->dir, "no-such-file", NULL);
  g_autofree char *dst = make_dst (f->dir, "dst");
  g_autoptr (GError) error = NULL;
  DcCopyWay way;

  g_assert_false (dc_copy_file (src, dst, &way, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  dc_assert_contains (error->message, src);
}

/* A directory on another file system than @dir: /dev/shm when it is
 * one, else a tmpfs mounted for the test (root). NULL when there is
 * neither; *@mounted says whether to unmount it. */
static char *
other_fs_dir (const char *dir, gboolean *mounted)
{
  struct stat a, b;
  g_autoptr (GError) error = NULL;
  char *other;

  *mounted = FALSE;
  g_assert_cmpint (stat (dir, &a), ==, 0);
  if (stat ("/dev/shm", &b) == 0 && a.st_dev != b.st_dev && access ("/dev/shm", W_OK) == 0)
    {
      other = g_build_filename ("/dev/shm", "dc-test-copy-XXXXXX", NULL);
      g_assert_nonnull (g_mkdtemp (other));
      return other;
    }
  if (geteuid () != 0)
    return NULL;
  other = g_dir_make_tmp ("dc-test-copy-tmpfs-XXXXXX", &error);
  g_assert_no_error (error);
  g_assert_cmpint (mount ("dc-test-copy", other, "tmpfs", 0, "size=64m"), ==, 0);
  *mounted = TRUE;
  return other;
}

/* Between two file systems copy_file_range() fails with EXDEV (Linux
 * 5.19 and later, for file systems without a copy_file_range of their
 * own, such as ext4 and tmpfs): the engine says so (a debug message)
 * and reads and writes instead, holes kept, in both directions. */
static void
test_copy_exdev (Fixture *f, gconstpointer data)
{
  const gsize extents[] = { 0, 4 * KiB + 1, 5 * MiB, CHUNK + 11 };
  gboolean mounted = FALSE;
  g_autofree char *other = other_fs_dir (f->dir, &mounted);
  struct stat a, b;

  if (other == NULL)
    {
      /* not a regression: this machine has no second file system to write to */
      g_test_skip ("needs /dev/shm on a file system of its own, or root to mount a tmpfs");
      return;
    }
  g_assert_cmpint (stat (f->dir, &a), ==, 0);
  g_assert_cmpint (stat (other, &b), ==, 0);
  g_assert_cmpuint (a.st_dev, !=, b.st_dev);

  for (guint i = 0; i < 2; i++)
    {
      const char *from = i == 0 ? f->dir : other;
      const char *to = i == 0 ? other : f->dir;
      g_autofree char *src = make_file (from, "exdev-src", 30 * MiB + 3, extents, 2);
      g_autofree char *dst = make_dst (to, "exdev-dst");
      gsize done = 0;

      g_test_message ("from %s to %s", from, to);
      g_test_expect_message (G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG,
                             "copy_file_range cannot copy*Invalid cross-device*");
      g_assert_cmpint (copy_ok (src, dst, &done), ==, DC_COPY_BY_SPARSE);
      g_test_assert_expected_messages ();
      /* the data, rounded to whole blocks */
      g_assert_cmpuint (done, >=, 4 * KiB + 1 + CHUNK + 11);
      g_assert_cmpuint (done, <=, 4 * KiB + 1 + CHUNK + 11 + 4 * 64 * KiB);
      assert_copy (src, dst);
      g_assert_cmpuint (allocated (dst), <, 10 * MiB);
      g_unlink (src);
      g_unlink (dst);
    }

  if (mounted)
    g_assert_cmpint (umount2 (other, MNT_DETACH), ==, 0);
  remove_tree (other);
}

/* Runs qemu-img with @args; its stdout in *@out when given. */
static int
qemu_img (const char *const *args, char **out)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *err = NULL;
  int status = -1;

  g_ptr_array_add (argv, (char *) "qemu-img");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, out, &err,
                               &status, NULL));
  if (status != 0)
    g_test_message ("qemu-img %s: %s", args[0], err);
  return g_spawn_check_exit_status (status, NULL) ? 0 : 1;
}

/* Writes an overlay of @base (@format, @capacity bytes) and has qemu-img
 * check it, read its backing file and format, and compare it with its
 * base: the overlay a linked clone gets without a qemu-img process. */
static void
check_overlay (Fixture *f, const char *base, const char *format, guint64 capacity)
{
  g_autofree char *ov = g_build_filename (f->dir, "overlay.qcow2", NULL);
  g_autofree char *size = g_strdup_printf ("\"virtual-size\": %" G_GUINT64_FORMAT ",", capacity);
  g_autofree char *backing = g_strdup_printf ("\"backing-filename\": \"%s\"", base);
  g_autofree char *fmt = g_strdup_printf ("\"backing-filename-format\": \"%s\"", format);
  g_autofree char *info = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (ov, "", 0, NULL));
  g_assert_true (dc_overlay_write (ov, capacity, base, format, &error));
  g_assert_no_error (error);
  g_assert_cmpint (qemu_img ((const char *[]){ "check", "-q", "-f", "qcow2", ov, NULL }, NULL), ==, 0);
  g_assert_cmpint (qemu_img ((const char *[]){ "info", "--output=json", "-f", "qcow2", ov, NULL }, &info), ==,
                   0);
  dc_assert_contains (info, size);
  dc_assert_contains (info, backing);
  dc_assert_contains (info, fmt);
  dc_assert_contains (info, "\"compat\": \"1.1\"");
  dc_assert_contains (info, "\"cluster-size\": 65536");
  g_assert_cmpint (
    qemu_img ((const char *[]){ "compare", "-q", "-f", format, "-F", "qcow2", base, ov, NULL }, NULL), ==, 0);
  g_unlink (ov);
}

static void
test_overlay (Fixture *f, gconstpointer data)
{
  g_autofree char *raw = g_build_filename (f->dir, "base.raw", NULL);
  g_autofree char *qcow2 = g_build_filename (f->dir, "base.qcow2", NULL);
  g_autofree char *prog = g_find_program_in_path ("qemu-img");
  g_autofree char *data_bytes = g_malloc (MiB);

  if (prog == NULL)
    {
      g_test_skip ("qemu-img is not installed");
      return;
    }
  for (gsize i = 0; i < MiB; i++)
    data_bytes[i] = (char) (i * 7 + 3);
  g_assert_true (g_file_set_contents (raw, data_bytes, MiB, NULL));
  g_assert_cmpint (truncate (raw, 3 * MiB + 512), ==, 0);
  check_overlay (f, raw, "raw", 3 * MiB + 512);
  /* 20 GiB: an L1 table of 40 entries */
  g_assert_cmpint (qemu_img ((const char *[]){ "create", "-q", "-f", "qcow2", qcow2, "20G", NULL }, NULL), ==,
                   0);
  check_overlay (f, qcow2, "qcow2", (guint64) 20 << 30);
  /* 5 TiB: an L1 table longer than a cluster */
  g_unlink (qcow2);
  g_assert_cmpint (qemu_img ((const char *[]){ "create", "-q", "-f", "qcow2", qcow2, "5T", NULL }, NULL), ==,
                   0);
  check_overlay (f, qcow2, "qcow2", (guint64) 5 << 40);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/copy/odd-sizes", Fixture, NULL, fixture_setup, test_copy_odd_sizes, fixture_teardown);
  g_test_add ("/copy/sparse", Fixture, NULL, fixture_setup, test_copy_sparse, fixture_teardown);
  g_test_add ("/copy/hole-at-end", Fixture, NULL, fixture_setup, test_copy_hole_at_end, fixture_teardown);
  g_test_add ("/copy/thick", Fixture, NULL, fixture_setup, test_copy_thick, fixture_teardown);
  g_test_add ("/copy/longer-destination", Fixture, NULL, fixture_setup, test_copy_longer_dst,
              fixture_teardown);
  g_test_add ("/copy/missing-source", Fixture, NULL, fixture_setup, test_copy_missing, fixture_teardown);
  g_test_add ("/copy/writeback-started", Fixture, NULL, fixture_setup, test_copy_writeback, fixture_teardown);
  g_test_add ("/copy/exdev", Fixture, NULL, fixture_setup, test_copy_exdev, fixture_teardown);
  g_test_add ("/copy/overlay", Fixture, NULL, fixture_setup, test_overlay, fixture_teardown);
  return g_test_run ();
}
