/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-copy-step.c: the copy step. Every volume a clone gets (disk,
 * NVRAM, TPM state, seed, overlay) is made here, on the run's one undo
 * stack: the way its bytes move is chosen (libvirt's copy, a local
 * copy, a stream, an upload, or, for the disks of a running source, one
 * backup job for all of them), tried again while a shared temporary pool
 * vanishes under it, and the copies run on up to --jobs threads.
 */
#include "config.h"

#include "dc-copy-step.h"
#include "dc-backup.h"
#include "dc-nbd.h"
#include "dc-undo.h"
#include "dc-sameness.h"
#include "dc-copy.h"
#include "dc-vol-io.h"
#include "dc-seed-vol.h"
#include "dc-shape-host.h"
#include "dc-pool.h"
#include "dc-cleanup.h"
#include "dc-env.h"
#include "dc-rbd.h"
#include "dc-overlay-vol.h"

#include <glib/gstdio.h>

/* One attempt at one copy step: what it makes, how, and what came of
 * it. */
typedef struct
{
  const DcCopy *copy;
  gboolean local;        /* libvirt creates the volume, this process
                          * fills it (dc-copy.c) */
  gboolean stream;       /* libvirt creates it, the bytes are streamed
                          * into it through libvirt (dc-vol-io.c) */
  GBytes *bytes;         /* a seed's: libvirt creates it as @xml says,
                          * these bytes are uploaded into it */
  gboolean backup;       /* libvirt creates it, a backup job of the
                          * running source fills it afterwards, with
                          * the other disks' (dc_copy_backup()) */
  gboolean here;         /* an overlay: libvirt creates it empty and raw
                          * as @xml says, it is written here
                          * (dc-overlay-vol.c) */
  guint64 capacity;      /* ... of that size */
  gboolean prove;        /* ... in a directory proven with it first
                          * (an overlay: dc_overlay_vol_fill(); a local
                          * copy: dc_copy_volume_once()) */
  const char *xml;       /* the new volume's XML, @copy's unless set */
  DcProgressItem *shown; /* its progress line, or NULL */
  /* what came of it */
  char *path;        /* the new volume's path */
  DcCopyWay way;     /* how its bytes were moved */
  gboolean vanished; /* the (temporary) pool went away under it:
                       * another attempt is worth it */
  gboolean existed;  /* a volume of that name was there before: not
                       * ours */
  gboolean grown;    /* --resize grew it once filled */
} DcCopyAttempt;

/* Whether libvirt reads @at's source volume itself: its copy, or a
 * stream; an overlay names its base by path, and the other ways read
 * the source here (or a backup job reads the running domain's disk). */
static gboolean
dc_copy_needs_src (const DcCopyAttempt *at)
{
  return !at->local && !at->backup && at->bytes == NULL && at->copy->kind != DC_COPY_KIND_OVERLAY;
}

/* Creates the new volume of @at (from @src, when libvirt needs it);
 * %NULL with @error set on failure. */
static virStorageVolPtr
dc_copy_create (DcRun *run, DcCopyAttempt *at, virStorageVolPtr src, GError **error)
{
  const DcCopy *copy = at->copy;
  g_autoptr (DcPool) dst_pool =
    src || !dc_copy_needs_src (at) ? dc_env_live_pool (run->env, run->conn, copy->dst_pool) : NULL;
  virStorageVolPtr dst = NULL;

  /* an overlay is made empty, its backing store named in its XML (or
   * empty and raw, when written here); a seed's and a local or streamed
   * copy's are filled afterwards */
  if (dst_pool != NULL
      && (at->local || at->stream || at->backup || at->bytes != NULL || copy->kind == DC_COPY_KIND_OVERLAY))
    {
      /* not while a clone of the batch has the pool refreshed */
      dc_batch_create_begin (run->batch);
      dst = virStorageVolCreateXML (dst_pool, at->xml ? at->xml : copy->xml, 0);
      dc_batch_create_end (run->batch);
    }
  else if (dst_pool != NULL)
    dst = virStorageVolCreateXMLFrom (dst_pool, copy->xml, src, 0);
  if (dst == NULL)
    {
      /* read the error now: freeing a libvirt object clears it */
      at->vanished = (copy->open_dir != NULL || copy->dst_open_dir != NULL) && dc_pool_vanished ();
      at->existed = dc_last_libvirt_code () == VIR_ERR_STORAGE_VOL_EXIST;
      /* a pool handle the run kept, of a pool undefined and defined
       * again meanwhile (a new UUID): looked up anew on the next try */
      if (dc_last_libvirt_code () == VIR_ERR_NO_STORAGE_POOL)
        {
          at->vanished = TRUE;
          dc_env_live_pool_forget (run->env, run->conn, copy->dst_pool);
          if (copy->pool != NULL)
            dc_env_live_pool_forget (run->env, run->src_conn, copy->pool);
        }
      dc_set_libvirt_error (error, "cannot clone %s to '%s' in pool '%s'", copy->what, copy->dst_name,
                            copy->dst_pool);
    }
  return dst;
}

/* Moves the bytes into @dst, the way @at says (libvirt moved them
 * already when it made @dst from the source). */
