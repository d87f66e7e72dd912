/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-backup.c: the disks of a running domain as they were at one
 * instant (--live).
 *
 * libvirt's backup API (push mode, a full backup) copies the disks of
 * a running domain as they were when the job started, while the guest
 * goes on writing: QEMU copies a block out before the guest overwrites
 * it. All disks of one job share that instant. The copy step
 * (dc-run.c) creates the new volumes first, as for a shut-off source
 * (same pool, name, format, permissions); the job reuses them
 * (VIR_DOMAIN_BACKUP_BEGIN_REUSE_EXTERNAL). Where the guest agent
 * answers, the guest's file systems are frozen for the start of the
 * job; without one the copy is crash-consistent, as after a power cut.
 *
 * What was seen here (../shared/LIBVIRT-NOTES.md): raw targets come
 * out allocated in full (QEMU writes the source's holes as unwritten
 * extents), so a raw disk needs its whole size free while the job runs,
 * and a target that fills up stops the guest on an I/O error: the free
 * space is checked first, a guest the job paused is resumed, and
 * dc_backup_sparsify() punches the zeros out again where this process
 * sees the file.
 */
#include "config.h"

#include "dc-backup.h"
#include "dc-xml.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

/* how often the job is asked how far it got */
#define DC_BACKUP_POLL (G_USEC_PER_SEC / 5)
/* how long an aborted job may take to end (about 0.6 s seen here) */
#define DC_BACKUP_ABORT_SECONDS 60
/* the TCP ports a pull-mode job's NBD server may listen on: from NBD's
 * own (10809), a few in case some are taken */
#define DC_BACKUP_PORT 10809
#define DC_BACKUP_PORTS 32
/* the QEMU driver's lib directory of the system daemon (qemu:///system) */
#define DC_BACKUP_LIB_DIR "/var/lib/libvirt/qemu"

DcBackupTarget *
dc_backup_target_new (const char *disk, const char *path, const char *format)
{
  DcBackupTarget *t = g_new0 (DcBackupTarget, 1);

  t->disk = g_strdup (disk);
  t->path = g_strdup (path);
  t->format = g_strdup (format ? format : "raw");
  return t;
}

void
dc_backup_target_free (DcBackupTarget *t)
{
  if (t == NULL)
    return;
  g_free (t->disk);
  g_free (t->path);
  g_free (t->format);
  g_free (t->scratch);
  g_free (t);
}

/* --- before anything is made --------------------------------------------- */

/**
 * dc_backup_supported:
 * @dom: a running domain
 * @name: its name
 * @error: return location
 *
 * Whether libvirt's driver for @dom can back up a running domain at all
 * and no backup runs on it now: asking for the job's XML with no job
 * running is refused with "no backup job" where it can, "not
 * supported" where it cannot. (Whether QEMU can is known only once the
 * job starts.)
 *
 * Returns: %FALSE with @error set if it cannot
 */
gboolean
dc_backup_supported (virDomainPtr dom, const char *name, GError **error)
{
  g_autofree char *xml = virDomainBackupGetXMLDesc (dom, 0);
  int code;

  if (xml != NULL)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_STATE,
                   "domain '%s' is being backed up already; clone it live once that job ends", name);
      return FALSE;
    }
  code = dc_last_libvirt_code ();
  if (code == VIR_ERR_NO_SUPPORT || code == VIR_ERR_OPERATION_UNSUPPORTED)
    {
      dc_set_libvirt_error (error, "cannot clone domain '%s' while it runs: libvirt cannot back it up here",
                            name);
      (*error)->code = DC_ERROR_NO_BACKUP;
      return FALSE;
    }
  return TRUE;
}

/* string(@attr) of the <source> of disk @target in @ctxt's domain */
static char *
dc_backup_source_attr (xmlXPathContext *ctxt, const char *target, const char *attr)
{
  g_autofree char *xpath =
    g_strdup_printf ("/domain/devices/disk[target/@dev='%s']/source/@%s", target, attr);

  return dc_xml_string (ctxt, NULL, xpath);
}

/* Whether each disk to copy is, in the running domain, the volume its
 * definition names: a disk changed while it runs (hot-plugged, a
 * snapshot's overlay on top, media changed) would copy other bytes
 * than the clone's definition expects. */
