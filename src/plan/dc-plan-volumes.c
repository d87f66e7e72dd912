/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-plan-volumes.c: the new volumes of a plan: which pool each goes
 * into (--pool, temporary pools over directories), that its name is
 * free, and the DcCopy (a copy or a linked clone's overlay) that makes it.
 */
#include "config.h"

#include "dc-plan-priv.h"
#include "dc-newvol.h"

const DcCopy *
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
gboolean
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
DcCopy *
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
const DcCopy *
dc_planner_add_copy_to (DcPlanner *p, const char *what, const DcVolInfo *src, const char *dst_dir,
                        const DcPoolInfo *into, const char *dst_name, GError **error)
{
  DcCopy *copy = dc_planner_new_copy (p, what, src, dst_dir, into, dst_name, error);

  if (copy != NULL)
    g_ptr_array_add (p->plan->copies, copy);
  return copy;
}

/* Adds the overlay of a linked clone's disk to the plan. */
const DcCopy *
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
