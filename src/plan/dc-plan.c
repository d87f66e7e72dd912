/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-plan.c: decide everything about a clone without changing anything.
 *
 * Given the source's XML, the options and answers from a DcEnv about what
 * exists on the connection, build the clone's XML and the list of volumes
 * to copy. No libvirt call is made here, which keeps the whole rewrite
 * testable without a daemon and makes a dry run free.
 */
#include "config.h"

#include "dc-plan.h"
#include "dc-plan-to.h"
#include "dc-metadata.h"
#include "dc-name.h"
#include "dc-newvol.h"
#include "dc-cloudinit.h"
#include "dc-xml.h"

#include <string.h>

/* Enough to step over the clones a busy template has, few enough that a
 * broken lookup cannot spin for long. */
#define DC_PLAN_MAX_NAME_TRIES 10000

static void
dc_copy_free (DcCopy *copy)
{
  g_free (copy->what);
  g_free (copy->pool);
  g_free (copy->src_name);
  g_free (copy->src_path);
  g_free (copy->dst_pool);
  g_free (copy->dst_open_dir);
  g_free (copy->dst_owner);
  g_free (copy->dst_group);
  g_free (copy->dst_name);
  g_free (copy->dst_path);
  g_free (copy->xml);
  g_free (copy->open_dir);
  g_free (copy->src_format);
  g_free (copy);
}

static void
dc_seed_free (DcSeed *seed)
{
  dc_copy_free (seed->vol);
  g_free (seed->hostname);
  g_strfreev (seed->macs_from);
  g_strfreev (seed->macs_to);
  g_free (seed);
}

void
dc_plan_free (DcPlan *plan)
{
  if (plan == NULL)
    return;
  g_free (plan->source_name);
  g_free (plan->source_uuid);
  g_free (plan->name);
  g_free (plan->uuid);
  g_free (plan->xml);
  g_free (plan->metadata);
  g_clear_pointer (&plan->copies, g_ptr_array_unref);
  g_clear_pointer (&plan->shared, g_ptr_array_unref);
  g_clear_pointer (&plan->seeds, g_ptr_array_unref);
  g_clear_pointer (&plan->warnings, g_ptr_array_unref);
  g_free (plan);
}

typedef struct
{
  DcEnv *env;
  const DcPlanOptions *opts;
  DcPlan *plan;
  xmlDoc *doc;
  xmlXPathContext *ctxt;
  GHashTable *macs;      /* MACs handed out by this plan */
  GHashTable *vol_names; /* "pool/name" of volumes this plan creates */
  DcPoolInfo *into;      /* --pool: where the disks' volumes go, or NULL */
  GPtrArray *macs_from;  /* MAC of the source's interface i ... */
  GPtrArray *macs_to;    /* ... and of the clone's (for seeds) */
  DcMetadata *source_md; /* the source's domclone metadata */
  GHashTable *dst_pools; /* --to: the destination's pools asked for, by
                          * name (DcPoolInfo) */
} DcPlanner;

static void dc_planner_warn (DcPlanner *p, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* Adds a warning, one sentence, to the plan (DcPlan.warnings). */
static void
dc_planner_warn (DcPlanner *p, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_ptr_array_add (p->plan->warnings, g_strdup_vprintf (format, args));
  va_end (args);
}

static char *
dc_random_uuid (GRand *rand)
{
  guint8 b[16];

  for (size_t i = 0; i < sizeof (b); i++)
    b[i] = (guint8) g_rand_int_range (rand, 0, 256);
  b[6] = (b[6] & 0x0f) | 0x40; /* version 4 */
  b[8] = (b[8] & 0x3f) | 0x80; /* RFC 4122 variant */
  return g_strdup_printf ("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                          b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                          b[15]);
}

static char *
dc_planner_new_mac (DcPlanner *p, GError **error)
{
  for (int tries = 0; tries < 1000; tries++)
    {
      g_autofree char *mac = g_strdup_printf (
        "52:54:00:%02x:%02x:%02x", (guint) g_rand_int_range (p->opts->rand, 0, 256),
        (guint) g_rand_int_range (p->opts->rand, 0, 256), (guint) g_rand_int_range (p->opts->rand, 0, 256));

      gboolean in_use = FALSE;

      if (g_hash_table_contains (p->macs, mac))
        continue;
      if (!p->env->mac_in_use (p->env, mac, &in_use, error))
        return NULL;
      if (in_use)
        continue;
      g_hash_table_add (p->macs, g_strdup (mac));
      return g_steal_pointer (&mac);
    }
  g_set_error (error, DC_ERROR, DC_ERROR_FAILED, "cannot find a free MAC address with the 52:54:00 prefix");
  return NULL;
}

static const DcCopy *dc_planner_add_copy_to (DcPlanner *p, const char *what, const DcVolInfo *src,
                                             const char *dst_dir, const DcPoolInfo *into,
                                             const char *dst_name, GError **error);

static const DcCopy *
dc_planner_add_copy (DcPlanner *p, const char *what, const DcVolInfo *src, const char *dst_name,
                     GError **error)
{
  return dc_planner_add_copy_to (p, what, src, NULL, NULL, dst_name, error);
}

/**
 * dc_plan_dir_pool_name:
 * @dir: a directory
 *
 * Returns: (transfer full): the name of domclone's temporary pool over
 * @dir: the same for every run, so concurrent runs share it
 */
char *
dc_plan_dir_pool_name (const char *dir)
{
  g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, dir, -1);

  return g_strdup_printf ("domclone-%.16s", hash);
}

/**
 * dc_pool_info_new:
 * @name: the pool's name
 * @type: (nullable): its type (<pool type>)
 * @path: (nullable): its target directory
 * @active: whether it runs
 *
 * Returns: (transfer full): a #DcPoolInfo holding copies of these
 */
DcPoolInfo *
dc_pool_info_new (const char *name, const char *type, const char *path, gboolean active)
{
  DcPoolInfo *info = g_new0 (DcPoolInfo, 1);

  info->name = g_strdup (name);
  info->type = g_strdup (type);
  info->path = g_strdup (path);
  info->active = active;
  return info;
}

void
dc_pool_info_free (DcPoolInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->name);
  g_free (info->type);
  g_free (info->path);
  g_free (info);
}

/* --pool: the pool must exist, run, and hold files. A pool whose
 * volumes are block devices (logical, disk, zfs) or network images
 * (rbd, gluster) holds raw data only and would need the clone's disks
 * rewritten as other disk types: refused, see domclone(1), STORAGE. */
static gboolean
dc_planner_resolve_pool (DcPlanner *p, GError **error)
{
  static const char *const file_pools[] = { "dir", "fs", "netfs" };
  const char *name = p->opts->pool;
  g_autoptr (GError) local = NULL;
  gboolean holds_files = FALSE;

  p->into = p->env->pool_info (p->env, name, &local);
  if (p->into == NULL && g_error_matches (local, DC_ERROR, DC_ERROR_NOT_FOUND))
    {
      g_set_error (error, DC_ERROR, DC_ERROR_POOL_NOT_FOUND,
                   "storage pool '%s' not found; 'virsh pool-list --all' shows the pools", name);
      return FALSE;
    }
  if (p->into == NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local), "cannot use storage pool '%s': ", name);
      return FALSE;
    }
  if (!p->into->active)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_POOL_INACTIVE,
                   "storage pool '%s' is not active; start it with 'virsh pool-start %s'", name, name);
      return FALSE;
    }
  for (size_t i = 0; i < G_N_ELEMENTS (file_pools); i++)
    if (g_strcmp0 (p->into->type, file_pools[i]) == 0)
      holds_files = TRUE;
  if (!holds_files || p->into->path == NULL)
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_UNSUPPORTED,
        "cannot clone into storage pool '%s': it is a '%s' pool; --pool takes a pool that holds files (dir, fs or netfs)",
        name, p->into->type ? p->into->type : "?");
      return FALSE;
    }
  return TRUE;
}

/* Whether @src can be copied to a new volume @dst_name in @dst_pool
 * (@key in the plan's names): a file, under a usable name that neither
 * the plan nor the pool has yet. */
static gboolean
dc_planner_dst_free (DcPlanner *p, const char *what, const DcVolInfo *src, const char *dst_dir,
                     const char *dst_pool, const char *dst_open_dir, const char *dst_name, const char *key,
                     GError **error)
{
  gboolean taken = FALSE;

  /* a dir pool lists subdirectories as volumes; libvirt "copies" one
   * into an empty file */
  if (g_strcmp0 (src->type, "dir") == 0)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_UNSUPPORTED, "cannot clone %s: '%s' is a directory, not a file",
                   what, src->path);
      return FALSE;
    }
  if (!dc_newvol_name_is_safe (dst_name))
    {
      g_set_error (error, DC_ERROR, DC_ERROR_FAILED,
                   "cannot clone %s: the new volume name '%s' is not usable", what, dst_name);
      return FALSE;
    }
  if (!g_hash_table_contains (p->vol_names, key) && dst_dir == NULL
      && !p->env->vol_exists (p->env, dst_pool, dst_open_dir, dst_name, &taken, error))
    {
      g_prefix_error (error, "cannot clone %s: ", what);
      return FALSE;
    }
  /* a temporary pool's name means nothing to the user: name the file */
  if ((taken || g_hash_table_contains (p->vol_names, key)) && dst_open_dir != NULL)
    {
      g_autofree char *path = g_build_filename (dst_open_dir, dst_name, NULL);

      g_set_error (error, DC_ERROR, DC_ERROR_VOLUME_EXISTS,
                   "cannot clone %s: '%s' already exists; remove it or clone with another --name", what,
                   path);
      return FALSE;
    }
  if (taken || g_hash_table_contains (p->vol_names, key))
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_VOLUME_EXISTS,
        "cannot clone %s: volume '%s' already exists in pool '%s'; remove it or clone with another --name",
        what, dst_name, dst_pool);
      return FALSE;
    }
  return TRUE;
}

/* The copy of @src: into its own pool; or, if @dst_dir is set, into a
 * temporary pool over that directory (made if missing); or, if @into is
 * set, into that pool (--pool). Its name is taken for this plan. */
static DcCopy *
dc_planner_new_copy (DcPlanner *p, const char *what, const DcVolInfo *src, const char *dst_dir,
                     const DcPoolInfo *into, const char *dst_name, GError **error)
{
  g_autofree char *dst_pool = NULL;
  const char *dst_open_dir;
  g_autofree char *key = NULL;
  DcCopy *copy;

  /* --to: into the destination's pool of the same name; a file outside
   * pools into the same directory there, made if missing */
  if (p->opts->across && dst_dir == NULL && into == NULL && src->open_dir != NULL)
    dst_dir = src->open_dir;
  else if (p->opts->across && dst_dir == NULL && into == NULL)
    {
      into = dc_plan_to_pool (p->env, p->dst_pools, src->pool, error);
      if (into == NULL)
        return NULL;
    }
  dst_pool = dst_dir ? dc_plan_dir_pool_name (dst_dir) : g_strdup (into ? into->name : src->pool);
  dst_open_dir = dst_dir ? dst_dir : into ? NULL : src->open_dir;
  key = g_strdup_printf ("%s/%s", dst_pool, dst_name);

  if (!dc_planner_dst_free (p, what, src, dst_dir, dst_pool, dst_open_dir, dst_name, key, error))
    return NULL;
  g_hash_table_add (p->vol_names, g_steal_pointer (&key));

  copy = g_new0 (DcCopy, 1);
  copy->what = g_strdup (what);
  copy->pool = g_strdup (src->pool);
  copy->src_name = g_strdup (src->name);
  copy->src_path = g_strdup (src->path);
  copy->dst_pool = g_steal_pointer (&dst_pool);
  copy->dst_open_dir = g_strdup (dst_open_dir);
  copy->dst_owner = g_strdup (src->owner);
  copy->dst_group = g_strdup (src->group);
  copy->dst_name = g_strdup (dst_name);
  if (dst_dir != NULL)
    copy->dst_path = g_build_filename (dst_dir, dst_name, NULL);
  else if (into != NULL)
    copy->dst_path = g_build_filename (into->path, dst_name, NULL);
  else if (src->pool_path != NULL)
    copy->dst_path = g_build_filename (src->pool_path, dst_name, NULL);
  copy->xml = dc_newvol_xml (src, dst_name);
  copy->open_dir = g_strdup (src->open_dir);
  copy->src_format = g_strdup (src->format);
  copy->src_allocation = src->allocation;
  copy->bytes_only = src->probe_overruled;
  return copy;
}