static gboolean
dc_backup_disks_match (virDomainPtr dom, const char *name, const char *inactive_xml, const GPtrArray *copies,
                       GError **error)
{
  static const char *const attrs[] = { "file", "dev", "pool", "volume", "name" };
  g_autofree char *live_xml = virDomainGetXMLDesc (dom, 0);
  g_autoptr (xmlXPathContext) live_ctxt = NULL;
  g_autoptr (xmlXPathContext) def_ctxt = NULL;
  g_autoptr (xmlDoc) live_doc = NULL;
  g_autoptr (xmlDoc) def_doc = NULL;

  if (live_xml == NULL)
    return dc_set_libvirt_error (error, "cannot read the XML of the running domain '%s'", name);
  live_doc = dc_xml_parse (live_xml, "domain", "the running domain's XML", &live_ctxt, error);
  def_doc = live_doc ? dc_xml_parse (inactive_xml, "domain", "the domain's XML", &def_ctxt, error) : NULL;
  if (def_doc == NULL)
    return FALSE;
  for (guint i = 0; i < copies->len; i++)
    {
      const DcCopy *copy = copies->pdata[i];

      if (copy->disk == NULL || copy->kind != DC_COPY_KIND_FULL)
        continue;
      for (guint a = 0; a < G_N_ELEMENTS (attrs); a++)
        {
          g_autofree char *now = dc_backup_source_attr (live_ctxt, copy->disk, attrs[a]);
          g_autofree char *defined = dc_backup_source_attr (def_ctxt, copy->disk, attrs[a]);

          if (g_strcmp0 (now, defined) != 0)
            {
              g_set_error (
                error, DC_ERROR, DC_ERROR_UNSUPPORTED,
                "cannot clone domain '%s' while it runs: its %s is now '%s', not '%s' as its definition says; clone it shut off",
                name, copy->what, now ? now : "(none)", defined ? defined : "(none)");
              return FALSE;
            }
        }
    }
  return TRUE;
}

/* Whether @dom's guest agent answers (a harmless question: the time) */
static gboolean
dc_backup_agent_answers (virDomainPtr dom, char **why)
{
  long long seconds = 0;
  unsigned int nseconds = 0;

  if (virDomainGetTime (dom, &seconds, &nseconds, 0) == 0)
    return TRUE;
  *why = g_strdup (virGetLastErrorMessage ());
  return FALSE;
}

/**
 * dc_backup_check_live:
 * @dom: the running source
 * @name: its name
 * @inactive_xml: its definition, which the clone is made from
 * @copies: (element-type DcCopy): the clone's copies; those with a disk
 *   are backed up
 * @quiesce: its file systems must be frozen: a missing agent is an error
 * @error: return location
 *
 * Checks, before anything is made, that the disks of the running @dom
 * can be backed up into the clone: each disk is what the definition
 * names, and with @quiesce a guest agent answers.
 *
 * Returns: %FALSE with @error set if not
 */
gboolean
dc_backup_check_live (virDomainPtr dom, const char *name, const char *inactive_xml, const GPtrArray *copies,
                      gboolean quiesce, GError **error)
{
  g_autofree char *why = NULL;

  for (guint i = 0; i < copies->len; i++)
    {
      const DcCopy *copy = copies->pdata[i];

      /* librbd, not QEMU's backup job, copies an RBD image: it could not
       * be cut at the instant of the other disks */
      if (copy->rbd != NULL)
        {
          g_set_error (
            error, DC_ERROR, DC_ERROR_NO_BACKUP,
            "cannot clone the running domain '%s' with --live: %s is a Ceph RBD image, which the backup job does not copy; shut the domain down and clone it without --live",
            name, copy->what);
          return FALSE;
        }
    }
  if (!dc_backup_disks_match (dom, name, inactive_xml, copies, error))
    return FALSE;
  if (quiesce && !dc_backup_agent_answers (dom, &why))
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_NO_AGENT,
        "cannot freeze the file systems of domain '%s' (--quiesce): its guest agent does not answer (%s); install and start qemu-guest-agent in the guest, or clone it crash-consistent without --quiesce",
        name, why);
      return FALSE;
    }
  return TRUE;
}

/**
 * dc_backup_staging_name:
 * @name: the new volume of a disk of a --live --to clone
 *
 * A disk whose new volume is not raw (qcow2) is streamed into a raw
 * staging volume beside it first, which libvirt converts into the new
 * volume and which is deleted after (dc-copy-step.c); it is called
 * after the new volume, so that --cleanup finds it from the clone's
 * marker.
 *
 * Returns: (transfer full): the staging volume's name
 */
char *
dc_backup_staging_name (const char *name)
{
  return g_strconcat (name, DC_BACKUP_STAGING_SUFFIX, NULL);
}

/* --- where a pull-mode job's exports are read ------------------------------ */

/* The directory libvirt keeps the running @dom's private files in
 * (its monitor's socket, its master key): "domain-ID-NAME" (NAME cut
 * short) under the QEMU driver's lib directory, made by libvirt for
 * each start with mode 0750, owned by QEMU's user, removed when the
 * domain stops. The QEMU process may create files in it, also where
 * AppArmor confines it (virt-aa-helper's profile lets it write the
 * files right in it). It is found by the domain's ID, not by libvirt's
 * rule for cutting the name short. */
