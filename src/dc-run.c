/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-run.c: carry out a clone plan.
 *
 * Every change is recorded on one undo stack as it is made; any failure
 * after the first change unwinds the stack, so a clone either completes
 * or leaves nothing behind. The source is only read, except for the
 * counter in its metadata, which is written last.
 */
#include "config.h"

#include "dc-run.h"
#include "dc-env.h"
#include "dc-metadata.h"
#include "dc-xml.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

/* How often a generated name can be lost to a concurrent domclone (or
 * anyone defining domains) before we give up. */
#define DC_RUN_MAX_DEFINE_RACES 100

static volatile sig_atomic_t dc_cancelled_by = 0;

static void
dc_on_signal (int sig)
{
  static const char notice[] =
    "domclone: interrupted; stopping once the step in progress ends (a copy cannot be cut short)\n";

  if (dc_cancelled_by == 0)
    {
      /* write(2) is async-signal-safe; stdio is not */
      ssize_t unused = write (STDERR_FILENO, notice, sizeof (notice) - 1);
      (void) unused;
    }
  dc_cancelled_by = sig;
}

/**
 * dc_cancel_on_signals:
 *
 * Makes SIGINT, SIGTERM and SIGHUP stop the clone at the next step and
 * roll back, instead of killing the process with half a clone made.
 * A libvirt copy in progress cannot be interrupted: it is waited for.
 */
void
dc_cancel_on_signals (void)
{
  struct sigaction sa;

  memset (&sa, 0, sizeof (sa));
  sa.sa_handler = dc_on_signal;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGHUP, &sa, NULL);
  /* a daemon that dies under us must be an error we can roll back
   * from, not a SIGPIPE that kills us half-way (as virsh does) */
  signal (SIGPIPE, SIG_IGN);
}

static gboolean
dc_check_cancelled (GError **error)
{
  int sig = dc_cancelled_by;

  if (sig == 0)
    return TRUE;
  g_set_error (error, DC_ERROR, DC_ERROR_CANCELLED, "interrupted by %s", g_strsignal (sig));
  return FALSE;
}

void
dc_clone_result_free (DcCloneResult *result)
{
  if (result == NULL)
    return;
  g_free (result->source);
  g_free (result->name);
  g_free (result->uuid);
  g_free (result);
}

/* The undo stack: one entry for each thing this run created. */
typedef enum
{
  DC_UNDO_DOMAIN,
  DC_UNDO_VOLUME,
} DcUndoKind;

typedef struct
{
  DcUndoKind kind;
  char *name;     /* domain or volume name */
  char *pool;     /* DC_UNDO_VOLUME: its pool ... */
  char *open_dir; /* ... a temporary one over this directory, if set */
} DcUndo;

static void
dc_undo_free (DcUndo *undo)
{
  g_free (undo->name);
  g_free (undo->pool);
  g_free (undo->open_dir);
  g_free (undo);
}

static void
dc_undo_push (GPtrArray *stack, DcUndoKind kind, const char *name, const char *pool,
              const char *open_dir)
{
  DcUndo *undo = g_new0 (DcUndo, 1);

  undo->kind = kind;
  undo->name = g_strdup (name);
  undo->pool = g_strdup (pool);
  undo->open_dir = g_strdup (open_dir);
  g_ptr_array_add (stack, undo);
}

