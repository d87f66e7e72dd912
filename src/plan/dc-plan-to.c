/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-plan-to.c: a clone onto another host (--to), as far as the plan
 * goes. The bytes of each writable volume are streamed from the source's
 * host into a new volume on the destination's (src/host/dc-vol-io.c), so
 * the plan only says where that volume goes: into the destination's pool
 * of the source pool's name, which must exist there, run and hold files.
 * A qcow2 file streams as its bytes: one with a backing file would name
 * a file of the source's host, and is refused. A disk the clone shares
 * is shared where the destination has it (else the plan copies it there
 * once, see dc_planner_to_shared()).
 */
#include "config.h"

#include "dc-plan-to.h"

/**
 * dc_plan_to_pool:
 * @env: the two hosts' answers (DcEnv.dst_has set)
 * @pools: (element-type utf8 DcPoolInfo): pools looked up so far, by name
 * @name: the source volume's pool
 * @error: return location
 *
 * Returns: (transfer none): the destination's pool called @name, active
 * and holding files, or %NULL with @error set
 */
const DcPoolInfo *
dc_plan_to_pool (DcEnv *env, GHashTable *pools, const char *name, GError **error)
{
  static const char *const file_pools[] = { "dir", "fs", "netfs" };
  g_autoptr (GError) local = NULL;
  DcPoolInfo *info = g_hash_table_lookup (pools, name);
  gboolean holds_files = FALSE;

  if (info != NULL)
    return info;
  info = env->pool_info (env, name, &local);
  if (info == NULL && g_error_matches (local, DC_ERROR, DC_ERROR_NOT_FOUND))
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_POOL_NOT_FOUND,
        "storage pool '%s' not found on the destination; define it there (virsh pool-define-as) or name one with --pool",
        name);
      return NULL;
    }
  if (info == NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local),
                                  "cannot use storage pool '%s' on the destination: ", name);
      return NULL;
    }
  g_hash_table_insert (pools, g_strdup (name), info);
  if (!info->active)
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_POOL_INACTIVE,
        "storage pool '%s' is not active on the destination; start it there with 'virsh pool-start %s'", name,
        name);
      return NULL;
    }
  for (size_t i = 0; i < G_N_ELEMENTS (file_pools); i++)
    if (g_strcmp0 (info->type, file_pools[i]) == 0)
      holds_files = TRUE;
  if (!holds_files || info->path == NULL)
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_UNSUPPORTED,
        "cannot clone into storage pool '%s' on the destination: it is a '%s' pool; name a pool that holds files (dir, fs or netfs) with --pool",
        name, info->type ? info->type : "?");
      return NULL;
    }
  return info;
}

/**
 * dc_plan_to_check_chain:
 * @what: "disk 'vda'"
 * @info: its volume, its format the domain XML's
 * @bytes_only: its bytes are copied as they are whatever a probe says
 *   (a raw disk: a backing file in its header is the guest's data)
 * @error: return location
 *
 * A qcow2 volume goes across as its file's bytes; a backing file named
 * in them is a file of the source's host.
 *
 * Returns: %FALSE with @error set when @info has a backing chain
 */
gboolean
dc_plan_to_check_chain (const char *what, const DcVolInfo *info, gboolean bytes_only, GError **error)
{
  if (bytes_only || info->backing == NULL)
    return TRUE;
  g_set_error (
    error, DC_ERROR, DC_ERROR_UNSUPPORTED,
    "cannot clone %s to another host: its volume '%s' has the backing file '%s', which stays on the source's host; flatten it first (virsh blockpull, or qemu-img convert into a new volume)",
    what, info->path ? info->path : info->name, info->backing);
  return FALSE;
}

/**
 * dc_plan_to_shared_there:
 * @env: the two hosts' answers
 * @what: "disk 'hdc'"
 * @type: the disk's type (file, volume, ...)
 * @source: its <source>, or %NULL
 * @there: (out): whether the destination has the file (or volume) it
 *   names, or it names none (a network disk: the same for every host)
 * @error: return location
 *
 * A read-only disk or CD-ROM is shared, unchanged, where the destination
 * has what it names.
 *
 * Returns: %FALSE with @error set when that cannot be told
 */
gboolean
dc_plan_to_shared_there (DcEnv *env, const char *what, const char *type, xmlNode *source, gboolean *there,
                         GError **error)
{
  g_autofree char *path = NULL;
  g_autofree char *pool = NULL;
  g_autofree char *vol = NULL;

  *there = TRUE;
  if (source == NULL)
    return TRUE;
  if (g_strcmp0 (type, "file") == 0 || g_strcmp0 (type, "block") == 0)
    path = dc_xml_prop (source, g_str_equal (type, "file") ? "file" : "dev");
  else if (g_strcmp0 (type, "volume") == 0)
    {
      pool = dc_xml_prop (source, "pool");
      vol = dc_xml_prop (source, "volume");
    }
  if (path == NULL && (pool == NULL || vol == NULL))
    return TRUE;
  if (!env->dst_has (env, path, pool, vol, there, error))
    {
      g_prefix_error (error, "cannot clone %s to another host: ", what);
      return FALSE;
    }
  return TRUE;
}