static char *
dc_backup_private_dir (virConnectPtr conn, virDomainPtr dom, const char *name, GError **error)
{
  g_autofree char *uri = virConnectGetURI (conn);
  g_autoptr (GUri) parsed = uri ? g_uri_parse (uri, G_URI_FLAGS_NONE, NULL) : NULL;
  gboolean session = parsed != NULL && g_str_equal (g_uri_get_path (parsed), "/session");
  g_autofree char *lib = session ? g_build_filename (g_get_user_config_dir (), "libvirt", "qemu", "lib", NULL)
                                 : g_strdup (DC_BACKUP_LIB_DIR);
  g_autofree char *prefix = g_strdup_printf ("domain-%u-", virDomainGetID (dom));
  g_autoptr (GError) local = NULL;
  g_autoptr (GDir) dir = g_dir_open (lib, 0, &local);
  const char *entry;

  if (dir == NULL)
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_UNSUPPORTED,
        "cannot clone the running domain '%s' onto another host with --live as this user: its disks would be exported on a socket in libvirt's private directory of the domain under '%s', which only root and QEMU's user can enter (%s); run domclone as root",
        name, lib, local->message);
      return NULL;
    }
  while ((entry = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (lib, entry, NULL);

      if (g_str_has_prefix (entry, prefix) && entry[strlen (prefix)] != '\0'
          && g_str_has_prefix (name, entry + strlen (prefix)) && g_file_test (path, G_FILE_TEST_IS_DIR)
          && g_access (path, X_OK) == 0)
        return g_steal_pointer (&path);
    }
  g_set_error (
    error, DC_ERROR, DC_ERROR_UNSUPPORTED,
    "cannot clone the running domain '%s' onto another host with --live as this user: its disks would be exported on a socket in libvirt's private directory of the domain ('%s*' in '%s'), which is not there or which only root and QEMU's user can enter; run domclone as root",
    name, prefix, lib);
  return NULL;
}

/**
 * dc_backup_socket:
 * @conn: the source's connection, to a daemon on this host
 *   (dc_connection_is_local())
 * @dom: the running source
 * @name: its name
 * @error: return location
 *
 * The UNIX socket a pull-mode job's NBD server listens on for a source
 * on this host: in libvirt's private directory of @dom
 * (dc_backup_private_dir()), which only root and QEMU's user (and
 * group) can enter, so that no other local user can read the exports,
 * as anyone could over a TCP port. QEMU creates the socket; libvirt
 * labels nothing for it. Its name starts with DC_BACKUP_SOCKET_PREFIX,
 * which dc_backup_end() knows it by.
 *
 * Returns: (transfer full): the socket's path, or %NULL with @error set
 *   if this process could not reach it
 */
char *
dc_backup_socket (virConnectPtr conn, virDomainPtr dom, const char *name, GError **error)
{
  g_autofree char *dir = dc_backup_private_dir (conn, dom, name, error);
  g_autofree char *base = NULL;
  char *path;

  if (dir == NULL)
    return NULL;
  base = g_strdup_printf (DC_BACKUP_SOCKET_PREFIX "%ld.sock", (long) getpid ());
  path = g_build_filename (dir, base, NULL);
  if (strlen (path) >= sizeof (((struct sockaddr_un *) NULL)->sun_path))
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_UNSUPPORTED,
        "cannot clone the running domain '%s' onto another host with --live: the path of its export's socket '%s' is too long for a UNIX socket",
        name, path);
      g_free (path);
      return NULL;
    }
  return path;
}

/* Removes the socket @path of a job of ours that ended, if QEMU left
 * it behind. */
static void
dc_backup_socket_remove (const char *path)
{
  g_autofree char *base = path ? g_path_get_basename (path) : NULL;

  if (base == NULL || !g_str_has_prefix (base, DC_BACKUP_SOCKET_PREFIX))
    return;
  if (g_unlink (path) < 0 && errno != ENOENT)
    g_warning ("cannot remove the socket '%s' of the backup job: %s", path, g_strerror (errno));
}

/**
 * dc_backup_check_pull:
 * @conn: the source's connection
 * @dom: the running source
 * @name: its name
 * @copies: (element-type DcCopy): the clone's copies; those with a disk
 *   are read from the job's exports
 * @error: return location
 *
 * --live --to: the job keeps a scratch file beside each disk's file on
 * the source's host, so each disk must be a file. (A disk whose new
 * volume is not raw is staged raw and converted there, see
 * dc_backup_staging_name().) A source on this host exports its disks
 * on a UNIX socket this process must reach (dc_backup_socket()).
 * Checked before anything is made.
 *
 * Returns: %FALSE with @error set if a disk is no file, or the socket
 *   cannot be had
 */
