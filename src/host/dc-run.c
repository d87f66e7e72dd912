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
#include "dc-cleanup.h"
#include "dc-copy.h"
#include "dc-progress.h"
#include "dc-vol-io.h"
#include "dc-seed-vol.h"
#include "dc-env.h"
#include "dc-pool.h"
#include "dc-exist.h"
#include "dc-metadata.h"
#include "dc-xml.h"

#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* How often a generated name can be lost to a concurrent domclone (or
 * anyone defining domains) before we give up. */
#define DC_RUN_MAX_DEFINE_RACES 100

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

/* One clone run: what it works on, and what it made so far. */
typedef struct
{
  virConnectPtr conn;     /* where the clone is made */
  virConnectPtr src_conn; /* where the source is: @conn, or another
                           * host's (--to, @across) */
  gboolean across;
  char *src_host; /* --to: the source's host name, for <origin> */
  virDomainPtr src;
  DcEnv *env;
  const DcCloneOptions *opts;
  GRand *rand;
  const char *source_xml; /* inactive, secure XML of the source */
  guint64 counter;        /* the source's counter when the run began */
  guint jobs;             /* copies at once */
  gboolean local_conn;    /* the daemon runs on this host */
  gboolean local_copies;  /* ... and this process may fill its volumes */
  DcProgress *progress;   /* while the copies run, on a terminal */
  GHashTable *made;       /* DcCopy -> virStorageVolInfo of its new volume
                           * as libvirt saw it when done (under undo_lock),
                           * when the result wants it (--json) */
  GMutex undo_lock;       /* copies may record volumes from several threads */
  GPtrArray *undo;        /* DcUndo, newest last */
  gboolean several;       /* --count: the undo stack holds one clone of
                           * several, which a rollback names */
  GMutex prove_lock;      /* one proof at a time, so each is made once */
  GHashTable *same;       /* directory -> DcSame: whether this process
                           * sees there what the daemon sees (under
                           * prove_lock) */
  virDomainPtr building;  /* the clone being built (not owned), whose
                           * marker the proofs' scratch volumes join */
  const DcPlan *plan;     /* its plan (not owned), while the copies run */
} DcRun;

/* Frees what the run holds; on every way out of it (g_auto). */
static void
dc_run_clear (DcRun *run)
{
  g_clear_pointer (&run->env, dc_env_live_free);
  g_clear_pointer (&run->undo, g_ptr_array_unref);
  g_clear_pointer (&run->made, g_hash_table_unref);
  g_clear_pointer (&run->same, g_hash_table_unref);
  g_clear_pointer (&run->src, virDomainFree);
  g_clear_pointer (&run->src_host, g_free);
  g_mutex_clear (&run->undo_lock);
  g_mutex_clear (&run->prove_lock);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (DcRun, dc_run_clear)

static void
dc_run_undo_push (DcRun *run, DcUndoKind kind, const char *name, const char *pool, const char *open_dir)
{
  DcUndo *undo = g_new0 (DcUndo, 1);

  undo->kind = kind;
  undo->name = g_strdup (name);
  undo->pool = g_strdup (pool);
  undo->open_dir = g_strdup (open_dir);
  g_mutex_lock (&run->undo_lock);
  g_ptr_array_add (run->undo, undo);
  g_mutex_unlock (&run->undo_lock);
}

/* Forgets the volume entry for @name: the copy found a volume of that
 * name already there, which is not ours to remove. */
static void
dc_run_undo_forget_volume (DcRun *run, const char *pool, const char *name)
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

  if (undo->kind == DC_UNDO_DOMAIN)
    {
      g_autoptr (DcDomain) dom = virDomainLookupByName (conn, undo->name);

      if (dom == NULL && dc_last_libvirt_code () == VIR_ERR_NO_DOMAIN)
        return TRUE; /* undefined by someone else meanwhile */
      if (dom == NULL)
        return dc_set_libvirt_error (error, "cannot find domain '%s' to undefine it", undo->name);
      return dc_cleanup_undefine_domain (dom, undo->name, error);
    }
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
dc_run_undo (DcRun *run, virConnectPtr conn, gboolean *kept)
{
  gboolean complete = TRUE;

  *kept = FALSE;
  g_mutex_lock (&run->undo_lock);
  for (guint i = run->undo->len; i > 0; i--)
    {
      DcUndo *undo = run->undo->pdata[i - 1];
      g_autoptr (GError) error = NULL;

      if (undo->kind == DC_UNDO_DOMAIN && !complete)
        {
          g_info ("kept domain '%s': its marker lists volumes that are still there", undo->name);
          *kept = TRUE;
          continue;
        }
      if (!dc_undo_one (conn, undo, &error))
        {
          g_warning ("rollback incomplete: %s", error->message);
          complete = FALSE;
        }
      else
        g_info ("rolled back: removed %s '%s'", undo->kind == DC_UNDO_DOMAIN ? "domain" : "volume",
                undo->name);
    }
  g_ptr_array_set_size (run->undo, 0);
  g_mutex_unlock (&run->undo_lock);
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
gboolean
dc_run_check_source (virDomainPtr dom, const char *name, GError **error)
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
                   "domain '%s' is %s; shut it down first (virsh shutdown '%s')", name, dc_state_name (state),
                   name);
      return FALSE;
    }
  if (virDomainHasManagedSaveImage (dom, 0) == 1)
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_STATE,
        "domain '%s' is suspended to disk (managed save); start and shut it down, or remove the image with 'virsh managedsave-remove %s'",
        name, name);
      return FALSE;
    }
  return TRUE;
}

