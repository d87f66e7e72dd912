/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-copy-step.c: the copy step. Every volume a clone gets (disk,
 * NVRAM, TPM state, seed, overlay) is made here, on the run's one undo
 * stack: the way its bytes move is chosen (libvirt's copy, a local
 * copy, a stream, an upload), tried again while a shared temporary pool
 * vanishes under it, and the copies run on up to --jobs threads.
 */
#include "config.h"

#include "dc-copy-step.h"
#include "dc-undo.h"
#include "dc-sameness.h"
#include "dc-copy.h"
#include "dc-vol-io.h"
#include "dc-seed-vol.h"
#include "dc-pool.h"
#include "dc-cleanup.h"
#include "dc-env.h"
#include "dc-rbd.h"

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
  const char *xml;       /* the new volume's XML, @copy's unless set */
  DcProgressItem *shown; /* its progress line, or NULL */
  /* what came of it */
  char *path;        /* the new volume's path */
  DcCopyWay way;     /* how its bytes were moved */
  gboolean vanished; /* the (temporary) pool went away under it:
                       * another attempt is worth it */
  gboolean existed;  /* a volume of that name was there before: not
                       * ours */
} DcCopyAttempt;

/* Creates the new volume of @at; %NULL with @error set on failure. */
static virStorageVolPtr
dc_copy_create (DcRun *run, DcCopyAttempt *at, virStorageVolPtr src, GError **error)
{
  const DcCopy *copy = at->copy;
  g_autoptr (DcPool) dst_pool = src ? virStoragePoolLookupByName (run->conn, copy->dst_pool) : NULL;
  virStorageVolPtr dst = NULL;

  /* an overlay is made empty, its backing store named in its XML; a
   * seed's and a local or streamed copy's are filled afterwards */
  if (dst_pool != NULL)
    dst = at->local || at->stream || at->bytes != NULL || copy->kind == DC_COPY_KIND_OVERLAY
            ? virStorageVolCreateXML (dst_pool, at->xml ? at->xml : copy->xml, 0)
            : virStorageVolCreateXMLFrom (dst_pool, copy->xml, src, 0);
  if (dst == NULL)
    {
      /* read the error now: freeing a libvirt object clears it */
      at->vanished = (copy->open_dir != NULL || copy->dst_open_dir != NULL) && dc_pool_vanished ();
      at->existed = dc_last_libvirt_code () == VIR_ERR_STORAGE_VOL_EXIST;
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

  at->way = DC_COPY_BY_LIBVIRT;
  if (at->local && !dc_copy_file (copy->src_path, at->path, &at->way, dc_progress_counter (at->shown), error))
    {
      g_prefix_error (error, "cannot clone %s: ", copy->what);
      return FALSE;
    }
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
   * allocation anew; the result may want them too */
  if (!at->local && !at->stream && at->bytes == NULL && run->made == NULL)
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

/* One attempt at the copy step @at: libvirt copies, or creates the
 * volume and it is filled (dc_copy_fill). On failure @at says whether
 * the pool vanished or the volume existed. */
static gboolean
dc_copy_volume_once (DcRun *run, DcCopyAttempt *at, GError **error)
{
  const DcCopy *copy = at->copy;
  g_autoptr (DcPool) pool = virStoragePoolLookupByName (run->src_conn, copy->pool);
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
  if (!dc_copy_fill (run, at, src, dst, error))
    return FALSE;
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
      && !dc_pool_make_dir (run->conn, copy->dst_open_dir, copy->dst_owner, copy->dst_group, made, error))
    return FALSE;
  return TRUE;
}

/* Whether this process copies @copy's bytes itself (see dc-copy.c):
 * it can, and the directories of the source and of the new volume are
 * proven to be the daemon's (see dc-sameness.c) */
static gboolean
dc_copy_locally (DcRun *run, const DcCopy *copy)
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
 * are there, how its bytes move; a seed's are made here (dc-seed-vol.c).
 * Says so, and gives it a progress line. */
static gboolean
dc_copy_decide (DcRun *run, DcCopyAttempt *at, char **seed_xml, GError **error)
{
  const DcCopy *copy = at->copy;

  if (copy->kind == DC_COPY_KIND_SEED)
    {
      at->bytes =
        dc_seed_vol_bytes (run->src_conn, run->plan, dc_plan_seed_of (run->plan, copy), seed_xml, error);
      if (at->bytes == NULL)
        return FALSE;
      at->xml = *seed_xml;
    }
  at->local = !run->across && dc_copy_locally (run, copy);
  /* libvirt's copy would convert from the pool's probe; and it copies
   * on one host only: across hosts the bytes are relayed */
  at->stream = !at->local && (copy->bytes_only || run->across) && copy->kind == DC_COPY_KIND_FULL;
  g_info ("%s %s: '%s' in pool '%s' to '%s' in pool '%s', %s",
          copy->kind == DC_COPY_KIND_OVERLAY ? "linking" : "copying", copy->what, copy->src_name, copy->pool,
          copy->dst_name, copy->dst_pool,
          copy->kind == DC_COPY_KIND_OVERLAY ? "as a qcow2 overlay"
          : copy->kind == DC_COPY_KIND_SEED  ? "rewritten for the clone and uploaded through libvirt"
          : at->local                        ? "by a local copy"
          : at->stream && run->across        ? "by a sparse stream from the source's host"
          : at->stream                       ? "by a byte stream through libvirt"
                                             : "by libvirt's copy");
  g_debug ("new volume XML:\n%s", at->xml ? at->xml : copy->xml);
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
  if (!((at->way == DC_COPY_BY_LIBVIRT && !dc_libvirt_copy_syncs (copy)) || at->way == DC_COPY_BY_STREAM))
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
 * seed, overlay, RBD image) is made here, on the run's one undo stack,
 * tried again while a shared temporary pool vanishes under it. */
static gboolean
dc_copy_volume (DcRun *run, const DcCopy *copy, GError **error)
{
  DcCopyAttempt at = { .copy = copy };
  g_autoptr (GBytes) bytes = NULL; /* at.bytes, owned here */
  g_autofree char *seed_xml = NULL;
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
          || (attempt == 1 && !dc_copy_decide (run, &at, &seed_xml, error)))
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

/* The copies of one clone, run by up to @run->jobs threads at once
 * (this one included). The first failure stops them from starting
 * more; copies under way end by themselves (libvirt's cannot be cut
 * short), and the caller then rolls back what all of them made. */
typedef struct
{
  DcRun *run;
  GPtrArray *copies;
  gint next; /* the next copy to start, atomic */
  GMutex lock;
  GError *error; /* the first failure, under @lock */
} DcCopyJobs;

static gpointer
dc_copy_worker (gpointer data)
{
  DcCopyJobs *jobs = data;

  for (;;)
    {
      guint i = (guint) g_atomic_int_add (&jobs->next, 1);
      g_autoptr (GError) error = NULL;
      gboolean failed;

      g_mutex_lock (&jobs->lock);
      failed = jobs->error != NULL;
      g_mutex_unlock (&jobs->lock);
      if (failed || i >= jobs->copies->len)
        return NULL;
      if (dc_check_cancelled (&error) && dc_copy_volume (jobs->run, jobs->copies->pdata[i], &error))
        continue;
      g_mutex_lock (&jobs->lock);
      if (jobs->error == NULL)
        jobs->error = g_steal_pointer (&error);
      g_mutex_unlock (&jobs->lock);
      return NULL;
    }
}

gboolean
dc_copy_step_run (DcRun *run, GPtrArray *copies, GError **error)
{
  guint n = MIN (run->jobs, copies->len);
  g_autoptr (GPtrArray) threads = g_ptr_array_new ();
  DcCopyJobs jobs = { .run = run, .copies = copies };

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
  if (jobs.error != NULL)
    {
      g_propagate_error (error, jobs.error);
      return FALSE;
    }
  return TRUE;
}