static gboolean
dc_undo_one (virConnectPtr conn, const DcUndo *undo, GError **error)
{
  if (undo->kind == DC_UNDO_DOMAIN)
    {
      g_autoptr (DcDomain) dom = virDomainLookupByName (conn, undo->name);

      /* our own NVRAM copy is a volume with an undo entry of its own;
       * the TPM state folder is the clone's own: libvirt removes it */
      if (dom == NULL
          || virDomainUndefineFlags (dom, VIR_DOMAIN_UNDEFINE_KEEP_NVRAM) < 0)
        return dc_set_libvirt_error (error, "cannot undefine domain '%s'", undo->name);
    }
  else
    {
      g_autofree char *opened = NULL;
      g_autoptr (DcPool) pool = NULL;
      g_autoptr (DcVol) vol = NULL;
      gboolean ok;

      if (undo->open_dir != NULL && !dc_dir_pool_open (conn, undo->open_dir, &opened, NULL))
        return TRUE; /* its directory is gone, and the volume with it */
      pool = virStoragePoolLookupByName (conn, undo->pool);
      if (pool != NULL)
        virStoragePoolRefresh (pool, 0); /* after a daemon restart, say */
      vol = pool ? virStorageVolLookupByName (pool, undo->name) : NULL;
      if (vol == NULL && pool != NULL && dc_last_libvirt_code () == VIR_ERR_NO_STORAGE_VOL)
        return TRUE; /* the copy failed and libvirt removed what it had made */
      ok = vol != NULL && virStorageVolDelete (vol, 0) == 0;
      if (!ok)
        dc_set_libvirt_error (error, "cannot delete volume '%s' in pool '%s'", undo->name, undo->pool);
      return ok;
    }
  return TRUE;
}

/* Unwinds @stack, newest first. Failures are reported and skipped: the
 * rest still has to go. */
static gboolean
dc_undo_run (virConnectPtr conn, GPtrArray *stack)
{
  gboolean complete = TRUE;

  for (guint i = stack->len; i > 0; i--)
    {
      DcUndo *undo = stack->pdata[i - 1];
      g_autoptr (GError) error = NULL;

      if (!dc_undo_one (conn, undo, &error))
        {
          g_warning ("rollback incomplete: %s; remove it by hand", error->message);
          complete = FALSE;
        }
      else
        g_info ("rolled back: removed %s '%s'", undo->kind == DC_UNDO_DOMAIN ? "domain" : "volume",
                undo->name);
    }
  g_ptr_array_set_size (stack, 0);
  return complete;
}

static const char *
dc_state_name (int state)
{
  switch (state)
    {
    case VIR_DOMAIN_RUNNING:
      return "running";
    case VIR_DOMAIN_BLOCKED:
      return "blocked";
    case VIR_DOMAIN_PAUSED:
      return "paused";
    case VIR_DOMAIN_SHUTDOWN:
      return "shutting down";
    case VIR_DOMAIN_CRASHED:
      return "crashed";
    case VIR_DOMAIN_PMSUSPENDED:
      return "pmsuspended";
    case VIR_DOMAIN_SHUTOFF:
      return "shut off";
    default:
      return "in an unknown state";
    }
}

/* Only a persistent, shut-off domain without a saved memory image has
 * disks that are consistent and not being written. */
static gboolean
dc_check_source (virDomainPtr dom, const char *name, GError **error)
{
  int state = VIR_DOMAIN_NOSTATE;
  int persistent = virDomainIsPersistent (dom);

  if (persistent < 0)
    return dc_set_libvirt_error (error, "cannot read domain '%s'", name);
  if (persistent == 0)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_STATE,
                   "domain '%s' is transient; only a defined (persistent), shut-off domain can be cloned",
                   name);
      return FALSE;
    }
  if (virDomainGetState (dom, &state, NULL, 0) < 0)
    return dc_set_libvirt_error (error, "cannot read the state of domain '%s'", name);
  if (state != VIR_DOMAIN_SHUTOFF)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_STATE,
                   "domain '%s' is %s; shut it down first (virsh shutdown '%s')",
                   name, dc_state_name (state), name);
      return FALSE;
    }
  if (virDomainHasManagedSaveImage (dom, 0) == 1)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_STATE,
                   "domain '%s' is suspended to disk (managed save); start and shut it down, or remove the image with 'virsh managedsave-remove %s'",
                   name, name);
      return FALSE;
    }
  return TRUE;
}