/* Adds the copy of @src to the plan (see dc_planner_new_copy()). */
static const DcCopy *
dc_planner_add_copy_to (DcPlanner *p, const char *what, const DcVolInfo *src, const char *dst_dir,
                        const DcPoolInfo *into, const char *dst_name, GError **error)
{
  DcCopy *copy = dc_planner_new_copy (p, what, src, dst_dir, into, dst_name, error);

  if (copy != NULL)
    g_ptr_array_add (p->plan->copies, copy);
  return copy;
}

/* Adds the overlay of a linked clone's disk to the plan. */
static const DcCopy *
dc_planner_add_overlay (DcPlanner *p, const char *what, const char *target, const DcVolInfo *src,
                        GError **error)
{
  g_autofree char *dst_name = NULL;
  DcCopy *copy;

  if (g_strcmp0 (src->format, "raw") != 0 && g_strcmp0 (src->format, "qcow2") != 0)
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_UNSUPPORTED,
        "cannot make a linked clone of %s: its volume '%s' is %s%s%s, and only a raw or qcow2 volume can back a qcow2 overlay; clone without --linked",
        what, src->path ? src->path : src->name, src->format ? "in format '" : "of no known format",
        src->format ? src->format : "", src->format ? "'" : "");
      return NULL;
    }
  if (src->type != NULL && !g_str_equal (src->type, "file"))
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_UNSUPPORTED,
        "cannot make a linked clone of %s: its volume '%s' is a '%s' volume, and an overlay is made beside its base as a file; clone without --linked",
        what, src->path ? src->path : src->name, src->type);
      return NULL;
    }
  dst_name =
    dc_newvol_overlay_name (src->name, target ? target : "disk", p->plan->source_name, p->plan->name);
  copy = (DcCopy *) dc_planner_add_copy (p, what, src, dst_name, error);
  if (copy == NULL)
    return NULL;
  copy->kind = DC_COPY_KIND_OVERLAY;
  copy->src_allocation = 0; /* nothing is copied */
  g_free (copy->xml);
  copy->xml = dc_newvol_overlay_xml (src, dst_name);
  return copy;
}

/* Whether @target is a disk --make-template made read-only. */
static gboolean
dc_planner_protected (DcPlanner *p, const char *target)
{
  GPtrArray *disks = p->source_md->template_disks;

  for (guint i = 0; target != NULL && p->source_md->template && i < disks->len; i++)
    if (g_str_equal (disks->pdata[i], target))
      return TRUE;
  return FALSE;
}

/* A removable drive with no medium has no <source>, or one that names
 * nothing (<source startupPolicy='optional'/>). */
static gboolean
dc_disk_source_is_empty (xmlNode *source)
{
  static const char *const names[] = { "file", "dev", "dir", "pool", "volume", "protocol", "name" };

  if (source == NULL)
    return TRUE;
  for (size_t i = 0; i < G_N_ELEMENTS (names); i++)
    if (xmlHasProp (source, BAD_CAST names[i]) != NULL)
      return FALSE;
  return TRUE;
}

/* The volume behind a file or block disk's @path. A file in a directory
 * no active pool covers is reached as the NVRAM is, through a temporary
 * pool over its directory (DcEnv.file): it must exist, as a disk the
 * guest writes to is never left out. */
static DcVolInfo *
dc_planner_disk_file (DcPlanner *p, const char *type, const char *path, GError **error)
{
  g_autoptr (GError) local = NULL;
  DcVolInfo *info = p->env->vol_by_path (p->env, path, &local);

  if (info == NULL && g_str_equal (type, "block") && g_error_matches (local, DC_ERROR, DC_ERROR_UNSUPPORTED))
    {
      g_autofree char *dir = g_path_get_dirname (path);
      g_autofree char *vg = g_path_get_basename (dir);
      gboolean lvm_like = g_str_has_prefix (dir, "/dev/") && strchr (dir + strlen ("/dev/"), '/') == NULL
                          && !g_str_equal (dir, "/dev/mapper");

      /* a block device is copied only as a volume of a logical pool:
       * a dir pool over /dev/VG would list device nodes, not volumes */
      g_set_error (
        error, DC_ERROR, DC_ERROR_UNSUPPORTED,
        "%s; if it is an LVM logical volume, define its volume group as a storage pool (virsh pool-define-as %s logical --source-name %s --target %s, then virsh pool-start %s) and retry",
        local->message, lvm_like ? vg : "NAME", lvm_like ? vg : "VG", lvm_like ? dir : "/dev/VG",
        lvm_like ? vg : "NAME");
      return NULL;
    }
  if (info != NULL || !g_str_equal (type, "file") || !g_error_matches (local, DC_ERROR, DC_ERROR_UNSUPPORTED))
    {
      if (local != NULL)
        g_propagate_error (error, g_steal_pointer (&local));
      return info;
    }
  return p->env->file (p->env, path, error);
}

/*
 * A cloud-init NoCloud seed (an ISO 9660 image labelled cidata on a
 * read-only disk or CD-ROM) is not shared: the clone would boot as the
 * same instance, with the source's host name and its network-config
 * naming the source's MACs. It gets a new volume beside the source's
 * (or in --pool, as the disks), named as a copy would be, which the run
 * fills with the rewritten image (dc-seed.c). Only file and volume disks are looked at; a seed
 * outside any pool is reached as the NVRAM is. *@seeded says whether
 * @disk was one.
 */
/* The seed at @path, or volume @vol of @pool, checked to be small
 * enough to rewrite. */
static DcVolInfo *
dc_planner_seed_info (DcPlanner *p, const char *path, const char *pool, const char *vol,
                      const char *seed_what, GError **error)
{
  g_autoptr (DcVolInfo) info =
    path ? p->env->file (p->env, path, error) : p->env->vol_by_name (p->env, pool, vol, error);

  if (info == NULL)
    {
      g_prefix_error (error, "cannot clone %s: ", seed_what);
      return NULL;
    }
  if (info->capacity > DC_CLOUDINIT_MAX_SIZE)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_UNSUPPORTED,
                   "cannot clone %s: '%s' is %" G_GUINT64_FORMAT
                   " bytes, more than the %u MiB domclone rewrites; make a smaller seed, or detach it",
                   seed_what, info->path, info->capacity, (guint) (DC_CLOUDINIT_MAX_SIZE / (1024 * 1024)));
      return NULL;
    }
  return g_steal_pointer (&info);
}

/* The new image is raw, and as big as it turns out to be. */
static DcVolInfo *
dc_planner_seed_raw (const DcVolInfo *info)
{
  DcVolInfo *raw = dc_vol_info_new ();

  raw->pool = g_strdup (info->pool);
  raw->pool_path = g_strdup (info->pool_path);
  raw->name = g_strdup (info->name);
  raw->path = g_strdup (info->path);
  raw->type = g_strdup (info->type);
  raw->format = g_strdup ("raw");
  raw->capacity = info->capacity;
  raw->allocation = info->capacity;
  raw->mode = g_strdup (info->mode);
  raw->owner = g_strdup (info->owner);
  raw->group = g_strdup (info->group);
  raw->open_dir = g_strdup (info->open_dir);
  return raw;
}

/* The new seed's volume name: as a copy's, or, for one image attached
 * twice, one for each disk. */
static char *
dc_planner_seed_name (DcPlanner *p, const DcVolInfo *info, const char *target)
{
  char *dst_name = dc_newvol_name (info->name, target ? target : "seed", p->plan->source_name, p->plan->name);
  g_autofree char *key = g_strdup_printf ("%s/%s", p->into ? p->into->name : info->pool, dst_name);

  if (g_hash_table_contains (p->vol_names, key))
    {
      g_free (dst_name);
      dst_name = g_strdup_printf ("%s-%s.iso", p->plan->name, target ? target : "seed");
    }
  return dst_name;
}

/* Adds the seed whose new volume is @raw's copy called @dst_name, with
 * the clone's host name and MACs. */
static DcSeed *
dc_planner_seed_add (DcPlanner *p, const char *seed_what, const DcVolInfo *raw, const char *dst_name,
                     GError **error)
{
  DcSeed *seed = g_new0 (DcSeed, 1);

  seed->vol = dc_planner_new_copy (p, seed_what, raw, NULL, p->into, dst_name, error);
  if (seed->vol == NULL)
    {
      g_free (seed);
      return NULL;
    }
  seed->vol->kind = DC_COPY_KIND_SEED;
  seed->hostname = dc_name_to_hostname (p->plan->name);
  g_ptr_array_add (p->macs_from, NULL);
  g_ptr_array_add (p->macs_to, NULL);
  seed->macs_from = g_strdupv ((char **) p->macs_from->pdata);
  seed->macs_to = g_strdupv ((char **) p->macs_to->pdata);
  g_ptr_array_set_size (p->macs_from, p->macs_from->len - 1);
  g_ptr_array_set_size (p->macs_to, p->macs_to->len - 1);
  g_ptr_array_add (p->plan->seeds, seed);
  return seed;
}

static gboolean
dc_planner_seed (DcPlanner *p, xmlNode *disk, const char *type, xmlNode *source, const char *what,
                 const char *target, gboolean *seeded, GError **error)
{
  g_autofree char *path = NULL;
  g_autofree char *pool = NULL;
  g_autofree char *vol = NULL;
  g_autofree char *label = NULL;
  g_autofree char *dst_name = NULL;
  g_autofree char *seed_what = NULL;
  g_autoptr (DcVolInfo) info = NULL;
  g_autoptr (DcVolInfo) raw = NULL;
  DcSeed *seed;

  *seeded = FALSE;
  if (p->env->iso_label == NULL || source == NULL)
    return TRUE;
  if (g_str_equal (type, "file"))
    path = dc_xml_prop (source, "file");
  else if (g_str_equal (type, "volume"))
    {
      pool = dc_xml_prop (source, "pool");
      vol = dc_xml_prop (source, "volume");
    }
  if (path == NULL && (pool == NULL || vol == NULL))
    return TRUE;

  if (!p->env->iso_label (p->env, path, pool, vol, &label, error))
    {
      g_prefix_error (error, "cannot tell whether %s is a cloud-init seed: ", what);
      return FALSE;
    }
  if (!dc_cloudinit_label_is_cidata (label))
    return TRUE;

  seed_what = g_strdup_printf ("the cloud-init seed of %s", what);
  info = dc_planner_seed_info (p, path, pool, vol, seed_what, error);
  if (info == NULL)
    return FALSE;
  raw = dc_planner_seed_raw (info);
  dst_name = dc_planner_seed_name (p, info, target);
  seed = dc_planner_seed_add (p, seed_what, raw, dst_name, error);
  if (seed == NULL)
    return FALSE;

  if (path != NULL)
    xmlSetProp (source, BAD_CAST "file", BAD_CAST seed->vol->dst_path);
  else
    {
      xmlSetProp (source, BAD_CAST "pool", BAD_CAST seed->vol->dst_pool);
      xmlSetProp (source, BAD_CAST "volume", BAD_CAST seed->vol->dst_name);
    }
  *seeded = TRUE;
  return TRUE;
}