static gboolean
dc_copy_fill (DcRun *run, DcCopyAttempt *at, virStorageVolPtr src, virStorageVolPtr dst, GError **error)
{
  const DcCopy *copy = at->copy;

  at->way = at->backup ? DC_COPY_BY_BACKUP : DC_COPY_BY_LIBVIRT;
  if (at->here && copy->kind == DC_COPY_KIND_OVERLAY)
    return dc_overlay_vol_fill (run, copy, dst, at->path, at->capacity, at->prove, &at->way, error);
  if (at->local && !dc_copy_file (copy->src_path, at->path, &at->way, dc_progress_counter (at->shown), error))
    {
      g_prefix_error (error, "cannot clone %s: ", copy->what);
      return FALSE;
    }
  if (at->here)
    dc_overlay_vol_written (run, copy, dst);
  if (at->stream)
    {
      at->way = DC_COPY_BY_STREAM;
      if (!dc_vol_io_stream (src, dst, dc_progress_counter (at->shown), error))
        {
          g_prefix_error (error, "cannot clone %s: ", copy->what);
          return FALSE;
        }
    }
  if (at->bytes != NULL)
    {
      at->way = DC_COPY_BY_UPLOAD;
      if (!dc_vol_io_upload (run->conn, dst, at->bytes, error))
        {
          g_prefix_error (error, "cannot clone %s: ", copy->what);
          return FALSE;
        }
    }
  return TRUE;
}

/* Reads the new volume's size back into the result, where it wants it. */
static void
dc_copy_read_back (DcRun *run, const DcCopyAttempt *at, virStorageVolPtr dst)
{
  const DcCopy *copy = at->copy;
  virStorageVolInfo info;

  /* after a local copy libvirt must read the volume's size and
   * allocation anew; the result may want them too. One written here
   * as qcow2 is read back after its pool's refresh
   * (dc_overlay_vol_settle()). */
  if ((!at->local && !at->stream && at->bytes == NULL && !at->grown && run->made == NULL)
      || (at->here && at->way != DC_COPY_BY_LIBVIRT))
    return;
  if (virStorageVolGetInfo (dst, &info) < 0)
    {
      g_warning ("cannot read volume '%s' back: %s", copy->dst_name, virGetLastErrorMessage ());
      if (at->bytes == NULL)
        return;
      info.capacity = info.allocation = g_bytes_get_size (at->bytes);
    }
  if (run->made != NULL)
    {
      g_mutex_lock (&run->undo_lock);
      g_hash_table_insert (run->made, (gpointer) copy, g_memdup2 (&info, sizeof (info)));
      g_mutex_unlock (&run->undo_lock);
    }
}

/* @at's local copy into *@dst, whose directory its own proof did not
 * show to be the daemon's: libvirt copies instead, into a volume made
 * anew under the same name (on the undo stack already). */
static gboolean
dc_copy_by_libvirt_instead (DcRun *run, DcCopyAttempt *at, virStorageVolPtr *dst, GError **error)
{
  const DcCopy *copy = at->copy;
  g_autoptr (DcPool) pool = dc_env_live_pool (run->env, run->src_conn, copy->pool);
  g_autoptr (DcVol) src = pool ? virStorageVolLookupByName (pool, copy->src_name) : NULL;
  g_autoptr (DcPool) dst_pool = src ? dc_env_live_pool (run->env, run->conn, copy->dst_pool) : NULL;
  virStorageVolPtr made;

  g_debug ("%s goes through libvirt: '%s' is not proven to be the directory libvirt sees", copy->what,
           at->path);
  if (dst_pool == NULL || virStorageVolDelete (*dst, 0) < 0)
    return dc_set_libvirt_error (error, "cannot clone %s to '%s' in pool '%s'", copy->what, copy->dst_name,
                                 copy->dst_pool);
  made = virStorageVolCreateXMLFrom (dst_pool, copy->xml, src, 0);
  if (made == NULL)
    return dc_set_libvirt_error (error, "cannot clone %s to '%s' in pool '%s'", copy->what, copy->dst_name,
                                 copy->dst_pool);
  virStorageVolFree (*dst);
  *dst = made;
  at->local = at->here = at->prove = FALSE;
  return TRUE;
}

/* One attempt at the copy step @at: libvirt copies, or creates the
 * volume and it is filled (dc_copy_fill). On failure @at says whether
 * the pool vanished or the volume existed. */
static gboolean
dc_copy_volume_once (DcRun *run, DcCopyAttempt *at, GError **error)
{
  const DcCopy *copy = at->copy;
  g_autoptr (DcPool) pool =
    dc_copy_needs_src (at) ? dc_env_live_pool (run->env, run->src_conn, copy->pool) : NULL;
  g_autoptr (DcVol) src = pool ? virStorageVolLookupByName (pool, copy->src_name) : NULL;
  g_autoptr (DcVol) dst = dc_copy_create (run, at, src, error);

  if (dst == NULL)
    return FALSE;
  at->path = virStorageVolGetPath (dst);
  /* our own dir pool, closed by another domclone just now: the volume is
   * where a dir pool puts it */
  if (at->path == NULL && copy->dst_open_dir != NULL && dc_pool_vanished ())
    at->path = g_strdup (copy->dst_path);
  if (at->path == NULL)
    return dc_set_libvirt_error (error, "cannot read the path of volume '%s'", copy->dst_name);
  /* The domain XML names the path the plan expected: make sure libvirt
   * put the volume there, before writing to it. */
  if (copy->dst_path != NULL && !g_str_equal (at->path, copy->dst_path))
    {
      g_set_error (error, DC_ERROR, DC_ERROR_FAILED,
                   "cannot clone %s: pool '%s' put the new volume at '%s', not at '%s'", copy->what,
                   copy->dst_pool, at->path, copy->dst_path);
      return FALSE;
    }
  /* a local copy in a directory not proven yet: the new volume proves it */
  if (at->local && at->prove && dc_sameness_prove_with (run, dst, at->path) != DC_SAME_PROVEN
      && !dc_copy_by_libvirt_instead (run, at, &dst, error))
    return FALSE;
  if (!dc_copy_fill (run, at, src, dst, error) || !dc_shape_host_grow (dst, copy, &at->grown, error))
    return FALSE;
  if (!at->backup)
    dc_copy_read_back (run, at, dst);
  return TRUE;
}