static DcMetadata *
dc_read_metadata (virDomainPtr dom, GError **error)
{
  g_autofree char *xml = virDomainGetMetadata (dom, VIR_DOMAIN_METADATA_ELEMENT, DC_METADATA_URI,
                                               VIR_DOMAIN_AFFECT_CONFIG);

  if (xml == NULL && dc_last_libvirt_code () != VIR_ERR_NO_DOMAIN_METADATA)
    {
      dc_set_libvirt_error (error, "cannot read the domclone metadata of '%s'", virDomainGetName (dom));
      return NULL;
    }
  return dc_metadata_parse (xml, error);
}

static gboolean
dc_write_metadata (virDomainPtr dom, const DcMetadata *md, GError **error)
{
  g_autofree char *xml = dc_metadata_format (md);

  if (virDomainSetMetadata (dom, VIR_DOMAIN_METADATA_ELEMENT, xml, DC_METADATA_PREFIX,
                            DC_METADATA_URI, VIR_DOMAIN_AFFECT_CONFIG) < 0)
    return dc_set_libvirt_error (error, "cannot update the clone counter of '%s'", virDomainGetName (dom));
  return TRUE;
}

/* The highest N of any existing domain called <source>-cloneN. */
static gboolean
dc_highest_clone_number (virConnectPtr conn, const char *source, guint64 *highest, GError **error)
{
  g_autofree char *prefix = g_strdup_printf ("%s-clone", source);
  virDomainPtr *list = NULL;
  int n = virConnectListAllDomains (conn, &list, 0);

  if (n < 0)
    return dc_set_libvirt_error (error, "cannot list domains");
  *highest = 0;
  for (int i = 0; i < n; i++)
    {
      const char *name = virDomainGetName (list[i]);
      guint64 number;

      if (g_str_has_prefix (name, prefix)
          && g_ascii_string_to_unsigned (name + strlen (prefix), 10, 1, G_MAXUINT32, &number, NULL))
        *highest = MAX (*highest, number);
      virDomainFree (list[i]);
    }
  g_free (list);
  return TRUE;
}

/*
 * Counts the clone on the source's counter. libvirt has no atomic
 * update of metadata, so concurrent domclones may overwrite each other's
 * counter with an older value. Each one therefore writes, then reads the
 * counter back and scans the domains again, until the counter is at
 * least its own target and the highest <source>-cloneN that exists. The
 * last write of all is followed by such a scan, which sees every clone
 * defined before it: the counter ends past every number handed out, and
 * no lock (local or remote) is needed.
 */
static gboolean
dc_count_clone (virConnectPtr conn, virDomainPtr src, const DcPlan *plan, guint64 *counter,
                GError **error)
{
  guint64 target = plan->number;

  for (int round = 0; round < 20; round++)
    {
      g_autoptr (DcMetadata) md = dc_read_metadata (src, error);
      guint64 highest = 0;

      if (md == NULL || !dc_highest_clone_number (conn, plan->source_name, &highest, error))
        return FALSE;
      if (target == 0) /* --name: one more than the counter we saw first */
        target = md->counter + 1;
      if (md->counter >= MAX (target, highest))
        {
          *counter = md->counter;
          return TRUE;
        }
      md->counter = MAX (target, highest);
      if (!dc_write_metadata (src, md, error))
        return FALSE;
      g_debug ("counter of '%s' set to %" G_GUINT64_FORMAT, plan->source_name, md->counter);
    }
  g_set_error (error, DC_ERROR, DC_ERROR_FAILED,
               "cannot settle the clone counter of '%s': it keeps changing", plan->source_name);
  return FALSE;
}

/* One attempt at the copy; returns the new volume's path. *@vanished
 * says the (temporary) pool went away under it and another is worth it;
 * *@existed that a volume of that name was there before: not ours. */