/* The pool types whose volumes domclone copies: files (dir, fs, netfs)
 * and LVM's logical volumes (raw block devices libvirt copies byte for
 * byte). The others cannot make a volume from another (iscsi, scsi,
 * mpath, iscsi-direct), make a dependent clone (rbd), or were never
 * tried (disk, zfs, gluster, vstorage): refused before anything is made. */
static gboolean
dc_pool_type_is_copied (const char *type)
{
  static const char *const copied[] = { "dir", "fs", "netfs", "logical" };

  for (size_t i = 0; i < G_N_ELEMENTS (copied); i++)
    if (g_strcmp0 (type, copied[i]) == 0)
      return TRUE;
  return FALSE;
}

/*
 * What a writable disk's copy is made of, decided from the domain XML:
 * its <driver type> is the format, always. A pool probes the format
 * from the file's bytes, which the guest writes: a raw disk whose first
 * sector holds a qcow2 header with a backing file (/etc/shadow, say)
 * shows as qcow2, and libvirt's copy would then read that host file into
 * the clone. Where the probe disagrees, @info is corrected and the copy
 * marked to move the bytes as they are (*@bytes_only). Encrypted disks
 * and pools whose volumes cannot be copied are refused here, before
 * anything is made.
 *
 * Longer than 60 lines for its four refusals, each a whole sentence
 * with its remedy, read in the order they are decided.
 */
static gboolean
dc_planner_disk_format (DcPlanner *p, xmlNode *disk, xmlNode *source, const char *what, DcVolInfo *info,
                        gboolean *bytes_only, GError **error)
{
  g_autofree char *format = dc_xml_string (p->ctxt, disk, "./driver/@type");
  const char *vol = info->path ? info->path : info->name;
  gboolean is_file = info->type == NULL || g_str_equal (info->type, "file");

  *bytes_only = FALSE;
  /* libvirt's copy of a LUKS volume decrypts it unless the new volume
   * gets an <encryption> with a secret of its own, which domclone does
   * not make: never a plaintext copy next to an <encryption> element */
  if (dc_xml_child (disk, "encryption", FALSE) != NULL
      || (source != NULL && dc_xml_child (source, "encryption", FALSE) != NULL) || info->encryption != NULL)
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_UNSUPPORTED,
        "cannot clone %s: it is encrypted, and domclone cannot give a copy a secret of its own; detach it, or make it <readonly/> or <shareable/> to share it, and give the clone a new encrypted disk",
        what);
      return FALSE;
    }
  if (info->pool_type != NULL && !dc_pool_type_is_copied (info->pool_type))
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_UNSUPPORTED,
        "cannot clone %s: its volume '%s' is in storage pool '%s' of type '%s', whose volumes domclone cannot copy (it copies dir, fs, netfs and logical pools); make it <readonly/> or <shareable/> to share it, or detach it",
        what, vol, info->pool, info->pool_type);
      return FALSE;
    }
  if (format == NULL)
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_UNSUPPORTED,
        "cannot clone %s: its <driver> names no format, and domclone never trusts a format probed from the guest's bytes; name it with 'virsh edit %s' (<driver name='qemu' type='raw'/> for a raw disk, type='qcow2' for a qcow2 one)",
        what, p->plan->source_name);
      return FALSE;
    }
  /* an LVM volume is a block device: raw data, whatever is inside */
  if (g_strcmp0 (info->pool_type, "logical") == 0 && !g_str_equal (format, "raw"))
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_UNSUPPORTED,
        "cannot clone %s: its volume '%s' is an LVM logical volume of format '%s', and domclone copies only raw ones; convert it yourself (qemu-img convert), or detach it",
        what, vol, format);
      return FALSE;
    }
  /* Only a file is probed (block volumes are read as raw): where the
   * probe disagrees, or finds a backing file in a raw disk, libvirt's
   * copy would convert from the probed format */
  if (is_file
      && (g_strcmp0 (info->format, format) != 0 || (info->backing != NULL && g_str_equal (format, "raw"))))
    {
      g_info ("%s is '%s' by its <driver>; its pool probed %s%s%s%s, which is not trusted", what, format,
              info->format ? info->format : "no format", info->backing ? " with backing file '" : "",
              info->backing ? info->backing : "", info->backing ? "'" : "");
      *bytes_only = TRUE;
    }
  if (g_strcmp0 (info->format, format) != 0)
    {
      /* the probe's qcow2 details are no part of another format */
      g_clear_pointer (&info->compat, g_free);
      g_clear_pointer (&info->cluster_size, g_free);
      g_clear_pointer (&info->features, g_strfreev);
      /* a raw disk is as big as its file, not as the header in it says */
      if (g_str_equal (format, "raw") && info->physical > 0)
        info->capacity = info->physical;
      g_free (info->format);
      info->format = g_steal_pointer (&format);
    }
  return TRUE;
}

static DcVolInfo *dc_planner_disk_source (DcPlanner *p, const char *type, xmlNode *source, const char *what,
                                          const char **attr, GError **error);
static gboolean dc_planner_disk_format (DcPlanner *p, xmlNode *disk, xmlNode *source, const char *what,
                                        DcVolInfo *info, gboolean *bytes_only, GError **error);
static void dc_planner_disk_point (DcPlanner *p, xmlNode *disk, xmlNode *source, const char *attr,
                                   const DcCopy *copy);

/*
 * --to: a read-only disk or CD-ROM the clone shares. Where the
 * destination has the file (or volume) it names, that one is shared;
 * else it is copied there once, under its own name, into the pool a
 * disk's copy would go to (or the same directory), and shared by every
 * later clone that finds it there. Such a copy is no volume of the
 * clone's own (DcCopy.shared): deleting the clone leaves it.
 */
static gboolean
dc_planner_to_shared (DcPlanner *p, xmlNode *disk, const char *type, xmlNode *source, const char *what,
                      GError **error)
{
  const char *attr = NULL;
  gboolean bytes_only = FALSE;
  gboolean there = FALSE;
  g_autoptr (DcVolInfo) info = NULL;
  const DcPoolInfo *into = p->into;
  DcCopy *copy;

  if (!dc_plan_to_shared_there (p->env, what, type, source, &there, error))
    return FALSE;
  if (there)
    return TRUE;
  info = dc_planner_disk_source (p, type, source, what, &attr, error);
  if (info == NULL || !dc_planner_disk_format (p, disk, source, what, info, &bytes_only, error))
    return FALSE;
  if (into == NULL && info->open_dir == NULL)
    {
      into = dc_plan_to_pool (p->env, p->dst_pools, info->pool, error);
      if (into == NULL)
        return FALSE;
    }
  /* copied once already, by the clone of another run */
  if (info->open_dir != NULL)
    {
      g_autofree char *path = g_build_filename (info->open_dir, info->name, NULL);

      if (!p->env->dst_has (p->env, path, NULL, NULL, &there, error))
        return FALSE;
    }
  else if (!p->env->dst_has (p->env, NULL, into->name, info->name, &there, error))
    return FALSE;
  if (there)
    {
      g_autofree char *path = g_build_filename (into ? into->path : info->open_dir, info->name, NULL);
      DcCopy before = { .dst_pool = (char *) (into ? into->name : NULL),
                        .dst_name = info->name,
                        .dst_path = path };

      dc_planner_disk_point (p, disk, source, attr, &before);
      return TRUE;
    }
  copy = dc_planner_new_copy (p, what, info, info->open_dir, into, info->name, error);
  if (copy == NULL)
    return FALSE;
  copy->shared = TRUE;
  copy->bytes_only = bytes_only;
  g_ptr_array_add (p->plan->copies, copy);
  dc_planner_disk_point (p, disk, source, attr, copy);
  return TRUE;
}

/* What a disk keeps of its source's, rather than getting a volume of
 * its own: a template's protected disk is the clone's own again
 * (writable, copied or, linked, an overlay); a cloud-init seed is made
 * anew; a read-only or shareable disk is shared. *@done: nothing more
 * to plan for it. */
static gboolean
dc_planner_disk_kept (DcPlanner *p, xmlNode *disk, const char *device, const char *type, xmlNode *source,
                      const char *what, const char *target, gboolean *done, GError **error)
{
  xmlNode *readonly = dc_xml_child (disk, "readonly", FALSE);

  *done = FALSE;
  if (readonly != NULL && !g_str_equal (device, "cdrom") && dc_planner_protected (p, target))
    {
      dc_xml_remove (readonly);
      return TRUE;
    }
  /* A cloud-init seed is the clone's own, made anew. */
  if ((g_str_equal (device, "cdrom") || readonly != NULL)
      && !dc_planner_seed (p, disk, type, source, what, target, done, error))
    return FALSE;
  if (*done)
    return TRUE;
  /* A floppy is a disk like any other: shared only when the guest
   * cannot write to it. */
  if (g_str_equal (device, "cdrom") || readonly != NULL || dc_xml_child (disk, "shareable", FALSE) != NULL)
    {
      if (p->opts->across && !dc_planner_to_shared (p, disk, type, source, what, error))
        return FALSE;
      g_ptr_array_add (p->plan->shared, g_strdup_printf ("%s (%s)", what, device));
      *done = TRUE;
      return TRUE;
    }
  if (p->opts->linked)
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_UNSUPPORTED,
        "cannot make a linked clone of %s: template '%s' can write to it (added or edited since it was made a template); run 'domclone --make-template %s' again to protect it",
        what, p->plan->source_name, p->plan->source_name);
      return FALSE;
    }
  return TRUE;
}

/* The volume a writable disk of @type reads, and in *@attr the <source>
 * attribute that names it ("file", "dev" or "volume"). */
static DcVolInfo *
dc_planner_disk_source (DcPlanner *p, const char *type, xmlNode *source, const char *what, const char **attr,
                        GError **error)
{
  DcVolInfo *info = NULL;

  if (g_str_equal (type, "file") || g_str_equal (type, "block"))
    {
      g_autofree char *path = NULL;

      *attr = g_str_equal (type, "file") ? "file" : "dev";
      path = source ? dc_xml_prop (source, *attr) : NULL;
      if (path == NULL)
        {
          g_set_error (error, DC_ERROR, DC_ERROR_UNSUPPORTED,
                       "cannot clone %s: it is writable but has no source; give it one or remove it", what);
          return NULL;
        }
      info = dc_planner_disk_file (p, type, path, error);
    }
  else if (g_str_equal (type, "volume"))
    {
      g_autofree char *pool = source ? dc_xml_prop (source, "pool") : NULL;
      g_autofree char *vol = source ? dc_xml_prop (source, "volume") : NULL;

      *attr = "volume";
      if (pool == NULL || vol == NULL)
        {
          g_set_error (error, DC_ERROR, DC_ERROR_UNSUPPORTED,
                       "cannot clone %s: its <source> names no pool and volume", what);
          return NULL;
        }
      info = p->env->vol_by_name (p->env, pool, vol, error);
    }
  else
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_UNSUPPORTED,
        "cannot clone %s: it is a writable '%s' disk, which domclone cannot copy; make it <readonly/> or <shareable/> to share it, or detach it first",
        what, type);
      return NULL;
    }
  if (info == NULL)
    g_prefix_error (error, "cannot clone %s: ", what);
  return info;
}

