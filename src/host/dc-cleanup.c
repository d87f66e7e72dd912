/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-cleanup.c: removing what a clone made, for the rollback of a
 * failed run and for the leftovers of runs that were killed.
 *
 * A clone is defined first, marked with a <building> element in its
 * domclone metadata that names the process making it and the volumes it
 * will own. A run killed by SIGKILL, a crash or a reboot leaves that
 * mark; dc_cleanup() finds such clones of a source whose process is
 * gone and removes them with the same two helpers the rollback uses.
 */
#include "config.h"

#include "dc-cleanup.h"
#include "dc-backup.h"
#include "dc-env.h"
#include "dc-pool.h"
#include "dc-rbd.h"

#include <unistd.h>

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
 * dc_cleanup_building_self:
 *
 * Returns: (transfer full): the marker that names this process
 */
DcBuilding *
dc_cleanup_building_self (void)
{
  DcBuilding *b = dc_building_new ();

  b->host = g_strdup (g_get_host_name ());
  b->boot = dc_boot_id ();
  b->pid = (guint64) getpid ();
  if (!dc_process_start_time (b->pid, &b->start))
    b->start = 0;
  return b;
}

/**
 * dc_cleanup_builder_state:
 * @b: a <building> marker
 *
 * Returns: whether the process that wrote @b still runs
 */
DcBuilderState
dc_cleanup_builder_state (const DcBuilding *b)
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

/**
 * dc_cleanup_remove_volume:
 * @conn: connection
 * @pool: the volume's pool
 * @name: the volume's name
 * @open_dir: (nullable): @pool is a temporary pool over this directory,
 *   opened for the removal
 * @deadline: monotonic time until which a volume libvirt is still
 *   building is waited for (the copy goes on after its client died);
 *   0 waits not at all
 * @busy: (out): set when the volume was still being built at @deadline,
 *   and is left as it is
 * @error: return location
 *
 * Deletes a volume this process or a killed run made. One that is not
 * there (never made, or removed by libvirt when its copy failed) counts
 * as removed; so does one whose directory is gone.
 *
 * Returns: %FALSE with @error set if the volume could not be removed
 */
gboolean
dc_cleanup_remove_volume (virConnectPtr conn, const char *pool_name, const char *name, const char *open_dir,
                          gint64 deadline, gboolean *busy, GError **error)
{
  gboolean said = FALSE;

  *busy = FALSE;
  for (;;)
    {
      g_autofree char *opened = NULL;
      g_autoptr (GError) local = NULL;
      g_autoptr (DcPool) pool = NULL;
      g_autoptr (DcVol) vol = NULL;

      if (open_dir != NULL && !dc_pool_open_dir (conn, open_dir, &opened, &local))
        {
          if (g_error_matches (local, DC_ERROR, DC_ERROR_NOT_FOUND))
            return TRUE; /* its directory is gone, and the volume with it */
          g_set_error (error, DC_ERROR, DC_ERROR_LIBVIRT, "cannot remove volume '%s' in '%s': %s", name,
                       open_dir, local->message);
          return FALSE;
        }
      pool = virStoragePoolLookupByName (conn, pool_name);
      if (pool == NULL)
        return dc_set_libvirt_error (error, "cannot remove volume '%s': cannot find its storage pool '%s'",
                                     name, pool_name);
      /* after a daemon restart the pool's list is stale; libvirt refuses
       * while a copy runs in the pool, and then the list is current */
      if (virStoragePoolRefresh (pool, 0) < 0)
        g_debug ("storage pool '%s' not refreshed: %s", pool_name, virGetLastErrorMessage ());
      vol = virStorageVolLookupByName (pool, name);
      if (vol == NULL)
        {
          if (dc_last_libvirt_code () == VIR_ERR_NO_STORAGE_VOL)
            return TRUE;
          return dc_set_libvirt_error (error, "cannot look up volume '%s' in pool '%s'", name, pool_name);
        }
      if (virStorageVolDelete (vol, 0) == 0)
        return TRUE;
      if (dc_last_libvirt_code () != VIR_ERR_OPERATION_INVALID)
        return dc_set_libvirt_error (error, "cannot delete volume '%s' in pool '%s'", name, pool_name);
      if (g_get_monotonic_time () >= deadline)
        {
          *busy = TRUE;
          return TRUE;
        }
      if (!dc_check_cancelled (error))
        return FALSE;
      if (!said)
        {
          g_message ("waiting for libvirt to finish copying into '%s', which a killed run left", name);
          said = TRUE;
        }
      g_usleep (G_USEC_PER_SEC / 2);
    }
}