gboolean
dc_backup_check_pull (virConnectPtr conn, virDomainPtr dom, const char *name, const GPtrArray *copies,
                      GError **error)
{
  g_autofree char *socket = NULL;

  for (guint i = 0; i < copies->len; i++)
    {
      const DcCopy *copy = copies->pdata[i];

      if (copy->disk == NULL || copy->kind != DC_COPY_KIND_FULL)
        continue;
      if (copy->src_path == NULL || !g_path_is_absolute (copy->src_path)
          || g_str_has_prefix (copy->src_path, "/dev/"))
        {
          g_set_error (
            error, DC_ERROR, DC_ERROR_UNSUPPORTED,
            "cannot clone the running domain '%s' onto another host with --live: %s is no file ('%s'), beside which the backup job would keep its scratch file; shut the domain down first",
            name, copy->what, copy->src_path ? copy->src_path : "(none)");
          return FALSE;
        }
    }
  if (!dc_connection_is_local (conn))
    return TRUE;
  socket = dc_backup_socket (conn, dom, name, error);
  return socket != NULL;
}

/* The bytes the new volume of @copy takes while the job fills it: a raw
 * target comes out allocated in full (the source's holes are written as
 * unwritten extents); a qcow2 one (which QEMU fills cluster by
 * cluster, zeros left out) about what the source holds. */
static guint64
dc_backup_space_of (const DcCopy *copy)
{
  g_autoptr (DcVolInfo) info = dc_vol_info_from_xml (copy->xml, copy->dst_pool, NULL, NULL);

  if (info == NULL)
    return copy->src_allocation;
  if (info->format == NULL || g_str_equal (info->format, "raw"))
    return MAX (info->capacity, copy->src_allocation);
  return copy->src_allocation;
}

/**
 * dc_backup_check_space:
 * @conn: connection
 * @copies: (element-type DcCopy): the clone's copies; those with a disk
 *   are backed up
 * @error: return location
 *
 * A backup target that fills up stops the guest on an I/O error: before
 * anything is made, each pool must have room for what the job writes
 * into it. Pools libvirt does not know right now (a temporary one over
 * a directory) are not checked.
 *
 * Returns: %FALSE with @error set (DC_ERROR_NO_SPACE) if one has not
 */
gboolean
dc_backup_check_space (virConnectPtr conn, const GPtrArray *copies, GError **error)
{
  g_autoptr (GHashTable) need = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  GHashTableIter iter;
  gpointer key, value;

  for (guint i = 0; i < copies->len; i++)
    {
      const DcCopy *copy = copies->pdata[i];
      guint64 *sum;

      if (copy->disk == NULL || copy->kind != DC_COPY_KIND_FULL)
        continue;
      sum = g_hash_table_lookup (need, copy->dst_pool);
      if (sum == NULL)
        {
          sum = g_new0 (guint64, 1);
          g_hash_table_insert (need, copy->dst_pool, sum);
        }
      *sum += dc_backup_space_of (copy);
    }
  g_hash_table_iter_init (&iter, need);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_autoptr (DcPool) pool = virStoragePoolLookupByName (conn, key);
      guint64 wanted = *(guint64 *) value;
      virStoragePoolInfo info;

      if (pool == NULL)
        continue;
      if (virStoragePoolRefresh (pool, 0) < 0)
        g_debug ("storage pool '%s' not refreshed: %s", (const char *) key, virGetLastErrorMessage ());
      if (virStoragePoolGetInfo (pool, &info) < 0)
        return dc_set_libvirt_error (error, "cannot read the free space of storage pool '%s'",
                                     (const char *) key);
      if (info.available < wanted)
        {
          /* MiB, not g_format_size(): its no-break space is no ASCII */
          g_set_error (
            error, DC_ERROR, DC_ERROR_NO_SPACE,
            "storage pool '%s' has %" G_GUINT64_FORMAT
            " MiB free, and the backup of the running disks needs %" G_GUINT64_FORMAT
            " MiB there while it runs (a raw disk's whole size): free some space, or clone into another pool with --pool",
            (const char *) key, (guint64) info.available >> 20, (wanted + (1 << 20) - 1) >> 20);
          return FALSE;
        }
    }
  return TRUE;
}

/* --- the job ------------------------------------------------------------- */

/* The job's XML: a full push-mode backup of the disks of @targets into
 * their files; the domain's other disks are not part of it. */