static char *
dc_copy_volume_once (virConnectPtr conn, const DcCopy *copy, gboolean *vanished, gboolean *existed,
                     GError **error)
{
  g_autoptr (DcPool) pool = virStoragePoolLookupByName (conn, copy->pool);
  g_autoptr (DcVol) src = pool ? virStorageVolLookupByName (pool, copy->src_name) : NULL;
  g_autoptr (DcPool) dst_pool = src ? virStoragePoolLookupByName (conn, copy->dst_pool) : NULL;
  g_autoptr (DcVol) dst = dst_pool ? virStorageVolCreateXMLFrom (dst_pool, copy->xml, src, 0) : NULL;
  char *path;

  if (dst == NULL)
    {
      /* read the error now: freeing a libvirt object clears it */
      *vanished = (copy->open_dir != NULL || copy->dst_open_dir != NULL) && dc_libvirt_pool_vanished ();
      *existed = dc_last_libvirt_code () == VIR_ERR_STORAGE_VOL_EXIST;
      dc_set_libvirt_error (error, "cannot clone %s to '%s' in pool '%s'", copy->what,
                            copy->dst_name, copy->dst_pool);
      return NULL;
    }
  path = virStorageVolGetPath (dst);
  /* our own dir pool, closed by another domclone just now: the volume is
   * where a dir pool puts it */
  if (path == NULL && copy->dst_open_dir != NULL && dc_libvirt_pool_vanished ())
    return g_strdup (copy->dst_path);
  if (path == NULL)
    {
      dc_set_libvirt_error (error, "cannot read the path of volume '%s'", copy->dst_name);
      /* it exists all the same: return something the undo can work with */
      return g_strdup ("");
    }
  return path;
}

static gboolean
dc_copy_volume (virConnectPtr conn, const DcCopy *copy, GPtrArray *undo, GError **error)
{
  g_autofree char *path = NULL;

  g_info ("copying %s: '%s' in pool '%s' to '%s' in pool '%s'", copy->what, copy->src_name, copy->pool,
          copy->dst_name, copy->dst_pool);
  g_debug ("new volume XML:\n%s", copy->xml);
  for (int attempt = 0; path == NULL; attempt++)
    {
      g_autofree char *opened = NULL;
      g_autofree char *made = NULL;
      g_autoptr (GError) local = NULL;
      gboolean vanished = FALSE;
      gboolean existed = FALSE;

      if (copy->open_dir != NULL && !dc_dir_pool_open (conn, copy->open_dir, &opened, error))
        return FALSE;
      if (copy->dst_open_dir != NULL
          && g_strcmp0 (copy->dst_open_dir, copy->open_dir) != 0
          && !dc_dir_pool_make (conn, copy->dst_open_dir, copy->dst_owner, copy->dst_group, &made, error))
        return FALSE;
      /* Recorded before the copy: if the daemon dies during it, the
       * partial volume it leaves is ours to remove. A volume that
       * already exists under the name is not ours: never undo that. */
      dc_undo_push (undo, DC_UNDO_VOLUME, copy->dst_name, copy->dst_pool, copy->dst_open_dir);
      path = dc_copy_volume_once (conn, copy, &vanished, &existed, &local);
      if (path == NULL && (vanished || existed))
        g_ptr_array_remove_index (undo, undo->len - 1);
      if (local != NULL && (path != NULL || !vanished || attempt + 1 >= DC_DIR_POOL_ATTEMPTS))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
    }

  /* The domain XML names the path the plan expected: make sure libvirt
   * put the volume there. */
  if (copy->dst_path != NULL && !g_str_equal (path, copy->dst_path))
    {
      g_set_error (error, DC_ERROR, DC_ERROR_FAILED,
                   "cannot clone %s: pool '%s' put the new volume at '%s', not at '%s'",
                   copy->what, copy->pool, path, copy->dst_path);
      return FALSE;
    }
  return TRUE;
}

/* /proc/PID/stat's start time (field 22): with the PID and the boot,
 * it names one process, even after the PID is reused. */