/* Opens the temporary pools @copy needs, the source's on its host and
 * the new volume's on the clone's (made if missing: on another host the
 * directory may not be there yet); their names go to @opened and @made,
 * to keep them referenced while the copy runs. */
static gboolean
dc_copy_open_pools (DcRun *run, const DcCopy *copy, char **opened, char **made, GError **error)
{
  if (copy->open_dir != NULL && !dc_pool_open_dir (run->src_conn, copy->open_dir, opened, error))
    return FALSE;
  if (copy->dst_open_dir != NULL && (run->across || g_strcmp0 (copy->dst_open_dir, copy->open_dir) != 0)
      && !dc_undo_make_dir (run, copy->dst_open_dir, copy->dst_owner, copy->dst_group, made, error))
    return FALSE;
  return TRUE;
}

/* Whether this process copies @copy's bytes itself (see dc-copy.c):
 * it can, and the directories of the source and of the new volume are
 * proven to be the daemon's (see dc-sameness.c). In a pool's directory
 * not proven yet that holds the source too, the new volume is made
 * first and proves it itself (*@prove: dc_copy_volume_once()); but for
 * a source whose bytes libvirt must not convert (@bytes_only), whose
 * way is not libvirt's copy. */
static gboolean
dc_copy_locally (DcRun *run, const DcCopy *copy, gboolean *prove)
{
  g_autofree char *why = NULL;
  g_autofree char *src_dir = NULL;
  g_autofree char *dst_dir = NULL;

  if (!run->local_copies || copy->kind == DC_COPY_KIND_OVERLAY || copy->kind == DC_COPY_KIND_SEED)
    return FALSE;
  if (!dc_copy_local_possible (copy, &why))
    {
      g_debug ("%s goes through libvirt: %s", copy->what, why);
      return FALSE;
    }
  dst_dir = g_path_get_dirname (copy->dst_path);
  src_dir = g_path_get_dirname (copy->src_path);
  *prove = copy->dst_open_dir == NULL && !copy->bytes_only && g_str_equal (src_dir, dst_dir)
           && dc_sameness_known (run, dst_dir) == DC_SAME_UNKNOWN;
  if (*prove)
    return TRUE;
  if (dc_sameness_of_dir (run, copy->dst_pool, copy->dst_open_dir, dst_dir) != DC_SAME_PROVEN)
    {
      g_debug ("%s goes through libvirt: '%s' is not proven to be the directory libvirt sees", copy->what,
               dst_dir);
      return FALSE;
    }
  if (!g_str_equal (src_dir, dst_dir)
      && dc_sameness_of_dir (run, copy->pool, copy->open_dir, src_dir) != DC_SAME_PROVEN)
    {
      g_debug ("%s goes through libvirt: '%s' is not proven to be the directory libvirt sees", copy->what,
               src_dir);
      return FALSE;
    }
  return TRUE;
}

/* Decides, once @at's pools (and a directory made for the TPM state)
 * are there, how its bytes move; a seed's are made here (dc-seed-vol.c),
 * and an overlay may be written here (dc-overlay-vol.c), both with a
 * volume XML of their own (@own_xml).
 * Says so, and gives it a progress line. */
static gboolean
dc_copy_decide (DcRun *run, DcCopyAttempt *at, char **own_xml, GError **error)
{
  const DcCopy *copy = at->copy;

  if (copy->kind == DC_COPY_KIND_SEED)
    {
      at->bytes =
        dc_seed_vol_bytes (run->src_conn, run->plan, dc_plan_seed_of (run->plan, copy), own_xml, error);
      if (at->bytes == NULL)
        return FALSE;
      at->xml = *own_xml;
    }
  at->local = !at->backup && !run->across && dc_copy_locally (run, copy, &at->prove);
  if (copy->kind == DC_COPY_KIND_OVERLAY || at->local)
    {
      gboolean prove = FALSE;

      *own_xml = dc_overlay_vol_here (run, copy, at->local, &at->capacity, &prove);
      at->prove = at->prove || prove;
      at->here = *own_xml != NULL;
      if (at->here)
        at->xml = *own_xml;
    }
  /* libvirt's copy would convert from the pool's probe; and it copies
   * on one host only: across hosts the bytes are relayed */
  at->stream =
    !at->backup && !at->local && (copy->bytes_only || run->across) && copy->kind == DC_COPY_KIND_FULL;
  g_info ("%s %s: '%s' in pool '%s' to '%s' in pool '%s', %s",
          copy->kind == DC_COPY_KIND_OVERLAY ? "linking" : "copying", copy->what, copy->src_name, copy->pool,
          copy->dst_name, copy->dst_pool,
          copy->kind == DC_COPY_KIND_OVERLAY
            ? (at->here ? "as a qcow2 overlay written here" : "as a qcow2 overlay")
          : copy->kind == DC_COPY_KIND_SEED ? "rewritten for the clone and uploaded through libvirt"
          : at->backup                      ? "by the backup job of the running source"
          : at->local && at->here     ? "by a local copy into a raw volume that libvirt then reads as qcow2"
          : at->local                 ? "by a local copy"
          : at->stream && run->across ? "by a sparse stream from the source's host"
          : at->stream                ? "by a byte stream through libvirt"
                                      : "by libvirt's copy");
  g_debug ("new volume XML:\n%s", at->xml ? at->xml : copy->xml);
  if (at->backup)
    return TRUE; /* the job has one progress line for all its disks */
  at->shown = dc_progress_add (run->progress, copy->what, copy->src_allocation);
  if (!at->local && !at->stream)
    dc_progress_watch_volume (at->shown, copy->dst_pool, copy->dst_name);
  return TRUE;
}