static char *
dc_backup_xml (const GPtrArray *targets)
{
  GString *xml = g_string_new ("<domainbackup mode='push'>\n  <disks>\n");

  for (guint i = 0; i < targets->len; i++)
    {
      const DcBackupTarget *t = targets->pdata[i];
      gboolean block = g_str_has_prefix (t->path, "/dev/");
      g_autofree char *disk = g_markup_printf_escaped (
        "    <disk name='%s' backup='yes' type='%s'>\n      <target %s='%s'/>\n      <driver type='%s'/>\n    </disk>\n",
        t->disk, block ? "block" : "file", block ? "dev" : "file", t->path, t->format);

      g_string_append (xml, disk);
    }
  g_string_append (xml, "  </disks>\n</domainbackup>\n");
  return g_string_free (xml, FALSE);
}

/* The stats of @dom's job running now (@flags 0) or of the one that
 * ended last (VIR_DOMAIN_JOB_STATS_COMPLETED); *@type NONE for none */
typedef struct
{
  int type;
  virTypedParameterPtr params;
  int n;
} DcJobStats;

static void
dc_job_stats_clear (DcJobStats *s)
{
  virTypedParamsFree (s->params, s->n);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (DcJobStats, dc_job_stats_clear)

static gboolean
dc_job_stats (virDomainPtr dom, unsigned int flags, DcJobStats *s)
{
  s->type = VIR_DOMAIN_JOB_NONE;
  s->params = NULL;
  s->n = 0;
  return virDomainGetJobStats (dom, &s->type, &s->params, &s->n, flags) == 0;
}

/* Waits, DC_BACKUP_ABORT_SECONDS at most, for @dom's job to end. */
static void
dc_backup_wait_end (virDomainPtr dom)
{
  for (int i = 0; i < DC_BACKUP_ABORT_SECONDS * 10; i++)
    {
      g_auto (DcJobStats) s = { 0 };

      if (!dc_job_stats (dom, 0, &s) || s.type == VIR_DOMAIN_JOB_NONE)
        return;
      g_usleep (G_USEC_PER_SEC / 10);
    }
}

/* Ends the job running on @dom, a backup of ours, and waits for it. */
static void
dc_backup_abort (virDomainPtr dom, const char *name)
{
  if (virDomainAbortJob (dom) < 0)
    g_warning ("cannot abort the backup job of '%s': %s", name, virGetLastErrorMessage ());
  dc_backup_wait_end (dom);
}

/* A target that filled up (or another I/O error) stops a guest whose
 * writes the job could not copy first: a guest that ran before the job
 * runs again. */
static void
dc_backup_resume (virDomainPtr dom, const char *name, int was)
{
  int state = VIR_DOMAIN_NOSTATE;
  int reason = 0;

  if (was != VIR_DOMAIN_RUNNING || virDomainGetState (dom, &state, &reason, 0) < 0
      || state != VIR_DOMAIN_PAUSED || reason != VIR_DOMAIN_PAUSED_IOERROR)
    return;
  if (virDomainResume (dom) < 0)
    g_warning ("domain '%s' stopped on an I/O error of the backup and cannot be resumed: %s", name,
               virGetLastErrorMessage ());
  else
    g_message ("domain '%s' stopped on an I/O error of the backup; resumed", name);
}

/* Freezes @dom's file systems through its guest agent, where it
 * answers; *@frozen says whether it did. Without an agent the copy is
 * crash-consistent, which @quiesce makes an error. */
static gboolean
dc_backup_freeze (virDomainPtr dom, const char *name, gboolean quiesce, gboolean *frozen, GError **error)
{
  int n = virDomainFSFreeze (dom, NULL, 0, 0);

  *frozen = n >= 0;
  if (*frozen)
    {
      g_info ("froze %d file system%s of '%s' through its guest agent", n, n == 1 ? "" : "s", name);
      return TRUE;
    }
  if (quiesce)
    {
      dc_set_libvirt_error (error, "cannot freeze the file systems of domain '%s' (--quiesce)", name);
      (*error)->code = DC_ERROR_NO_AGENT;
      return FALSE;
    }
  g_info ("no guest agent froze the file systems of '%s' (%s): the copy is crash-consistent", name,
          virGetLastErrorMessage ());
  return TRUE;
}

/* Starts the job @xml describes, the guest's file systems frozen
 * around the start where its agent answers. */
static gboolean
dc_backup_begin (virDomainPtr dom, const char *name, const char *xml, unsigned int flags, gboolean quiesce,
                 DcLive *live, GError **error)
{
  g_autoptr (GError) failed = NULL;
  gboolean frozen = FALSE;

  g_debug ("backup XML:\n%s", xml);
  if (!dc_backup_freeze (dom, name, quiesce, &frozen, error))
    return FALSE;
  if (virDomainBackupBegin (dom, xml, NULL, flags) < 0)
    {
      int code = dc_last_libvirt_code ();

      dc_set_libvirt_error (&failed, "cannot start the backup of the running domain '%s'", name);
      if (code == VIR_ERR_NO_SUPPORT || code == VIR_ERR_OPERATION_UNSUPPORTED)
        failed->code = DC_ERROR_NO_BACKUP;
    }
  /* thawed whatever happened: a guest left frozen hangs */
  if (frozen && virDomainFSThaw (dom, NULL, 0, 0) < 0)
    g_warning ("cannot thaw the file systems of '%s': %s; run 'virsh domfsthaw %s'", name,
               virGetLastErrorMessage (), name);
  if (failed != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&failed));
      return FALSE;
    }
  *live = frozen ? DC_LIVE_QUIESCED : DC_LIVE_CRASH_CONSISTENT;
  return TRUE;
}

