/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-vol-io.c: a volume's bytes moved through libvirt streams, which
 * work over any connection: downloaded into memory, uploaded from it,
 * or streamed from one volume into another.
 *
 * The stream copy: a volume's bytes moved through libvirt as they are.
 * virStorageVolCreateXMLFrom converts from the format the pool probed
 * (qemu-img convert -f <probe>), which a guest chooses by what it
 * writes into its raw disk. Where that probe disagrees with the domain
 * XML and this process cannot copy the file itself (a remote daemon, a
 * file it may not read), the bytes are downloaded from the source and
 * uploaded into the new volume in one process: libvirt's storage driver
 * reads and writes a file volume as its bytes, whatever its format, and
 * the sparse streams keep holes as holes. It works over any connection,
 * and between two (a clone onto another host, --to): a qcow2 volume
 * goes across as its file, so the same guest content in the same format.
 */
#include "config.h"

#include "dc-vol-io.h"
#include "dc-cloudinit.h"

/* the most one call moves: a few progress updates a second */
#define DC_STREAM_COPY_CHUNK ((size_t) 1024 * 1024)
/* chunks on their way from the reader to the writer */
#define DC_STREAM_COPY_CHUNKS 8

/**
 * dc_vol_io_send:
 * @out: a stream writing volume @dst
 * @data: bytes
 * @len: how many
 * @dst: the volume's name, for the error
 * @error: return location
 *
 * Sends all of @data on @out.
 *
 * Returns: %FALSE with @error set on failure
 */
gboolean
dc_vol_io_send (virStreamPtr out, const char *data, size_t len, const char *dst, GError **error)
{
  while (len > 0)
    {
      int n = virStreamSend (out, data, len);

      if (n < 0)
        return dc_set_libvirt_error (error, "cannot write volume '%s'", dst);
      data += n;
      len -= (size_t) n;
    }
  return TRUE;
}

/*
 * The relay: data as data, holes as holes, until the end. A reader
 * thread receives while this one sends: libvirt's client reads a
 * connection's socket only while a call on it runs (domclone runs no
 * event loop), so one thread doing both would leave each daemon
 * waiting while it serves the other. Chunks go round two queues, so at
 * most DC_STREAM_COPY_CHUNKS are in memory.
 */
typedef enum
{
  DC_CHUNK_DATA,
  DC_CHUNK_HOLE,
  DC_CHUNK_END,
  DC_CHUNK_FAILED, /* the reader's error is in DcRelay.error */
} DcChunkKind;

typedef struct
{
  DcChunkKind kind;
  char *data;
  size_t len;     /* DATA: bytes in @data */
  long long hole; /* HOLE: its length */
} DcChunk;

typedef struct
{
  virStreamPtr in;
  const char *src;
  GAsyncQueue *full;  /* DcChunk: received, to send */
  GAsyncQueue *empty; /* DcChunk: to receive into */
  gint stop;          /* the writer gave up: receive no more */
  GError *error;      /* the reader's failure */
} DcRelay;

static void
dc_chunk_free (DcChunk *chunk)
{
  g_free (chunk->data);
  g_free (chunk);
}

/* Receives one chunk into @chunk; its kind says what came. */
static void
dc_relay_recv (DcRelay *relay, DcChunk *chunk)
{
  int n = virStreamRecvFlags (relay->in, chunk->data, DC_STREAM_COPY_CHUNK, VIR_STREAM_RECV_STOP_AT_HOLE);

  chunk->kind = DC_CHUNK_DATA;
  chunk->len = n > 0 ? (size_t) n : 0;
  if (n == 0)
    chunk->kind = DC_CHUNK_END;
  else if (n == -3)
    {
      chunk->kind = DC_CHUNK_HOLE;
      if (virStreamRecvHole (relay->in, &chunk->hole, 0) < 0)
        n = -1;
    }
  if (n < 0 && n != -3)
    {
      dc_set_libvirt_error (&relay->error, "cannot read volume '%s'", relay->src);
      chunk->kind = DC_CHUNK_FAILED;
    }
}

static gpointer
dc_relay_reader (gpointer data)
{
  DcRelay *relay = data;

  for (;;)
    {
      DcChunk *chunk = g_async_queue_pop (relay->empty);

      if (g_atomic_int_get (&relay->stop))
        chunk->kind = DC_CHUNK_END;
      else
        dc_relay_recv (relay, chunk);
      g_async_queue_push (relay->full, chunk);
      if (chunk->kind == DC_CHUNK_END || chunk->kind == DC_CHUNK_FAILED)
        return NULL;
    }
}