static gboolean
dc_write_metadata (virDomainPtr dom, const char *name, const DcMetadata *md, GError **error)
{
  g_autofree char *xml = dc_metadata_format (md);

  if (virDomainSetMetadata (dom, VIR_DOMAIN_METADATA_ELEMENT, xml, DC_METADATA_PREFIX, DC_METADATA_URI,
                            VIR_DOMAIN_AFFECT_CONFIG)
      < 0)
    return dc_set_libvirt_error (error, "cannot update the clone counter of '%s'", name);
  return TRUE;
}

/* The highest N of any existing domain called <source>-cloneN. */
static gboolean
dc_highest_clone_number (virConnectPtr conn, const char *source, guint64 *highest, GError **error)
{
  g_autofree char *prefix = g_strdup_printf ("%s-clone", source);
  g_auto (DcDomainList) doms = { NULL, 0 };

  doms.n = virConnectListAllDomains (conn, &doms.list, 0);
  if (doms.n < 0)
    return dc_set_libvirt_error (error, "cannot list domains");
  *highest = 0;
  for (int i = 0; i < doms.n; i++)
    {
      const char *name = virDomainGetName (doms.list[i]);
      guint64 number;

      if (g_str_has_prefix (name, prefix)
          && g_ascii_string_to_unsigned (name + strlen (prefix), 10, 1, G_MAXUINT32, &number, NULL))
        *highest = MAX (*highest, number);
    }
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
dc_count_clone (DcRun *run, const DcPlan *plan, guint64 *counter, GError **error)
{
  guint64 target = plan->number;

  for (int round = 0; round < 20; round++)
    {
      g_autoptr (DcMetadata) md = dc_domain_metadata (run->src, plan->source_name, error);
      guint64 highest = 0;
      guint64 was;

      if (md == NULL || !dc_highest_clone_number (run->src_conn, plan->source_name, &highest, error))
        return FALSE;
      if (target == 0) /* --name: one more than the counter we saw first */
        target = md->counter + 1;
      if (md->counter >= MAX (target, highest))
        {
          *counter = md->counter;
          return TRUE;
        }
      was = md->counter;
      md->counter = MAX (target, highest);
      if (!dc_write_metadata (run->src, plan->source_name, md, error))
        {
          /* libvirt changes its definition in memory before it saves
           * it: when the save fails, the new counter stays in memory.
           * Writing the old one back puts that right (the save may fail
           * again, which is the error already reported). */
          md->counter = was;
          dc_write_metadata (run->src, plan->source_name, md, NULL);
          return FALSE;
        }
      g_debug ("counter of '%s' set to %" G_GUINT64_FORMAT, plan->source_name, md->counter);
    }
  g_set_error (error, DC_ERROR, DC_ERROR_FAILED, "cannot settle the clone counter of '%s': it keeps changing",
               plan->source_name);
  return FALSE;
}

/*
 * Sameness. The local copy writes the new volume's file and reads the
 * source's through the paths libvirt names, as this process sees them.
 * A URI without a host name is no proof that this view is the daemon's:
 * a unix socket (qemu+unix:///system?socket=..., qemu+ext) can lead into
 * another mount namespace or a container, where the same path is
 * another file. Writing there would overwrite an unrelated file of this
 * host and leave the clone empty. So before this process writes or reads
 * a file in a directory, the directory is proven to be the daemon's,
 * once per run, and never by writing through a local path: libvirt
 * creates a scratch volume of 4 KiB in the pool over that directory
 * (the source's pool, or the new volume's), writes a random token into
 * it (virStorageVolUpload), and this process reads the file libvirt
 * names, read-only. Only when the bytes match is that file the daemon's,
 * and so its directory (a file sits in one directory). The scratch
 * volume is deleted right after; it is on the undo stack while it
 * exists. Where a directory is not proven, libvirt copies, as on a
 * remote URI.
 *
 * The clone's own new volume is not used for the proof: libvirt probes
 * a volume again after an upload, and a token over a qcow2 header would
 * leave the pool taking the new volume for raw.
 */
typedef enum
{
  DC_SAME_UNKNOWN = 0,
  DC_SAME_PROVEN,
  DC_SAME_DISPROVEN,
} DcSame;

#define DC_SAME_TOKEN_SIZE 32
#define DC_SAME_SCRATCH_SIZE 4096

/* A token no one can have put into a file beforehand */
static GBytes *
dc_same_token (void)
{
  guint8 buf[DC_SAME_TOKEN_SIZE];

  if (getrandom (buf, sizeof (buf), 0) != (ssize_t) sizeof (buf))
    for (gsize i = 0; i < sizeof (buf); i++)
      buf[i] = (guint8) g_random_int_range (0, 256);
  return g_bytes_new (buf, sizeof (buf));
}

/* Adds the scratch volume @name of pool @pool_name (a temporary one over
 * @open_dir if set) to the <building> marker of the clone being built,
 * before it is made: a run killed while it exists leaves it to
 * --cleanup, like the clone's own volumes. Called under prove_lock, the
 * only writer of the marker while the copies run. */
static gboolean
dc_run_mark_scratch (DcRun *run, const char *pool_name, const char *name, const char *open_dir,
                     GError **error)
{
  const char *clone = run->building ? virDomainGetName (run->building) : NULL;
  g_autoptr (DcMetadata) md = NULL;
  g_autofree char *xml = NULL;

  if (clone == NULL)
    return dc_set_libvirt_error (error, "cannot read the name of the clone being built");
  md = dc_domain_metadata (run->building, clone, error);
  if (md == NULL)
    return FALSE;
  if (md->building == NULL)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_FAILED, "clone '%s' has no <building> marker", clone);
      return FALSE;
    }
  dc_building_add_volume (md->building, pool_name, name, open_dir);
  xml = dc_metadata_format (md);
  if (virDomainSetMetadata (run->building, VIR_DOMAIN_METADATA_ELEMENT, xml, DC_METADATA_PREFIX,
                            DC_METADATA_URI, VIR_DOMAIN_AFFECT_CONFIG)
      < 0)
    return dc_set_libvirt_error (error, "cannot mark clone '%s' as owning volume '%s'", clone, name);
  return TRUE;
}