/* The bytes @s says the job copied, into *@done (if set) */
static void
dc_backup_count (const DcJobStats *s, gsize *done)
{
  unsigned long long processed = 0;

  if (done != NULL
      && (virTypedParamsGetULLong (s->params, s->n, VIR_DOMAIN_JOB_DISK_PROCESSED, &processed) > 0
          || virTypedParamsGetULLong (s->params, s->n, VIR_DOMAIN_JOB_DATA_PROCESSED, &processed) > 0))
    g_atomic_pointer_set (done, (gsize) processed);
}

/* How the job that ended last on @dom went; what it copied into
 * *@done. */
static gboolean
dc_backup_outcome (virDomainPtr dom, const char *name, gsize *done, GError **error)
{
  g_auto (DcJobStats) s = { 0 };
  const char *why = NULL;

  if (!dc_job_stats (dom, VIR_DOMAIN_JOB_STATS_COMPLETED, &s))
    return dc_set_libvirt_error (error, "cannot read how the backup of '%s' ended", name);
  dc_backup_count (&s, done);
  if (s.type == VIR_DOMAIN_JOB_COMPLETED)
    return TRUE;
  if (virTypedParamsGetString (s.params, s.n, VIR_DOMAIN_JOB_ERRMSG, &why) <= 0)
    why = s.type == VIR_DOMAIN_JOB_CANCELLED ? "it was cancelled" : "no reason given";
  g_set_error (error, DC_ERROR, strstr (why, "No space") != NULL ? DC_ERROR_NO_SPACE : DC_ERROR_LIBVIRT,
               "the backup of the running domain '%s' failed: %s", name, why);
  return FALSE;
}

/* Follows the job until it ends, its progress into *@done; a signal
 * aborts it. */
static gboolean
dc_backup_follow (virDomainPtr dom, const char *name, gsize *done, GError **error)
{
  for (;;)
    {
      g_auto (DcJobStats) s = { 0 };

      if (!dc_job_stats (dom, 0, &s))
        {
          dc_set_libvirt_error (error, "cannot follow the backup of the running domain '%s'", name);
          dc_backup_abort (dom, name);
          return FALSE;
        }
      if (s.type == VIR_DOMAIN_JOB_NONE)
        return dc_backup_outcome (dom, name, done, error);
      dc_backup_count (&s, done);
      if (!dc_check_cancelled (error))
        {
          g_message ("aborting the backup job of '%s'", name);
          dc_backup_abort (dom, name);
          return FALSE;
        }
      g_usleep (DC_BACKUP_POLL);
    }
}

/**
 * dc_backup_run:
 * @dom: the running source
 * @name: its name
 * @targets: (element-type DcBackupTarget): its disks and the volumes,
 *   made already, to copy them into
 * @quiesce: a guest agent must freeze its file systems
 * @done: (nullable): the bytes the job has copied so far, for progress
 * @live: (out): how consistent the copy is
 * @error: return location
 *
 * Copies the disks of @targets as they were at one instant, with one
 * backup job, and waits for it to end. A signal (dc_check_cancelled())
 * aborts it; a guest the job stopped on an I/O error is resumed.
 *
 * Returns: %FALSE with @error set if the disks were not all copied
 */
gboolean
dc_backup_run (virDomainPtr dom, const char *name, const GPtrArray *targets, gboolean quiesce, gsize *done,
               DcLive *live, GError **error)
{
  g_autofree char *xml = dc_backup_xml (targets);
  int was = VIR_DOMAIN_NOSTATE;
  gboolean ok;

  if (virDomainGetState (dom, &was, NULL, 0) < 0)
    return dc_set_libvirt_error (error, "cannot read the state of domain '%s'", name);
  if (!dc_backup_begin (dom, name, xml, VIR_DOMAIN_BACKUP_BEGIN_REUSE_EXTERNAL, quiesce, live, error))
    return FALSE;
  g_info ("backing up %u disk%s of the running '%s'", targets->len, targets->len == 1 ? "" : "s", name);
  ok = dc_backup_follow (dom, name, done, error);
  dc_backup_resume (dom, name, was);
  return ok;
}