/* Points @disk at @copy's new volume through its <source> attribute
 * @attr. */
static void
dc_planner_disk_point (DcPlanner *p, xmlNode *disk, xmlNode *source, const char *attr, const DcCopy *copy)
{
  if (copy->kind == DC_COPY_KIND_OVERLAY)
    {
      xmlNode *driver = dc_xml_child (disk, "driver", TRUE);

      if (xmlHasProp (driver, BAD_CAST "name") == NULL)
        xmlSetProp (driver, BAD_CAST "name", BAD_CAST "qemu");
      xmlSetProp (driver, BAD_CAST "type", BAD_CAST "qcow2");
    }

  /* a block device (an LVM volume) copied into --pool, which holds
   * files, is a file: never type='block' on a file */
  if (g_str_equal (attr, "dev") && p->into != NULL)
    {
      xmlSetProp (disk, BAD_CAST "type", BAD_CAST "file");
      xmlUnsetProp (source, BAD_CAST "dev");
      attr = "file";
    }
  if (g_str_equal (attr, "volume"))
    {
      xmlSetProp (source, BAD_CAST "pool", BAD_CAST copy->dst_pool);
      xmlSetProp (source, BAD_CAST "volume", BAD_CAST copy->dst_name);
    }
  else
    xmlSetProp (source, BAD_CAST attr, BAD_CAST copy->dst_path);

  /* The copy is flattened (qemu-img convert), it has no backing chain;
   * an overlay's chain is in its qcow2 header, with the formats, which
   * libvirt reads when the clone starts. */
  dc_xml_remove (dc_xml_child (disk, "backingStore", FALSE));
}

static gboolean
dc_planner_disk (DcPlanner *p, xmlNode *disk, GError **error)
{
  g_autofree char *device = dc_xml_prop (disk, "device");
  g_autofree char *type = dc_xml_prop (disk, "type");
  g_autofree char *target = dc_xml_string (p->ctxt, disk, "./target/@dev");
  g_autofree char *what = g_strdup_printf ("disk '%s'", target ? target : "?");
  xmlNode *source = dc_xml_child (disk, "source", FALSE);
  g_autoptr (DcVolInfo) info = NULL;
  g_autofree char *dst_name = NULL;
  DcCopy *copy;
  const char *attr = NULL;
  gboolean done = FALSE;
  gboolean bytes_only = FALSE;

  if (device == NULL)
    device = g_strdup ("disk");
  if (type == NULL)
    type = g_strdup ("file");

  /* An empty drive has nothing to copy or share: the clone gets one
   * empty too. */
  if ((g_str_equal (device, "cdrom") || g_str_equal (device, "floppy")) && dc_disk_source_is_empty (source))
    return TRUE;
  if (!dc_planner_disk_kept (p, disk, device, type, source, what, target, &done, error))
    return FALSE;
  if (done)
    return TRUE;
  info = dc_planner_disk_source (p, type, source, what, &attr, error);
  if (info == NULL)
    return FALSE;
  if (g_str_equal (device, "lun"))
    {
      g_set_error (error, DC_ERROR, DC_ERROR_UNSUPPORTED,
                   "cannot clone %s: it passes a LUN through, which cannot be copied; detach it first", what);
      return FALSE;
    }
  if (!dc_planner_disk_format (p, disk, source, what, info, &bytes_only, error))
    return FALSE;
  if (p->opts->across && !dc_plan_to_check_chain (what, info, bytes_only, error))
    return FALSE;

  if (p->opts->linked)
    copy = (DcCopy *) dc_planner_add_overlay (p, what, target, info, error);
  else
    {
      dst_name = dc_newvol_name (info->name, target ? target : "disk", p->plan->source_name, p->plan->name);
      copy = (DcCopy *) dc_planner_add_copy_to (p, what, info, NULL, p->into, dst_name, error);
    }
  if (copy == NULL)
    return FALSE;
  copy->bytes_only = bytes_only && copy->kind == DC_COPY_KIND_FULL;
  dc_planner_disk_point (p, disk, source, attr, copy);
  return TRUE;
}

/* NVRAM, TPM state and NVDIMM/virtio-pmem backing files are raw bytes,
 * and the guest writes them (a UEFI guest without SMM writes its flash
 * directly): like a raw disk's (see dc_planner_disk_format()), a format
 * or backing file a pool probed from them is never trusted, or
 * libvirt's copy would read a host file named in a planted qcow2
 * header into the clone. */
static void
dc_planner_raw_file (DcVolInfo *info, const char *what)
{
  gboolean is_file = info->type == NULL || g_str_equal (info->type, "file");

  if (!is_file || (info->format == NULL && info->backing == NULL)
      || (g_strcmp0 (info->format, "raw") == 0 && info->backing == NULL))
    return;
  g_info ("%s is a raw file; its pool probed %s%s%s%s, which is not trusted", what,
          info->format ? info->format : "no format", info->backing ? " with backing file '" : "",
          info->backing ? info->backing : "", info->backing ? "'" : "");
  g_clear_pointer (&info->compat, g_free);
  g_clear_pointer (&info->cluster_size, g_free);
  g_clear_pointer (&info->features, g_strfreev);
  if (info->physical > 0)
    info->capacity = info->physical;
  g_free (info->format);
  info->format = g_strdup ("raw");
  info->probe_overruled = TRUE;
}

/* A file that exists only once the source has run (NVRAM, TPM state,
 * an NVDIMM's backing file), raw whatever its pool probed.
 * Returns FALSE on error; TRUE with *@info NULL when it does not exist:
 * then the clone makes its own on first start, as the source would. */
static gboolean
dc_planner_run_file (DcPlanner *p, const char *path, const char *what, DcVolInfo **info, GError **error)
{
  g_autoptr (GError) local = NULL;

  *info = p->env->file (p->env, path, &local);
  if (*info != NULL)
    dc_planner_raw_file (*info, what);
  if (*info != NULL || g_error_matches (local, DC_ERROR, DC_ERROR_NOT_FOUND))
    return TRUE;
  g_propagate_prefixed_error (error, g_steal_pointer (&local), "cannot clone %s: ", what);
  return FALSE;
}

/* <backend type='emulator'><source type='dir'|'file' path=.../> (newer
 * libvirt than 9.0, which drops it): the state in a directory of the
 * user's choosing (swtpm's dir backend, holding @file) or in one file
 * (its linear file backend). The clone gets its own, beside the
 * source's and named after the clone as a log file is: the directory
 * made through a temporary pool over it, the file copied through one
 * over its directory. State that does not exist yet (the source never
 * ran) is only renamed: swtpm makes the clone's. */
static gboolean
dc_planner_tpm_custom (DcPlanner *p, xmlNode *source, const char *file, GError **error)
{
  g_autofree char *type = dc_xml_prop (source, "type");
  g_autofree char *path = dc_xml_prop (source, "path");
  g_autofree char *dst = NULL;
  g_autofree char *state = NULL;
  g_autoptr (DcVolInfo) info = NULL;
  const DcCopy *copy;

  if (path == NULL || (g_strcmp0 (type, "dir") != 0 && g_strcmp0 (type, "file") != 0))
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_UNSUPPORTED,
        "cannot clone the TPM: its state is kept in a '%s' source domclone does not know, and the clone must not share it; remove the <tpm> device first",
        type ? type : "?");
      return FALSE;
    }
  dst = dc_newvol_path (path, p->plan->source_name, p->plan->name);
  state = g_str_equal (type, "dir") ? g_build_filename (path, file, NULL) : g_strdup (path);
  if (!dc_planner_run_file (p, state, "the TPM state", &info, error))
    return FALSE;
  if (info != NULL)
    {
      g_autofree char *dst_name = g_path_get_basename (dst);

      if (g_str_equal (type, "dir"))
        copy = dc_planner_add_copy_to (p, "the TPM state", info, dst, NULL, file, error);
      else
        copy = dc_planner_add_copy (p, "the TPM state", info, dst_name, error);
      if (copy == NULL)
        return FALSE;
      if (g_str_equal (type, "file"))
        {
          g_free (dst);
          dst = g_strdup (copy->dst_path);
        }
    }
  xmlSetProp (source, BAD_CAST "path", BAD_CAST dst);
  return TRUE;
}

/* swtpm keeps a TPM's state in <swtpm dir>/<domain UUID>/tpm2 (tpm1.2
 * for the old version): a new UUID means a new, empty TPM, and a guest
 * that sealed secrets to it (disk encryption) no longer boots. Copy the
 * state into the clone's UUID's folder. */
static gboolean
dc_planner_tpm (DcPlanner *p, GError **error)
{
  xmlNode *backend = dc_xml_node (p->ctxt, NULL, "/domain/devices/tpm/backend[@type='emulator']");
  g_autofree char *version = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *src_path = NULL;
  g_autofree char *dst_dir = NULL;
  g_autoptr (DcVolInfo) info = NULL;
  xmlNode *custom;
  const char *sub, *file;

  if (backend == NULL)
    return TRUE;
  version = dc_xml_prop (backend, "version");
  if (g_strcmp0 (version, "1.2") == 0)
    sub = "tpm1.2", file = "tpm-00.permall";
  else
    sub = "tpm2", file = "tpm2-00.permall";
  custom = dc_xml_child (backend, "source", FALSE);
  if (custom != NULL)
    return dc_planner_tpm_custom (p, custom, file, error);
  if (p->plan->source_uuid == NULL)
    return TRUE;

  dir = p->env->swtpm_dir (p->env);
  if (dir == NULL)
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_UNSUPPORTED,
        "cannot clone the TPM: this connection does not say where it keeps TPM state; remove the <tpm> device or clone on the host");
      return FALSE;
    }
  src_path = g_build_filename (dir, p->plan->source_uuid, sub, file, NULL);
  if (!dc_planner_run_file (p, src_path, "the TPM state", &info, error))
    return FALSE;
  if (info == NULL)
    return TRUE;
  dst_dir = g_build_filename (dir, p->plan->uuid, sub, NULL);
  return dc_planner_add_copy_to (p, "the TPM state", info, dst_dir, NULL, file, error) != NULL;
}

/* NVDIMM and virtio-pmem devices are guest memory kept in a host file
 * (<source><path>): written by the guest through the mapping when the
 * access is shared, so the clone must not share it. Every one is
 * copied as a writable disk is (whatever its access: a private one's
 * file is the guest's data too, and a later change of the source must
 * not reach the clone), beside the source's, in its pool or through a
 * temporary pool over its directory, named as a disk's copy
 * ("<clone>-nvdimm0.img" where the name does not hold the source's). A
 * file not made yet is only renamed. A device (a DAX character device
 * under /dev) cannot be copied: refused. */