/* One try at proving @dir, the directory of pool @pool_name, with a
 * scratch volume. DC_SAME_UNKNOWN when libvirt could not make or fill
 * one; *@vanished then says the pool went away meanwhile. */
static DcSame
dc_run_prove_once (DcRun *run, const char *pool_name, const char *open_dir, const char *dir,
                   gboolean *vanished)
{
  g_autoptr (DcPool) pool = virStoragePoolLookupByName (run->conn, pool_name);
  g_autofree char *name = g_strdup_printf ("domclone-proof-%08x%08x.raw", g_random_int (), g_random_int ());
  g_autofree char *xml = g_markup_printf_escaped (
    "<volume><name>%s</name><capacity unit='bytes'>%d</capacity><allocation unit='bytes'>0</allocation>"
    "<target><format type='raw'/></target></volume>",
    name, DC_SAME_SCRATCH_SIZE);
  g_autoptr (DcVol) vol = NULL;
  g_autoptr (GBytes) token = dc_same_token ();
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *vol_dir = NULL;
  DcSame same = DC_SAME_UNKNOWN;
  gboolean busy = FALSE;

  *vanished = FALSE;
  if (pool == NULL)
    {
      *vanished = dc_pool_vanished ();
      g_debug ("cannot prove '%s' is the directory libvirt sees: %s", dir, virGetLastErrorMessage ());
      return DC_SAME_UNKNOWN;
    }
  if (!dc_run_mark_scratch (run, pool_name, name, open_dir, &error))
    {
      g_debug ("cannot prove '%s' is the directory libvirt sees: %s", dir, error->message);
      return DC_SAME_UNKNOWN;
    }
  dc_run_undo_push (run, DC_UNDO_VOLUME, name, pool_name, open_dir);
  vol = virStorageVolCreateXML (pool, xml, 0);
  if (vol == NULL)
    {
      *vanished = open_dir != NULL && dc_pool_vanished ();
      g_debug ("cannot prove '%s' is the directory libvirt sees: %s", dir, virGetLastErrorMessage ());
      dc_run_undo_forget_volume (run, pool_name, name);
      return DC_SAME_UNKNOWN;
    }
  path = virStorageVolGetPath (vol);
  vol_dir = path ? g_path_get_dirname (path) : NULL;
  if (vol_dir == NULL || !g_str_equal (vol_dir, dir))
    same = DC_SAME_DISPROVEN; /* not where the pool's volumes go */
  else if (dc_vol_io_upload (run->conn, vol, token, &error))
    same = dc_file_holds (path, token) ? DC_SAME_PROVEN : DC_SAME_DISPROVEN;
  else
    {
      *vanished = open_dir != NULL && dc_pool_vanished ();
      g_debug ("cannot prove '%s' is the directory libvirt sees: %s", dir, error->message);
    }
  /* a temporary pool closed meanwhile is opened again for this */
  g_clear_error (&error);
  if (dc_cleanup_remove_volume (run->conn, pool_name, name, open_dir, 0, &busy, &error) && !busy)
    dc_run_undo_forget_volume (run, pool_name, name);
  else
    g_warning ("cannot delete the scratch volume '%s' in pool '%s': %s", name, pool_name,
               error ? error->message : "libvirt is still writing it");
  return same;
}

