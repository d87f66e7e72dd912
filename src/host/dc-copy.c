/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-copy.c: moving the bytes of a volume on this host.
 *
 * libvirt's raw-to-raw copy reads every byte of the virtual size, holes
 * included, and knows no reflinks unless asked (and then fails where
 * the file system has none). When the daemon runs on this host and the
 * files are reachable, libvirt still creates the new volume (name,
 * format, capacity, owner, mode, labels) and domclone fills it: a
 * copy-on-write clone (FICLONE) where the file system can, else a copy
 * of the data extents only (SEEK_DATA/SEEK_HOLE and copy_file_range,
 * which itself shares extents on XFS and btrfs). A qcow2 file is copied
 * this way only when it stands alone: no backing file, no internal
 * snapshots, no external data file; otherwise libvirt converts it.
 */
#include "config.h"

#include "dc-copy.h"
#include "dc-util.h"
#include "dc-xml.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <linux/fs.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* the most one copy_file_range or read/write moves at once: small
 * enough for a few progress updates a second on a slow disk */
#define DC_COPY_CHUNK ((size_t) 8 * 1024 * 1024)

/* blocks of zeros left out of a copy where the file system reports no
 * holes: a file system block */
#define DC_ZERO_BLOCK ((size_t) 4096)

/* how much more data than allocated blocks a file may report before its
 * file system is taken not to report holes (indirect blocks, a page of
 * delayed allocation) */
#define DC_HOLE_SLACK ((guint64) 1024 * 1024)

/**
 * dc_copy_way_describe:
 * @way: how a volume was copied
 *
 * Returns: what @way did, for verbose output
 */
const char *
dc_copy_way_describe (DcCopyWay way)
{
  switch (way)
    {
    case DC_COPY_BY_LIBVIRT:
      return "libvirt copied it";
    case DC_COPY_BY_REFLINK:
      return "a reflink: it shares the source's extents, no data was copied";
    case DC_COPY_BY_SPARSE:
      return "its data extents were copied, holes skipped";
    case DC_COPY_BY_STREAM:
      return "its bytes were streamed through libvirt as they are, holes kept";
    case DC_COPY_BY_UPLOAD:
      return "its bytes were made here and uploaded through libvirt";
    case DC_COPY_BY_RBD_COPY:
      return "Ceph deep-copied the RBD image (librbd): no parent, no snapshots";
    case DC_COPY_BY_RBD_CLONE:
      return "a copy-on-write RBD clone of the template's protected snapshot (librbd)";
    case DC_COPY_BY_BACKUP:
      return "the backup job of the running source wrote it, as the disk was when the job started";
    case DC_COPY_BY_NBD:
      return "read over NBD from the running source's backup job, as the disk was when the job started, and streamed across sparse";
    case DC_COPY_BY_OVERLAY:
      return "a qcow2 overlay on its base, written here (no qemu-img)";
    }
  return "?";
}

/**
 * dc_qcow2_header_read:
 * @path: a file
 * @h: (out) (optional): its qcow2 header
 *
 * Returns: %TRUE when @path starts with a whole qcow2 header
 */
gboolean
dc_qcow2_header_read (const char *path, DcQcow2Header *h)
{
  guint8 raw[80] = { 0 };
  guint32 magic, u32;
  guint64 u64;
  ssize_t n;
  g_auto (DcFd) fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);

  if (fd < 0)
    return FALSE;
  n = pread (fd, raw, sizeof (raw), 0);
  memcpy (&magic, raw, 4);
  if (n < 72 || GUINT32_FROM_BE (magic) != 0x514649fb)
    return FALSE;
  if (h == NULL)
    return TRUE;
  memcpy (&u32, raw + 4, 4);
  h->version = GUINT32_FROM_BE (u32);
  memcpy (&u64, raw + 8, 8);
  h->backing_offset = GUINT64_FROM_BE (u64);
  memcpy (&u32, raw + 60, 4);
  h->nb_snapshots = GUINT32_FROM_BE (u32);
  memcpy (&u64, raw + 72, 8); /* zero-filled for a version 2 header */
  h->incompatible = h->version >= 3 ? GUINT64_FROM_BE (u64) : 0;
  return TRUE;
}