static gboolean
dc_planner_memory_devices (DcPlanner *p, GError **error)
{
  g_autoptr (GPtrArray) mems =
    dc_xml_nodes (p->ctxt, NULL, "/domain/devices/memory[@model='nvdimm' or @model='virtio-pmem']");
  guint n_nvdimm = 0, n_pmem = 0;

  for (guint i = 0; i < mems->len; i++)
    {
      xmlNode *mem = mems->pdata[i];
      g_autofree char *model = dc_xml_prop (mem, "model");
      xmlNode *node = dc_xml_node (p->ctxt, mem, "./source/path");
      g_autofree char *path = dc_xml_string (p->ctxt, mem, "normalize-space(./source/path)");
      g_autofree char *what = NULL;
      g_autofree char *label = NULL;
      g_autofree char *dst_name = NULL;
      g_autoptr (DcVolInfo) info = NULL;
      const DcCopy *copy;

      if (node == NULL || path == NULL)
        continue;
      what = g_strdup_printf ("the %s '%s'", g_str_equal (model, "nvdimm") ? "NVDIMM" : "virtio-pmem device",
                              path);
      if (g_str_has_prefix (path, "/dev/"))
        {
          g_set_error (
            error, DC_ERROR, DC_ERROR_UNSUPPORTED,
            "cannot clone %s: it is a device, which domclone cannot copy, and the clone must not share the guest memory on it; detach it first",
            what);
          return FALSE;
        }
      if (g_str_equal (model, "nvdimm"))
        label = g_strdup_printf ("nvdimm%u", n_nvdimm++);
      else
        label = g_strdup_printf ("pmem%u", n_pmem++);
      if (!dc_planner_run_file (p, path, what, &info, error))
        return FALSE;
      if (info == NULL)
        {
          /* QEMU makes the file when the domain first starts: the
           * clone's is named after it, and made for it the same way */
          g_autofree char *dir = g_path_get_dirname (path);
          g_autofree char *base = g_path_get_basename (path);
          g_autofree char *name = dc_newvol_name (base, label, p->plan->source_name, p->plan->name);
          g_autofree char *renamed = g_build_filename (dir, name, NULL);

          dc_xml_set_text (node, renamed);
          continue;
        }
      dst_name = dc_newvol_name (info->name, label, p->plan->source_name, p->plan->name);
      copy = dc_planner_add_copy (p, what, info, dst_name, error);
      if (copy == NULL)
        return FALSE;
      if (copy->dst_path == NULL)
        {
          g_set_error (error, DC_ERROR, DC_ERROR_UNSUPPORTED,
                       "cannot clone %s: pool '%s' does not say where its volumes are", what, copy->dst_pool);
          return FALSE;
        }
      dc_xml_set_text (node, copy->dst_path);
    }
  return TRUE;
}

/* <os firmware='efi'> without <nvram>: libvirt keeps the variables in
 * <nvram dir>/<name>_VARS.fd, made on first start. The clone's implicit
 * file is named after the clone: copy the source's there, or the clone
 * starts with fresh variables (its boot entries lost). */
static gboolean
dc_planner_implicit_nvram (DcPlanner *p, GError **error)
{
  g_autofree char *firmware = dc_xml_string (p->ctxt, NULL, "/domain/os/@firmware");
  g_autofree char *dir = NULL;
  g_autofree char *src_name = NULL;
  g_autofree char *path = NULL;
  g_autofree char *dst_name = NULL;
  g_autoptr (DcVolInfo) info = NULL;

  if (g_strcmp0 (firmware, "efi") != 0)
    return TRUE;
  dir = p->env->nvram_dir (p->env);
  if (dir == NULL)
    {
      dc_planner_warn (
        p, "cannot tell where this connection keeps '%s''s UEFI variables: '%s' starts with fresh ones",
        p->plan->source_name, p->plan->name);
      return TRUE;
    }
  src_name = g_strdup_printf ("%s_VARS.fd", p->plan->source_name);
  path = g_build_filename (dir, src_name, NULL);
  if (!dc_planner_run_file (p, path, "the NVRAM", &info, error))
    return FALSE;
  if (info == NULL)
    return TRUE;
  dst_name = g_strdup_printf ("%s_VARS.fd", p->plan->name);
  return dc_planner_add_copy (p, "the NVRAM", info, dst_name, error) != NULL;
}

/* <nvram type='block'><source dev=.../>: the variables on a block
 * device. One in a storage pool (a logical volume, say) is copied as a
 * block disk is, into a new volume of its pool; one outside any pool
 * cannot be made the clone's own and is refused. */
static gboolean
dc_planner_nvram_block (DcPlanner *p, xmlNode *nvram, GError **error)
{
  xmlNode *source = dc_xml_child (nvram, "source", FALSE);
  g_autofree char *dev = source ? dc_xml_prop (source, "dev") : NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (DcVolInfo) info = NULL;
  g_autofree char *dst_name = NULL;
  const DcCopy *copy;

  if (dev == NULL)
    return TRUE; /* nothing named: nothing shared */
  info = p->env->vol_by_path (p->env, dev, &local);
  if (info == NULL && g_error_matches (local, DC_ERROR, DC_ERROR_UNSUPPORTED))
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_UNSUPPORTED,
        "cannot clone the NVRAM: its block device '%s' is not in any active storage pool, so domclone cannot make the clone one of its own; put it in a pool, or copy the variables into a file and name it in <nvram>",
        dev);
      return FALSE;
    }
  if (info == NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local), "cannot clone the NVRAM: ");
      return FALSE;
    }
  dst_name = dc_newvol_name (info->name, "nvram", p->plan->source_name, p->plan->name);
  copy = dc_planner_add_copy (p, "the NVRAM", info, dst_name, error);
  if (copy == NULL)
    return FALSE;
  if (copy->dst_path == NULL)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_UNSUPPORTED,
                   "cannot clone the NVRAM: pool '%s' does not say where its volumes are", copy->dst_pool);
      return FALSE;
    }
  xmlSetProp (source, BAD_CAST "dev", BAD_CAST copy->dst_path);
  return TRUE;
}

static gboolean
dc_planner_nvram (DcPlanner *p, GError **error)
{
  xmlNode *nvram = dc_xml_node (p->ctxt, NULL, "/domain/os/nvram");
  xmlNode *holder;
  g_autofree char *path = NULL;
  g_autofree char *dst_path = NULL;
  g_autoptr (DcVolInfo) info = NULL;
  g_autofree char *type = NULL;
  const char *attr = "file";

  if (nvram == NULL)
    return dc_planner_implicit_nvram (p, error);

  type = dc_xml_prop (nvram, "type");
  if (g_strcmp0 (type, "block") == 0)
    return dc_planner_nvram_block (p, nvram, error);
  if (type != NULL && !g_str_equal (type, "file"))
    {
      g_autofree char *source = dc_xml_string (p->ctxt, nvram, "./source/@name");

      g_set_error (
        error, DC_ERROR, DC_ERROR_UNSUPPORTED,
        "cannot clone the NVRAM: it is a '%s' volume ('%s'), which domclone cannot copy, and the clone must not share it; copy the variables into a file and name it in <nvram>, or remove the <nvram> element to start the clone with fresh ones",
        type, source ? source : "?");
      return FALSE;
    }

  /* <nvram>PATH</nvram>, or the newer <nvram type='file'><source file=/> */
  holder = dc_xml_child (nvram, "source", FALSE);
  if (holder != NULL)
    path = dc_xml_prop (holder, "file");
  else
    {
      g_autoptr (DcXmlChar) text = xmlNodeGetContent (nvram);

      holder = nvram;
      attr = NULL;
      if (text != NULL && text[0] != '\0')
        path = g_strstrip (g_strdup ((const char *) text));
    }
  if (path == NULL || path[0] == '\0')
    return TRUE; /* libvirt names it at define time, after the clone */

  dst_path = dc_newvol_path (path, p->plan->source_name, p->plan->name);

  if (!dc_planner_run_file (p, path, "the NVRAM", &info, error))
    return FALSE;
  if (info != NULL)
    {
      g_autofree char *dst_name = g_path_get_basename (dst_path);
      const DcCopy *copy = dc_planner_add_copy (p, "the NVRAM", info, dst_name, error);

      if (copy == NULL)
        return FALSE;
      g_free (dst_path);
      dst_path = g_strdup (copy->dst_path);
    }
  /* else the source never ran: the clone starts from the template too */

  if (attr != NULL)
    xmlSetProp (holder, BAD_CAST attr, BAD_CAST dst_path);
  else
    dc_xml_set_text (holder, dst_path);
  return TRUE;
}

/* ds=nocloud;i=<instance-id>;h=<hostname>: cloud-init must see a new
 * instance and a new hostname, or it keeps the source's identity. The
 * host name is the clone's name made a DNS label (dots and underscores
 * become hyphens); the instance-id may hold any character, it keeps the
 * name as it is. */
static char *
dc_planner_nocloud (DcPlanner *p, const char *serial)
{
  g_auto (GStrv) parts = NULL;

  if (!g_str_has_prefix (serial, "ds=nocloud"))
    return NULL;

  parts = g_strsplit (serial, ";", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      char *eq = strchr (parts[i], '=');
      g_autofree char *key = NULL;
      const char *value;

      if (eq == NULL)
        continue;
      key = g_strndup (parts[i], eq - parts[i]);
      value = eq + 1;
      if (g_str_equal (key, "h") || g_str_equal (key, "local-hostname"))
        {
          g_autofree char *host = dc_name_to_hostname (p->plan->name);

          g_free (parts[i]);
          parts[i] = g_strdup_printf ("%s=%s", key, host);
        }
      else if (g_str_equal (key, "i") || g_str_equal (key, "instance-id"))
        {
          g_autofree char *iid =
            dc_cloudinit_instance_id (value, p->plan->source_name, p->plan->name, p->plan->uuid);

          g_free (parts[i]);
          parts[i] = g_strdup_printf ("%s=%s", key, iid);
        }
    }
  return g_strjoinv (";", parts);
}

static void
dc_planner_sysinfo (DcPlanner *p)
{
  g_autoptr (GPtrArray) entries = dc_xml_nodes (p->ctxt, NULL, "/domain/sysinfo/system/entry");

  for (guint i = 0; i < entries->len; i++)
    {
      xmlNode *entry = entries->pdata[i];
      g_autofree char *name = dc_xml_prop (entry, "name");
      g_autoptr (DcXmlChar) text = xmlNodeGetContent (entry);

      if (g_strcmp0 (name, "uuid") == 0)
        dc_xml_set_text (entry, p->plan->uuid);
      else if (g_strcmp0 (name, "serial") == 0 && text != NULL)
        {
          g_autofree char *serial = dc_planner_nocloud (p, (const char *) text);

          if (serial != NULL)
            dc_xml_set_text (entry, serial);
        }
    }
}

/* One number of a PCI address as lspci writes it: "0x01" -> "01" */
static char *
dc_pci_part (xmlNode *addr, const char *name, int width)
{
  g_autofree char *value = dc_xml_prop (addr, name);
  guint64 n = 0;

  if (value == NULL
      || !g_ascii_string_to_unsigned (g_str_has_prefix (value, "0x") ? value + 2 : value, 16, 0, G_MAXUINT32,
                                      &n, NULL))
    return g_strdup (value ? value : "?");
  return g_strdup_printf ("%0*" G_GINT64_MODIFIER "x", width, n);
}

