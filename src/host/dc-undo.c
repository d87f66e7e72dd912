/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-undo.c: the run's one undo stack. Every change a run makes is
 * pushed here as it is made; any failure after the first change unwinds
 * the stack (dc_undo_rollback), so a clone either completes or leaves
 * nothing behind.
 */
#include "config.h"

#include "dc-undo.h"
#include "dc-backup.h"
#include "dc-cleanup.h"
#include "dc-pool.h"
#include "dc-rbd.h"

void
dc_undo_free (DcUndo *undo)
{
  g_strfreev (undo->paths);
  g_free (undo->name);
  g_free (undo->pool);
  g_free (undo->open_dir);
  dc_rbd_source_free (undo->rbd);
  g_free (undo);
}

void
dc_undo_push (DcRun *run, DcUndoKind kind, const char *name, const char *pool, const char *open_dir,
              const DcRbdSource *rbd)
{
  DcUndo *undo = g_new0 (DcUndo, 1);

  undo->rbd = rbd ? dc_rbd_source_copy (rbd, name) : NULL;
  undo->kind = kind;
  undo->name = g_strdup (name);
  undo->pool = g_strdup (pool);
  undo->open_dir = g_strdup (open_dir);
  g_mutex_lock (&run->undo_lock);
  g_ptr_array_add (run->undo, undo);
  g_mutex_unlock (&run->undo_lock);
}

/* The backup job about to start on @source, writing into @paths: a
 * rollback ends it if it still runs. */
void
dc_undo_push_backup (DcRun *run, const char *source, char **paths)
{
  DcUndo *undo = g_new0 (DcUndo, 1);

  undo->kind = DC_UNDO_BACKUP;
  undo->name = g_strdup (source);
  undo->paths = g_strdupv (paths);
  g_mutex_lock (&run->undo_lock);
  g_ptr_array_add (run->undo, undo);
  g_mutex_unlock (&run->undo_lock);
}

/**
 * dc_undo_make_dir:
 * @run: a run
 * @dir: a directory on the clone's host, made (with its parents) if
 *   missing, as dc_pool_make_dir() makes it
 * @owner: (nullable): its owner if made
 * @group: (nullable): its group if made
 * @name: (out): the temporary pool's name over it
 * @error: return location
 *
 * dc_pool_make_dir(), with each directory it is about to make pushed
 * first (outermost first, so the rollback removes the innermost first):
 * a rollback removes what this run made, and never a directory that was
 * there before.
 *
 * Returns: %FALSE with @error set if the pool cannot be had
 */
gboolean
dc_undo_make_dir (DcRun *run, const char *dir, const char *owner, const char *group, char **name,
                  GError **error)
{
  g_autoptr (GPtrArray) missing = dc_pool_missing_dirs (run->conn, dir);

  g_mutex_lock (&run->undo_lock);
  for (guint i = 0; i < missing->len; i++)
    {
      gboolean known = FALSE;

      /* two copies into one new directory: one entry */
      for (guint j = 0; j < run->undo->len && !known; j++)
        known = ((DcUndo *) run->undo->pdata[j])->kind == DC_UNDO_DIR
                && g_str_equal (((DcUndo *) run->undo->pdata[j])->name, missing->pdata[i]);
      if (!known)
        {
          DcUndo *undo = g_new0 (DcUndo, 1);

          undo->kind = DC_UNDO_DIR;
          undo->name = g_strdup (missing->pdata[i]);
          g_ptr_array_add (run->undo, undo);
        }
    }
  g_mutex_unlock (&run->undo_lock);
  return dc_pool_make_dir (run->conn, dir, owner, group, name, error);
}

/* Forgets the volume entry for @name: the copy found a volume of that
 * name already there, which is not ours to remove. */
void
dc_undo_forget_volume (DcRun *run, const char *pool, const char *name)
{
  g_mutex_lock (&run->undo_lock);
  for (guint i = run->undo->len; i > 0; i--)
    {
      DcUndo *undo = run->undo->pdata[i - 1];

      if (undo->kind == DC_UNDO_VOLUME && g_str_equal (undo->name, name) && g_str_equal (undo->pool, pool))
        {
          g_ptr_array_remove_index (run->undo, i - 1);
          break;
        }
    }
  g_mutex_unlock (&run->undo_lock);
}

static gboolean
dc_undo_one (virConnectPtr conn, const DcUndo *undo, GError **error)
{
  gboolean busy = FALSE;

  if (undo->kind == DC_UNDO_BACKUP)
    return dc_backup_end (conn, undo->name, (const char *const *) undo->paths, error);
  if (undo->kind == DC_UNDO_DIR)
    {
      /* libvirt lists a directory as a volume of the pool over its
       * parent, and deletes it only when it is empty */
      g_autofree char *parent = g_path_get_dirname (undo->name);
      g_autofree char *base = g_path_get_basename (undo->name);
      g_autofree char *pool = dc_plan_dir_pool_name (parent);

      return dc_cleanup_remove_volume (conn, pool, base, parent, 0, &busy, error);
    }
  if (undo->kind == DC_UNDO_DOMAIN)
    {
      g_autoptr (DcDomain) dom = virDomainLookupByName (conn, undo->name);

      if (dom == NULL && dc_last_libvirt_code () == VIR_ERR_NO_DOMAIN)
        return TRUE; /* undefined by someone else meanwhile */
      if (dom == NULL)
        return dc_set_libvirt_error (error, "cannot find domain '%s' to undefine it", undo->name);
      return dc_cleanup_undefine_domain (dom, undo->name, error);
    }
  if (undo->rbd != NULL)
    return dc_cleanup_remove_rbd (conn, undo->pool, undo->rbd, error);
  if (!dc_cleanup_remove_volume (conn, undo->pool, undo->name, undo->open_dir, 0, &busy, error))
    return FALSE;
  if (busy)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_FAILED,
                   "cannot delete volume '%s' in pool '%s': libvirt is still copying into it", undo->name,
                   undo->pool);
      return FALSE;
    }
  return TRUE;
}