/* Whether a qcow2 file is a whole image by itself, so its bytes are a
 * faithful copy */
static gboolean
dc_qcow2_stands_alone (const char *path, char **why)
{
  DcQcow2Header h;

  if (!dc_qcow2_header_read (path, &h))
    {
      *why = g_strdup_printf ("'%s' has no qcow2 header this process can read", path);
      return FALSE;
    }
  if (h.backing_offset != 0)
    {
      *why = g_strdup ("it has a backing file, which libvirt flattens into the copy");
      return FALSE;
    }
  if (h.nb_snapshots != 0)
    {
      *why = g_strdup ("it has internal snapshots");
      return FALSE;
    }
  /* bits 0-2 of the incompatible features: dirty, corrupt, external
   * data file */
  if ((h.incompatible & 0x7) != 0)
    {
      *why = g_strdup ("it is marked dirty or corrupt, or keeps its data in another file");
      return FALSE;
    }
  return TRUE;
}

/**
 * dc_copy_dst_writable:
 * @copy: a planned copy or overlay
 *
 * Whether this process may write the new volume libvirt will create
 * with the owner, group and mode of @copy's XML (a libvirt group member
 * whose pool directory it may write in, but whose volumes are root's
 * and only readable by the group, may not): what it may not, libvirt
 * copies or makes. Unknown owner or mode: libvirt's defaults, the
 * daemon's user (root) and 0600.
 *
 * Returns: %TRUE if it may (always as root)
 */
gboolean
dc_copy_dst_writable (const DcCopy *copy)
{
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autoptr (xmlDoc) doc = NULL;
  g_autofree char *owner = NULL;
  g_autofree char *group = NULL;
  g_autofree char *mode = NULL;
  guint64 uid = 0, gid = 0, bits = 0600;
  g_autofree gid_t *groups = NULL;
  int n;

  if (geteuid () == 0)
    return TRUE;
  doc = dc_xml_parse (copy->xml, "volume", "the new volume's XML", &ctxt, NULL);
  if (doc == NULL)
    return FALSE;
  owner = dc_xml_string (ctxt, NULL, "/volume/target/permissions/owner");
  group = dc_xml_string (ctxt, NULL, "/volume/target/permissions/group");
  mode = dc_xml_string (ctxt, NULL, "/volume/target/permissions/mode");
  if ((owner != NULL && !g_ascii_string_to_unsigned (owner, 10, 0, G_MAXUINT32, &uid, NULL))
      || (group != NULL && !g_ascii_string_to_unsigned (group, 10, 0, G_MAXUINT32, &gid, NULL))
      || (mode != NULL && !g_ascii_string_to_unsigned (mode, 8, 0, 07777, &bits, NULL)))
    return FALSE;
  if (uid == geteuid ())
    return (bits & 0200) != 0;
  if (gid == getegid ())
    return (bits & 0020) != 0;
  n = getgroups (0, NULL);
  groups = g_new0 (gid_t, MAX (n, 1));
  n = getgroups (MAX (n, 1), groups);
  for (int i = 0; i < n; i++)
    if (groups[i] == gid)
      return (bits & 0020) != 0;
  return (bits & 0002) != 0;
}

/**
 * dc_copy_local_possible:
 * @copy: a planned copy, on a connection to a daemon on this host
 * @why: (out): when not, why (for verbose output)
 *
 * Returns: %TRUE when this process can fill the new volume itself: the
 * source is a regular file it can read, in a format that is copied as
 * its bytes (raw, or a qcow2 that stands alone), and the new volume's
 * directory is writable, and so is the new volume as libvirt will make it
 */