/* A PCI <address>: "0000:01:00.0" */
static char *
dc_pci_address (xmlNode *addr)
{
  g_autofree char *domain = dc_pci_part (addr, "domain", 4);
  g_autofree char *bus = dc_pci_part (addr, "bus", 2);
  g_autofree char *slot = dc_pci_part (addr, "slot", 2);
  g_autofree char *function = dc_pci_part (addr, "function", 1);

  return g_strdup_printf ("%s:%s:%s.%s", domain, bus, slot, function);
}

/* A <virtualport>'s interfaceid (Open vSwitch: the OVN/OVS port the
 * interface is; also given for a virtualport whose type the network
 * decides) and 802.1Qbg instanceid (the VSI instance on the switch) name
 * the source's port: dropped, libvirt makes new ones when the clone is
 * defined. The rest (profileid, managerid, typeid) says which kind of
 * port, and is kept. */
static void
dc_planner_virtualport (xmlNode *iface)
{
  xmlNode *vport = dc_xml_child (iface, "virtualport", FALSE);
  xmlNode *params = vport ? dc_xml_child (vport, "parameters", FALSE) : NULL;

  if (params == NULL)
    return;
  xmlUnsetProp (params, BAD_CAST "interfaceid");
  xmlUnsetProp (params, BAD_CAST "instanceid");
  if (params->properties == NULL && params->children == NULL)
    dc_xml_remove (params);
}

/* Interfaces whose host side cannot be made the clone's own: said out
 * loud (domclone(1), IDENTITY). */
static void
dc_planner_interface_kept (DcPlanner *p, xmlNode *iface, guint index)
{
  g_autofree char *type = dc_xml_prop (iface, "type");
  g_autoptr (GPtrArray) forwards = dc_xml_nodes (p->ctxt, iface, "./portForward");
  const char *clone = p->plan->name;
  const char *source = p->plan->source_name;

  if (g_strcmp0 (type, "server") == 0 || g_strcmp0 (type, "udp") == 0)
    {
      const char *xpath = g_str_equal (type, "server") ? "./source/@port" : "./source/local/@port";
      g_autofree char *port = dc_xml_string (p->ctxt, iface, xpath);

      if (port != NULL)
        dc_planner_warn (p, "'%s' keeps interface %u's fixed %s port '%s': it cannot run while '%s' does",
                         clone, index, g_str_equal (type, "server") ? "TCP" : "UDP", port, source);
    }
  else if (g_strcmp0 (type, "hostdev") == 0 || g_strcmp0 (type, "vdpa") == 0)
    {
      g_autofree char *dev = dc_xml_string (p->ctxt, iface, "./source/@dev");
      xmlNode *addr = dc_xml_node (p->ctxt, iface, "./source/address");
      g_autofree char *pci = addr ? dc_pci_address (addr) : NULL;

      dc_planner_warn (
        p, "'%s' keeps interface %u's host device '%s': only one of it and '%s' can run at a time", clone,
        index,
        dev   ? dev
        : pci ? pci
              : "?",
        source);
    }
  for (guint i = 0; i < forwards->len; i++)
    {
      g_autoptr (GPtrArray) ranges = dc_xml_nodes (p->ctxt, forwards->pdata[i], "./range");
      g_autofree char *proto = dc_xml_prop (forwards->pdata[i], "proto");

      for (guint j = 0; j < ranges->len; j++)
        {
          g_autofree char *start = dc_xml_prop (ranges->pdata[j], "start");
          g_autofree char *end = dc_xml_prop (ranges->pdata[j], "end");
          g_autofree char *ports = end ? g_strdup_printf ("%s-%s", start, end) : g_strdup (start);

          dc_planner_warn (
            p, "'%s' keeps interface %u's forward of host %s port '%s': it cannot run while '%s' does", clone,
            index, proto ? proto : "tcp", ports ? ports : "?", source);
        }
    }
}

/* <target dev=... managed='no'>: a tap device made outside libvirt and
 * wired up by its maker; libvirt uses it as it is. One process can have
 * it open: kept, and said. */
static gboolean
dc_planner_unmanaged_tap (DcPlanner *p, xmlNode *iface, guint index)
{
  xmlNode *target = dc_xml_child (iface, "target", FALSE);
  g_autofree char *managed = target ? dc_xml_prop (target, "managed") : NULL;
  g_autofree char *dev = target ? dc_xml_prop (target, "dev") : NULL;

  if (g_strcmp0 (managed, "no") != 0 || dev == NULL)
    return FALSE;
  dc_planner_warn (
    p, "'%s' keeps interface %u's tap device '%s' (managed='no'): only one of it and '%s' can run at a time",
    p->plan->name, index, dev, p->plan->source_name);
  return TRUE;
}

static gboolean
dc_planner_interfaces (DcPlanner *p, GError **error)
{
  g_autoptr (GPtrArray) ifaces = dc_xml_nodes (p->ctxt, NULL, "/domain/devices/interface");

  for (guint i = 0; i < ifaces->len; i++)
    {
      xmlNode *iface = ifaces->pdata[i];
      xmlNode *mac = dc_xml_child (iface, "mac", TRUE);
      g_autofree char *old = dc_xml_prop (mac, "address");
      g_autofree char *addr = dc_planner_new_mac (p, error);

      if (addr == NULL)
        return FALSE;
      if (old != NULL)
        {
          g_ptr_array_add (p->macs_from, g_steal_pointer (&old));
          g_ptr_array_add (p->macs_to, g_strdup (addr));
        }
      xmlSetProp (mac, BAD_CAST "address", BAD_CAST addr);
      /* libvirt picks a free tap/macvtap name for the clone; a tap
       * made outside libvirt (managed='no') is the user's: kept */
      if (!dc_planner_unmanaged_tap (p, iface, i))
        dc_xml_remove (dc_xml_child (iface, "target", FALSE));
      dc_planner_virtualport (iface);
      dc_planner_interface_kept (p, iface, i);
    }
  return TRUE;
}

static void
dc_planner_ports (DcPlanner *p)
{
  g_autoptr (GPtrArray) graphics = dc_xml_nodes (p->ctxt, NULL, "/domain/devices/graphics");
  g_autoptr (GPtrArray) cids = dc_xml_nodes (p->ctxt, NULL, "/domain/devices/vsock/cid");

  for (guint i = 0; i < graphics->len; i++)
    {
      xmlNode *g = graphics->pdata[i];
      g_autofree char *port = dc_xml_prop (g, "port");
      g_autofree char *tls = dc_xml_prop (g, "tlsPort");
      g_autofree char *ws = dc_xml_prop (g, "websocket");
      gboolean fixed = FALSE;

      if (port != NULL && !g_str_equal (port, "-1"))
        fixed = TRUE;
      if (tls != NULL && !g_str_equal (tls, "-1"))
        fixed = TRUE;
      /* automatic display ports, but a fixed websocket port: kept, as
       * a proxy in front of it (noVNC) is set up for that port */
      if (!fixed && ws != NULL && !g_str_equal (ws, "-1"))
        {
          g_autofree char *type = dc_xml_prop (g, "type");

          dc_planner_warn (
            p, "'%s' keeps the %s display's fixed websocket port '%s': it cannot run while '%s' does",
            p->plan->name, type ? type : "?", ws, p->plan->source_name);
        }
      if (!fixed)
        continue;
      xmlUnsetProp (g, BAD_CAST "port");
      xmlUnsetProp (g, BAD_CAST "tlsPort");
      if (ws != NULL && !g_str_equal (ws, "-1"))
        xmlSetProp (g, BAD_CAST "websocket", BAD_CAST "-1");
      xmlSetProp (g, BAD_CAST "autoport", BAD_CAST "yes");
    }

  for (guint i = 0; i < cids->len; i++)
    {
      xmlNode *cid = cids->pdata[i];

      xmlUnsetProp (cid, BAD_CAST "address");
      xmlSetProp (cid, BAD_CAST "auto", BAD_CAST "yes");
    }
}

/* A unix socket's path holds at most this many bytes (sun_path is 108,
 * with its terminating NUL) */
#define DC_SUN_PATH_MAX 107

/* How the planner names a device in messages: its element and its
 * place among the devices of that kind ("serial 0", "channel 1"); an
 * RNG's backend is named by its <rng>. */
static char *
dc_planner_device_name (DcPlanner *p, xmlNode *dev)
{
  g_autofree char *xpath = NULL;
  g_autofree char *count = NULL;

  if (xmlStrEqual (dev->name, BAD_CAST "backend") && dev->parent != NULL)
    dev = dev->parent;
  xpath = g_strdup_printf ("count(preceding-sibling::%s)", (const char *) dev->name);
  count = dc_xml_string (p->ctxt, dev, xpath);
  return g_strdup_printf ("%s %s", (const char *) dev->name, count ? count : "?");
}

/* A unix socket QEMU binds (listens on) must be the clone's own: QEMU
 * removes whatever is at the path before it binds, so the domain started
 * second silently takes the socket from the first. A path libvirt made
 * for a virtio channel or a display (@libvirt_names) is dropped: libvirt
 * makes a new one for the clone. Any other gets the clone's name in its
 * file name, never in the directories above it, which stay: nobody would
 * make a directory named after the clone, and the clone could not start.
 * A path that does not fit in a socket address is refused. */
static gboolean
dc_planner_bound_path (DcPlanner *p, xmlNode *dev, xmlNode *node, const char *attr, gboolean libvirt_names,
                       GError **error)
{
  g_autofree char *path = dc_xml_prop (node, attr);
  g_autofree char *renamed = NULL;

  if (path == NULL)
    return TRUE;
  if (libvirt_names && (strstr (path, "/channel/target/") != NULL || strstr (path, "/domain-") != NULL))
    {
      xmlUnsetProp (node, BAD_CAST attr);
      return TRUE;
    }
  renamed = dc_newvol_path (path, p->plan->source_name, p->plan->name);
  if (strlen (renamed) > DC_SUN_PATH_MAX)
    {
      g_autofree char *what = dc_planner_device_name (p, dev);

      g_set_error (
        error, DC_ERROR, DC_ERROR_UNSUPPORTED,
        "cannot clone %s: its socket '%s' would become '%s', %zu bytes, more than the %d a unix socket path can hold; give the source's socket a shorter path, or clone with a shorter --name",
        what, path, renamed, strlen (renamed), DC_SUN_PATH_MAX);
      return FALSE;
    }
  xmlSetProp (node, BAD_CAST attr, BAD_CAST renamed);
  return TRUE;
}

/* VNC and SPICE listening on a unix socket (<graphics socket=...> or
 * <listen type='socket' socket=...>): QEMU binds it. A path libvirt made
 * (in the domain's runtime directory) is dropped, as it makes one. */
static gboolean
dc_planner_graphics_sockets (DcPlanner *p, GError **error)
{
  g_autoptr (GPtrArray) nodes = dc_xml_nodes (
    p->ctxt, NULL,
    "/domain/devices/graphics[@socket] | /domain/devices/graphics/listen[@type='socket' and @socket]");

  for (guint i = 0; i < nodes->len; i++)
    {
      xmlNode *node = nodes->pdata[i];
      xmlNode *dev = xmlStrEqual (node->name, BAD_CAST "listen") ? node->parent : node;

      if (!dc_planner_bound_path (p, dev, node, "socket", TRUE, error))
        return FALSE;
    }
  return TRUE;
}