/* --- pull mode: the disks exported over NBD (--live --to) --------------- */

/* The job's XML: a full pull-mode backup, QEMU's NBD server listening on
 * the UNIX socket @socket, or else on @host:@port, each disk of
 * @targets exported under the name its @path holds, its scratch file
 * (where QEMU keeps what the guest overwrites while the job runs) at
 * @scratch: libvirt creates it and removes it when the job ends.
 * (libvirt 9.0 names no scratch file by itself in pull mode: "argument
 * key 'filename' must not have null value".) */
static char *
dc_backup_pull_xml (const GPtrArray *targets, const char *socket, const char *host, guint port)
{
  g_autofree char *server =
    socket != NULL
      ? g_markup_printf_escaped ("  <server transport='unix' socket='%s'/>\n", socket)
      : g_markup_printf_escaped ("  <server transport='tcp' name='%s' port='%u'/>\n", host, port);
  GString *xml = g_string_new ("<domainbackup mode='pull'>\n");

  g_string_append (xml, server);
  g_string_append (xml, "  <disks>\n");
  for (guint i = 0; i < targets->len; i++)
    {
      const DcBackupTarget *t = targets->pdata[i];
      g_autofree char *disk = g_markup_printf_escaped (
        "    <disk name='%s' backup='yes' type='file' exportname='%s'>\n      <scratch file='%s'/>\n    </disk>\n",
        t->disk, t->path, t->scratch);

      g_string_append (xml, disk);
    }
  g_string_append (xml, "  </disks>\n</domainbackup>\n");
  return g_string_free (xml, FALSE);
}

/* dc_backup_pull_begin() over TCP: libvirt does not choose the port
 * itself, so the ports from DC_BACKUP_PORT on are tried until QEMU can
 * listen on one. Anyone who reaches it can read the exports while the
 * job runs, which is said each time. */