gboolean
dc_copy_local_possible (const DcCopy *copy, char **why)
{
  g_autofree char *dst_dir = NULL;
  struct stat st;

  if (copy->src_path == NULL || copy->dst_path == NULL)
    {
      *why = g_strdup ("its pool names no file paths");
      return FALSE;
    }
  if (copy->convert)
    {
      *why = g_strdup ("--format changes its format, which libvirt's copy converts");
      return FALSE;
    }
  if (g_stat (copy->src_path, &st) < 0 || !S_ISREG (st.st_mode) || g_access (copy->src_path, R_OK) < 0)
    {
      *why = g_strdup_printf ("'%s' is not a regular file this process can read", copy->src_path);
      return FALSE;
    }
  dst_dir = g_path_get_dirname (copy->dst_path);
  if (g_access (dst_dir, W_OK) < 0)
    {
      *why = g_strdup_printf ("'%s' is not writable by this process", dst_dir);
      return FALSE;
    }
  if (!dc_copy_dst_writable (copy))
    {
      *why = g_strdup_printf ("'%s' will not be writable by this process", copy->dst_path);
      return FALSE;
    }
  if (copy->src_format == NULL || g_str_equal (copy->src_format, "raw"))
    return TRUE;
  if (g_str_equal (copy->src_format, "qcow2"))
    return dc_qcow2_stands_alone (copy->src_path, why);
  *why = g_strdup_printf ("libvirt converts the '%s' format", copy->src_format);
  return FALSE;
}

static void
dc_progress_count (gsize *done, gsize n)
{
  if (done != NULL)
    g_atomic_pointer_add (done, (gssize) n);
}

/* Whether @buf holds only zero bytes */
static gboolean
dc_all_zero (const guint8 *buf, size_t len)
{
  return len == 0 || (buf[0] == 0 && memcmp (buf, buf + 1, len - 1) == 0);
}

/* Writes @len bytes of @buf to @out at @off. */
static gboolean
dc_write_all (int out, const guint8 *buf, size_t len, off_t off, const char *src, GError **error)
{
  for (size_t w = 0; w < len;)
    {
      ssize_t m = pwrite (out, buf + w, len - w, off + (off_t) w);

      if (m < 0 && errno == EINTR)
        continue;
      if (m < 0)
        {
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot write the copy of '%s': %s",
                       src, g_strerror (errno));
          return FALSE;
        }
      w += (size_t) m;
    }
  return TRUE;
}

/* Writes what @buf holds for [@off, @off + @len) to @out, leaving out
 * the blocks of zeros: @out is a new, empty file, where they read as
 * zeros already and stay holes. */
static gboolean
dc_write_skipping_zeros (int out, const guint8 *buf, size_t len, off_t off, const char *src, GError **error)
{
  size_t start = 0;

  while (start < len)
    {
      size_t end;

      /* the next block that holds data, then the run of such blocks */
      while (start < len && dc_all_zero (buf + start, MIN (DC_ZERO_BLOCK, len - start)))
        start += DC_ZERO_BLOCK;
      if (start >= len)
        break;
      end = start;
      while (end < len && !dc_all_zero (buf + end, MIN (DC_ZERO_BLOCK, len - end)))
        end += DC_ZERO_BLOCK;
      end = MIN (end, len);
      if (!dc_write_all (out, buf + start, end - start, off + (off_t) start, src, error))
        return FALSE;
      start = end;
    }
  return TRUE;
}

/* Starts writing [@off, @off + @len) of @out, just copied, to disk,
 * without waiting for it. Left to the kernel, write-back starts only
 * when the flush at the end asks for it (or some seconds later), so the
 * disk would first only read, then only write; started chunk by chunk,
 * it writes while the copy goes on reading, and the flush that makes
 * the copy durable (dc_copy_settle()) is left with the last chunk only.
 * A hint: where it fails (a file system without write-back) nothing is
 * lost, and a write error still comes out of that flush. */
static void
dc_copy_start_writeback (int out, off_t off, off_t len)
{
  (void) sync_file_range (out, off, len, SYNC_FILE_RANGE_WRITE);
}

/* Copies [@off, @off + @len) of @in to the same place in @out. With
 * @skip_zeros, every block is read and blocks of zeros are not written. */