/* Whether @dir, the directory of pool @pool_name (a temporary one over
 * @open_dir if set), is the daemon's; proven on first asking, then
 * remembered for the run. */
static DcSame
dc_run_dir_same (DcRun *run, const char *pool_name, const char *open_dir, const char *dir)
{
  DcSame same;

  g_mutex_lock (&run->prove_lock);
  same = GPOINTER_TO_INT (g_hash_table_lookup (run->same, dir));
  for (int attempt = 1; same == DC_SAME_UNKNOWN && attempt <= DC_POOL_ATTEMPTS; attempt++)
    {
      g_autofree char *opened = NULL;
      gboolean vanished = FALSE;

      /* a temporary pool closed by another domclone is opened again */
      if (open_dir != NULL && !dc_pool_open_dir (run->conn, open_dir, &opened, NULL))
        break;
      same = dc_run_prove_once (run, opened ? opened : pool_name, open_dir, dir, &vanished);
      if (!vanished)
        break;
    }
  if (same != DC_SAME_UNKNOWN && !g_hash_table_contains (run->same, dir))
    {
      g_hash_table_insert (run->same, g_strdup (dir), GINT_TO_POINTER (same));
      if (same == DC_SAME_PROVEN)
        g_info ("'%s' is the directory libvirt sees: a token libvirt wrote there reads back here", dir);
      else
        g_info (
          "'%s' here is not the directory libvirt sees (another mount namespace or container, or a file this process cannot read): libvirt copies its volumes",
          dir);
    }
  g_mutex_unlock (&run->prove_lock);
  return same;
}

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
 * proven to be the daemon's (see "Sameness" above) */
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
  if (dc_run_dir_same (run, copy->dst_pool, copy->dst_open_dir, dst_dir) != DC_SAME_PROVEN)
    {
      g_debug ("%s goes through libvirt: '%s' is not proven to be the directory libvirt sees", copy->what,
               dst_dir);
      return FALSE;
    }
  if (!g_str_equal (src_dir, dst_dir)
      && dc_run_dir_same (run, copy->pool, copy->open_dir, src_dir) != DC_SAME_PROVEN)
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
 * here is proven to be libvirt's (see "Sameness"). A seed's upload is
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
  if (dc_run_dir_same (run, copy->dst_pool, copy->dst_open_dir, dir) == DC_SAME_PROVEN
      && !dc_file_sync (at->path, error))
    return FALSE;
  return TRUE;
}

/* The copy step: every volume the clone gets (disk, NVRAM, TPM state,
 * seed, overlay) is made here, on the run's one undo stack, tried again
 * while a shared temporary pool vanishes under it. */
