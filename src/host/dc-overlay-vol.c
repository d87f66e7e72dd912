/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-overlay-vol.c: qcow2 volumes libvirt need not format: a linked
 * clone's overlay, and a qcow2 disk copied here.
 *
 * libvirt makes every qcow2 volume by spawning "qemu-img create" (25 to
 * 40 ms each): most of a linked clone, and of a small clone of a qcow2
 * disk, whose bytes a local copy then replaces anyway. Where this
 * process may write the new volume's file (a local connection, its
 * directory proven to be the one libvirt sees: dc-sameness.c), libvirt
 * makes an empty raw volume instead, and the overlay is written into it
 * here (dc-overlay.c), or the copy fills it (dc-copy.c). A volume's own
 * refresh keeps the format it was made with; a refresh of its pool
 * probes it anew, so after the copies of a clone each pool that got such
 * volumes is refreshed once, and each must then look to libvirt as
 * qemu-img's would: qcow2 (on its base, for an overlay), of the size
 * asked. One that does not (the pool could not be refreshed: another
 * run's copy was under way in it) is made again by libvirt, the usual
 * way, and filled again. The volume keeps its name, pool and undo entry
 * throughout.
 */
#include "config.h"

#include "dc-overlay-vol.h"
#include "dc-overlay.h"
#include "dc-copy.h"
#include "dc-sameness.h"
#include "dc-xml.h"

/* A volume written here (in @run->here): its copy step, and the handle
 * libvirt gave when it made it (a volume is found by its pool's name and
 * its own, so the handle stays right through a refresh of its pool) */
typedef struct
{
  const DcCopy *copy;
  virStorageVolPtr vol;
} DcWritten;

static void
dc_written_free (gpointer data)
{
  DcWritten *w = data;

  g_clear_pointer (&w->vol, virStorageVolFree);
  g_free (w);
}

/**
 * dc_overlay_vol_list_new:
 *
 * Returns: (transfer full): an empty list for @run->here
 */
GPtrArray *
dc_overlay_vol_list_new (void)
{
  return g_ptr_array_new_with_free_func (dc_written_free);
}

/* how long a pool refresh libvirt refuses (a copy runs in the pool) is
 * tried again */
#define DC_OVERLAY_REFRESH_TRIES 50
#define DC_OVERLAY_REFRESH_PAUSE (20 * 1000)

/* Whether @copy's new volume is a qcow2 volume that may be written here:
 * an overlay (what dc_newvol_overlay_xml() asks of qemu-img, nothing
 * more), or a copy filled here (@local) of a qcow2 disk, not grown. An
 * overlay's directory not proven yet is proven with the overlay's own
 * volume once made (*@prove: dc_overlay_vol_fill()). */
static gboolean
dc_overlay_vol_may (DcRun *run, const DcCopy *copy, gboolean local, xmlXPathContext *ctxt, gboolean *prove)
{
  DcSame same;

  g_autofree char *dir = NULL;
  g_autofree char *format = dc_xml_string (ctxt, NULL, "/volume/target/format/@type");

  if (g_strcmp0 (format, "qcow2") != 0 || dc_xml_node (ctxt, NULL, "/volume/target/encryption") != NULL)
    return FALSE;
  /* a copy --resize grows is grown by libvirt's qemu-img resize, which
   * needs libvirt to know it as qcow2 already */
  if (copy->kind == DC_COPY_KIND_FULL)
    return local && copy->grow_to == 0;
  if (copy->kind != DC_COPY_KIND_OVERLAY || !run->local_copies || copy->open_dir != NULL
      || copy->dst_open_dir != NULL || copy->dst_path == NULL || copy->src_path == NULL
      || copy->src_format == NULL || dc_xml_node (ctxt, NULL, "/volume/target/clusterSize") != NULL
      || dc_xml_node (ctxt, NULL, "/volume/target/features/*") != NULL)
    return FALSE;
  /* the overlay as libvirt will make it is this process's to write
   * (not root's 0600 one for a member of the libvirt group) */
  if (!dc_copy_dst_writable (copy))
    return FALSE;
  dir = g_path_get_dirname (copy->dst_path);
  same = dc_sameness_known (run, dir);
  *prove = same == DC_SAME_UNKNOWN;
  return same != DC_SAME_DISPROVEN;
}

/**
 * dc_overlay_vol_here:
 * @run: the run
 * @copy: an overlay, or a copy
 * @local: @copy is a copy this process fills (dc-copy.c)
 * @capacity: (out): the volume's virtual size
 * @prove: (out): whether its directory is to be proven with it first
 *   (dc_overlay_vol_fill())
 *
 * Returns: (transfer full) (nullable): the XML of the empty raw volume
 *   libvirt is to make for @copy, when this process writes the qcow2
 *   volume into it; %NULL when libvirt makes it with qemu-img
 */
char *
dc_overlay_vol_here (DcRun *run, const DcCopy *copy, gboolean local, guint64 *capacity, gboolean *prove)
{
  g_autoptr (xmlDoc) doc = NULL;
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autofree char *cap = NULL;
  xmlNode *node;

  doc = dc_xml_parse (copy->xml, "volume", "the new volume's XML", &ctxt, NULL);
  cap = doc ? dc_xml_string (ctxt, NULL, "/volume/capacity") : NULL;
  *prove = FALSE;
  if (cap == NULL || !dc_overlay_vol_may (run, copy, local, ctxt, prove))
    return NULL;
  *capacity = g_ascii_strtoull (cap, NULL, 10);
  /* an empty raw volume of its name and permissions */
  node = dc_xml_node (ctxt, NULL, "/volume/capacity");
  dc_xml_set_text (node, "0");
  if ((node = dc_xml_node (ctxt, NULL, "/volume/allocation")) != NULL)
    dc_xml_remove (node);
  if ((node = dc_xml_node (ctxt, NULL, "/volume/target/format")) != NULL)
    xmlSetProp (node, BAD_CAST "type", BAD_CAST "raw");
  for (const char *const *x =
         (const char *const[]){ "/volume/target/compat", "/volume/target/clusterSize",
                                "/volume/target/features", "/volume/backingStore", NULL };
       *x != NULL; x++)
    if ((node = dc_xml_node (ctxt, NULL, *x)) != NULL)
      dc_xml_remove (node);
  return dc_xml_format (xmlDocGetRootElement (doc), TRUE);
}

/* Has libvirt make @copy's volume again, the usual way (qemu-img), in
 * place of the volume of that name; a copy is filled again. */
static gboolean
dc_overlay_vol_redo (DcRun *run, const DcCopy *copy, GError **error)
{
  g_autoptr (DcPool) pool = dc_env_live_pool (run->env, run->conn, copy->dst_pool);
  g_autoptr (DcVol) old = pool ? virStorageVolLookupByName (pool, copy->dst_name) : NULL;
  g_autoptr (DcVol) vol = NULL;

  if (old != NULL && virStorageVolDelete (old, 0) < 0)
    return dc_set_libvirt_error (error, "cannot clone %s: cannot remove '%s' to make it again", copy->what,
                                 copy->dst_name);
  vol = pool ? virStorageVolCreateXML (pool, copy->xml, 0) : NULL;
  if (vol == NULL)
    return dc_set_libvirt_error (error, "cannot clone %s to '%s' in pool '%s'", copy->what, copy->dst_name,
                                 copy->dst_pool);
  if (copy->kind == DC_COPY_KIND_FULL)
    {
      DcCopyWay way;

      if (!dc_copy_file (copy->src_path, copy->dst_path, &way, NULL, error))
        {
          g_prefix_error (error, "cannot clone %s: ", copy->what);
          return FALSE;
        }
    }
  return TRUE;
}

/**
 * dc_overlay_vol_fill:
 * @run: the run
 * @copy: the overlay
 * @dst: the empty raw volume libvirt made for it
 * @path: its path
 * @capacity: the overlay's virtual size
 * @prove: prove its directory with @dst first (dc_sameness_prove_with())
 * @way: (out): how it was made
 * @error: return location
 *
 * Writes the overlay into @dst; where this process cannot (a file it may
 * not open, a directory not proven to be libvirt's), libvirt makes it
 * again the usual way.
 *
 * Returns: %FALSE with @error set if neither worked
 */
gboolean
dc_overlay_vol_fill (DcRun *run, const DcCopy *copy, virStorageVolPtr dst, const char *path, guint64 capacity,
                     gboolean prove, DcCopyWay *way, GError **error)
{
  g_autoptr (GError) local = NULL;

  if (prove && dc_sameness_prove_with (run, dst, path) != DC_SAME_PROVEN)
    {
      g_debug ("%s: its directory is not proven to be libvirt's; libvirt makes it", copy->what);
      *way = DC_COPY_BY_LIBVIRT;
      return dc_overlay_vol_redo (run, copy, error);
    }
  if (!dc_overlay_write (path, capacity, copy->src_path, copy->src_format, &local))
    {
      g_debug ("%s: %s; libvirt makes it", copy->what, local->message);
      *way = DC_COPY_BY_LIBVIRT;
      return dc_overlay_vol_redo (run, copy, error);
    }
  *way = DC_COPY_BY_OVERLAY;
  dc_overlay_vol_written (run, copy, dst);
  return TRUE;
}

/**
 * dc_overlay_vol_written:
 * @run: the run
 * @copy: a volume made raw and written here as qcow2
 * @vol: its volume, as libvirt made it
 *
 * Records @copy for dc_overlay_vol_settle().
 */
void
dc_overlay_vol_written (DcRun *run, const DcCopy *copy, virStorageVolPtr vol)
{
  DcWritten *w = g_new0 (DcWritten, 1);

  w->copy = copy;
  w->vol = vol;
  virStorageVolRef (vol);
  g_mutex_lock (&run->undo_lock);
  g_ptr_array_add (run->here, w);
  g_mutex_unlock (&run->undo_lock);
}

/* Refreshes pool @name, waiting a little while libvirt refuses (it
 * creates a volume there for another process), unless a clone of the
 * batch had it refreshed since this one's volumes were written there
 * (@seen refreshes had begun then: dc-batch.c). */
static void
dc_overlay_vol_refresh (DcRun *run, const char *name, guint seen)
{
  g_autoptr (DcPool) pool = NULL;

  if (!dc_batch_refresh_begin (run->batch, name, seen))
    return;
  pool = dc_env_live_pool (run->env, run->conn, name);
  for (int i = 0; pool != NULL && i < DC_OVERLAY_REFRESH_TRIES; i++)
    {
      if (virStoragePoolRefresh (pool, 0) == 0)
        {
          dc_batch_refresh_end (run->batch);
          return;
        }
      if (dc_last_libvirt_code () != VIR_ERR_OPERATION_INVALID)
        break;
      g_usleep (DC_OVERLAY_REFRESH_PAUSE);
    }
  g_debug ("storage pool '%s' not refreshed: %s", name, virGetLastErrorMessage ());
  dc_batch_refresh_end (run->batch);
}

/* Whether libvirt sees @copy's volume @vol as qemu-img's: qcow2, on its
 * base if an overlay, of @capacity. Its size goes to the result
 * (--json), where that wants it. */
static gboolean
dc_overlay_vol_right (DcRun *run, const DcCopy *copy, virStorageVolPtr vol, guint64 capacity)
{
  g_autofree char *xml = virStorageVolGetXMLDesc (vol, 0);
  g_autoptr (xmlDoc) doc = NULL;
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autofree char *format = NULL;
  g_autofree char *backing = NULL;
  g_autofree char *cap = NULL;
  virStorageVolInfo info;

  if (xml != NULL)
    doc = dc_xml_parse (xml, "volume", "a volume's XML", &ctxt, NULL);
  if (doc == NULL)
    return FALSE;
  format = dc_xml_string (ctxt, NULL, "/volume/target/format/@type");
  backing = dc_xml_string (ctxt, NULL, "/volume/backingStore/path");
  cap = dc_xml_string (ctxt, NULL, "/volume/capacity");
  /* an overlay on its base; a copy on nothing (dc-copy.c copies only a
   * qcow2 that stands alone) */
  if (g_strcmp0 (format, "qcow2") != 0
      || g_strcmp0 (backing, copy->kind == DC_COPY_KIND_OVERLAY ? copy->src_path : NULL) != 0 || cap == NULL
      || g_ascii_strtoull (cap, NULL, 10) != capacity)
    return FALSE;
  if (run->made != NULL && virStorageVolGetInfo (vol, &info) == 0)
    {
      g_mutex_lock (&run->undo_lock);
      g_hash_table_insert (run->made, (gpointer) copy, g_memdup2 (&info, sizeof (info)));
      g_mutex_unlock (&run->undo_lock);
    }
  return TRUE;
}

/**
 * dc_overlay_vol_settle:
 * @run: the run, after the copies of one clone
 * @error: return location
 *
 * Has libvirt read the qcow2 volumes written here (@run->here): one
 * refresh of each pool they are in; one libvirt then sees otherwise than
 * it would see its own is made again by libvirt.
 *
 * Returns: %FALSE with @error set if an overlay could not be made again
 */
gboolean
dc_overlay_vol_settle (DcRun *run, GError **error)
{
  g_autoptr (GHashTable) pools = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter iter;
  gpointer name;
  gpointer seen;

  for (guint i = 0; i < run->here->len; i++)
    g_hash_table_add (pools, ((const DcWritten *) run->here->pdata[i])->copy->dst_pool);
  g_hash_table_iter_init (&iter, pools);
  while (g_hash_table_iter_next (&iter, &name, NULL))
    g_hash_table_iter_replace (&iter, GUINT_TO_POINTER (dc_batch_refreshes (run->batch, name)));
  g_hash_table_iter_init (&iter, pools);
  while (g_hash_table_iter_next (&iter, &name, &seen))
    dc_overlay_vol_refresh (run, name, GPOINTER_TO_UINT (seen));
  for (guint i = 0; i < run->here->len; i++)
    {
      const DcWritten *w = run->here->pdata[i];
      const DcCopy *copy = w->copy;
      g_autoptr (xmlDoc) doc = dc_xml_parse (copy->xml, "volume", "the new volume's XML", NULL, NULL);
      guint64 capacity = 0;

      {
        g_autoptr (xmlXPathContext) ctxt = doc ? xmlXPathNewContext (doc) : NULL;
        g_autofree char *cap = ctxt ? dc_xml_string (ctxt, NULL, "/volume/capacity") : NULL;

        capacity = cap ? g_ascii_strtoull (cap, NULL, 10) : 0;
      }
      if (dc_overlay_vol_right (run, copy, w->vol, capacity))
        continue;
      g_debug ("libvirt does not see %s as a qcow2 volume yet; it makes it", copy->what);
      if (!dc_overlay_vol_redo (run, copy, error))
        return FALSE;
    }
  return TRUE;
}