static gboolean
dc_copy_range (int in, int out, off_t off, off_t len, gboolean *use_cfr, gboolean skip_zeros, gsize *done,
               const char *src, GError **error)
{
  g_autofree guint8 *buf = NULL;

  while (len > 0)
    {
      size_t want = (size_t) MIN ((off_t) DC_COPY_CHUNK, len);
      ssize_t n;

      /* unlike libvirt's, this copy stops at a signal (SIGINT, SIGTERM,
       * SIGHUP): the run then rolls back */
      if (!dc_check_cancelled (error))
        return FALSE;

      if (*use_cfr && !skip_zeros)
        {
          loff_t in_off = off, out_off = off;

          n = copy_file_range (in, &in_off, out, &out_off, want, 0);
          if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL))
            {
              /* another file system (--pool), or an old kernel */
              g_debug ("copy_file_range cannot copy '%s' here (%s): reading and writing instead", src,
                       g_strerror (errno));
              *use_cfr = FALSE;
              continue;
            }
        }
      else
        {
          if (buf == NULL)
            buf = g_malloc (DC_COPY_CHUNK);
          n = pread (in, buf, want, off);
          if (n > 0 && skip_zeros && !dc_write_skipping_zeros (out, buf, (size_t) n, off, src, error))
            return FALSE;
          if (n > 0 && !skip_zeros && !dc_write_all (out, buf, (size_t) n, off, src, error))
            return FALSE;
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot copy '%s': %s", src,
                       g_strerror (errno));
          return FALSE;
        }
      if (n == 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot copy '%s': it shrank while it was read",
                       src);
          return FALSE;
        }
      dc_copy_start_writeback (out, off, n);
      off += n;
      len -= n;
      dc_progress_count (done, (gsize) n);
    }
  return TRUE;
}

/* The next data extent of @in at or after @off, as SEEK_DATA/SEEK_HOLE
 * report it: [*@data, *@hole). FALSE at the end (only a hole is left). */
static gboolean
dc_next_extent (int in, off_t off, off_t size, off_t *data, off_t *hole, const char *src, GError **error)
{
  *data = lseek (in, off, SEEK_DATA);
  if (*data < 0 && errno == ENXIO)
    return FALSE;
  if (*data < 0 && errno == EINVAL)
    *data = off, *hole = size; /* no SEEK_DATA here: all of it is data */
  else if (*data < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot read '%s': %s", src,
                   g_strerror (errno));
      return FALSE;
    }
  else
    {
      *hole = lseek (in, *data, SEEK_HOLE);
      if (*hole < 0)
        *hole = size;
    }
  *hole = MIN (*hole, size);
  return *data < size;
}

/* The data extents of @in, copied to @out; holes stay holes.
 *
 * Some file systems report no holes at all: SEEK_HOLE finds only the
 * end of the file (NFS before 4.2, FUSE file systems that do not pass
 * lseek on, such as bindfs), or SEEK_DATA is not there. Copying their
 * extents would write every zero of a sparse disk. When the extents
 * they report hold more than the file's allocated blocks (st_blocks,
 * which these file systems do pass on) by more than a little, every
 * block is read and blocks of zeros are left out of the copy instead. */
static gboolean
dc_copy_extents (int in, int out, const struct stat *st, gsize *done, const char *src, GError **error)
{
  gboolean use_cfr = TRUE;
  gboolean skip_zeros = FALSE;
  guint64 reported = 0;
  guint64 allocated = (guint64) st->st_blocks * 512;
  off_t size = st->st_size;
  off_t off, data, hole;
  GError *err = NULL;

  for (off = 0; off < size && dc_next_extent (in, off, size, &data, &hole, src, &err); off = hole)
    reported += (guint64) (hole - data);
  if (err != NULL)
    {
      g_propagate_error (error, err);
      return FALSE;
    }
  if (reported > allocated + DC_HOLE_SLACK)
    {
      skip_zeros = TRUE;
      g_debug ("'%s': its file system reports %" G_GUINT64_FORMAT
               " bytes of data, but only %" G_GUINT64_FORMAT
               " are allocated: reading it all and leaving out blocks of zeros",
               src, reported, allocated);
    }

  /* read front to back: the kernel reads twice as far ahead (as for
   * cp); a hint, nothing is lost where it is not taken */
  (void) posix_fadvise (in, 0, 0, POSIX_FADV_SEQUENTIAL);
  for (off = 0; off < size && dc_next_extent (in, off, size, &data, &hole, src, &err); off = hole)
    if (!dc_copy_range (in, out, data, hole - data, &use_cfr, skip_zeros, done, src, error))
      return FALSE;
  if (err != NULL)
    {
      g_propagate_error (error, err);
      return FALSE;
    }
  return TRUE;
}