/* A clone reported done must survive a power cut: a local copy was
 * flushed as it was made; libvirt flushed its own raw copies and
 * overlays; what qemu-img convert or a stream upload wrote is flushed
 * here, where this host can see the file (over a remote connection it
 * cannot), this process may open it (see dc_file_sync), and the file
 * here is proven to be libvirt's (see dc-sameness.c). A seed's upload is
 * flushed wherever this host sees its file. */
static gboolean
dc_copy_sync (DcRun *run, const DcCopyAttempt *at, GError **error)
{
  const DcCopy *copy = at->copy;
  g_autofree char *dir = NULL;

  if (!run->local_conn || !g_file_test (at->path, G_FILE_TEST_IS_REGULAR))
    return TRUE;
  if (at->way == DC_COPY_BY_UPLOAD)
    return dc_file_sync (at->path, error);
  /* growing a volume (qemu-img resize, or a truncate) flushes nothing */
  if (!((at->way == DC_COPY_BY_LIBVIRT && !dc_libvirt_copy_syncs (copy)) || at->way == DC_COPY_BY_STREAM
        || at->way == DC_COPY_BY_BACKUP || at->way == DC_COPY_BY_NBD || at->grown))
    return TRUE;
  dir = g_path_get_dirname (at->path);
  if (dc_sameness_of_dir (run, copy->dst_pool, copy->dst_open_dir, dir) == DC_SAME_PROVEN
      && !dc_file_sync (at->path, error))
    return FALSE;
  return TRUE;
}

/* The copy step of a Ceph RBD image: librbd makes it beside the source
 * (dc-rbd.c), a deep copy or a copy-on-write clone of the template's
 * snapshot, on the run's connection to the cluster. It is on the undo
 * stack (and in the <building> marker) before it is made. */
static gboolean
dc_copy_rbd (DcRun *run, const DcCopy *copy, GError **error)
{
  gboolean linked = copy->kind == DC_COPY_KIND_OVERLAY;
  DcCopyWay way = linked ? DC_COPY_BY_RBD_CLONE : DC_COPY_BY_RBD_COPY;
  DcRbdConn *c = dc_env_live_rbd (run->env, copy->rbd, error);
  g_autoptr (GError) local = NULL;
  DcProgressItem *shown;
  gboolean ok;

  if (c == NULL)
    {
      g_prefix_error (error, "cannot clone %s: ", copy->what);
      return FALSE;
    }
  g_info ("%s %s: RBD image '%s' to '%s', reached through %s", linked ? "linking" : "copying", copy->what,
          copy->src_path, copy->dst_path, dc_rbd_conn_how (c));
  shown = dc_progress_add (run->progress, copy->what, copy->src_allocation);
  dc_undo_push (run, DC_UNDO_VOLUME, copy->dst_name, copy->dst_pool, NULL, copy->rbd);
  ok = linked ? dc_rbd_clone (c, copy->rbd, copy->dst_name, &local)
              : dc_rbd_deep_copy (c, copy->rbd, copy->dst_name, dc_progress_counter (shown), &local);
  dc_progress_done (shown);
  if (!ok)
    {
      /* another run's image under that name is not ours to remove */
      if (g_error_matches (local, DC_ERROR, DC_ERROR_VOLUME_EXISTS))
        dc_undo_forget_volume (run, copy->dst_pool, copy->dst_name);
      g_propagate_prefixed_error (error, g_steal_pointer (&local), "cannot clone %s: ", copy->what);
      return FALSE;
    }
  /* a volume of an rbd pool: libvirt lists it once the pool is refreshed */
  if (copy->pool != NULL && !dc_cleanup_refresh_pool (run->conn, copy->pool, error))
    return FALSE;
  g_info ("copied %s: %s", copy->what, dc_copy_way_describe (way));
  return TRUE;
}

/* The copy step: every volume the clone gets (disk, NVRAM, TPM state,
 * seed, overlay, RBD image) is made here, on the run's one undo stack, tried again
 * while a shared temporary pool vanishes under it. With @backup, only
 * made, empty, its path in *@made_path: a backup job fills it
 * (dc_copy_backup()). */
static gboolean
dc_copy_volume_as (DcRun *run, const DcCopy *copy, gboolean backup, char **made_path, GError **error)
{
  DcCopyAttempt at = { .copy = copy, .backup = backup };
  g_autoptr (GBytes) bytes = NULL; /* at.bytes, owned here */
  g_autofree char *own_xml = NULL;
  g_autofree char *path = NULL; /* at.path, once made */
  gboolean ok;

  if (copy->rbd != NULL)
    return dc_copy_rbd (run, copy, error);
  for (int attempt = 1;; attempt++)
    {
      g_autofree char *opened = NULL;
      g_autofree char *made = NULL;
      g_autoptr (GError) err = NULL;

      if (!dc_copy_open_pools (run, copy, &opened, &made, error)
          || (attempt == 1 && !dc_copy_decide (run, &at, &own_xml, error)))
        {
          dc_progress_done (at.shown);
          return FALSE;
        }
      if (attempt == 1)
        bytes = at.bytes;
      at.vanished = at.existed = FALSE;
      /* Recorded before the copy: if the daemon dies during it, the
       * partial volume it leaves is ours to remove. A volume that
       * already exists under the name is not ours: never undo that. */
      dc_undo_push (run, DC_UNDO_VOLUME, copy->dst_name, copy->dst_pool, copy->dst_open_dir, NULL);
      ok = dc_copy_volume_once (run, &at, &err);
      path = g_steal_pointer (&at.path);
      if (ok || !at.vanished || attempt >= DC_POOL_ATTEMPTS)
        dc_progress_done (at.shown);
      if (ok)
        break;
      g_clear_pointer (&path, g_free);
      if (at.vanished || at.existed)
        dc_undo_forget_volume (run, copy->dst_pool, copy->dst_name);
      if (!at.vanished || attempt >= DC_POOL_ATTEMPTS)
        {
          g_propagate_error (error, g_steal_pointer (&err));
          return FALSE;
        }
    }
  if (backup)
    {
      *made_path = g_steal_pointer (&path);
      return TRUE;
    }
  at.path = path;
  if (!dc_copy_sync (run, &at, error))
    return FALSE;
  if (copy->kind == DC_COPY_KIND_SEED)
    g_info ("made %s: '%s' in pool '%s', %zu bytes", copy->what, copy->dst_name, copy->dst_pool,
            g_bytes_get_size (bytes));
  else
    g_info ("copied %s: %s", copy->what, dc_copy_way_describe (at.way));
  return TRUE;
}

