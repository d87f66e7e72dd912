/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-seed-vol.c: a clone's cloud-init seed, made through libvirt: the
 * source's image is downloaded into memory (seeds are small), rewritten
 * (dc-seed.c), and uploaded into a new volume. Streams work over any
 * connection, so a remote clone gets its seed too.
 */
#include "config.h"

#include "dc-seed-vol.h"
#include "dc-copy.h"
#include "dc-env.h"
#include "dc-seed.h"
#include "dc-xml.h"

typedef virStream DcStream;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcStream, virStreamFree)

#define DC_STREAM_CHUNK (256 * 1024)

/**
 * dc_vol_download:
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
dc_vol_download (virConnectPtr conn, virStorageVolPtr vol, guint64 offset, guint64 length, GError **error)
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
 * dc_vol_upload:
 * @conn: connection
 * @vol: a volume at least as big as @bytes
 * @bytes: what to write at its start
 * @error: return location
 *
 * Returns: %TRUE once libvirt has written @bytes
 */
gboolean
dc_vol_upload (virConnectPtr conn, virStorageVolPtr vol, GBytes *bytes, GError **error)
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

/* The planned volume XML with the new image's size. */
static char *
dc_seed_vol_xml (const char *planned, gsize size)
{
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autoptr (xmlDoc) doc = dc_xml_parse (planned, "volume", "the seed's volume XML", &ctxt, NULL);
  g_autofree char *bytes = g_strdup_printf ("%zu", size);
  xmlNode *capacity = doc ? dc_xml_node (ctxt, NULL, "/volume/capacity") : NULL;
  xmlNode *allocation = doc ? dc_xml_node (ctxt, NULL, "/volume/allocation") : NULL;

  if (capacity == NULL)
    return g_strdup (planned); /* the planner made it: not reached */
  dc_xml_set_text (capacity, bytes);
  if (allocation != NULL)
    dc_xml_set_text (allocation, bytes);
  return dc_xml_format (xmlDocGetRootElement (doc), TRUE);
}

/**
 * dc_seed_make:
 * @conn: connection
 * @plan: the clone's plan
 * @seed: one of its seeds
 * @local_conn: the daemon runs on this host (the new file is flushed)
 * @created: told of the new volume as soon as it exists
 * @data: for @created
 * @info: (out): the new volume as libvirt sees it when done
 * @error: return location
 *
 * Reads the source's seed, rewrites it for the clone and writes it into
 * a new volume where @seed says. The source's volume is only read.
 *
 * Returns: %TRUE on success
 */
gboolean
dc_seed_make (virConnectPtr conn, const DcPlan *plan, const DcSeed *seed, gboolean local_conn,
              DcSeedCreated created, gpointer data, virStorageVolInfo *info, GError **error)
{
  const DcCopy *c = seed->vol;
  g_autofree char *opened = NULL;
  g_autoptr (DcPool) pool = NULL;
  g_autoptr (DcVol) src = NULL;
  g_autoptr (DcPool) dst_pool = NULL;
  g_autoptr (DcVol) dst = NULL;
  g_autoptr (GBytes) image = NULL;
  g_autoptr (GBytes) fresh = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *path = NULL;
  DcCloudinitRewrite rw = {
    .source_name = plan->source_name,
    .clone_name = plan->name,
    .clone_uuid = plan->uuid,
    .hostname = seed->hostname,
    .macs_from = (const char *const *) seed->macs_from,
    .macs_to = (const char *const *) seed->macs_to,
  };

  if (c->open_dir != NULL && !dc_dir_pool_open (conn, c->open_dir, &opened, error))
    return FALSE;
  pool = virStoragePoolLookupByName (conn, c->pool);
  src = pool ? virStorageVolLookupByName (pool, c->src_name) : NULL;
  if (src == NULL)
    return dc_set_libvirt_error (error, "cannot clone %s: cannot find '%s' in pool '%s'", c->what,
                                 c->src_name, c->pool);
  image = dc_vol_download (conn, src, 0, 0, error);
  if (image != NULL)
    fresh = dc_seed_rewrite (image, &rw, error);
  if (fresh == NULL)
    {
      g_prefix_error (error, "cannot clone %s: ", c->what);
      return FALSE;
    }

  xml = dc_seed_vol_xml (c->xml, g_bytes_get_size (fresh));
  g_debug ("new seed volume XML:\n%s", xml);
  dst_pool = virStoragePoolLookupByName (conn, c->dst_pool);
  dst = dst_pool ? virStorageVolCreateXML (dst_pool, xml, 0) : NULL;
  if (dst == NULL)
    return dc_set_libvirt_error (error, "cannot clone %s to '%s' in pool '%s'", c->what, c->dst_name,
                                 c->dst_pool);
  created (data, c);
  path = virStorageVolGetPath (dst);
  if (path == NULL)
    return dc_set_libvirt_error (error, "cannot read the path of volume '%s'", c->dst_name);
  if (c->dst_path != NULL && !g_str_equal (path, c->dst_path))
    {
      g_set_error (error, DC_ERROR, DC_ERROR_FAILED,
                   "cannot clone %s: pool '%s' put the new volume at '%s', not at '%s'", c->what, c->dst_pool,
                   path, c->dst_path);
      return FALSE;
    }
  if (!dc_vol_upload (conn, dst, fresh, error))
    {
      g_prefix_error (error, "cannot clone %s: ", c->what);
      return FALSE;
    }
  /* a clone reported done survives a power cut: libvirt's upload does
   * not flush what it wrote (see dc_libvirt_copy_syncs) */
  if (local_conn && g_file_test (path, G_FILE_TEST_IS_REGULAR) && !dc_file_sync (path, error))
    return FALSE;
  if (virStorageVolGetInfo (dst, info) < 0)
    {
      g_warning ("cannot read volume '%s' back: %s", c->dst_name, virGetLastErrorMessage ());
      info->capacity = info->allocation = g_bytes_get_size (fresh);
    }
  g_info ("made %s: '%s' in pool '%s', %zu bytes", c->what, c->dst_name, c->dst_pool,
          g_bytes_get_size (fresh));
  return TRUE;
}