/* A thick (preallocated) file: every byte of it has its block */
static gboolean
dc_stat_is_thick (const struct stat *st)
{
  return st->st_size > 0 && (guint64) st->st_blocks * 512 >= (guint64) st->st_size;
}

/* Opens @src to read (its status into @st) and @dst to write over. */
static gboolean
dc_copy_open (const char *src, const char *dst, DcFd *in, DcFd *out, struct stat *st, GError **error)
{
  *in = g_open (src, O_RDONLY | O_CLOEXEC, 0);
  if (*in < 0 || fstat (*in, st) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot read '%s': %s", src,
                   g_strerror (errno));
      return FALSE;
    }
  *out = g_open (dst, O_WRONLY | O_TRUNC | O_CLOEXEC, 0);
  if (*out < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot write '%s': %s", dst,
                   g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

/* Moves the bytes of @in (@src, of status @st) into @out (@dst): a
 * reflink where the file system shares blocks, else its extents. */
static gboolean
dc_copy_bytes (int in, int out, const struct stat *st, const char *src, const char *dst, DcCopyWay *way,
               gsize *done, GError **error)
{
  if (ioctl (out, FICLONE, in) == 0)
    {
      *way = DC_COPY_BY_REFLINK;
      dc_progress_count (done, (gsize) st->st_blocks * 512);
      return TRUE;
    }
  *way = DC_COPY_BY_SPARSE;
  /* sized first: writes past the end of a file make XFS allocate
   * ahead (speculative preallocation), which a later ftruncate
   * would keep inside the file as allocated holes */
  if (ftruncate (out, st->st_size) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot size '%s': %s", dst,
                   g_strerror (errno));
      return FALSE;
    }
  return dc_copy_extents (in, out, st, done, src, error);
}

/* Allocates @out (@dst) where its source of status @st is thick, and
 * flushes it to disk. */