static gboolean
dc_copy_volume (DcRun *run, const DcCopy *copy, GError **error)
{
  DcCopyAttempt at = { .copy = copy };
  g_autoptr (GBytes) bytes = NULL; /* at.bytes, owned here */
  g_autofree char *seed_xml = NULL;
  g_autofree char *path = NULL; /* at.path, once made */
  gboolean ok;

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
      dc_run_undo_push (run, DC_UNDO_VOLUME, copy->dst_name, copy->dst_pool, copy->dst_open_dir);
      ok = dc_copy_volume_once (run, &at, &err);
      path = g_steal_pointer (&at.path);
      if (ok || !at.vanished || attempt >= DC_POOL_ATTEMPTS)
        dc_progress_done (at.shown);
      if (ok)
        break;
      g_clear_pointer (&path, g_free);
      if (at.vanished || at.existed)
        dc_run_undo_forget_volume (run, copy->dst_pool, copy->dst_name);
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

static gboolean
dc_run_copies (DcRun *run, GPtrArray *copies, GError **error)
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

static char *
dc_now (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();

  return g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
}

/* Plans the clone and defines it, which claims its name: defining is an
 * atomic test-and-set on the name in libvirt, so two domclones never end
 * up with the same clone, on this host or over a remote connection. */
static DcPlan *
dc_run_define (DcRun *run, const DcPlanOptions *base, virDomainPtr *clone, GError **error)
{
  DcPlanOptions popts = *base;

  for (int races = 0;; races++)
    {
      g_autoptr (DcPlan) plan = dc_plan_new (run->env, &popts, error);
      g_autoptr (GError) local = NULL;
      gboolean taken = FALSE;

      if (plan == NULL)
        return NULL;
      {
        g_autofree char *summary = dc_plan_describe (plan);
        g_info ("plan:\n%s", summary);
        g_debug ("clone XML:\n%s", plan->xml);
      }
      if (!dc_check_cancelled (error))
        return NULL;

      *clone = virDomainDefineXML (run->conn, plan->xml);
      if (*clone != NULL)
        {
          dc_run_undo_push (run, DC_UNDO_DOMAIN, plan->name, NULL, NULL);
          return g_steal_pointer (&plan);
        }
      dc_set_libvirt_error (&local, "cannot define domain '%s'", plan->name);
      if (!run->env->domain_exists (run->env, plan->name, &taken, NULL) || !taken)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
      if (plan->number == 0 || races >= DC_RUN_MAX_DEFINE_RACES)
        {
          /* another run (or anyone) defined the name between our plan
           * and our define: the name is taken, as if the plan had seen
           * it (dc_run_clone() asks --exist-ok's question again) */
          g_set_error (
            error, DC_ERROR, DC_ERROR_NAME_TAKEN,
            "domain '%s' was defined by someone else while this run prepared it; choose another --name",
            plan->name);
          return NULL;
        }
      g_info ("'%s' was taken meanwhile, trying the next number", plan->name);
      popts.first_number = plan->number + 1;
    }
}

/* The clone's domclone metadata once complete: the plan's, without the
 * <building> marker, with <volumes> naming the volumes @result lists. */
static char *
dc_run_final_metadata (const DcPlan *plan, const DcCloneResult *result, GError **error)
{
  g_autoptr (DcMetadata) md = dc_metadata_parse (plan->metadata, error);

  if (md == NULL)
    return NULL;
  for (guint i = 0; i < result->volumes->len; i++)
    {
      const DcResultVolume *r = result->volumes->pdata[i];
      const DcCopy *c = i < plan->copies->len
                          ? plan->copies->pdata[i]
                          : ((const DcSeed *) plan->seeds->pdata[i - plan->copies->len])->vol;
      DcOwnedVolume *v;

      if (c->shared)
        continue; /* --to: media shared there by later clones too */
      v = dc_owned_volume_new (c->dst_pool, c->dst_name, c->dst_open_dir);

      v->disk = g_strdup (r->disk);
      v->path = g_strdup (r->path);
      v->format = g_strdup (r->format);
      v->backing = g_strdup (r->backing);
      g_ptr_array_add (md->volumes, v);
    }
  return dc_metadata_format (md);
}

/* @xml, a clone's XML, with @metadata as its domclone element: what
 * --print-xml shows is what a run leaves once complete. */
static char *
dc_run_xml_with_metadata (const char *xml, const char *metadata, GError **error)
{
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autoptr (xmlDoc) doc = dc_xml_parse (xml, "domain", "the clone's XML", &ctxt, error);
  g_autoptr (xmlDoc) mddoc = NULL;
  xmlNode *old;

  if (doc == NULL)
    return NULL;
  mddoc = dc_xml_parse (metadata, "domclone", "the clone's domclone metadata", NULL, error);
  if (mddoc == NULL)
    return NULL;
  old = dc_metadata_node (ctxt);
  if (old == NULL)
    return g_strdup (xml);
  xmlReplaceNode (old, xmlDocCopyNode (xmlDocGetRootElement (mddoc), doc, 1));
  xmlFreeNode (old);
  return dc_xml_format (xmlDocGetRootElement (doc), TRUE);
}

/* The sizes of the new @volumes as libvirt saw them once made, into
 * @result's (which lists them in the same order), when it wants them. */
static void
dc_run_read_back (DcRun *run, GPtrArray *volumes, DcCloneResult *result)
{
  for (guint i = 0; run->made != NULL && i < volumes->len; i++)
    {
      const virStorageVolInfo *info = g_hash_table_lookup (run->made, volumes->pdata[i]);
      DcResultVolume *v = result->volumes->pdata[i];

      if (info != NULL)
        {
          v->capacity = (gint64) info->capacity;
          v->allocation = (gint64) info->allocation;
        }
    }
}

/* What the planner is asked, from the command line's options and what
 * the run found: the one place a new clone option is passed on. */
static DcPlanOptions
dc_run_plan_options (const DcRun *run, const char *now)
{
  DcPlanOptions popts = {
    .source_xml = run->source_xml,
    .name = run->opts->name,
    .first_number = (guint) MIN (run->counter + 1, G_MAXUINT),
    .now = now,
    .rand = run->rand,
    .pool = run->opts->pool,
    .linked = run->opts->linked,
    .across = run->across,
    .source_uri = run->opts->source_uri,
    .source_host = run->src_host,
  };

  return popts;
}

/* The part of dc_run_clone that makes changes; on failure the caller rolls
 * back what the undo stack holds. */
static gboolean
dc_run_steps (DcRun *run, DcCloneResult *result, GError **error)
{
  g_autofree char *now = dc_now ();
  g_autoptr (DcBuilding) me = dc_cleanup_building_self ();
  DcPlanOptions popts = dc_run_plan_options (run, now);
  g_autoptr (DcPlan) plan = NULL;
  g_autoptr (DcDomain) clone = NULL;
  g_autofree char *final = NULL;
  g_autoptr (GPtrArray) volumes = NULL;
  gboolean ok;

  popts.building = me;
  plan = dc_run_define (run, &popts, &clone, error);
  if (plan == NULL)
    return FALSE;
  run->building = clone;

  volumes = dc_plan_volumes (plan);
  if (run->opts->progress && volumes->len > 0)
    run->progress = dc_progress_new (run->conn, STDERR_FILENO);
  run->plan = plan;
  ok = dc_run_copies (run, volumes, error);
  run->plan = NULL;
  g_clear_pointer (&run->progress, dc_progress_free);
  if (!ok)
    return FALSE;

  /* Nothing must have started the source while its disks were read. */
  if (!dc_check_cancelled (error) || !dc_run_check_source (run->src, plan->source_name, error))
    return FALSE;
  /* The clone is complete: drop the marker that would let a clean-up
   * take it for the leftover of a killed run, and say which volumes
   * are its own (an --exist-ok rerun lists them). */
  dc_result_fill (result, plan, run->env);
  final = dc_run_final_metadata (plan, result, error);
  if (final == NULL)
    return FALSE;
  if (virDomainSetMetadata (clone, VIR_DOMAIN_METADATA_ELEMENT, final, DC_METADATA_PREFIX, DC_METADATA_URI,
                            VIR_DOMAIN_AFFECT_CONFIG)
      < 0)
    return dc_set_libvirt_error (error, "cannot mark clone '%s' as complete", plan->name);
  if (!dc_count_clone (run, plan, &result->counter, error))
    return FALSE;

  dc_run_read_back (run, volumes, result);
  return TRUE;
}

/* Undoes what the run made after @error ended it, on a new connection if
 * the daemon went away meanwhile, and says in @error how that went. */
static void
dc_run_rollback (DcRun *run, GError *error)
{
  g_autofree char *cause = g_steal_pointer (&error->message);
  /* the domain is defined first: the oldest entry names the clone */
  g_autofree char *clone = g_strdup (((DcUndo *) run->undo->pdata[0])->name);
  g_autoptr (DcConnect) again = dc_reconnect_if_lost (run->conn);
  gboolean alive = virConnectIsAlive (run->conn) == 1;
  gboolean complete = FALSE;
  gboolean kept = FALSE;

  if (alive || again != NULL)
    complete = dc_run_undo (run, again ? again : run->conn, &kept);
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

/**
 * dc_run_source_open:
 * @conn: connection
 * @name: the domain to clone (or to make or unmake a template)
 * @xml: (out): its inactive XML, secure
 * @error: return location
 *
 * Looks @name up and checks that it is shut off and persistent, as a
 * source must be.
 *
 * Returns: (transfer full): the domain, or %NULL with @error set
 */
virDomainPtr
dc_run_source_open (virConnectPtr conn, const char *name, char **xml, GError **error)
{
  g_autoptr (DcDomain) dom = virDomainLookupByName (conn, name);

  if (dom == NULL)
    {
      g_autofree char *shown = g_strescape (name, NULL);

      if (dc_last_libvirt_code () == VIR_ERR_NO_DOMAIN)
        g_set_error (error, DC_ERROR, DC_ERROR_SOURCE_NOT_FOUND,
                     "domain '%s' not found; 'virsh list --all' shows the domains", shown);
      else
        dc_set_libvirt_error (error, "cannot look up domain '%s'", shown);
      return NULL;
    }
  if (!dc_run_check_source (dom, name, error))
    return NULL;
  *xml = virDomainGetXMLDesc (dom, VIR_DOMAIN_XML_SECURE | VIR_DOMAIN_XML_INACTIVE);
  if (*xml == NULL)
    {
      dc_set_libvirt_error (error, "cannot read the XML of domain '%s'", name);
      return NULL;
    }
  return g_steal_pointer (&dom);
}

/* Looks the source up and checks it can be cloned; reads its XML and
 * its counter into @run. */
static gboolean
dc_run_open_source (DcRun *run, char **xml, GError **error)
{
  const char *name = run->opts->source;
  g_autoptr (DcMetadata) md = NULL;

  run->src = dc_run_source_open (run->src_conn, name, xml, error);
  if (run->src == NULL)
    return FALSE;
  md = dc_domain_metadata (run->src, name, error);
  if (md == NULL)
    return FALSE;
  run->counter = md->counter;
  return TRUE;
}

/* What every run starts with: the source, checked, with its XML and
 * counter; and one pass over the host's domains, which answers for the
 * MAC addresses in use and the leftovers of killed runs. */
static DcHostScan *
dc_run_begin (DcRun *run, char **xml, GError **error)
{
  DcHostScan *scan = NULL;
  gboolean ok = dc_run_open_source (run, xml, error);

  /* --to: the clone's <origin> names the source's host */
  if (ok && run->across)
    {
      run->src_host = virConnectGetHostname (run->src_conn);
      if (run->src_host == NULL)
        ok = dc_set_libvirt_error (error, "cannot read the host name of the source's host");
    }
  if (ok)
    scan = dc_host_scan (run->conn, error);
  if (scan == NULL)
    g_clear_pointer (&run->src, virDomainFree);
  return scan;
}

/* The planner's questions, answered by the clone's host (and, --to, by
 * the source's for its files) */
static DcEnv *
dc_run_env (DcRun *run, const DcHostScan *scan, gboolean read_only)
{
  if (run->across)
    return dc_env_live_new_to (run->src_conn, run->conn, scan, read_only);
  return read_only ? dc_env_live_new_read_only (run->conn, scan) : dc_env_live_new (run->conn, scan);
}

/* Leftovers of killed runs against this source go first: they hold
 * names and space. One still being copied by libvirt is left for later,
 * with a warning. */
static void
dc_run_remove_leftovers (DcRun *run, const DcHostScan *scan)
{
  g_autoptr (GPtrArray) removed = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;

  if (!dc_cleanup (run->conn, scan, run->src_conn, run->opts->source, FALSE, removed, &error))
    g_warning ("cannot remove the leftovers of an earlier run: %s", error->message);
  for (guint i = 0; i < removed->len; i++)
    g_message ("removed '%s', left unfinished by a killed run", (const char *) removed->pdata[i]);
}

/* "A", "A and B", "A, B and C" */
static char *
dc_run_name_list (const GPtrArray *made)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < made->len; i++)
    {
      if (i > 0)
        g_string_append (out, i + 1 == made->len ? " and " : ", ");
      g_string_append (out, ((const DcCloneResult *) made->pdata[i])->name);
    }
  return g_string_free (out, FALSE);
}

