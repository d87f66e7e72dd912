/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-sameness.c: proofs that a directory is the daemon's, with scratch
 * volumes (domclone-proof-*) on the run's undo stack.
 */
#include "config.h"

#include "dc-sameness.h"
#include "dc-undo.h"
#include "dc-cleanup.h"
#include "dc-copy.h"
#include "dc-vol-io.h"
#include "dc-pool.h"
#include "dc-metadata.h"

#include <sys/random.h>
#include <unistd.h>

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
dc_sameness_mark_scratch (DcRun *run, const char *pool_name, const char *name, const char *open_dir,
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

/* The scratch volume named for a proof of @dir in pool @pool_name when
 * the clone was defined, if any (it is in its marker already), taken
 * for this try: another uses a name of its own. */
static char *
dc_sameness_named (DcRun *run, const char *pool_name, const char *dir)
{
  DcOwnedVolume *v = run->scratch ? g_hash_table_lookup (run->scratch, dir) : NULL;
  char *name;

  if (v == NULL || !g_str_equal (v->pool, pool_name))
    return NULL;
  name = g_steal_pointer (&v->name);
  g_hash_table_remove (run->scratch, dir);
  return name;
}

/* Adds @dir, the directory of pool @pool_name (a temporary one over
 * @open_dir if set) to @run->scratch and @building, unless it is there
 * or proven already. */
static void
dc_sameness_name_one (DcRun *run, const char *pool_name, const char *open_dir, const char *dir,
                      DcBuilding *building)
{
  DcOwnedVolume *v;

  if (pool_name == NULL || g_hash_table_contains (run->scratch, dir)
      || g_hash_table_contains (run->batch->same, dir))
    return;
  v = dc_owned_volume_new (pool_name, NULL, open_dir);
  v->name = g_strdup_printf ("domclone-proof-%08x%08x.raw", g_random_int (), g_random_int ());
  dc_building_add_volume (building, v->pool, v->name, v->open_dir);
  g_hash_table_insert (run->scratch, g_strdup (dir), v);
}

/**
 * dc_sameness_name_scratch:
 * @run: a clone's run, before its clone is defined
 * @volumes: (element-type DcCopy): its new volumes
 * @building: the <building> marker it is to be defined with
 *
 * Names the scratch volume of each directory the copies may want
 * proven (the new volumes' but overlays', the sources' of full copies
 * on this host)
 * and not proven yet, in @building and @run->scratch: a proof then
 * makes its scratch volume without first writing the marker (each
 * write of a domain's metadata has libvirt save its definition to
 * disk). A name no proof uses is one more volume --cleanup finds not
 * there. Only on this host: elsewhere nothing is proven.
 */
void
dc_sameness_name_scratch (DcRun *run, GPtrArray *volumes, DcBuilding *building)
{
  g_clear_pointer (&run->scratch, g_hash_table_unref);
  run->scratch =
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) dc_owned_volume_free);
  if (!run->local_conn || run->batch == NULL)
    return;
  g_mutex_lock (&run->batch->prove_lock);
  for (guint i = 0; i < volumes->len; i++)
    {
      const DcCopy *copy = volumes->pdata[i];
      g_autofree char *dst_dir = copy->dst_path ? g_path_get_dirname (copy->dst_path) : NULL;
      g_autofree char *src_dir = copy->src_path ? g_path_get_dirname (copy->src_path) : NULL;

      if (copy->rbd != NULL)
        continue;
      /* an overlay written here is proven with its own volume
       * (dc_sameness_prove_with()), one libvirt writes is never
       * flushed from here; so is a copy made here beside its source
       * in a pool (dc-copy-step.c) */
      if (copy->kind == DC_COPY_KIND_OVERLAY
          || (run->local_copies && copy->kind == DC_COPY_KIND_FULL && copy->dst_open_dir == NULL
              && !copy->bytes_only && g_strcmp0 (src_dir, dst_dir) == 0))
        continue;
      if (dst_dir != NULL)
        dc_sameness_name_one (run, copy->dst_pool, copy->dst_open_dir, dst_dir, building);
      if (src_dir != NULL && !run->across && copy->kind == DC_COPY_KIND_FULL)
        dc_sameness_name_one (run, copy->pool, copy->open_dir, src_dir, building);
    }
  g_mutex_unlock (&run->batch->prove_lock);
}

/* The scratch volume's <permissions>: this process's own, 0600, where it
 * is not root, so that it may read the volume libvirt makes (a member of
 * the libvirt group could not read root's 0600 file, and would find no
 * directory the daemon's, not even one of its own images); none for
 * root, whose libvirt's default is. */
static char *
dc_sameness_permissions (void)
{
  if (geteuid () == 0)
    return g_strdup ("");
  return g_strdup_printf ("<permissions><owner>%u</owner><group>%u</group><mode>0600</mode></permissions>",
                          (guint) geteuid (), (guint) getegid ());
}

/* One try at proving @dir, the directory of pool @pool_name, with a
 * scratch volume. DC_SAME_UNKNOWN when libvirt could not make or fill
 * one; *@vanished then says the pool went away meanwhile. */