static gboolean
dc_process_start_time (guint64 pid, guint64 *start)
{
  g_autofree char *path = g_strdup_printf ("/proc/%" G_GUINT64_FORMAT "/stat", pid);
  g_autofree char *stat = NULL;
  g_auto (GStrv) fields = NULL;
  const char *after;

  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return FALSE;
  after = strrchr (stat, ')'); /* the command name may hold spaces */
  if (after == NULL)
    return FALSE;
  fields = g_strsplit (after + 2, " ", 0);
  /* fields[0] is field 3 (state) */
  return g_strv_length (fields) > 19
         && g_ascii_string_to_unsigned (fields[19], 10, 0, G_MAXUINT64, start, NULL);
}

static char *
dc_boot_id (void)
{
  char *id = NULL;

  if (!g_file_get_contents ("/proc/sys/kernel/random/boot_id", &id, NULL, NULL))
    return g_strdup ("");
  return g_strstrip (id);
}

/**
 * dc_building_self:
 *
 * Returns: (transfer full): the marker that names this process
 */
DcBuilding *
dc_building_self (void)
{
  DcBuilding *b = dc_building_new ();

  b->host = g_strdup (g_get_host_name ());
  b->boot = dc_boot_id ();
  b->pid = (guint64) getpid ();
  if (!dc_process_start_time (b->pid, &b->start))
    b->start = 0;
  return b;
}

typedef enum
{
  DC_BUILDER_ALIVE,
  DC_BUILDER_DEAD,
  DC_BUILDER_UNKNOWN, /* another host: we cannot tell */
} DcBuilderState;

static DcBuilderState
dc_builder_state (const DcBuilding *b)
{
  g_autofree char *boot = dc_boot_id ();
  guint64 start;

  if (g_strcmp0 (b->host, g_get_host_name ()) != 0)
    return DC_BUILDER_UNKNOWN;
  if (g_strcmp0 (b->boot, boot) != 0)
    return DC_BUILDER_DEAD; /* the host rebooted since */
  if (!dc_process_start_time (b->pid, &start) || start != b->start)
    return DC_BUILDER_DEAD;
  return DC_BUILDER_ALIVE;
}

/* Deletes one volume a dead run owned. A volume libvirt is still
 * copying into (the copy goes on after its client died) cannot be
 * deleted yet: wait for it when @wait, else report it busy. */
static gboolean
dc_delete_owned_volume (virConnectPtr conn, const DcOwnedVolume *v, gint64 deadline, gboolean *busy,
                        GError **error)
{
  gboolean said = FALSE;

  for (;;)
    {
      g_autofree char *opened = NULL;
      g_autoptr (DcPool) pool = NULL;
      g_autoptr (DcVol) vol = NULL;

      if (v->open_dir != NULL && !dc_dir_pool_open (conn, v->open_dir, &opened, NULL))
        return TRUE; /* its directory is gone, and the volume with it */
      pool = virStoragePoolLookupByName (conn, v->pool);
      if (pool != NULL)
        virStoragePoolRefresh (pool, 0); /* fails while a copy runs: fine */
      vol = pool ? virStorageVolLookupByName (pool, v->name) : NULL;
      if (vol == NULL)
        {
          if (dc_last_libvirt_code () == VIR_ERR_NO_STORAGE_VOL)
            return TRUE; /* never created, or removed already */
          return dc_set_libvirt_error (error, "cannot look up volume '%s' in pool '%s'", v->name, v->pool);
        }
      if (virStorageVolDelete (vol, 0) == 0)
        return TRUE;
      if (dc_last_libvirt_code () != VIR_ERR_OPERATION_INVALID)
        return dc_set_libvirt_error (error, "cannot delete volume '%s' in pool '%s'", v->name, v->pool);
      if (g_get_monotonic_time () > deadline)
        {
          *busy = TRUE;
          return TRUE;
        }
      if (!dc_check_cancelled (error))
        return FALSE;
      if (!said)
        {
          g_message ("waiting for libvirt to finish copying into '%s', which a killed run left", v->name);
          said = TRUE;
        }
      g_usleep (G_USEC_PER_SEC / 2);
    }
}