/* Makes @count clones, one run of the steps each, on @run's one look
 * at the source and @scan; stops at the first failure, after rolling
 * back the clone it hit. */
static gboolean
dc_run_clones (DcRun *run, DcHostScan *scan, guint count, GPtrArray *made, GError **error)
{
  for (guint i = 0; i < count; i++)
    {
      g_autoptr (DcCloneResult) result = g_new0 (DcCloneResult, 1);
      GError *local = NULL;

      if (!dc_run_steps (run, result, &local))
        {
          run->building = NULL; /* freed with the steps' own reference */
          if (run->undo->len > 0)
            dc_run_rollback (run, local);
          g_propagate_error (error, local);
          return FALSE;
        }
      run->building = NULL;
      /* complete: no longer this run's to undo */
      g_ptr_array_set_size (run->undo, 0);
      if (run->made != NULL)
        g_hash_table_remove_all (run->made);
      /* the next clone takes the next number and other MACs: the
       * planner asks the scan, which has not seen this one */
      run->counter = result->counter;
      for (guint j = 0; j < result->macs->len; j++)
        g_hash_table_add (scan->macs, g_ascii_strdown (result->macs->pdata[j], -1));
      g_ptr_array_add (made, g_steal_pointer (&result));
    }
  return TRUE;
}

