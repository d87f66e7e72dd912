/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-nbd.c: a running source's disk, exported over NBD by a pull-mode
 * backup job (dc-backup.c), read with libnbd and written into a new
 * volume on another host through a sparse libvirt upload stream
 * (--live --to).
 *
 * The export shows the disk as the guest saw it at the job's instant
 * (raw, whatever the source volume's format). Its block status
 * (base:allocation) says which extents read as zeros: those go across
 * as holes, the rest as data, so a sparse source stays sparse on the
 * destination and its holes are never read.
 */
#include "config.h"

#include "dc-nbd.h"
#include "dc-vol-io.h"

#include <libnbd.h>
#include <string.h>

typedef struct nbd_handle DcNbd;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcNbd, nbd_close)

/* the most one read asks for (NBD servers take up to 32 MiB) */
#define DC_NBD_CHUNK ((size_t) 4 * 1024 * 1024)
/* the most one block status question covers */
#define DC_NBD_STATUS_SPAN ((guint64) 1024 * 1024 * 1024)

/* One extent of the export: where, how long, whether it reads as zeros */
typedef struct
{
  guint64 offset;
  guint64 length;
  gboolean zero;
} DcNbdExtent;

/* libnbd's answer to a block status question, into a GArray of
 * DcNbdExtent */
static int
dc_nbd_extents_cb (void *user_data, const char *metacontext, uint64_t offset, uint32_t *entries, size_t n,
                   int *error)
{
  GArray *extents = user_data;

  (void) error;
  if (strcmp (metacontext, LIBNBD_CONTEXT_BASE_ALLOCATION) != 0)
    return 0;
  for (size_t i = 0; i + 1 < n; i += 2)
    {
      DcNbdExtent e = { offset, entries[i], (entries[i + 1] & LIBNBD_STATE_ZERO) != 0 };

      g_array_append_val (extents, e);
      offset += entries[i];
    }
  return 0;
}

/* The extents from @offset on, up to DC_NBD_STATUS_SPAN of them; one
 * data extent where the server tells nothing. */
static GArray *
dc_nbd_extents (struct nbd_handle *h, gboolean status, guint64 offset, guint64 size, const char *export,
                GError **error)
{
  g_autoptr (GArray) extents = g_array_new (FALSE, FALSE, sizeof (DcNbdExtent));
  guint64 span = MIN (DC_NBD_STATUS_SPAN, size - offset);

  if (status)
    {
      nbd_extent_callback cb = { .callback = dc_nbd_extents_cb, .user_data = extents };

      if (nbd_block_status (h, span, offset, cb, 0) < 0)
        {
          g_set_error (error, DC_ERROR, DC_ERROR_FAILED, "cannot read the extents of NBD export '%s': %s",
                       export, nbd_get_error ());
          return NULL;
        }
    }
  if (extents->len == 0)
    {
      DcNbdExtent e = { offset, span, FALSE };

      g_array_append_val (extents, e);
    }
  return g_steal_pointer (&extents);
}

/* Sends the data of @e, read from the export, on @out. */
static gboolean
dc_nbd_send_data (struct nbd_handle *h, const DcNbdExtent *e, char *buf, virStreamPtr out, const char *export,
                  const char *dst, gsize *done, GError **error)
{
  for (guint64 off = e->offset; off < e->offset + e->length;)
    {
      size_t len = (size_t) MIN ((guint64) DC_NBD_CHUNK, e->offset + e->length - off);

      if (!dc_check_cancelled (error))
        return FALSE;
      if (nbd_pread (h, buf, len, off, 0) < 0)
        {
          g_set_error (error, DC_ERROR, DC_ERROR_FAILED, "cannot read NBD export '%s': %s", export,
                       nbd_get_error ());
          return FALSE;
        }
      if (!dc_vol_io_send (out, buf, len, dst, error))
        return FALSE;
      if (done != NULL)
        g_atomic_pointer_add (done, (gssize) len);
      off += len;
    }
  return TRUE;
}

/* Sends the whole export of @h (@size bytes) on @out: zeros as holes,
 * the rest as data. */