/* A TCP or UDP port a character device binds (<source mode='bind'
 * service=...>) cannot be made the clone's own: the clone keeps it,
 * and says so. */
static void
dc_planner_chardev_port (DcPlanner *p, xmlNode *dev, const char *type)
{
  g_autoptr (GPtrArray) binds = dc_xml_nodes (p->ctxt, dev, "./source[@mode='bind' and @service]");

  for (guint i = 0; i < binds->len; i++)
    {
      g_autofree char *service = dc_xml_prop (binds->pdata[i], "service");
      g_autofree char *host = dc_xml_prop (binds->pdata[i], "host");
      g_autofree char *what = NULL;

      if (g_str_equal (service, "0"))
        continue; /* any free port */
      what = dc_planner_device_name (p, dev);
      dc_planner_warn (p, "'%s' keeps %s's fixed %s port '%s'%s%s%s: it cannot run while '%s' does",
                       p->plan->name, what, g_str_equal (type, "udp") ? "UDP" : "TCP", service,
                       host ? " on '" : "", host ? host : "", host ? "'" : "", p->plan->source_name);
    }
}

/* Character devices (serial, console, channel, parallel, a passthrough
 * smartcard, a USB redirection, an RNG's egd backend): sockets they bind
 * and files they write must not be shared with the source. A unix
 * socket they connect to belongs to a server outside the domain and is
 * kept: mode='connect', or no mode, which libvirt reads as connect. A
 * TCP or UDP port they bind is kept with a warning. */
static gboolean
dc_planner_chardevs (DcPlanner *p, GError **error)
{
  g_autoptr (GPtrArray) devs = dc_xml_nodes (
    p->ctxt, NULL,
    "/domain/devices/*[self::serial or self::console or self::channel or self::parallel or self::smartcard or self::redirdev]"
    " | /domain/devices/rng/backend[@model='egd']");

  for (guint i = 0; i < devs->len; i++)
    {
      xmlNode *dev = devs->pdata[i];
      g_autofree char *type = dc_xml_prop (dev, "type");
      xmlNode *source = dc_xml_child (dev, "source", FALSE);
      xmlNode *log = dc_xml_child (dev, "log", FALSE);
      g_autofree char *path = source ? dc_xml_prop (source, "path") : NULL;
      g_autofree char *mode = source ? dc_xml_prop (source, "mode") : NULL;
      g_autofree char *logfile = log ? dc_xml_prop (log, "file") : NULL;

      if (path != NULL && g_strcmp0 (type, "unix") == 0 && g_strcmp0 (mode, "bind") == 0)
        {
          g_autofree char *target = dc_xml_string (p->ctxt, dev, "./target/@type");
          gboolean libvirt_names =
            xmlStrEqual (dev->name, BAD_CAST "channel") && g_strcmp0 (target, "virtio") == 0;

          if (!dc_planner_bound_path (p, dev, source, "path", libvirt_names, error))
            return FALSE;
        }
      else if (path != NULL && g_strcmp0 (type, "file") == 0)
        {
          g_autofree char *renamed = dc_newvol_path (path, p->plan->source_name, p->plan->name);
          xmlSetProp (source, BAD_CAST "path", BAD_CAST renamed);
        }
      else if (g_strcmp0 (type, "tcp") == 0 || g_strcmp0 (type, "udp") == 0)
        {
          /* libvirt repeats the first serial port as a console of
           * target type serial: one device, one warning */
          g_autofree char *ttype = dc_xml_string (p->ctxt, dev, "./target/@type");

          if (!(xmlStrEqual (dev->name, BAD_CAST "console") && g_strcmp0 (ttype, "serial") == 0))
            dc_planner_chardev_port (p, dev, type);
        }

      if (logfile != NULL)
        {
          g_autofree char *renamed = dc_newvol_path (logfile, p->plan->source_name, p->plan->name);
          xmlSetProp (log, BAD_CAST "file", BAD_CAST renamed);
        }
    }
  return TRUE;
}

/* A vhost-user interface's socket: QEMU binds it in mode='server' (the
 * switch, DPDK say, connects), and connects to the switch's in
 * mode='client', which is kept. A <shmem>'s <server path> is not handled
 * here on purpose: QEMU connects to it, and the ivshmem-server behind it
 * is shared by design by the domains of one shared-memory group. */
static gboolean
dc_planner_vhostuser (DcPlanner *p, GError **error)
{
  g_autoptr (GPtrArray) sources =
    dc_xml_nodes (p->ctxt, NULL, "/domain/devices/interface[@type='vhostuser']/source[@type='unix']");

  for (guint i = 0; i < sources->len; i++)
    {
      xmlNode *source = sources->pdata[i];
      g_autofree char *mode = dc_xml_prop (source, "mode");

      if (g_strcmp0 (mode, "server") == 0
          && !dc_planner_bound_path (p, source->parent, source, "path", FALSE, error))
        return FALSE;
    }
  return TRUE;
}

/* Host devices passed through (PCI, USB, SCSI, vhost-scsi, mediated):
 * one running domain at a time can have one. The clone keeps them, and
 * says so. */
static void
dc_planner_hostdevs (DcPlanner *p)
{
  g_autoptr (GPtrArray) devs = dc_xml_nodes (p->ctxt, NULL, "/domain/devices/hostdev[@mode='subsystem']");

  for (guint i = 0; i < devs->len; i++)
    {
      xmlNode *dev = devs->pdata[i];
      g_autofree char *type = dc_xml_prop (dev, "type");
      xmlNode *addr = dc_xml_node (p->ctxt, dev, "./source/address");
      g_autofree char *what = NULL;

      if (dc_xml_child (dev, "shareable", FALSE) != NULL)
        continue;
      if (g_strcmp0 (type, "pci") == 0 && addr != NULL)
        {
          g_autofree char *pci = dc_pci_address (addr);
          what = g_strdup_printf ("PCI device '%s'", pci);
        }
      else if (g_strcmp0 (type, "usb") == 0)
        {
          g_autofree char *vendor = dc_xml_string (p->ctxt, dev, "./source/vendor/@id");
          g_autofree char *product = dc_xml_string (p->ctxt, dev, "./source/product/@id");
          g_autofree char *bus = addr ? dc_xml_prop (addr, "bus") : NULL;
          g_autofree char *device = addr ? dc_xml_prop (addr, "device") : NULL;

          if (vendor != NULL || product != NULL)
            what = g_strdup_printf ("USB device '%s:%s'", vendor ? vendor : "?", product ? product : "?");
          else
            what =
              g_strdup_printf ("USB device at bus '%s' device '%s'", bus ? bus : "?", device ? device : "?");
        }
      else if (g_strcmp0 (type, "scsi") == 0)
        {
          g_autofree char *adapter = dc_xml_string (p->ctxt, dev, "./source/adapter/@name");
          g_autofree char *iscsi = dc_xml_string (p->ctxt, dev, "./source/@name");

          what = g_strdup_printf ("SCSI device '%s'", adapter ? adapter : iscsi ? iscsi : "?");
        }
      else if (g_strcmp0 (type, "scsi_host") == 0)
        {
          g_autofree char *wwpn = dc_xml_string (p->ctxt, dev, "./source/@wwpn");
          what = g_strdup_printf ("vhost-scsi target '%s'", wwpn ? wwpn : "?");
        }
      else if (g_strcmp0 (type, "mdev") == 0)
        {
          g_autofree char *uuid = addr ? dc_xml_prop (addr, "uuid") : NULL;
          what = g_strdup_printf ("mediated device '%s'", uuid ? uuid : "?");
        }
      else
        what = g_strdup_printf ("'%s' host device", type ? type : "?");
      dc_planner_warn (
        p, "'%s' keeps hostdev %u, the %s passed through: only one of it and '%s' can run at a time",
        p->plan->name, i, what, p->plan->source_name);
    }
}

/* A static security label (SELinux, AppArmor) is the source's sVirt
 * identity: a clone running with it is not kept apart from the source.
 * It becomes dynamic: libvirt gives the clone a label of its own when it
 * starts, relabelling its files. An SELinux label keeps its user, role
 * and type as the base of the new one. A DAC label (the user and group
 * QEMU runs as) is no identity and is kept. */
static void
dc_planner_seclabels (DcPlanner *p)
{
  g_autoptr (GPtrArray) labels = dc_xml_nodes (p->ctxt, NULL, "/domain/seclabel[@type='static']");

  for (guint i = 0; i < labels->len; i++)
    {
      xmlNode *seclabel = labels->pdata[i];
      g_autofree char *model = dc_xml_prop (seclabel, "model");
      g_autofree char *label = dc_xml_string (p->ctxt, seclabel, "./label");
      xmlNode *base = dc_xml_child (seclabel, "baselabel", FALSE);

      if (g_strcmp0 (model, "dac") == 0)
        continue;
      xmlSetProp (seclabel, BAD_CAST "type", BAD_CAST "dynamic");
      xmlSetProp (seclabel, BAD_CAST "relabel", BAD_CAST "yes");
      if (base == NULL && g_strcmp0 (model, "selinux") == 0 && label != NULL)
        {
          /* user:role:type:level -> user:role:type:s0, the level made anew */
          g_auto (GStrv) parts = g_strsplit (label, ":", 4);

          if (g_strv_length (parts) == 4)
            {
              g_autofree char *baselabel = g_strdup_printf ("%s:%s:%s:s0", parts[0], parts[1], parts[2]);

              xmlNewTextChild (seclabel, NULL, BAD_CAST "baselabel", BAD_CAST baselabel);
            }
        }
      dc_xml_remove (dc_xml_child (seclabel, "label", FALSE));
      dc_xml_remove (dc_xml_child (seclabel, "imagelabel", FALSE));
    }
}

static gboolean
dc_planner_metadata (DcPlanner *p, GError **error)
{
  xmlNode *root = xmlDocGetRootElement (p->doc);
  xmlNode *metadata = dc_xml_child (root, "metadata", TRUE);
  g_autoptr (DcMetadata) md = dc_metadata_new ();
  g_autofree char *text = NULL;
  g_autoptr (xmlDoc) mddoc = NULL;
  xmlNode *copy;

  /* The source's counter must not be inherited. */
  for (xmlNode *n = metadata->children, *next; n != NULL; n = next)
    {
      next = n->next;
      if (n->type == XML_ELEMENT_NODE && n->ns != NULL && xmlStrEqual (n->ns->href, BAD_CAST DC_METADATA_URI))
        dc_xml_remove (n);
    }

  md->origin_name = g_strdup (p->plan->source_name);
  md->origin_uuid = g_strdup (p->plan->source_uuid);
  md->origin_time = g_strdup (p->opts->now);
  md->origin_linked = p->opts->linked;
  if (p->opts->across)
    {
      md->origin_uri = g_strdup (p->opts->source_uri);
      md->origin_host = g_strdup (p->opts->source_host);
    }
  p->plan->metadata = dc_metadata_format (md);

  if (p->opts->building != NULL)
    {
      const DcBuilding *who = p->opts->building;

      md->building = dc_building_new ();
      md->building->host = g_strdup (who->host);
      md->building->boot = g_strdup (who->boot);
      md->building->pid = who->pid;
      md->building->start = who->start;
      for (guint i = 0; i < p->plan->copies->len; i++)
        {
          const DcCopy *c = p->plan->copies->pdata[i];
          dc_building_add_volume (md->building, c->dst_pool, c->dst_name, c->dst_open_dir);
        }
      for (guint i = 0; i < p->plan->seeds->len; i++)
        {
          const DcCopy *c = ((const DcSeed *) p->plan->seeds->pdata[i])->vol;
          dc_building_add_volume (md->building, c->dst_pool, c->dst_name, c->dst_open_dir);
        }
    }
  text = dc_metadata_format (md);
  /* names come from outside: one that XML cannot carry (a control
   * character in a source name, say) ends here, not in a crash */
  mddoc = dc_xml_parse (text, "domclone", "the clone's domclone metadata", NULL, error);
  if (mddoc == NULL)
    return FALSE;

  /* The element keeps its default namespace declaration: libvirt finds
   * it by namespace URI, prefixed or not. */
  copy = xmlDocCopyNode (xmlDocGetRootElement (mddoc), p->doc, 1);
  xmlAddChild (metadata, copy);
  return TRUE;
}