/**
 * dc_cleanup_refresh_pool:
 * @conn: connection
 * @pool: a storage pool whose volumes librbd changed behind libvirt
 * @error: return location
 *
 * Refreshes @pool, so that libvirt lists what is there now.
 *
 * Returns: %FALSE with @error set on failure
 */
gboolean
dc_cleanup_refresh_pool (virConnectPtr conn, const char *pool_name, GError **error)
{
  g_autoptr (DcPool) pool = virStoragePoolLookupByName (conn, pool_name);

  if (pool == NULL || virStoragePoolRefresh (pool, 0) < 0)
    return dc_set_libvirt_error (error, "cannot refresh storage pool '%s'", pool_name);
  return TRUE;
}

/**
 * dc_cleanup_remove_rbd:
 * @conn: connection (its secrets reach the cluster)
 * @pool: the image's libvirt pool, or the Ceph pool of a network disk's
 * @rbd: an image this process or a killed run made
 * @error: return location
 *
 * Removes @rbd's image through librbd (one that is not there counts as
 * removed); a libvirt pool called @pool is refreshed after.
 *
 * Returns: %FALSE with @error set if the image may still be there
 */
gboolean
dc_cleanup_remove_rbd (virConnectPtr conn, const char *pool_name, const DcRbdSource *rbd, GError **error)
{
  g_autoptr (DcPool) pool = NULL;

  if (!dc_rbd_remove_image (conn, rbd, error))
    return FALSE;
  pool = virStoragePoolLookupByName (conn, pool_name);
  if (pool != NULL && virStoragePoolRefresh (pool, 0) < 0)
    g_debug ("storage pool '%s' not refreshed: %s", pool_name, virGetLastErrorMessage ());
  return TRUE;
}

/**
 * dc_cleanup_undefine_domain:
 * @dom: a domain this process or a killed run defined
 * @name: its name, for messages
 * @error: return location
 *
 * Undefines @dom, keeping the NVRAM file: a copy of ours is a volume
 * removed on its own, and a file libvirt made is not ours to delete.
 * The TPM state folder is the clone's own: libvirt removes it. Drivers
 * without NVRAM support (libvirt's test driver, say) refuse the flag:
 * then the domain is undefined without it. One that is already gone
 * counts as undefined.
 *
 * Returns: %FALSE with @error set if the domain is still defined
 */
gboolean
dc_cleanup_undefine_domain (virDomainPtr dom, const char *name, GError **error)
{
  int code;

  if (virDomainUndefineFlags (dom, VIR_DOMAIN_UNDEFINE_KEEP_NVRAM) == 0)
    return TRUE;
  code = dc_last_libvirt_code ();
  if (code == VIR_ERR_INVALID_ARG || code == VIR_ERR_NO_SUPPORT || code == VIR_ERR_ARGUMENT_UNSUPPORTED)
    {
      g_debug ("undefining '%s' without VIR_DOMAIN_UNDEFINE_KEEP_NVRAM: %s", name, virGetLastErrorMessage ());
      if (virDomainUndefine (dom) == 0)
        return TRUE;
      code = dc_last_libvirt_code ();
    }
  if (code == VIR_ERR_NO_DOMAIN)
    return TRUE;
  return dc_set_libvirt_error (error, "cannot undefine domain '%s'", name);
}

/* @dom's domclone metadata as it is now, if it carries a <building>
 * marker */
static DcMetadata *
dc_leftover_marker (virDomainPtr dom)
{
  g_autofree char *xml =
    virDomainGetMetadata (dom, VIR_DOMAIN_METADATA_ELEMENT, DC_METADATA_URI, VIR_DOMAIN_AFFECT_CONFIG);
  g_autoptr (DcMetadata) md = xml ? dc_metadata_parse (xml, NULL) : NULL;

  if (md == NULL || md->building == NULL)
    return NULL;
  return g_steal_pointer (&md);
}