/* Sends what the reader received, until its last chunk; FALSE with
 * @error set at the first failure (the reader's, or this side's). */
static gboolean
dc_relay_write (DcRelay *relay, virStreamPtr out, const char *dst, gsize *done, GError **error)
{
  gboolean ok = TRUE;

  for (;;)
    {
      DcChunk *chunk = g_async_queue_pop (relay->full);
      DcChunkKind kind = chunk->kind;

      /* as the local copy, and unlike libvirt's: a signal stops it */
      if (ok && kind != DC_CHUNK_END && kind != DC_CHUNK_FAILED && !dc_check_cancelled (error))
        ok = FALSE;
      else if (ok && kind == DC_CHUNK_HOLE && chunk->hole > 0 && virStreamSendHole (out, chunk->hole, 0) < 0)
        ok = dc_set_libvirt_error (error, "cannot write volume '%s'", dst);
      else if (ok && kind == DC_CHUNK_DATA && !dc_vol_io_send (out, chunk->data, chunk->len, dst, error))
        ok = FALSE;
      else if (ok && kind == DC_CHUNK_DATA && done != NULL)
        g_atomic_pointer_add (done, (gssize) chunk->len);
      if (!ok)
        g_atomic_int_set (&relay->stop, 1);
      g_async_queue_push (relay->empty, chunk);
      if (kind == DC_CHUNK_END)
        return ok;
      if (kind == DC_CHUNK_FAILED)
        {
          if (ok)
            g_propagate_error (error, g_steal_pointer (&relay->error));
          return FALSE;
        }
    }
}

static gboolean
dc_stream_relay (virStreamPtr in, virStreamPtr out, const char *src, const char *dst, gsize *done,
                 GError **error)
{
  DcRelay relay = { .in = in, .src = src };
  g_autoptr (GAsyncQueue) full = g_async_queue_new_full ((GDestroyNotify) dc_chunk_free);
  g_autoptr (GAsyncQueue) empty = g_async_queue_new_full ((GDestroyNotify) dc_chunk_free);
  GThread *reader;
  gboolean ok;

  relay.full = full;
  relay.empty = empty;
  for (int i = 0; i < DC_STREAM_COPY_CHUNKS; i++)
    {
      DcChunk *chunk = g_new0 (DcChunk, 1);

      chunk->data = g_malloc (DC_STREAM_COPY_CHUNK);
      g_async_queue_push (empty, chunk);
    }
  reader = g_thread_try_new ("relay", dc_relay_reader, &relay, error);
  if (reader == NULL)
    return FALSE;
  ok = dc_relay_write (&relay, out, dst, done, error);
  g_thread_join (reader);
  g_clear_error (&relay.error);
  return ok;
}

/**
 * dc_vol_io_stream:
 * @src: the source volume, read as its bytes; on its own connection,
 *   which may be another host's than @dst's (--to)
 * @dst: the new volume, as big as @src, created empty (allocation 0
 *   for a sparse source); its content is replaced with @src's bytes
 * @done: (nullable): bytes copied so far, for progress, updated
 *   atomically (g_atomic_pointer_add)
 * @error: return location
 *
 * Copies @src into @dst byte for byte through libvirt.
 *
 * Returns: %FALSE with @error set on failure
 */
