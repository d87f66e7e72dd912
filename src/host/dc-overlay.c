/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-overlay.c: a linked clone's qcow2 overlay, written by this process
 * into an empty volume libvirt made, as "qemu-img create -f qcow2 -o
 * compat=1.1 -b BASE -F FORMAT" writes it: no qemu-img process per
 * overlay. The copy step (dc-copy-step.c) decides where this may run and
 * has libvirt read the result back.
 */
#include "config.h"

#include "dc-overlay.h"
#include "dc-error.h"

#include <errno.h>
#include <gio/gio.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

/* qemu-img's defaults for compat 1.1: 64 KiB clusters, 16-bit refcounts */
#define DC_QCOW2_CLUSTER_BITS 16
#define DC_QCOW2_CLUSTER ((guint64) 1 << DC_QCOW2_CLUSTER_BITS)
#define DC_QCOW2_HEADER_LENGTH 104
#define DC_QCOW2_EXT_BACKING_FORMAT 0xe2792acaU
/* QEMU refuses longer backing file names */
#define DC_QCOW2_BACKING_MAX 1023

/* Sets @error from errno: "cannot WHAT 'PATH': reason". */
static gboolean
dc_overlay_errno (GError **error, const char *what, const char *path)
{
  int e = errno;

  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "cannot %s '%s': %s", what, path,
               g_strerror (e));
  return FALSE;
}

static void
dc_put32 (guint8 *p, guint32 v)
{
  v = GUINT32_TO_BE (v);
  memcpy (p, &v, sizeof (v));
}

static void
dc_put64 (guint8 *p, guint64 v)
{
  v = GUINT64_TO_BE (v);
  memcpy (p, &v, sizeof (v));
}

/* The header cluster: the version 3 header, the backing format
 * extension, the end of the extensions, then the backing file name. */
static guint8 *
dc_overlay_header (guint64 capacity, guint32 l1_size, guint64 l1_offset, const char *backing,
                   const char *backing_format)
{
  gsize fmt_len = strlen (backing_format);
  gsize ext_end = DC_QCOW2_HEADER_LENGTH + 8 + ((fmt_len + 7) & ~(gsize) 7) + 8;
  guint8 *h = g_malloc0 (DC_QCOW2_CLUSTER);

  memcpy (h, "QFI\xfb", 4);
  dc_put32 (h + 4, 3);       /* version */
  dc_put64 (h + 8, ext_end); /* backing file name offset */
  dc_put32 (h + 16, (guint32) strlen (backing));
  dc_put32 (h + 20, DC_QCOW2_CLUSTER_BITS);
  dc_put64 (h + 24, capacity);
  dc_put32 (h + 36, l1_size);
  dc_put64 (h + 40, l1_offset);
  dc_put64 (h + 48, DC_QCOW2_CLUSTER); /* refcount table: cluster 1 */
  dc_put32 (h + 56, 1);                /* ... one cluster long */
  dc_put32 (h + 96, 4);                /* refcount order: 16 bits */
  dc_put32 (h + 100, DC_QCOW2_HEADER_LENGTH);
  dc_put32 (h + DC_QCOW2_HEADER_LENGTH, DC_QCOW2_EXT_BACKING_FORMAT);
  dc_put32 (h + DC_QCOW2_HEADER_LENGTH + 4, (guint32) fmt_len);
  memcpy (h + DC_QCOW2_HEADER_LENGTH + 8, backing_format, fmt_len);
  /* the end-of-extensions marker (type 0, length 0) is zeros already */
  memcpy (h + ext_end, backing, strlen (backing));
  return h;
}

static gboolean
dc_overlay_pwrite (int fd, const guint8 *buf, guint64 offset, const char *path, GError **error)
{
  gsize done = 0;

  while (done < DC_QCOW2_CLUSTER)
    {
      ssize_t n = pwrite (fd, buf + done, DC_QCOW2_CLUSTER - done, (off_t) (offset + done));

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return dc_overlay_errno (error, "write the qcow2 overlay", path);
      done += (gsize) n;
    }
  return TRUE;
}

/**
 * dc_overlay_write:
 * @path: an empty file (a raw volume libvirt just made)
 * @capacity: the overlay's virtual size, its base's
 * @backing: the base's path, recorded in the overlay
 * @backing_format: the base's format (raw or qcow2), recorded too
 * @error: return location
 *
 * Writes an empty qcow2 overlay of @backing into @path and flushes it.
 * Layout: the header (cluster 0), the refcount table (1), its one
 * refcount block (2), the L1 table (3 on, all zeros: nothing allocated).
 *
 * Returns: %FALSE with @error set if it could not be written
 */
gboolean
dc_overlay_write (const char *path, guint64 capacity, const char *backing, const char *backing_format,
                  GError **error)
{
  const guint64 per_l1 = DC_QCOW2_CLUSTER * (DC_QCOW2_CLUSTER / 8);
  guint64 l1_size = capacity / per_l1 + (capacity % per_l1 != 0);
  guint64 l1_clusters = MAX ((l1_size * 8 + DC_QCOW2_CLUSTER - 1) / DC_QCOW2_CLUSTER, 1);
  guint64 clusters = 3 + l1_clusters;
  g_autofree guint8 *head = NULL;
  g_autofree guint8 *table = g_malloc0 (DC_QCOW2_CLUSTER);
  g_autofree guint8 *block = g_malloc0 (DC_QCOW2_CLUSTER);
  gboolean ok;
  int fd;

  if (strlen (backing) > DC_QCOW2_BACKING_MAX || strlen (backing_format) > 16 || l1_size > G_MAXINT32
      || clusters > DC_QCOW2_CLUSTER / 2)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_UNSUPPORTED,
                   "cannot write a qcow2 overlay of '%s' here: its name or size is out of range", backing);
      return FALSE;
    }
  head = dc_overlay_header (capacity, (guint32) l1_size, 3 * DC_QCOW2_CLUSTER, backing, backing_format);
  dc_put64 (table, 2 * DC_QCOW2_CLUSTER);
  for (guint64 i = 0; i < clusters; i++)
    {
      guint16 one = GUINT16_TO_BE (1);

      memcpy (block + 2 * i, &one, sizeof (one));
    }
  fd = g_open (path, O_WRONLY | O_CLOEXEC, 0);
  if (fd < 0)
    return dc_overlay_errno (error, "open the new volume", path);
  ok = dc_overlay_pwrite (fd, head, 0, path, error)
       && dc_overlay_pwrite (fd, table, DC_QCOW2_CLUSTER, path, error)
       && dc_overlay_pwrite (fd, block, 2 * DC_QCOW2_CLUSTER, path, error);
  if (ok && ftruncate (fd, (off_t) (clusters * DC_QCOW2_CLUSTER)) < 0)
    ok = dc_overlay_errno (error, "size the qcow2 overlay", path);
  if (ok && fsync (fd) < 0)
    ok = dc_overlay_errno (error, "flush the qcow2 overlay", path);
  close (fd);
  return ok;
}