static gboolean
dc_copy_volume (DcRun *run, const DcCopy *copy, GError **error)
{
  return dc_copy_volume_as (run, copy, FALSE, NULL, error);
}

/* --live --to of a disk whose new volume is not raw (qcow2): the job
 * exports the guest's view, raw, and an upload writes a volume's file
 * as it is. So the export is streamed into a raw staging volume beside
 * the new one (dc_copy_stage()), which libvirt then converts into the
 * new volume on its host, qemu-img convert, and deletes
 * (dc_copy_convert()). Both are on the undo stack; --cleanup finds a
 * killed run's staging volume by its name (dc_backup_staging_name()). */
static gboolean
dc_copy_staged (const DcRun *run, const DcCopy *copy)
{
  g_autoptr (DcVolInfo) info = NULL;

  if (!run->across)
    return FALSE;
  info = dc_vol_info_from_xml (copy->xml, copy->dst_pool, NULL, NULL);
  return info != NULL && info->format != NULL && !g_str_equal (info->format, "raw");
}

/* Makes @copy's raw staging volume, as big as its new volume, empty,
 * on the undo stack; its path in *@path. */
static gboolean
dc_copy_stage (DcRun *run, const DcCopy *copy, char **path, GError **error)
{
  g_autoptr (DcVolInfo) info = dc_vol_info_from_xml (copy->xml, copy->dst_pool, NULL, error);
  g_autofree char *name = dc_backup_staging_name (copy->dst_name);
  g_autofree char *opened = NULL;
  g_autofree char *made = NULL;
  g_autofree char *xml = NULL;
  g_autoptr (DcPool) pool = NULL;
  g_autoptr (DcVol) vol = NULL;

  if (info == NULL || !dc_copy_open_pools (run, copy, &opened, &made, error))
    return FALSE;
  xml = g_markup_printf_escaped ("<volume>\n  <name>%s</name>\n  <capacity unit='bytes'>%" G_GUINT64_FORMAT
                                 "</capacity>\n  <allocation unit='bytes'>0</allocation>\n"
                                 "  <target>\n    <format type='raw'/>\n  </target>\n</volume>\n",
                                 name, info->capacity);
  g_info (
    "copying %s: '%s' in pool '%s' to '%s' in pool '%s', by the backup job of the running source into the raw staging volume '%s', which libvirt then converts to '%s'",
    copy->what, copy->src_name, copy->pool, copy->dst_name, copy->dst_pool, name, info->format);
  dc_undo_push (run, DC_UNDO_VOLUME, name, copy->dst_pool, copy->dst_open_dir, NULL);
  pool = virStoragePoolLookupByName (run->conn, copy->dst_pool);
  if (pool != NULL)
    {
      dc_batch_create_begin (run->batch);
      vol = virStorageVolCreateXML (pool, xml, 0);
      dc_batch_create_end (run->batch);
    }
  if (vol == NULL)
    {
      /* another run's volume under that name is not ours to remove */
      if (dc_last_libvirt_code () == VIR_ERR_STORAGE_VOL_EXIST)
        dc_undo_forget_volume (run, copy->dst_pool, name);
      return dc_set_libvirt_error (error, "cannot clone %s: cannot make its staging volume '%s' in pool '%s'",
                                   copy->what, name, copy->dst_pool);
    }
  *path = virStorageVolGetPath (vol);
  if (*path == NULL)
    return dc_set_libvirt_error (error, "cannot read the path of volume '%s'", name);
  return TRUE;
}

/* Whether libvirt still takes @copy's staging volume @staging (@name)
 * for raw, the format it converts from: as made, unless a refresh of
 * the pool probed the guest's bytes as another one. */
static gboolean
dc_copy_staging_raw (const DcCopy *copy, virStorageVolPtr staging, const char *name, GError **error)
{
  g_autofree char *xml = staging ? virStorageVolGetXMLDesc (staging, 0) : NULL;
  g_autoptr (DcVolInfo) info = NULL;

  if (xml == NULL)
    return dc_set_libvirt_error (error, "cannot clone %s: cannot read its staging volume '%s' in pool '%s'",
                                 copy->what, name, copy->dst_pool);
  info = dc_vol_info_from_xml (xml, copy->dst_pool, NULL, error);
  if (info == NULL)
    return FALSE;
  if (g_strcmp0 (info->format, "raw") != 0)
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_FAILED,
        "cannot clone %s: libvirt now takes its staging volume '%s' for a '%s' volume, not a raw one",
        copy->what, name, info->format ? info->format : "(none)");
      return FALSE;
    }
  return TRUE;
}

/* Has libvirt convert @copy's filled staging volume into its new
 * volume (@copy's XML; on the undo stack first), then deletes the
 * staging volume; the new volume's path in *@path. */