/**
 * dc_cleanup:
 * @conn: connection
 * @source: a source domain's name
 * @wait: wait for copies libvirt is still making into leftover volumes
 * @removed: (out): the names of the clones removed
 * @error: return location
 *
 * Removes the clones of @source that a run left unfinished and whose
 * process is gone (killed, or its host rebooted): their volumes, then
 * the domain. A clone still being built by a live process, or by a
 * process on another host, is not touched.
 *
 * Returns: %FALSE with @error set if something could not be removed
 */
gboolean
dc_cleanup (virConnectPtr conn, const char *source, gboolean wait, GPtrArray *removed, GError **error)
{
  virDomainPtr *list = NULL;
  int n = virConnectListAllDomains (conn, &list, VIR_CONNECT_LIST_DOMAINS_PERSISTENT);
  gint64 deadline = g_get_monotonic_time () + (wait ? (gint64) DC_CLEANUP_WAIT_SECONDS * G_USEC_PER_SEC : 0);
  char source_uuid[VIR_UUID_STRING_BUFLEN] = "";
  gboolean ok = TRUE;

  if (n < 0)
    return dc_set_libvirt_error (error, "cannot list domains");
  /* a leftover of another domain that once had the same name is not ours */
  {
    g_autoptr (DcDomain) src = virDomainLookupByName (conn, source);

    if (src != NULL && virDomainGetUUIDString (src, source_uuid) < 0)
      source_uuid[0] = '\0';
  }
  for (int i = 0; i < n; i++)
    {
      g_autoptr (DcDomain) dom = list[i];
      const char *name = virDomainGetName (dom);
      g_autofree char *xml = virDomainGetMetadata (dom, VIR_DOMAIN_METADATA_ELEMENT, DC_METADATA_URI,
                                                   VIR_DOMAIN_AFFECT_CONFIG);
      g_autoptr (DcMetadata) md = xml ? dc_metadata_parse (xml, NULL) : NULL;
      gboolean busy = FALSE;

      if (!ok || md == NULL || md->building == NULL || g_strcmp0 (md->origin_name, source) != 0
          || (source_uuid[0] != '\0' && md->origin_uuid != NULL
              && g_ascii_strcasecmp (md->origin_uuid, source_uuid) != 0))
        continue;
      switch (dc_builder_state (md->building))
        {
        case DC_BUILDER_ALIVE:
          g_info ("'%s' is being built by process %" G_GUINT64_FORMAT "; not touched", name,
                  md->building->pid);
          continue;
        case DC_BUILDER_UNKNOWN:
          g_info ("'%s' is being built on host '%s'; not touched", name, md->building->host);
          continue;
        case DC_BUILDER_DEAD:
          break;
        }

      g_info ("removing '%s', left unfinished by process %" G_GUINT64_FORMAT, name, md->building->pid);
      for (guint j = 0; ok && j < md->building->volumes->len; j++)
        ok = dc_delete_owned_volume (conn, md->building->volumes->pdata[j], deadline, &busy, error);
      if (ok && busy && wait)
        {
          g_set_error (error, DC_ERROR, DC_ERROR_FAILED,
                       "libvirt is still copying into a volume of '%s' after %d minutes; run 'domclone --cleanup %s' again later",
                       name, DC_CLEANUP_WAIT_SECONDS / 60, source);
          ok = FALSE;
        }
      else if (ok && busy)
        {
          g_warning ("'%s' was left by a killed run and libvirt is still copying into it; 'domclone --cleanup %s' removes it once the copy ends",
                     name, source);
          continue;
        }
      if (ok && virDomainUndefineFlags (dom, VIR_DOMAIN_UNDEFINE_KEEP_NVRAM) < 0
          && dc_last_libvirt_code () != VIR_ERR_NO_DOMAIN)
        ok = dc_set_libvirt_error (error, "cannot undefine '%s'", name);
      if (ok)
        g_ptr_array_add (removed, g_strdup (name));
    }
  g_free (list);
  dc_dir_pools_close (conn);
  return ok;
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
      virConnectPtr again = virConnectOpenAuth (uri, virConnectAuthPtrDefault, 0);

      if (again != NULL)
        return again;
      g_usleep (G_USEC_PER_SEC / 4);
    }
  return NULL;
}