/* Unwinds the undo stack on @conn, newest first. Failures are reported
 * and skipped: the rest still has to go. The clone's domain, the oldest
 * entry, carries the <building> marker that lists its volumes: while
 * one of them may still exist (libvirt still copies into it, or its
 * delete failed), the domain stays, so that 'domclone --cleanup' finds
 * and finishes it once this process is gone; *@kept says so. */
static gboolean
dc_undo_unwind (DcRun *run, virConnectPtr conn, gboolean *kept)
{
  gboolean complete = TRUE;
  gboolean marked_gone = TRUE; /* what the domain's marker lists */

  *kept = FALSE;
  g_mutex_lock (&run->undo_lock);
  for (guint i = run->undo->len; i > 0; i--)
    {
      DcUndo *undo = run->undo->pdata[i - 1];
      g_autoptr (GError) error = NULL;

      if (undo->kind == DC_UNDO_DOMAIN && !marked_gone)
        {
          g_info ("kept domain '%s': its marker lists volumes that are still there", undo->name);
          *kept = TRUE;
          continue;
        }
      /* --to: the backup job runs on the source's host */
      if (!dc_undo_one (undo->kind == DC_UNDO_BACKUP && run->across ? run->src_conn : conn, undo, &error))
        {
          g_warning ("rollback incomplete: %s", error->message);
          complete = FALSE;
          marked_gone = marked_gone && undo->kind == DC_UNDO_DIR;
        }
      else if (undo->kind != DC_UNDO_BACKUP)
        g_info ("rolled back: removed %s '%s'",
                undo->kind == DC_UNDO_DOMAIN ? "domain"
                : undo->kind == DC_UNDO_DIR  ? "directory"
                                             : "volume",
                undo->name);
    }
  g_ptr_array_set_size (run->undo, 0);
  g_mutex_unlock (&run->undo_lock);
  return complete;
}

/* After the daemon went away mid-clone (restarted, say), a new
 * connection to the same URI, so the rollback can still happen. NULL
 * when the connection is fine or cannot be had within a while. */
static virConnectPtr
dc_reconnect_if_lost (virConnectPtr conn)
{
  g_autofree char *uri = NULL;

  if (virConnectIsAlive (conn) == 1)
    return NULL;
  uri = virConnectGetURI (conn);
  if (uri == NULL)
    return NULL;
  g_message ("lost the connection to libvirt; reconnecting to '%s' to roll back", uri);
  for (int i = 0; i < DC_RECONNECT_SECONDS * 4; i++)
    {
      virConnectPtr again = virConnectOpenAuth (uri, dc_connect_auth (), 0);

      if (again != NULL)
        return again;
      g_usleep (G_USEC_PER_SEC / 4);
    }
  return NULL;
}

/* Undoes what the run made after @error ended it, on a new connection if
 * the daemon went away meanwhile, and says in @error how that went. */
void
dc_undo_rollback (DcRun *run, GError *error)
{
  g_autofree char *cause = g_steal_pointer (&error->message);
  /* the domain is defined first: the oldest entry names the clone */
  g_autofree char *clone = g_strdup (((DcUndo *) run->undo->pdata[0])->name);
  g_autoptr (DcConnect) again = dc_reconnect_if_lost (run->conn);
  gboolean alive = virConnectIsAlive (run->conn) == 1;
  gboolean complete = FALSE;
  gboolean kept = FALSE;

  if (alive || again != NULL)
    complete = dc_undo_unwind (run, again ? again : run->conn, &kept);
  if (again != NULL)
    dc_pool_close_dirs (again);
  if (kept)
    error->message = g_strdup_printf (
      "%s; the rollback could not delete every volume (see the warnings above), so the unfinished clone '%s' is kept: run 'domclone --cleanup %s' to remove it and its volumes (it waits for libvirt's copies to end)",
      cause, clone, run->opts->source);
  else if (complete && run->several)
    error->message = g_strdup_printf ("%s; everything made for '%s' was removed", cause, clone);
  else if (complete)
    error->message = g_strdup_printf ("%s; everything this run created was removed", cause);
  else if (!alive && again == NULL)
    error->message = g_strdup_printf (
      "%s; the connection to libvirt is lost: once it is back, 'domclone --cleanup %s' removes the partial clone",
      cause, run->opts->source);
  else
    error->message = g_strdup_printf ("%s; the rollback was incomplete (see the warnings above)", cause);
}