static gboolean
dc_backup_pull_begin_tcp (virDomainPtr dom, const char *name, const GPtrArray *targets, const char *host,
                          gboolean quiesce, guint *port, DcLive *live, GError **error)
{
  for (guint i = 0;; i++)
    {
      g_autofree char *xml = dc_backup_pull_xml (targets, NULL, host, DC_BACKUP_PORT + i);
      g_autoptr (GError) local = NULL;

      if (dc_backup_begin (dom, name, xml, 0, quiesce, live, &local))
        {
          *port = DC_BACKUP_PORT + i;
          g_warning ("the disks of '%s' can be read without a password by anyone who reaches '%s' port %u "
                     "(NBD over TCP without TLS) until they are copied",
                     name, host, *port);
          return TRUE;
        }
      if (i + 1 >= DC_BACKUP_PORTS || strstr (local->message, "in use") == NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      g_debug ("port %u is taken on '%s': %s", DC_BACKUP_PORT + i, host, local->message);
    }
}

/**
 * dc_backup_pull_begin:
 * @dom: the running source
 * @name: its name
 * @targets: (element-type DcBackupTarget): its disks, each @path the
 *   name to export it under
 * @socket: (nullable): the UNIX socket QEMU's NBD server listens on
 *   (dc_backup_socket()), for a source on this host
 * @host: else the name it listens on over TCP, as a reader elsewhere
 *   reaches the source's host
 * @quiesce: a guest agent must freeze its file systems
 * @port: (out): the TCP port the server listens on (0 on @socket)
 * @was: (out): the domain's state before the job
 * @live: (out): how consistent the copy is
 * @error: return location
 *
 * Starts a pull-mode backup job: every disk of @targets exported over
 * NBD as it was at one instant, until dc_backup_pull_end().
 *
 * Returns: %FALSE with @error set if no job started
 */
gboolean
dc_backup_pull_begin (virDomainPtr dom, const char *name, const GPtrArray *targets, const char *socket,
                      const char *host, gboolean quiesce, guint *port, int *was, DcLive *live, GError **error)
{
  g_autofree char *xml = NULL;

  *port = 0;
  *was = VIR_DOMAIN_NOSTATE;
  if (virDomainGetState (dom, was, NULL, 0) < 0)
    return dc_set_libvirt_error (error, "cannot read the state of domain '%s'", name);
  if (socket == NULL)
    return dc_backup_pull_begin_tcp (dom, name, targets, host, quiesce, port, live, error);
  xml = dc_backup_pull_xml (targets, socket, NULL, 0);
  if (!dc_backup_begin (dom, name, xml, 0, quiesce, live, error))
    {
      dc_backup_socket_remove (socket);
      return FALSE;
    }
  g_info ("exporting %u disk%s of the running '%s' over NBD on socket '%s'", targets->len,
          targets->len == 1 ? "" : "s", name, socket);
  return TRUE;
}

/**
 * dc_backup_pull_end:
 * @dom: the source
 * @name: its name
 * @socket: (nullable): the UNIX socket its exports were read on
 * @was: its state before the job
 *
 * Ends the pull-mode job of dc_backup_pull_begin(), whose exports were
 * read (or failed): a pull-mode job is ended by aborting it, and its
 * socket removed if QEMU left it. A guest its scratch files stopped on
 * an I/O error runs again.
 */
void
dc_backup_pull_end (virDomainPtr dom, const char *name, const char *socket, int was)
{
  dc_backup_abort (dom, name);
  dc_backup_socket_remove (socket);
  dc_backup_resume (dom, name, was);
}

/* --- after the job -------------------------------------------------------- */

/**
 * dc_backup_end:
 * @conn: connection
 * @source: a domain that may be backed up
 * @paths: files a run made for its clone, and (--live --to) the names
 *   of its new volumes
 * @error: return location
 *
 * Ends the backup job running on @source if it writes into one of
 * @paths, or exports a disk under one of those names (a pull-mode job,
 * --to): the job of a run that died (or lost its connection) goes on
 * after it, and holds those files open, or the source's disks exported;
 * the UNIX socket of such exports goes with it.
 *
 * Returns: %FALSE with @error set if such a job still runs
 */
gboolean
dc_backup_end (virConnectPtr conn, const char *source, const char *const *paths, GError **error)
{
  g_autoptr (DcDomain) dom = virDomainLookupByName (conn, source);
  g_autofree char *xml = dom ? virDomainBackupGetXMLDesc (dom, 0) : NULL;
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autoptr (xmlDoc) doc = NULL;
  g_autoptr (GPtrArray) files = NULL;
  gboolean ours = FALSE;

  if (xml == NULL)
    return TRUE; /* no source, or no backup running on it */
  doc = dc_xml_parse (xml, "domainbackup", "the backup job's XML", &ctxt, error);
  if (doc == NULL)
    return FALSE;
  files = dc_xml_nodes (
    ctxt, NULL,
    "/domainbackup/disks/disk/target/@*[name()='file' or name()='dev'] | /domainbackup/disks/disk/@exportname");
  for (guint i = 0; !ours && i < files->len; i++)
    {
      g_autofree char *file = (char *) xmlNodeGetContent (files->pdata[i]);

      ours = file != NULL && g_strv_contains (paths, file);
    }
  if (!ours)
    return TRUE;
  g_message ("ending the backup job on '%s' that a run left writing into its clone", source);
  dc_backup_abort (dom, source);
  /* the socket of its exports, on this host (dc_backup_socket()) */
  if (dc_connection_is_local (conn))
    {
      g_autofree char *socket = dc_xml_string (ctxt, NULL, "/domainbackup/server[@transport='unix']/@socket");

      dc_backup_socket_remove (socket);
    }
  {
    g_auto (DcJobStats) s = { 0 };

    if (dc_job_stats (dom, 0, &s) && s.type != VIR_DOMAIN_JOB_NONE)
      {
        g_set_error (error, DC_ERROR, DC_ERROR_FAILED,
                     "the backup job on '%s' does not end; abort it with 'virsh domjobabort %s'", source,
                     source);
        return FALSE;
      }
  }
  return TRUE;
}

/**
 * dc_backup_sparsify:
 * @path: a raw volume a backup job filled
 * @error: return location
 *
 * Gives back the space of the zeros the job wrote where the source had
 * holes: QEMU writes them as unwritten extents, which read as zeros and
 * which SEEK_HOLE reports as holes; they are punched out, so the clone
 * is as sparse as its source. A file system that cannot punch holes
 * keeps them.
 *
 * Returns: %FALSE with @error set on an I/O error
 */
gboolean
dc_backup_sparsify (const char *path, GError **error)
{
  g_auto (DcFd) fd = open (path, O_RDWR | O_CLOEXEC);
  off_t size, off = 0;

  if (fd < 0 || (size = lseek (fd, 0, SEEK_END)) < 0)
    {
      int e = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "cannot open '%s' to make it sparse: %s",
                   path, g_strerror (e));
      return FALSE;
    }
  while (off < size)
    {
      off_t data = lseek (fd, off, SEEK_DATA);

      if (data < 0 && errno == ENXIO)
        data = size;
      else if (data < 0)
        break; /* no SEEK_DATA here: leave the file as it is */
      if (data > off && fallocate (fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, data - off) < 0)
        {
          if (errno == EOPNOTSUPP)
            return TRUE;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "cannot punch holes into '%s': %s",
                       path, g_strerror (errno));
          return FALSE;
        }
      if (data >= size)
        break;
      off = lseek (fd, data, SEEK_HOLE);
      if (off < 0)
        break;
    }
  return TRUE;
}