static char *
dc_now (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();

  return g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
}

/* The part of dc_clone that makes changes; on failure the caller unwinds
 * @undo. */
static gboolean
dc_clone_steps (virConnectPtr conn, virDomainPtr src, DcEnv *env, const DcCloneOptions *opts,
                GRand *rand, const char *source_xml, guint64 counter, GPtrArray *undo,
                DcCloneResult *result, GError **error)
{
  g_autofree char *now = dc_now ();
  g_autoptr (DcBuilding) me = dc_building_self ();
  DcPlanOptions popts = {
    .source_xml = source_xml,
    .name = opts->name,
    .first_number = (guint) MIN (counter + 1, G_MAXUINT),
    .now = now,
    .rand = rand,
    .building = me,
  };
  g_autoptr (DcPlan) plan = NULL;
  g_autoptr (DcDomain) clone = NULL;

  /* Claim the name first: defining is an atomic test-and-set on it in
   * libvirt, so two domclones never end up with the same clone, on this
   * host or over a remote connection. */
  for (int races = 0; clone == NULL; races++)
    {
      g_autoptr (GError) local = NULL;
      gboolean taken = FALSE;

      g_clear_pointer (&plan, dc_plan_free);
      plan = dc_plan_new (env, &popts, error);
      if (plan == NULL)
        return FALSE;
      {
        g_autofree char *summary = dc_plan_describe (plan);
        g_info ("plan:\n%s", summary);
        g_debug ("clone XML:\n%s", plan->xml);
      }
      if (!dc_check_cancelled (error))
        return FALSE;

      clone = virDomainDefineXML (conn, plan->xml);
      if (clone != NULL)
        break;
      dc_set_libvirt_error (&local, "cannot define domain '%s'", plan->name);
      if (plan->number == 0 || races >= DC_RUN_MAX_DEFINE_RACES
          || !env->domain_exists (env, plan->name, &taken, NULL) || !taken)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      g_info ("'%s' was taken meanwhile, trying the next number", plan->name);
      popts.first_number = plan->number + 1;
    }
  dc_undo_push (undo, DC_UNDO_DOMAIN, plan->name, NULL, NULL);

  for (guint i = 0; i < plan->copies->len; i++)
    {
      if (!dc_check_cancelled (error))
        return FALSE;
      if (!dc_copy_volume (conn, plan->copies->pdata[i], undo, error))
        return FALSE;
    }

  /* Nothing must have started the source while its disks were read. */
  if (!dc_check_cancelled (error) || !dc_check_source (src, plan->source_name, error))
    return FALSE;
  /* The clone is complete: drop the marker that would let a clean-up
   * take it for the leftover of a killed run. */
  if (virDomainSetMetadata (clone, VIR_DOMAIN_METADATA_ELEMENT, plan->metadata, DC_METADATA_PREFIX,
                            DC_METADATA_URI, VIR_DOMAIN_AFFECT_CONFIG) < 0)
    return dc_set_libvirt_error (error, "cannot mark clone '%s' as complete", plan->name);
  if (!dc_count_clone (conn, src, plan, &result->counter, error))
    return FALSE;

  result->name = g_strdup (plan->name);
  result->uuid = g_strdup (plan->uuid);
  return TRUE;
}

