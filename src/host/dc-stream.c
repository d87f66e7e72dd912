/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-stream.c: a volume's bytes moved through libvirt as they are.
 *
 * virStorageVolCreateXMLFrom converts from the format the pool probed
 * (qemu-img convert -f <probe>), which a guest chooses by what it
 * writes into its raw disk. Where that probe disagrees with the domain
 * XML and this process cannot copy the file itself (a remote daemon, a
 * file it may not read), the bytes are downloaded from the source and
 * uploaded into the new volume in one process: libvirt's storage driver
 * reads and writes a file volume as its bytes, whatever its format, and
 * the sparse streams keep holes as holes. It works over any connection.
 */
#include "config.h"

#include "dc-stream.h"

typedef virStream DcStream;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcStream, virStreamFree)

/* the most one call moves: a few progress updates a second */
#define DC_STREAM_COPY_CHUNK ((size_t) 1024 * 1024)

/* Sends all of @data on @out. */
static gboolean
dc_stream_send_all (virStreamPtr out, const char *data, size_t len, const char *dst, GError **error)
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

/* The relay itself: data as data, holes as holes, until the end. */
static gboolean
dc_stream_relay (virStreamPtr in, virStreamPtr out, const char *src, const char *dst, gsize *done,
                 GError **error)
{
  g_autofree char *buf = g_malloc (DC_STREAM_COPY_CHUNK);

  for (;;)
    {
      int n;

      /* as the local copy, and unlike libvirt's: a signal stops it */
      if (!dc_check_cancelled (error))
        return FALSE;
      n = virStreamRecvFlags (in, buf, DC_STREAM_COPY_CHUNK, VIR_STREAM_RECV_STOP_AT_HOLE);
      if (n == 0)
        return TRUE;
      if (n == -3)
        {
          long long hole = 0;

          if (virStreamRecvHole (in, &hole, 0) < 0)
            return dc_set_libvirt_error (error, "cannot read volume '%s'", src);
          if (hole > 0 && virStreamSendHole (out, hole, 0) < 0)
            return dc_set_libvirt_error (error, "cannot write volume '%s'", dst);
          continue;
        }
      if (n < 0)
        return dc_set_libvirt_error (error, "cannot read volume '%s'", src);
      if (!dc_stream_send_all (out, buf, (size_t) n, dst, error))
        return FALSE;
      if (done != NULL)
        g_atomic_pointer_add (done, (gssize) n);
    }
}

/**
 * dc_stream_copy:
 * @conn: connection
 * @src: the source volume, read as its bytes
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
dc_stream_copy (virConnectPtr conn, virStorageVolPtr src, virStorageVolPtr dst, gsize *done, GError **error)
{
  g_autofree char *src_name = g_strdup (virStorageVolGetName (src));
  g_autofree char *dst_name = g_strdup (virStorageVolGetName (dst));
  g_autoptr (DcStream) in = virStreamNew (conn, 0);
  g_autoptr (DcStream) out = virStreamNew (conn, 0);
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