static gboolean
dc_planner_choose_name (DcPlanner *p, GError **error)
{
  DcPlan *plan = p->plan;
  gboolean exists = FALSE;

  if (p->opts->name != NULL)
    {
      if (!dc_name_validate (p->opts->name, error))
        return FALSE;
      /* on another host the source's own name is free */
      if (!p->opts->across && g_str_equal (p->opts->name, plan->source_name))
        {
          g_set_error (error, DC_ERROR, DC_ERROR_INVALID_NAME,
                       "invalid name '%s': it is the source's own name; choose another", p->opts->name);
          return FALSE;
        }
      if (!p->env->domain_exists (p->env, p->opts->name, &exists, error))
        return FALSE;
      if (exists)
        {
          g_set_error (error, DC_ERROR, DC_ERROR_NAME_TAKEN,
                       "domain '%s' already exists; choose another --name", p->opts->name);
          return FALSE;
        }
      plan->name = g_strdup (p->opts->name);
      return TRUE;
    }

  for (guint n = MAX (p->opts->first_number, 1), tries = 0; tries < DC_PLAN_MAX_NAME_TRIES; n++, tries++)
    {
      g_autofree char *name = dc_name_auto (plan->source_name, n, error);

      if (name == NULL)
        return FALSE;
      if (!p->env->domain_exists (p->env, name, &exists, error))
        return FALSE;
      if (!exists)
        {
          plan->name = g_steal_pointer (&name);
          plan->number = n;
          return TRUE;
        }
      g_debug ("'%s' is taken, trying the next number", name);
    }
  g_set_error (error, DC_ERROR, DC_ERROR_NAME_TAKEN,
               "no free name of the form '%s-cloneN' after %d tries; give one with --name", plan->source_name,
               DC_PLAN_MAX_NAME_TRIES);
  return FALSE;
}

/* The source's name, UUID and domclone metadata; a linked clone's
 * source must be a template. */
static DcMetadata *
dc_planner_source (DcPlanner *p, GError **error)
{
  DcPlan *plan = p->plan;
  g_autoptr (DcMetadata) source_md = NULL;

  plan->source_name = dc_xml_string (p->ctxt, NULL, "/domain/name");
  plan->source_uuid = dc_xml_string (p->ctxt, NULL, "/domain/uuid");
  if (plan->source_name == NULL)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_XML, "the source domain's XML has no <name>");
      return NULL;
    }
  source_md = dc_metadata_of_domain (p->ctxt, error);
  if (source_md == NULL)
    return NULL;
  if (p->opts->linked && !source_md->template)
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_NOT_TEMPLATE,
        "domain '%s' is not a template, and a linked clone needs one; run 'domclone --make-template %s' first (its disks become read-only), or clone without --linked",
        plan->source_name, plan->source_name);
      return NULL;
    }
  p->source_md = source_md;
  return g_steal_pointer (&source_md);
}

/* The clone's name and UUID in its XML, and a new generation ID. */
static void
dc_planner_identity (DcPlanner *p, xmlNode *root)
{
  xmlNode *node;

  dc_xml_set_text (dc_xml_child (root, "name", TRUE), p->plan->name);
  dc_xml_set_text (dc_xml_child (root, "uuid", TRUE), p->plan->uuid);
  /* libvirt's runtime id never belongs in a definition */
  xmlUnsetProp (root, BAD_CAST "id");

  /* an empty <genid/> asks libvirt to make one: keep it empty */
  node = dc_xml_node (p->ctxt, NULL, "/domain/genid");
  if (node != NULL && node->children != NULL)
    {
      g_autofree char *genid = dc_random_uuid (p->opts->rand);
      dc_xml_set_text (node, genid);
    }
}

/* Every device, in the order the plan decides them. */
static gboolean
dc_planner_devices (DcPlanner *p, GError **error)
{
  g_autoptr (GPtrArray) disks = NULL;

  dc_planner_sysinfo (p);
  if (!dc_planner_interfaces (p, error))
    return FALSE;
  dc_planner_ports (p);
  if (!dc_planner_chardevs (p, error) || !dc_planner_graphics_sockets (p, error)
      || !dc_planner_vhostuser (p, error))
    return FALSE;
  dc_planner_hostdevs (p);
  dc_planner_seclabels (p);

  disks = dc_xml_nodes (p->ctxt, NULL, "/domain/devices/disk");
  for (guint i = 0; i < disks->len; i++)
    if (!dc_planner_disk (p, disks->pdata[i], error))
      return FALSE;
  return dc_planner_nvram (p, error) && dc_planner_tpm (p, error) && dc_planner_memory_devices (p, error);
}

static DcPlan *
dc_plan_build (DcEnv *env, const DcPlanOptions *opts, char **chosen, guint *number, GError **error)
{
  g_autoptr (DcPlan) plan = g_new0 (DcPlan, 1);
  g_autoptr (xmlDoc) doc = NULL;
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autoptr (GHashTable) macs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) vol_names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GPtrArray) macs_from = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) macs_to = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (DcPoolInfo) into = NULL;
  g_autoptr (DcMetadata) source_md = NULL;
  g_autoptr (GHashTable) dst_pools =
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) dc_pool_info_free);
  DcPlanner p = { env, opts, plan, NULL, NULL, macs, vol_names, NULL, macs_from, macs_to, NULL, dst_pools };
  xmlNode *root;

  plan->copies = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_copy_free);
  plan->shared = g_ptr_array_new_with_free_func (g_free);
  plan->seeds = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_seed_free);
  plan->warnings = g_ptr_array_new_with_free_func (g_free);

  doc = dc_xml_parse (opts->source_xml, "domain", "the source domain's XML", &ctxt, error);
  if (doc == NULL)
    return NULL;
  p.doc = doc;
  p.ctxt = ctxt;
  root = xmlDocGetRootElement (doc);

  source_md = dc_planner_source (&p, error);
  if (source_md == NULL)
    return NULL;

  if (opts->pool != NULL)
    {
      gboolean ok = dc_planner_resolve_pool (&p, error);

      into = p.into; /* freed with the plan's other parts */
      if (!ok)
        return NULL;
    }
  if (!dc_planner_choose_name (&p, error))
    return NULL;
  *chosen = g_strdup (plan->name);
  *number = plan->number;
  plan->uuid = dc_random_uuid (opts->rand);

  dc_planner_identity (&p, root);
  if (!dc_planner_devices (&p, error) || !dc_planner_metadata (&p, error))
    return NULL;
  plan->xml = dc_xml_format (root, TRUE);
  return g_steal_pointer (&plan);
}

/**
 * dc_plan_new:
 * @env: answers about the connection
 * @opts: the source XML and what the user asked for
 * @error: return location
 *
 * Returns: (transfer full): the plan, or %NULL with @error set
 */
DcPlan *
dc_plan_new (DcEnv *env, const DcPlanOptions *opts, GError **error)
{
  DcPlanOptions retry = *opts;

  for (;;)
    {
      g_autofree char *chosen = NULL;
      g_autoptr (GError) local = NULL;
      guint number = 0;
      gboolean exists = FALSE;
      DcPlan *plan = dc_plan_build (env, &retry, &chosen, &number, &local);

      if (plan != NULL)
        return plan;
      /* A volume named after a generated name appeared: if its domain
       * exists now, a concurrent domclone took the number; take the next.
       * Without the domain it is a leftover, never to be overwritten. */
      if (number > 0 && number < G_MAXUINT && g_error_matches (local, DC_ERROR, DC_ERROR_VOLUME_EXISTS)
          && env->domain_exists (env, chosen, &exists, NULL) && exists)
        {
          retry.first_number = number + 1;
          continue;
        }
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
}

/**
 * dc_plan_describe:
 * @plan: a plan
 *
 * Returns: (transfer full): one line per volume copied or shared, for
 * verbose output and the tests' expected files
 */
char *
dc_plan_describe (const DcPlan *plan)
{
  GString *out = g_string_new (NULL);

  g_string_append_printf (out, "clone %s (%s) of %s\n", plan->name, plan->uuid, plan->source_name);
  for (guint i = 0; i < plan->copies->len; i++)
    {
      const DcCopy *c = plan->copies->pdata[i];

      g_string_append_printf (
        out, "%s %s: %s/%s -> %s/%s (%s)%s%s\n", c->kind == DC_COPY_KIND_OVERLAY ? "overlay" : "copy",
        c->what, c->pool, c->src_name, c->dst_pool, c->dst_name, c->dst_path ? c->dst_path : "-",
        c->bytes_only ? ", its bytes as they are" : "", c->shared ? ", shared there by later clones" : "");
    }
  for (guint i = 0; i < plan->seeds->len; i++)
    {
      const DcCopy *c = ((const DcSeed *) plan->seeds->pdata[i])->vol;

      g_string_append_printf (out, "seed %s: %s/%s -> %s/%s (%s)\n", c->what, c->pool, c->src_name,
                              c->dst_pool, c->dst_name, c->dst_path ? c->dst_path : "-");
    }
  for (guint i = 0; i < plan->shared->len; i++)
    g_string_append_printf (out, "share %s\n", (const char *) plan->shared->pdata[i]);
  for (guint i = 0; i < plan->warnings->len; i++)
    g_string_append_printf (out, "warning %s\n", (const char *) plan->warnings->pdata[i]);
  return g_string_free (out, FALSE);
}

/**
 * dc_plan_volumes:
 * @plan: a plan
 *
 * Returns: (transfer container) (element-type DcCopy): every volume
 * @plan makes, in the order it makes them: the copies, then the seeds'
 */
GPtrArray *
dc_plan_volumes (const DcPlan *plan)
{
  GPtrArray *all = g_ptr_array_sized_new (plan->copies->len + plan->seeds->len);

  for (guint i = 0; i < plan->copies->len; i++)
    g_ptr_array_add (all, plan->copies->pdata[i]);
  for (guint i = 0; i < plan->seeds->len; i++)
    g_ptr_array_add (all, ((DcSeed *) plan->seeds->pdata[i])->vol);
  return all;
}

/**
 * dc_plan_seed_of:
 * @plan: a plan
 * @vol: one of its volumes of kind %DC_COPY_KIND_SEED
 *
 * Returns: (transfer none) (nullable): the seed @vol is the volume of
 */
const DcSeed *
dc_plan_seed_of (const DcPlan *plan, const DcCopy *vol)
{
  for (guint i = 0; i < plan->seeds->len; i++)
    if (((const DcSeed *) plan->seeds->pdata[i])->vol == vol)
      return plan->seeds->pdata[i];
  return NULL;
}