/**
 * dc_clone:
 * @conn: libvirt connection
 * @opts: what to clone
 * @error: return location
 *
 * Clones a shut-off domain: defines the clone, copies its writable
 * volumes and NVRAM, counts the clone on the source. On failure nothing
 * this call created remains.
 *
 * Returns: (transfer full): the result, or %NULL with @error set
 */
DcCloneResult *
dc_clone (virConnectPtr conn, const DcCloneOptions *opts, GError **error)
{
  g_autoptr (DcCloneResult) result = g_new0 (DcCloneResult, 1);
  g_autoptr (DcDomain) src = NULL;
  g_autoptr (DcMetadata) md = NULL;
  g_autoptr (GPtrArray) undo = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_undo_free);
  g_autoptr (GRand) own_rand = NULL;
  g_autofree char *xml = NULL;
  g_autoptr (GError) local = NULL;
  DcEnv *env;
  gboolean ok;

  src = virDomainLookupByName (conn, opts->source);
  if (src == NULL)
    {
      g_autofree char *shown = g_strescape (opts->source, NULL);

      if (dc_last_libvirt_code () == VIR_ERR_NO_DOMAIN)
        g_set_error (error, DC_ERROR, DC_ERROR_NOT_FOUND,
                     "domain '%s' not found; 'virsh list --all' shows the domains", shown);
      else
        dc_set_libvirt_error (error, "cannot look up domain '%s'", shown);
      return NULL;
    }
  if (!dc_check_source (src, opts->source, error))
    return NULL;

  xml = virDomainGetXMLDesc (src, VIR_DOMAIN_XML_SECURE | VIR_DOMAIN_XML_INACTIVE);
  if (xml == NULL)
    {
      dc_set_libvirt_error (error, "cannot read the XML of domain '%s'", opts->source);
      return NULL;
    }
  md = dc_read_metadata (src, error);
  if (md == NULL)
    return NULL;

  /* Leftovers of killed runs against this source go first: they hold
   * names and space. One still being copied by libvirt is left for
   * later, with a warning. */
  {
    g_autoptr (GPtrArray) removed = g_ptr_array_new_with_free_func (g_free);
    g_autoptr (GError) local_cleanup = NULL;

    if (!dc_cleanup (conn, opts->source, FALSE, removed, &local_cleanup))
      g_warning ("cannot remove the leftovers of an earlier run: %s", local_cleanup->message);
    for (guint i = 0; i < removed->len; i++)
      g_message ("removed '%s', left unfinished by a killed run", (const char *) removed->pdata[i]);
  }

  result->source = g_strdup (opts->source);
  if (opts->rand == NULL)
    own_rand = g_rand_new ();

  env = dc_env_live_new (conn);
  ok = dc_clone_steps (conn, src, env, opts, opts->rand ? opts->rand : own_rand, xml,
                       md->counter, undo, result, &local);
  dc_env_live_free (env);
  if (!ok && undo->len > 0)
    {
      g_autofree char *cause = g_steal_pointer (&local->message);
      g_autoptr (DcConnect) again = dc_reconnect_if_lost (conn);
      gboolean complete = FALSE;

      if (virConnectIsAlive (conn) == 1 || again != NULL)
        complete = dc_undo_run (again ? again : conn, undo);
      if (again != NULL)
        dc_dir_pools_close (again);
      if (complete)
        local->message = g_strdup_printf ("%s; everything this run created was removed", cause);
      else if (virConnectIsAlive (conn) != 1 && again == NULL)
        local->message = g_strdup_printf ("%s; the connection to libvirt is lost: once it is back, 'domclone --cleanup %s' removes the partial clone",
                                          cause, opts->source);
      else
        local->message = g_strdup_printf ("%s; the rollback was incomplete (see the warnings above)", cause);
    }
  if (virConnectIsAlive (conn) == 1)
    dc_dir_pools_close (conn);
  if (!ok)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  return g_steal_pointer (&result);
}