static gboolean
dc_copy_convert (DcRun *run, const DcCopy *copy, char **path, GError **error)
{
  g_autofree char *name = dc_backup_staging_name (copy->dst_name);
  g_autofree char *opened = NULL;
  g_autofree char *made = NULL;
  g_autoptr (DcPool) pool = NULL;
  g_autoptr (DcVol) staging = NULL;
  g_autoptr (DcVol) dst = NULL;
  gboolean grown = FALSE;

  if (!dc_copy_open_pools (run, copy, &opened, &made, error))
    return FALSE;
  pool = virStoragePoolLookupByName (run->conn, copy->dst_pool);
  staging = pool ? virStorageVolLookupByName (pool, name) : NULL;
  if (!dc_copy_staging_raw (copy, staging, name, error))
    return FALSE;
  dc_undo_push (run, DC_UNDO_VOLUME, copy->dst_name, copy->dst_pool, copy->dst_open_dir, NULL);
  dst = virStorageVolCreateXMLFrom (pool, copy->xml, staging, 0);
  if (dst == NULL)
    {
      /* another run's volume under that name is not ours to remove */
      if (dc_last_libvirt_code () == VIR_ERR_STORAGE_VOL_EXIST)
        dc_undo_forget_volume (run, copy->dst_pool, copy->dst_name);
      return dc_set_libvirt_error (error, "cannot clone %s to '%s' in pool '%s'", copy->what, copy->dst_name,
                                   copy->dst_pool);
    }
  *path = virStorageVolGetPath (dst);
  if (*path == NULL)
    return dc_set_libvirt_error (error, "cannot read the path of volume '%s'", copy->dst_name);
  if (copy->dst_path != NULL && !g_str_equal (*path, copy->dst_path))
    {
      g_set_error (error, DC_ERROR, DC_ERROR_FAILED,
                   "cannot clone %s: pool '%s' put the new volume at '%s', not at '%s'", copy->what,
                   copy->dst_pool, *path, copy->dst_path);
      return FALSE;
    }
  if (!dc_shape_host_grow (dst, copy, &grown, error))
    return FALSE;
  if (virStorageVolDelete (staging, 0) < 0)
    return dc_set_libvirt_error (error, "cannot delete the staging volume '%s' in pool '%s'", name,
                                 copy->dst_pool);
  dc_undo_forget_volume (run, copy->dst_pool, name);
  g_info ("converted %s: staging volume '%s' to '%s' by libvirt, and deleted it", copy->what, name,
          copy->dst_name);
  return TRUE;
}

/* After the backup job filled @copy's new volume at @path: the zeros it
 * wrote for a sparse source's holes punched out again where this process
 * sees the file (see dc-sameness.c; a thick source's clone stays
 * thick), the file flushed, its size read back. */
static gboolean
dc_copy_backup_done (DcRun *run, const DcCopy *copy, char *path, GError **error)
{
  DcCopyAttempt at = {
    .copy = copy, .backup = TRUE, .way = run->across ? DC_COPY_BY_NBD : DC_COPY_BY_BACKUP, .path = path
  };
  g_autofree char *converted = NULL;
  g_autoptr (DcPool) pool = NULL;
  g_autoptr (DcVol) dst = NULL;
  g_autoptr (DcVolInfo) info = dc_vol_info_from_xml (copy->xml, copy->dst_pool, NULL, NULL);
  g_autofree char *dir = NULL;

  if (dc_copy_staged (run, copy))
    {
      if (!dc_copy_convert (run, copy, &converted, error))
        return FALSE;
      at.path = path = converted;
    }
  pool = virStoragePoolLookupByName (run->conn, copy->dst_pool);
  dst = pool ? virStorageVolLookupByName (pool, copy->dst_name) : NULL;
  dir = g_path_get_dirname (path);

  /* across hosts the stream sent the holes as holes already */
  if (!run->across && run->local_conn && info != NULL && info->allocation < info->capacity
      && g_file_test (path, G_FILE_TEST_IS_REGULAR) && g_access (path, W_OK) == 0
      && dc_sameness_of_dir (run, copy->dst_pool, copy->dst_open_dir, dir) == DC_SAME_PROVEN
      && !dc_backup_sparsify (path, error))
    return FALSE;
  if (!dc_copy_sync (run, &at, error))
    return FALSE;
  if (dst != NULL)
    dc_copy_read_back (run, &at, dst);
  g_info ("copied %s: %s", copy->what, dc_copy_way_describe (at.way));
  return TRUE;
}

/* --live --to: the disks a pull-mode job exports, each read over NBD
 * into its new volume on the clone's host by up to --jobs threads. */
typedef struct
{
  DcRun *run;
  GPtrArray *copies;
  const char *socket; /* a source on this host: the exports' UNIX socket */
  const char *host;   /* else over TCP */
  guint port;
  gsize *done;
  gint next; /* the next disk to read, atomic */
  GMutex lock;
  GError *error; /* the first failure, under @lock */
} DcCopyPull;

static gpointer
dc_copy_pull_worker (gpointer data)
{
  DcCopyPull *pull = data;

  for (;;)
    {
      guint i = (guint) g_atomic_int_add (&pull->next, 1);
      const DcCopy *copy = i < pull->copies->len ? pull->copies->pdata[i] : NULL;
      g_autoptr (DcPool) pool = copy ? virStoragePoolLookupByName (pull->run->conn, copy->dst_pool) : NULL;
      /* a qcow2 disk's export goes into its raw staging volume */
      g_autofree char *name = copy == NULL                       ? NULL
                              : dc_copy_staged (pull->run, copy) ? dc_backup_staging_name (copy->dst_name)
                                                                 : g_strdup (copy->dst_name);
      g_autoptr (DcVol) dst = pool ? virStorageVolLookupByName (pool, name) : NULL;
      g_autoptr (GError) error = NULL;
      gboolean failed;

      g_mutex_lock (&pull->lock);
      failed = pull->error != NULL;
      g_mutex_unlock (&pull->lock);
      if (failed || copy == NULL)
        return NULL;
      if (dst == NULL)
        dc_set_libvirt_error (&error, "cannot find the new volume '%s' in pool '%s'", name, copy->dst_pool);
      else if (dc_nbd_to_volume (pull->socket, pull->host, pull->port, copy->dst_name, dst, pull->done,
                                 &error))
        continue;
      g_prefix_error (&error, "cannot clone %s: ", copy->what);
      g_mutex_lock (&pull->lock);
      if (pull->error == NULL)
        pull->error = g_steal_pointer (&error);
      g_mutex_unlock (&pull->lock);
      return NULL;
    }
}