/* Makes @count clones of the source, one after another, from one look
 * at the source and the host; each is one run of the steps with an undo
 * stack of its own. A failure rolls back the clone it hit and stops;
 * the clones made before it stay, complete, in @made. With @several,
 * the error says which clones were made. */
static gboolean
dc_clone_run (virConnectPtr conn, const DcCloneOptions *opts, guint count, gboolean several, GPtrArray *made,
              GError **error)
{
  g_autoptr (GRand) own_rand = opts->rand ? NULL : g_rand_new ();
  g_autoptr (GError) local = NULL;
  g_autofree char *xml = NULL;
  g_autoptr (DcHostScan) scan = NULL;
  g_auto (DcRun) run = {
    .conn = opts->to ? opts->to : conn,
    .src_conn = conn,
    .across = opts->to != NULL,
    .opts = opts,
    .rand = opts->rand ? opts->rand : own_rand,
    .several = several,
  };
  gboolean ok = FALSE;

  g_mutex_init (&run.undo_lock);
  g_mutex_init (&run.prove_lock);
  scan = dc_run_begin (&run, &xml, &local);
  if (scan != NULL)
    {
      dc_run_remove_leftovers (&run, scan);
      run.source_xml = xml;
      run.jobs = opts->jobs > 0 ? opts->jobs : (guint) g_get_num_processors ();
      run.local_conn = dc_connection_is_local (run.conn);
      run.local_copies = run.local_conn && g_strcmp0 (g_getenv ("DOMCLONE_LOCAL_COPY"), "0") != 0;
      run.env = dc_run_env (&run, scan, FALSE);
      run.undo = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_undo_free);
      if (opts->read_back)
        run.made = g_hash_table_new_full (NULL, NULL, NULL, g_free);
      run.same = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      ok = dc_run_clones (&run, scan, count, made, &local);
      if (virConnectIsAlive (run.conn) == 1)
        dc_pool_close_dirs_on (run.conn, run.across && virConnectIsAlive (conn) == 1 ? conn : NULL);
    }
  if (ok)
    return TRUE;
  if (several && made->len > 0)
    {
      g_autofree char *cause = g_steal_pointer (&local->message);
      g_autofree char *names = dc_run_name_list (made);

      local->message = g_strdup_printf ("%s; %s %s made and %s kept", cause, names,
                                        made->len == 1 ? "was" : "were", made->len == 1 ? "is" : "are");
    }
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

/* --exist-ok, before a run and when it lost the race for its name:
 * *@existing is the clone an earlier run made, or %NULL to go on. */
static gboolean
dc_run_exist_prelude (virConnectPtr conn, const DcCloneOptions *opts, DcCloneResult **existing,
                      GError **error)
{
  return dc_exist_check (conn, opts->source, opts->name, existing, error);
}