static gboolean
dc_nbd_send (struct nbd_handle *h, guint64 size, virStreamPtr out, const char *export, const char *dst,
             gsize *done, GError **error)
{
  gboolean status = nbd_can_meta_context (h, LIBNBD_CONTEXT_BASE_ALLOCATION) == 1;
  g_autofree char *buf = g_malloc (DC_NBD_CHUNK);
  guint64 offset = 0;

  if (!status)
    g_debug ("NBD export '%s' tells no holes: all of it is read", export);
  while (offset < size)
    {
      g_autoptr (GArray) extents = dc_nbd_extents (h, status, offset, size, export, error);

      guint64 before = offset;

      if (extents == NULL)
        return FALSE;
      for (guint i = 0; i < extents->len && offset < size; i++)
        {
          DcNbdExtent e = g_array_index (extents, DcNbdExtent, i);

          e.length = MIN (e.length, size - e.offset);
          if (e.zero && virStreamSendHole (out, (long long) e.length, 0) < 0)
            return dc_set_libvirt_error (error, "cannot write volume '%s'", dst);
          if (e.zero && done != NULL)
            g_atomic_pointer_add (done, (gssize) e.length);
          if (!e.zero && !dc_nbd_send_data (h, &e, buf, out, export, dst, done, error))
            return FALSE;
          offset = e.offset + e.length;
        }
      if (offset <= before)
        {
          g_set_error (error, DC_ERROR, DC_ERROR_FAILED,
                       "NBD export '%s' describes no extent at offset %" G_GUINT64_FORMAT, export, before);
          return FALSE;
        }
    }
  return TRUE;
}

/* Connects to export @export of the NBD server on the UNIX socket
 * @socket, or else at @host:@port, asking for its block status. */
static struct nbd_handle *
dc_nbd_connect (const char *socket, const char *host, guint port, const char *export, GError **error)
{
  g_autoptr (DcNbd) h = nbd_create ();
  g_autofree char *service = g_strdup_printf ("%u", port);

  if (h == NULL || nbd_set_export_name (h, export) < 0
      || nbd_add_meta_context (h, LIBNBD_CONTEXT_BASE_ALLOCATION) < 0
      || (socket != NULL ? nbd_connect_unix (h, socket) : nbd_connect_tcp (h, host, service)) < 0)
    {
      g_autofree char *where = socket != NULL ? g_strdup_printf ("on socket '%s'", socket)
                                              : g_strdup_printf ("at '%s' port %u", host, port);

      g_set_error (error, DC_ERROR, DC_ERROR_FAILED, "cannot read NBD export '%s' %s: %s", export, where,
                   nbd_get_error ());
      return NULL;
    }
  return g_steal_pointer (&h);
}

/**
 * dc_nbd_to_volume:
 * @socket: (nullable): the NBD server's UNIX socket
 * @host: else its host name
 * @port: and its TCP port
 * @export: the export's name
 * @dst: the new volume, as big as the export, created empty (allocation
 *   0 for a sparse source); its content becomes the export's
 * @done: (nullable): bytes copied so far (holes included), for progress,
 *   updated atomically
 * @error: return location
 *
 * Copies the export into @dst through a sparse upload stream on @dst's
 * connection; a signal (dc_check_cancelled()) stops it.
 *
 * Returns: %FALSE with @error set on failure
 */
gboolean
dc_nbd_to_volume (const char *socket, const char *host, guint port, const char *export, virStorageVolPtr dst,
                  gsize *done, GError **error)
{
  g_autofree char *dst_name = g_strdup (virStorageVolGetName (dst));
  g_autoptr (DcNbd) h = dc_nbd_connect (socket, host, port, export, error);
  g_autoptr (DcStream) out = NULL;
  int64_t size;

  if (h == NULL)
    return FALSE;
  size = nbd_get_size (h);
  if (size < 0)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_FAILED, "cannot read the size of NBD export '%s': %s", export,
                   nbd_get_error ());
      return FALSE;
    }
  out = virStreamNew (virStorageVolGetConnect (dst), 0);
  if (out == NULL || virStorageVolUpload (dst, out, 0, 0, VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM) < 0)
    return dc_set_libvirt_error (error, "cannot write volume '%s'", dst_name);
  if (!dc_nbd_send (h, (guint64) size, out, export, dst_name, done, error))
    {
      virStreamAbort (out);
      return FALSE;
    }
  /* the upload is complete once libvirt says so */
  if (virStreamFinish (out) < 0)
    return dc_set_libvirt_error (error, "cannot write volume '%s'", dst_name);
  if (nbd_shutdown (h, 0) < 0)
    g_debug ("NBD export '%s' not shut down cleanly: %s", export, nbd_get_error ());
  return TRUE;
}