/* The host name a reader here reaches the source's host by: its URI's,
 * or this host for a URI without one */
static char *
dc_copy_source_host (DcRun *run)
{
  g_autofree char *uri = virConnectGetURI (run->src_conn);
  g_autoptr (GUri) parsed = uri ? g_uri_parse (uri, G_URI_FLAGS_NONE, NULL) : NULL;
  const char *host = parsed ? g_uri_get_host (parsed) : NULL;

  return g_strdup (host != NULL && host[0] != '\0' ? host : "localhost");
}

/* --live --to: one pull-mode backup job on the source exports its disks
 * as they were at one instant; they are read over NBD and streamed
 * into the new volumes on the clone's host (dc-nbd.c), then the job
 * ends. A source on this host exports them on a UNIX socket only root
 * and QEMU reach; one elsewhere on a TCP port. */
static gboolean
dc_copy_backup_pull (DcRun *run, GPtrArray *copies, const GPtrArray *targets, gsize *done, GError **error)
{
  g_autofree char *host = dc_copy_source_host (run);
  g_autofree char *socket = NULL;
  DcCopyPull pull = { .run = run, .copies = copies, .host = host, .done = done };
  g_autoptr (GPtrArray) threads = g_ptr_array_new ();
  guint n = MIN (run->jobs, copies->len);
  int was = VIR_DOMAIN_NOSTATE;

  if (dc_connection_is_local (run->src_conn))
    {
      socket = dc_backup_socket (run->src_conn, run->src, run->opts->source, error);
      if (socket == NULL)
        return FALSE;
      pull.socket = socket;
    }
  if (!dc_backup_pull_begin (run->src, run->opts->source, targets, socket, host, run->opts->quiesce,
                             &pull.port, &was, &run->consistency, error))
    return FALSE;
  g_mutex_init (&pull.lock);
  for (guint i = 1; i < n; i++)
    {
      g_autoptr (GError) local = NULL;
      GThread *t = g_thread_try_new ("nbd", dc_copy_pull_worker, &pull, &local);

      if (t == NULL)
        {
          g_debug ("one NBD reader fewer: %s", local->message);
          break;
        }
      g_ptr_array_add (threads, t);
    }
  dc_copy_pull_worker (&pull);
  for (guint i = 0; i < threads->len; i++)
    g_thread_join (threads->pdata[i]);
  g_mutex_clear (&pull.lock);
  /* read or not, the exports are not needed any more */
  dc_backup_pull_end (run->src, run->opts->source, socket, was);
  if (pull.error != NULL)
    {
      g_propagate_error (error, pull.error);
      return FALSE;
    }
  return TRUE;
}

/* The copy step for the disks of a running source (--live): one backup
 * job copies them all at one instant, so they are taken together. Each
 * new volume is made first, as for a shut-off source, on the undo
 * stack; the job goes on it too (rolled back: aborted). On one host the
 * job writes into them (push mode); onto another (--to) it exports the
 * disks, which are streamed across (dc_copy_backup_pull()), a non-raw
 * one through a raw staging volume libvirt then converts
 * (dc_copy_staged()). */
static gboolean
dc_copy_backup (DcRun *run, GPtrArray *copies, GError **error)
{
  g_autoptr (GPtrArray) targets = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_backup_target_free);
  g_autoptr (GPtrArray) paths = g_ptr_array_new_with_free_func (g_free); /* what the undo finds the job by */
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free); /* the new volumes' */
  g_autoptr (GString) what = g_string_new ("backup");
  DcProgressItem *shown;
  guint64 total = 0;
  gboolean ok;

  for (guint i = 0; i < copies->len; i++)
    {
      const DcCopy *copy = copies->pdata[i];
      g_autoptr (DcVolInfo) info = dc_vol_info_from_xml (copy->xml, copy->dst_pool, NULL, NULL);
      DcBackupTarget *t;
      char *path = NULL;

      if (!dc_check_cancelled (error)
          || !(dc_copy_staged (run, copy) ? dc_copy_stage (run, copy, &path, error)
                                          : dc_copy_volume_as (run, copy, TRUE, &path, error)))
        return FALSE;
      /* pull mode: each disk exported under its new volume's name,
       * which a rollback or --cleanup finds the job by */
      t = dc_backup_target_new (copy->disk, run->across ? copy->dst_name : path,
                                info ? info->format : copy->src_format);
      if (run->across)
        t->scratch = g_strdup_printf ("%s.domclone-scratch-%s", copy->src_path, copy->dst_name);
      g_ptr_array_add (targets, t);
      g_ptr_array_add (paths, g_strdup (run->across ? copy->dst_name : path));
      g_ptr_array_add (files, path);
      g_string_append_printf (what, "%s%s", i == 0 ? " " : ",", copy->disk);
      total += info ? info->capacity : copy->src_allocation;
    }
  g_ptr_array_add (paths, NULL);
  dc_undo_push_backup (run, run->opts->source, (char **) paths->pdata);
  shown = dc_progress_add (run->progress, what->str, total);
  ok = run->across ? dc_copy_backup_pull (run, copies, targets, dc_progress_counter (shown), error)
                   : dc_backup_run (run->src, run->opts->source, targets, run->opts->quiesce,
                                    dc_progress_counter (shown), &run->consistency, error);
  dc_progress_done (shown);
  for (guint i = 0; ok && i < copies->len; i++)
    {
      const DcCopy *copy = copies->pdata[i];

      ok = dc_copy_backup_done (run, copy, files->pdata[i], error);
    }
  return ok;
}