/**
 * dc_run_clone:
 * @conn: libvirt connection
 * @opts: what to clone
 * @error: return location
 *
 * Clones a shut-off domain: defines the clone, copies its writable
 * volumes, NVRAM and TPM state, counts the clone on the source. On
 * failure nothing this call created remains. With @opts->exist_ok, a
 * clone of the source called @opts->name that an earlier run made is
 * the result, with @existed set, and nothing is done.
 *
 * Returns: (transfer full): the result, or %NULL with @error set
 */
DcCloneResult *
dc_run_clone (virConnectPtr conn, const DcCloneOptions *opts, GError **error)
{
  g_autoptr (GPtrArray) made = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_result_free);
  g_autoptr (GError) local = NULL;

  if (opts->exist_ok)
    {
      DcCloneResult *existing = NULL;

      if (!dc_run_exist_prelude (conn, opts, &existing, error) || existing != NULL)
        return existing;
    }
  if (!dc_clone_run (conn, opts, 1, FALSE, made, &local))
    {
      DcCloneResult *existing = NULL;

      /* --exist-ok lost the race for its name to another run: that
       * run's clone is the answer, or it is still being built */
      if (opts->exist_ok && g_error_matches (local, DC_ERROR, DC_ERROR_NAME_TAKEN)
          && dc_run_exist_prelude (conn, opts, &existing, error))
        {
          if (existing != NULL)
            return existing;
        }
      else
        g_propagate_error (error, g_steal_pointer (&local));
      if (error != NULL && *error == NULL)
        g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  return g_ptr_array_steal_index (made, 0);
}

/**
 * dc_run_clone_count:
 * @conn: libvirt connection
 * @opts: what to clone; @opts->name must be %NULL
 * @count: how many clones
 * @made: (element-type DcCloneResult): the clones made are appended,
 *   also when a later one failed
 * @error: return location
 *
 * Makes @count clones of the source (as dc_run_clone() would, called
 * @count times), looking at the source and the host once. A failure
 * rolls back the clone it hit, and stops; the clones made before stay,
 * and the error message names them.
 *
 * Returns: %FALSE with @error set if not all @count clones were made
 */
gboolean
dc_run_clone_count (virConnectPtr conn, const DcCloneOptions *opts, guint count, GPtrArray *made,
                    GError **error)
{
  g_return_val_if_fail (opts->name == NULL && !opts->exist_ok, FALSE);
  return dc_clone_run (conn, opts, count, TRUE, made, error);
}

/**
 * dc_run_print_xml:
 * @conn: libvirt connection
 * @opts: what to clone
 * @error: return location
 *
 * Plans the clone as dc_run_clone() would, with the same checks and
 * refusals, and changes nothing: no domain, volume or pool is made, the
 * counter is not moved, leftovers of killed runs are not removed. The
 * XML is the one the clone has once complete: without the <building>
 * marker, which a real run defines first and then drops. With
 * @opts->exist_ok, an existing clone is found as dc_run_clone() finds it,
 * and is the result (without @xml).
 *
 * Returns: (transfer full): the result, with @xml and without @counter,
 * or %NULL with @error set
 */
DcCloneResult *
dc_run_print_xml (virConnectPtr conn, const DcCloneOptions *opts, GError **error)
{
  g_autoptr (DcCloneResult) result = g_new0 (DcCloneResult, 1);
  g_autoptr (GRand) own_rand = opts->rand ? NULL : g_rand_new ();
  g_autofree char *xml = NULL;
  g_autofree char *now = dc_now ();
  g_autoptr (DcHostScan) scan = NULL;
  g_autoptr (DcPlan) plan = NULL;
  g_auto (DcRun) run = {
    .conn = opts->to ? opts->to : conn,
    .src_conn = conn,
    .across = opts->to != NULL,
    .opts = opts,
    .rand = opts->rand ? opts->rand : own_rand,
  };
  DcPlanOptions popts;

  g_mutex_init (&run.undo_lock);
  g_mutex_init (&run.prove_lock);
  if (opts->exist_ok)
    {
      DcCloneResult *existing = NULL;

      if (!dc_run_exist_prelude (conn, opts, &existing, error) || existing != NULL)
        return existing;
    }
  scan = dc_run_begin (&run, &xml, error);
  g_clear_pointer (&run.src, virDomainFree);
  if (scan == NULL)
    return NULL;

  run.source_xml = xml;
  popts = dc_run_plan_options (&run, now);
  run.env = dc_run_env (&run, scan, TRUE);
  plan = dc_plan_new (run.env, &popts, error);
  if (plan != NULL)
    {
      g_autofree char *summary = dc_plan_describe (plan);

      g_autofree char *final = NULL;

      g_info ("plan:\n%s", summary);
      dc_result_fill (result, plan, run.env);
      final = dc_run_final_metadata (plan, result, error);
      if (final != NULL)
        result->xml = dc_run_xml_with_metadata (plan->xml, final, error);
    }
  if (plan == NULL || result->xml == NULL)
    return NULL;
  return g_steal_pointer (&result);
}