/* Whether @md marks an unfinished clone of @source (of this very
 * domain, by UUID, when @source_uuid is known) */
static gboolean
dc_is_leftover_of (const DcMetadata *md, const char *source, const char *source_uuid)
{
  if (md->building == NULL || g_strcmp0 (md->origin_name, source) != 0)
    return FALSE;
  /* a leftover of another domain that once had the same name is not ours */
  return source_uuid == NULL || md->origin_uuid == NULL
         || g_ascii_strcasecmp (md->origin_uuid, source_uuid) == 0;
}

/* The files of the volumes @b lists, where they can be found, and their
 * names: what a backup job of a --live run writes into, or (--to)
 * exports the source's disks under */
static GStrv
dc_leftover_paths (virConnectPtr conn, const DcBuilding *b)
{
  g_autoptr (GStrvBuilder) paths = g_strv_builder_new ();

  for (guint i = 0; i < b->volumes->len; i++)
    {
      const DcOwnedVolume *v = b->volumes->pdata[i];
      g_autoptr (DcPool) pool = v->open_dir ? NULL : virStoragePoolLookupByName (conn, v->pool);
      g_autoptr (DcVol) vol = pool ? virStorageVolLookupByName (pool, v->name) : NULL;
      g_autofree char *path = vol ? virStorageVolGetPath (vol) : NULL;

      if (v->open_dir != NULL)
        path = g_build_filename (v->open_dir, v->name, NULL);
      if (path != NULL)
        g_strv_builder_add (paths, path);
      g_strv_builder_add (paths, v->name);
    }
  return g_strv_builder_end (paths);
}

/* Removes one leftover whose builder is gone: its volumes, then the
 * domain. *@removed says whether it is gone; a volume libvirt still
 * copies into at @deadline leaves it, with a warning or, when @wait, an
 * error. */
static gboolean
dc_remove_leftover (virConnectPtr conn, virDomainPtr dom, const DcBuilding *b, virConnectPtr src_conn,
                    const char *source, gint64 deadline, gboolean wait, gboolean *removed, GError **error)
{
  const char *name = virDomainGetName (dom);
  gboolean busy = FALSE;

  *removed = FALSE;
  g_info ("removing '%s', left unfinished by process %" G_GUINT64_FORMAT, name, b->pid);
  /* a --live run's backup job goes on without it, into these volumes
   * (or, --to, exporting the source's disks on its host) */
  {
    g_auto (GStrv) paths = dc_leftover_paths (conn, b);

    if (!dc_backup_end (src_conn, source, (const char *const *) paths, error))
      return FALSE;
  }
  for (guint i = 0; i < b->volumes->len; i++)
    {
      const DcOwnedVolume *v = b->volumes->pdata[i];
      gboolean one_busy = FALSE;

      if (v->rbd != NULL && !dc_cleanup_remove_rbd (conn, v->pool, v->rbd, error))
        return FALSE;
      if (v->rbd == NULL
          && !dc_cleanup_remove_volume (conn, v->pool, v->name, v->open_dir, deadline, &one_busy, error))
        return FALSE;
      busy = busy || one_busy;
      /* --live --to: a qcow2 disk's raw staging volume beside it */
      if (v->rbd == NULL)
        {
          g_autofree char *staging = dc_backup_staging_name (v->name);

          if (!dc_cleanup_remove_volume (conn, v->pool, staging, v->open_dir, deadline, &one_busy, error))
            return FALSE;
          busy = busy || one_busy;
        }
    }
  if (busy && wait)
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_FAILED,
        "libvirt is still copying into a volume of '%s' after %d minutes; run 'domclone --cleanup %s' again later",
        name, DC_CLEANUP_WAIT_SECONDS / 60, source);
      return FALSE;
    }
  if (busy)
    {
      g_warning (
        "'%s' was left by a killed run and libvirt is still copying into it; 'domclone --cleanup %s' removes it once the copy ends",
        name, source);
      return TRUE;
    }
  if (!dc_cleanup_undefine_domain (dom, name, error))
    return FALSE;
  *removed = TRUE;
  return TRUE;
}