/* The copies of one clone, run by up to @run->jobs threads at once
 * (this one included). The first failure stops them from starting
 * more; copies under way end by themselves (libvirt's cannot be cut
 * short), and the caller then rolls back what all of them made. The
 * disks of a running source are one piece of work, their backup job
 * (dc_copy_backup()), taken first. */
typedef struct
{
  DcRun *run;
  GPtrArray *copies;
  GPtrArray *backup; /* DcCopy: the disks the backup job copies, or NULL */
  gint backup_taken; /* atomic */
  gint next;         /* the next copy to start, atomic */
  GMutex lock;
  GError *error; /* the first failure, under @lock */
} DcCopyJobs;

static gpointer
dc_copy_worker (gpointer data)
{
  DcCopyJobs *jobs = data;

  for (;;)
    {
      gboolean backup = jobs->backup != NULL && g_atomic_int_compare_and_exchange (&jobs->backup_taken, 0, 1);
      guint i = backup ? 0 : (guint) g_atomic_int_add (&jobs->next, 1);
      g_autoptr (GError) error = NULL;
      gboolean failed;

      g_mutex_lock (&jobs->lock);
      failed = jobs->error != NULL;
      g_mutex_unlock (&jobs->lock);
      if (failed || (!backup && i >= jobs->copies->len))
        return NULL;
      if (dc_check_cancelled (&error)
          && (backup ? dc_copy_backup (jobs->run, jobs->backup, &error)
                     : dc_copy_volume (jobs->run, jobs->copies->pdata[i], &error)))
        continue;
      g_mutex_lock (&jobs->lock);
      if (jobs->error == NULL)
        jobs->error = g_steal_pointer (&error);
      g_mutex_unlock (&jobs->lock);
      return NULL;
    }
}

/* How many volumes of a clone whose every volume is light may be made
 * at once: libvirtd serves five calls of one connection at once. */
#define DC_COPY_LIGHT_AT_ONCE 4

/* A volume that takes the daemon a moment, not a core: an overlay, a
 * seed, a file of a few MiB (NVRAM, TPM state, an empty disk) */
static gboolean
dc_copy_light (const DcCopy *copy)
{
  return copy->kind == DC_COPY_KIND_OVERLAY || copy->kind == DC_COPY_KIND_SEED
         || copy->src_allocation <= 8 * 1024 * 1024;
}

/* How many copies of @run's clone run at once: @run->jobs (--jobs, else
 * one a core: a copy keeps one busy). When none of @copies is more than
 * a moment's work for the daemon, more at once: each mostly waits for
 * its answers (it creates the file and flushes it to disk), and waits
 * side by side end together (a linked clone of a four-disk template).
 * Not with --jobs, nor while several clones are made at once, which
 * keep the daemon as busy. */
static guint
dc_copy_threads (const DcRun *run, const GPtrArray *copies)
{
  if (run->opts->jobs > 0 || run->several || run->live)
    return run->jobs;
  for (guint i = 0; i < copies->len; i++)
    if (!dc_copy_light (copies->pdata[i]))
      return run->jobs;
  return MAX (run->jobs, DC_COPY_LIGHT_AT_ONCE);
}

gboolean
dc_copy_step_run (DcRun *run, GPtrArray *copies, GError **error)
{
  g_autoptr (GPtrArray) threads = g_ptr_array_new ();
  g_autoptr (GPtrArray) rest = g_ptr_array_new ();
  g_autoptr (GPtrArray) backup = g_ptr_array_new ();
  g_autoptr (GPtrArray) here = dc_overlay_vol_list_new ();
  DcCopyJobs jobs = { .run = run, .copies = copies };
  guint n;

  run->here = here;

  /* a running source's disks: one backup job */
  for (guint i = 0; run->live && i < copies->len; i++)
    {
      const DcCopy *copy = copies->pdata[i];

      g_ptr_array_add (copy->kind == DC_COPY_KIND_FULL && copy->disk != NULL ? backup : rest,
                       copies->pdata[i]);
    }
  if (backup->len > 0)
    {
      jobs.copies = rest;
      jobs.backup = backup;
    }
  n = MIN (dc_copy_threads (run, copies), jobs.copies->len + (jobs.backup ? 1 : 0));
  g_mutex_init (&jobs.lock);
  if (n > 1)
    g_info ("copying %u volumes, %u at a time", copies->len, n);
  for (guint i = 1; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("copy%u", i);
      g_autoptr (GError) local = NULL;
      GThread *t = g_thread_try_new (name, dc_copy_worker, &jobs, &local);

      if (t == NULL)
        {
          g_debug ("one copy thread fewer: %s", local->message);
          break;
        }
      g_ptr_array_add (threads, t);
    }
  dc_copy_worker (&jobs);
  for (guint i = 0; i < threads->len; i++)
    g_thread_join (threads->pdata[i]);
  g_mutex_clear (&jobs.lock);
  if (jobs.error == NULL && here->len > 0)
    dc_overlay_vol_settle (run, &jobs.error);
  run->here = NULL;
  if (jobs.error != NULL)
    {
      g_propagate_error (error, jobs.error);
      return FALSE;
    }
  return TRUE;
}