static gboolean
dc_copy_settle (int out, const struct stat *st, const char *dst, GError **error)
{
  /* A thick source makes a thick copy. The copy above left holes where
   * the source has none on disk (SEEK_DATA skips preallocated, unwritten
   * extents; O_TRUNC dropped what libvirt preallocated): allocate them
   * now. posix_fallocate() writes zeros where the file system cannot
   * preallocate. */
  if (dc_stat_is_thick (st))
    {
      int err = posix_fallocate (out, 0, st->st_size);

      if (err != 0)
        {
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (err),
                       "cannot preallocate '%s' as its source is: %s", dst, g_strerror (err));
          return FALSE;
        }
    }
  /* a clone reported done must survive a power cut */
  if (fsync (out) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot flush '%s' to disk: %s", dst,
                   g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

/**
 * dc_copy_file:
 * @src: the source volume's file
 * @dst: the new volume's file, which libvirt created; its content is
 *   replaced, its owner, mode and labels stay; it comes out sparse
 *   where @src is, fully allocated where @src is (thick)
 * @way: (out): how the bytes were moved
 * @done: (nullable): bytes copied so far, for progress, updated
 *   atomically (g_atomic_pointer_add)
 * @error: return location
 *
 * Copies @src into @dst and flushes @dst to disk.
 *
 * Returns: %FALSE with @error set on failure
 */
gboolean
dc_copy_file (const char *src, const char *dst, DcCopyWay *way, gsize *done, GError **error)
{
  struct stat st;
  g_auto (DcFd) in = -1;
  g_auto (DcFd) out = -1;
  int written;

  if (!dc_copy_open (src, dst, &in, &out, &st, error)
      || !dc_copy_bytes (in, out, &st, src, dst, way, done, error) || !dc_copy_settle (out, &st, dst, error))
    return FALSE;
  /* closed here, not by g_auto: a failing close is a failed write */
  written = out;
  out = -1;
  if (close (written) < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot write '%s': %s", dst,
                   g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

/**
 * dc_libvirt_copy_syncs:
 * @copy: a volume libvirt made: a copy (virStorageVolCreateXMLFrom) or
 *   an overlay (virStorageVolCreateXML)
 *
 * Whether libvirt flushed the new volume to disk itself, so that this
 * process has nothing to flush. Checked against libvirt 9.0
 * (src/storage/storage_util.c) and QEMU 7.2, and seen with strace here:
 * libvirt's own copy, raw to raw (storageBackendCreateRaw and
 * createRawFile: its read/write loop, virStorageBackendCopyToFD, ends in
 * fdatasync, and createRawFile in fsync, a reflink included), and
 * qemu-img create, which makes an overlay (it fdatasyncs the header it
 * writes, the only data of a new overlay), flush what they wrote. qemu-img
 * convert, which libvirt runs for a copy where either side is not raw
 * (or is encrypted), does not: libvirt passes no -t, and convert's
 * default cache mode is "unsafe", which skips every flush of the data.
 * Nor does virStorageVolUpload (a seed): its stream thread writes and
 * closes without a flush.
 *
 * Returns: %TRUE when libvirt flushed @copy's new volume
 */
gboolean
dc_libvirt_copy_syncs (const DcCopy *copy)
{
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autoptr (xmlDoc) doc = NULL;
  g_autofree char *format = NULL;

  if (copy->kind == DC_COPY_KIND_OVERLAY)
    return TRUE;
  if (copy->src_format != NULL && !g_str_equal (copy->src_format, "raw"))
    return FALSE;
  doc = dc_xml_parse (copy->xml, "volume", "the new volume's XML", &ctxt, NULL);
  if (doc == NULL || dc_xml_node (ctxt, NULL, "/volume/target/encryption") != NULL)
    return FALSE;
  format = dc_xml_string (ctxt, NULL, "/volume/target/format/@type");
  return format == NULL || g_str_equal (format, "raw");
}

/**
 * dc_file_holds:
 * @path: a file this process may read
 * @token: bytes
 *
 * Reads the start of @path, never writing to it (the file this process
 * sees at @path may be another than libvirt's: see dc-sameness.c).
 *
 * Returns: %TRUE when @path starts with @token
 */
gboolean
dc_file_holds (const char *path, GBytes *token)
{
  gsize len = 0;
  const guint8 *want = g_bytes_get_data (token, &len);
  g_autofree guint8 *got = g_malloc (len);
  struct stat st;
  ssize_t n = -1;
  g_auto (DcFd) fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0);

  if (fd < 0)
    return FALSE;
  if (fstat (fd, &st) == 0 && S_ISREG (st.st_mode))
    n = pread (fd, got, len, 0);
  return n == (ssize_t) len && memcmp (got, want, len) == 0;
}

/**
 * dc_file_sync:
 * @path: a file this host can see, which libvirt wrote without flushing
 *   it (see dc_libvirt_copy_syncs())
 * @error: return location
 *
 * Flushes @path and the directory entry that names it to disk, as far
 * as this process may open them. A member of the libvirt group on
 * qemu:///system may not (the images are root's, 0600, in a 0711
 * directory), nor may root on an NFS pool exported with root_squash:
 * libvirt wrote the file, and what this process cannot open is left to
 * the kernel's write-back; it says so at -v, and the clone goes on.
 *
 * Returns: %FALSE with @error set when a flush failed
 */
gboolean
dc_file_sync (const char *path, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  const char *paths[] = { path, dir };

  for (size_t i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_auto (DcFd) fd = g_open (paths[i], O_RDONLY | O_CLOEXEC, 0);

      if (fd < 0 && (errno == EACCES || errno == EPERM))
        {
          g_info ("'%s' is not flushed to disk by domclone: this process may not open it (%s)", paths[i],
                  g_strerror (errno));
          continue;
        }
      if (fd < 0 || fsync (fd) < 0)
        {
          int saved = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "cannot flush '%s' to disk: %s",
                       paths[i], g_strerror (saved));
          return FALSE;
        }
    }
  return TRUE;
}