gboolean
dc_vol_io_stream (virStorageVolPtr src, virStorageVolPtr dst, gsize *done, GError **error)
{
  g_autofree char *src_name = g_strdup (virStorageVolGetName (src));
  g_autofree char *dst_name = g_strdup (virStorageVolGetName (dst));
  /* each stream on its volume's connection: across hosts the bytes
   * come from one daemon and go to the other, through this process */
  g_autoptr (DcStream) in = virStreamNew (virStorageVolGetConnect (src), 0);
  g_autoptr (DcStream) out = virStreamNew (virStorageVolGetConnect (dst), 0);
  gboolean in_open = FALSE, out_open = FALSE;

  if (in == NULL || out == NULL)
    return dc_set_libvirt_error (error, "cannot open a stream to copy volume '%s'", src_name);
  if (virStorageVolDownload (src, in, 0, 0, VIR_STORAGE_VOL_DOWNLOAD_SPARSE_STREAM) < 0)
    return dc_set_libvirt_error (error, "cannot read volume '%s'", src_name);
  in_open = TRUE;
  if (virStorageVolUpload (dst, out, 0, 0, VIR_STORAGE_VOL_UPLOAD_SPARSE_STREAM) < 0)
    dc_set_libvirt_error (error, "cannot write volume '%s'", dst_name);
  else
    {
      out_open = TRUE;
      if (dc_stream_relay (in, out, src_name, dst_name, done, error))
        {
          in_open = FALSE;
          if (virStreamFinish (in) < 0)
            dc_set_libvirt_error (error, "cannot read volume '%s'", src_name);
          else
            {
              out_open = FALSE;
              /* the upload is complete once libvirt says so */
              if (virStreamFinish (out) == 0)
                return TRUE;
              dc_set_libvirt_error (error, "cannot write volume '%s'", dst_name);
            }
        }
    }
  if (in_open)
    virStreamAbort (in);
  if (out_open)
    virStreamAbort (out);
  return FALSE;
}

#define DC_STREAM_CHUNK (256 * 1024)

/**
 * dc_vol_io_download:
 * @conn: connection
 * @vol: a volume
 * @offset: where to start
 * @length: how many bytes; 0 for all up to the end
 * @error: return location
 *
 * Returns: (transfer full): the bytes, at most %DC_CLOUDINIT_MAX_SIZE of
 * them (more is an error), or %NULL with @error set
 */
GBytes *
dc_vol_io_download (virConnectPtr conn, virStorageVolPtr vol, guint64 offset, guint64 length, GError **error)
{
  g_autoptr (DcStream) st = virStreamNew (conn, 0);
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  g_autofree char *buf = g_malloc (DC_STREAM_CHUNK);

  if (st == NULL || virStorageVolDownload (vol, st, offset, length, 0) < 0)
    {
      dc_set_libvirt_error (error, "cannot read volume '%s'", virStorageVolGetName (vol));
      return NULL;
    }
  for (;;)
    {
      int n = virStreamRecv (st, buf, DC_STREAM_CHUNK);

      if (n == 0)
        break;
      if (n < 0)
        {
          dc_set_libvirt_error (error, "cannot read volume '%s'", virStorageVolGetName (vol));
          virStreamAbort (st);
          return NULL;
        }
      if (bytes->len + (gsize) n > DC_CLOUDINIT_MAX_SIZE)
        {
          virStreamAbort (st);
          g_set_error (error, DC_ERROR, DC_ERROR_UNSUPPORTED,
                       "volume '%s' holds more than the %zu bytes domclone reads", virStorageVolGetName (vol),
                       DC_CLOUDINIT_MAX_SIZE);
          return NULL;
        }
      g_byte_array_append (bytes, (const guint8 *) buf, (guint) n);
    }
  if (virStreamFinish (st) < 0)
    {
      dc_set_libvirt_error (error, "cannot read volume '%s'", virStorageVolGetName (vol));
      return NULL;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&bytes));
}

/**
 * dc_vol_io_upload:
 * @conn: connection
 * @vol: a volume at least as big as @bytes
 * @bytes: what to write at its start
 * @error: return location
 *
 * Returns: %TRUE once libvirt has written @bytes
 */
gboolean
dc_vol_io_upload (virConnectPtr conn, virStorageVolPtr vol, GBytes *bytes, GError **error)
{
  g_autoptr (DcStream) st = virStreamNew (conn, 0);
  gsize len = 0;
  const char *data = g_bytes_get_data (bytes, &len);

  if (st == NULL || virStorageVolUpload (vol, st, 0, len, 0) < 0)
    return dc_set_libvirt_error (error, "cannot write volume '%s'", virStorageVolGetName (vol));
  for (gsize done = 0; done < len;)
    {
      int n = virStreamSend (st, data + done, MIN (len - done, DC_STREAM_CHUNK));

      if (n < 0)
        {
          dc_set_libvirt_error (error, "cannot write volume '%s'", virStorageVolGetName (vol));
          virStreamAbort (st);
          return FALSE;
        }
      done += (gsize) n;
    }
  if (virStreamFinish (st) < 0)
    return dc_set_libvirt_error (error, "cannot write volume '%s'", virStorageVolGetName (vol));
  return TRUE;
}