static DcSame
dc_sameness_prove_once (DcRun *run, const char *pool_name, const char *open_dir, const char *dir,
                        gboolean *vanished)
{
  g_autoptr (DcPool) pool = dc_env_live_pool (run->env, run->conn, pool_name);
  g_autofree char *named = dc_sameness_named (run, pool_name, dir);
  g_autofree char *name =
    named ? g_strdup (named)
          : g_strdup_printf ("domclone-proof-%08x%08x.raw", g_random_int (), g_random_int ());
  g_autofree char *head = g_markup_printf_escaped (
    "<volume><name>%s</name><capacity unit='bytes'>%d</capacity><allocation unit='bytes'>0</allocation>"
    "<target><format type='raw'/>",
    name, DC_SAME_SCRATCH_SIZE);
  g_autofree char *permissions = dc_sameness_permissions ();
  g_autofree char *xml = g_strconcat (head, permissions, "</target></volume>", NULL);
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
  if (named == NULL && !dc_sameness_mark_scratch (run, pool_name, name, open_dir, &error))
    {
      g_debug ("cannot prove '%s' is the directory libvirt sees: %s", dir, error->message);
      return DC_SAME_UNKNOWN;
    }
  dc_undo_push (run, DC_UNDO_VOLUME, name, pool_name, open_dir, NULL);
  vol = virStorageVolCreateXML (pool, xml, 0);
  if (vol == NULL)
    {
      *vanished = open_dir != NULL && dc_pool_vanished ();
      g_debug ("cannot prove '%s' is the directory libvirt sees: %s", dir, virGetLastErrorMessage ());
      /* a daemon that died while making it may have left its file: the
       * undo step goes only once no such volume is there */
      if (dc_cleanup_remove_volume (run->conn, pool_name, name, open_dir, 0, &busy, NULL) && !busy)
        dc_undo_forget_volume (run, pool_name, name);
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
  /* deleted through the handle libvirt gave us: no pool refresh, no
   * lookup; a temporary pool closed meanwhile is opened again for this */
  g_clear_error (&error);
  if (virStorageVolDelete (vol, 0) == 0)
    dc_undo_forget_volume (run, pool_name, name);
  else if (dc_cleanup_remove_volume (run->conn, pool_name, name, open_dir, 0, &busy, &error) && !busy)
    dc_undo_forget_volume (run, pool_name, name);
  else
    g_warning ("cannot delete the scratch volume '%s' in pool '%s': %s", name, pool_name,
               error ? error->message : "libvirt is still writing it");
  return same;
}

/* Keeps what a proof found of @dir for the batch, and says it (under
 * prove_lock) */
static void
dc_sameness_record (DcRun *run, const char *dir, DcSame same)
{
  if (same == DC_SAME_UNKNOWN || g_hash_table_contains (run->batch->same, dir))
    return;
  g_hash_table_insert (run->batch->same, g_strdup (dir), GINT_TO_POINTER (same));
  if (same == DC_SAME_PROVEN)
    g_info ("'%s' is the directory libvirt sees: a token libvirt wrote there reads back here", dir);
  else
    g_info (
      "'%s' here is not the directory libvirt sees (another mount namespace or container, or a file this process cannot read): libvirt copies its volumes",
      dir);
}

/* Whether @dir, the directory of pool @pool_name (a temporary one over
 * @open_dir if set), is the daemon's; proven on first asking, then
 * remembered for the run. */
DcSame
dc_sameness_of_dir (DcRun *run, const char *pool_name, const char *open_dir, const char *dir)
{
  DcSame same;

  g_mutex_lock (&run->batch->prove_lock);
  same = GPOINTER_TO_INT (g_hash_table_lookup (run->batch->same, dir));
  for (int attempt = 1; same == DC_SAME_UNKNOWN && attempt <= DC_POOL_ATTEMPTS; attempt++)
    {
      g_autofree char *opened = NULL;
      gboolean vanished = FALSE;

      /* a temporary pool closed by another domclone is opened again */
      if (open_dir != NULL && !dc_pool_open_dir (run->conn, open_dir, &opened, NULL))
        break;
      same = dc_sameness_prove_once (run, opened ? opened : pool_name, open_dir, dir, &vanished);
      if (!vanished)
        break;
    }
  dc_sameness_record (run, dir, same);
  g_mutex_unlock (&run->batch->prove_lock);
  return same;
}

/**
 * dc_sameness_known:
 * @run: the run
 * @dir: a directory
 *
 * Returns: what the batch proved of @dir so far, without proving it
 */
DcSame
dc_sameness_known (DcRun *run, const char *dir)
{
  DcSame same;

  g_mutex_lock (&run->batch->prove_lock);
  same = GPOINTER_TO_INT (g_hash_table_lookup (run->batch->same, dir));
  g_mutex_unlock (&run->batch->prove_lock);
  return same;
}

/**
 * dc_sameness_prove_with:
 * @run: the run
 * @vol: a new volume of the clone, empty and raw, that this process is
 *   to write at @path (a linked clone's overlay), on the undo stack and
 *   in the clone's marker already
 * @path: its path
 *
 * Proves the directory of @path as a scratch volume would
 * (dc_sameness_of_dir()), with @vol itself, unless the batch proved it
 * already: libvirt writes a token into @vol, this process reads it back
 * at @path. No volume is made and deleted for it, and no marker
 * written. What this process then writes at @path replaces the token.
 *
 * Returns: what is known of the directory then
 */
DcSame
dc_sameness_prove_with (DcRun *run, virStorageVolPtr vol, const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  DcSame same;

  g_mutex_lock (&run->batch->prove_lock);
  same = GPOINTER_TO_INT (g_hash_table_lookup (run->batch->same, dir));
  if (same == DC_SAME_UNKNOWN)
    {
      g_autoptr (GBytes) token = dc_same_token ();
      g_autoptr (GError) error = NULL;

      if (dc_vol_io_upload (run->conn, vol, token, &error))
        same = dc_file_holds (path, token) ? DC_SAME_PROVEN : DC_SAME_DISPROVEN;
      else
        g_debug ("cannot prove '%s' is the directory libvirt sees: %s", dir, error->message);
      dc_sameness_record (run, dir, same);
    }
  g_mutex_unlock (&run->batch->prove_lock);
  return same;
}