/* The clone @m the scan found marked: removed (its name added to
 * @removed) if it is a leftover of @source whose builder is dead */
static gboolean
dc_cleanup_one (virConnectPtr conn, const DcMarked *m, virConnectPtr src_conn, const char *source,
                const char *source_uuid, gint64 deadline, gboolean wait, GPtrArray *removed, GError **error)
{
  g_autoptr (DcDomain) dom = NULL;
  g_autoptr (DcMetadata) md = NULL;
  gboolean gone = FALSE;

  if (!dc_is_leftover_of (m->md, source, source_uuid))
    return TRUE;
  /* The scan is a candidate list, older than this moment: the run
   * that was building the clone may have finished and exited since.
   * Its marker, read again now, decides; read before its builder is
   * found dead, as a dead builder can no longer drop its marker. */
  dom = virDomainLookupByName (conn, m->name);
  md = dom ? dc_leftover_marker (dom) : NULL;
  if (md == NULL || !dc_is_leftover_of (md, source, source_uuid))
    return TRUE; /* finished, or removed meanwhile */
  switch (dc_cleanup_builder_state (md->building))
    {
    case DC_BUILDER_ALIVE:
      g_info ("'%s' is being built by process %" G_GUINT64_FORMAT "; not touched", m->name,
              md->building->pid);
      return TRUE;
    case DC_BUILDER_UNKNOWN:
      g_info ("'%s' is being built on host '%s'; not touched", m->name, md->building->host);
      return TRUE;
    case DC_BUILDER_DEAD:
      break;
    }
  if (!dc_remove_leftover (conn, dom, md->building, src_conn, source, deadline, wait, &gone, error))
    return FALSE;
  if (gone)
    g_ptr_array_add (removed, g_strdup (m->name));
  return TRUE;
}

/**
 * dc_cleanup:
 * @conn: connection
 * @scan: (nullable): a pass over the host's domains just made, or %NULL
 *   to make one
 * @src_conn: the connection @source is on: @conn, or the source's host
 *   of clones made onto @conn's (--to)
 * @source: a source domain's name
 * @wait: wait for copies libvirt is still making into leftover volumes
 * @removed: (out): the names of the clones removed
 * @error: return location
 *
 * Removes the clones of @source that a run left unfinished and whose
 * process is gone (killed, or its host rebooted): their volumes, then
 * the domain. A clone still being built by a live process, or by a
 * process on another host, is not touched. With @wait (--cleanup) it
 * also removes the temporary pools killed runs left (dc_pool_sweep()).
 *
 * Returns: %FALSE with @error set if something could not be removed
 */
gboolean
dc_cleanup (virConnectPtr conn, const DcHostScan *scan, virConnectPtr src_conn, const char *source,
            gboolean wait, GPtrArray *removed, GError **error)
{
  g_autoptr (DcHostScan) own = NULL;
  gint64 deadline = g_get_monotonic_time () + (wait ? (gint64) DC_CLEANUP_WAIT_SECONDS * G_USEC_PER_SEC : 0);
  char source_uuid[VIR_UUID_STRING_BUFLEN] = "";
  gboolean ok = TRUE;

  if (scan == NULL)
    {
      own = dc_host_scan (conn, error);
      if (own == NULL)
        return FALSE;
      scan = own;
    }
  /* --cleanup: a killed run's temporary pools, whatever became of its
   * clone (not at the start of a run: that one may race other runs) */
  if (wait)
    dc_pool_sweep (conn);
  if (scan->marked->len == 0)
    return TRUE; /* nothing unfinished on the host: the usual case */
  {
    g_autoptr (DcDomain) src = virDomainLookupByName (src_conn, source);

    if (src != NULL && virDomainGetUUIDString (src, source_uuid) < 0)
      source_uuid[0] = '\0';
  }
  for (guint i = 0; ok && i < scan->marked->len; i++)
    ok = dc_cleanup_one (conn, scan->marked->pdata[i], src_conn, source,
                         source_uuid[0] != '\0' ? source_uuid : NULL, deadline, wait, removed, error);
  dc_pool_close_dirs (conn);
  return ok;
}
