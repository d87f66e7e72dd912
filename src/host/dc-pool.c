/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-pool.c: the temporary pools over directories that hold files
 * outside any pool (NVRAM, TPM state), shared between domclone runs.
 */
#include "config.h"

#include "dc-pool.h"
#include "dc-plan.h"
#include "dc-xml.h"

/*
 * Files that libvirt keeps outside pools (NVRAM) are reached through a
 * pool over their directory: an existing one, or a transient pool that
 * leaves no configuration behind. This works over remote connections too.
 *
 * The transient pool is named after its directory, so concurrent
 * domclones share it instead of colliding (libvirt refuses two pools
 * over one directory). A run opens it on first use and closes it at its
 * end; the close fails harmlessly while another domclone's copy runs in
 * it, and whoever closes last removes it. A use that finds the pool gone
 * (closed by another domclone in between) opens it again.
 */

G_LOCK_DEFINE_STATIC (dc_dir_pools);
static GHashTable *dc_dir_pools; /* names of the pools this process opened */

/* The XML of the temporary pool over @dir (built with @make) */
static char *
dc_pool_dir_xml (const char *dir, gboolean make, const char *owner, const char *group)
{
  g_autofree char *pool_name = dc_plan_dir_pool_name (dir);
  g_autoptr (xmlDoc) doc = xmlNewDoc (BAD_CAST "1.0");
  xmlNode *root = xmlNewDocNode (doc, NULL, BAD_CAST "pool", NULL);
  xmlNode *target;

  xmlDocSetRootElement (doc, root);
  xmlSetProp (root, BAD_CAST "type", BAD_CAST "dir");
  xmlNewTextChild (root, NULL, BAD_CAST "name", BAD_CAST pool_name);
  target = xmlNewChild (root, NULL, BAD_CAST "target", NULL);
  xmlNewTextChild (target, NULL, BAD_CAST "path", BAD_CAST dir);
  if (make)
    {
      /* the directory libvirt builds: private to its owner, as swtpm's */
      xmlNode *perms = xmlNewChild (target, NULL, BAD_CAST "permissions", NULL);

      xmlNewTextChild (perms, NULL, BAD_CAST "mode", BAD_CAST "0700");
      if (owner != NULL)
        xmlNewTextChild (perms, NULL, BAD_CAST "owner", BAD_CAST owner);
      if (group != NULL)
        xmlNewTextChild (perms, NULL, BAD_CAST "group", BAD_CAST group);
    }
  return dc_xml_format (root, TRUE);
}

/* Opens (or with @make, builds) the temporary pool over @dir. */
static gboolean
dc_pool_open_dir_full (virConnectPtr conn, const char *dir, gboolean make, const char *owner,
                       const char *group, char **name, GError **error)
{
  g_autofree char *pool_name = dc_plan_dir_pool_name (dir);
  g_autofree char *xml = dc_pool_dir_xml (dir, make, owner, group);

  for (int attempt = 0; attempt < DC_POOL_ATTEMPTS; attempt++)
    {
      g_autoptr (DcPool) pool = virStoragePoolLookupByName (conn, pool_name);

      if (pool == NULL || virStoragePoolIsActive (pool) != 1)
        {
          g_clear_pointer (&pool, virStoragePoolFree);
          pool = virStoragePoolCreateXML (conn, xml, make ? VIR_STORAGE_POOL_CREATE_WITH_BUILD : 0);
        }
      if (pool != NULL)
        {
          G_LOCK (dc_dir_pools);
          if (dc_dir_pools == NULL)
            dc_dir_pools = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
          g_hash_table_add (dc_dir_pools, g_strdup (pool_name));
          G_UNLOCK (dc_dir_pools);
          *name = g_steal_pointer (&pool_name);
          return TRUE;
        }
      /* a directory that is not there will not appear by waiting */
      if (dc_last_libvirt_code () == VIR_ERR_SYSTEM_ERROR && virGetLastError ()->int1 == ENOENT)
        break;
      /* another domclone created or removed it meanwhile: look again */
      g_usleep (g_random_int_range (10, 60) * 1000);
    }
  return dc_set_libvirt_error (error, "cannot open '%s' through a temporary storage pool", dir);
}

/**
 * dc_pool_open_dir:
 * @conn: connection
 * @dir: directory
 * @name: (out): the pool's name
 * @error: return location
 *
 * Returns: %TRUE when an active pool called @name covers @dir
 */
gboolean
dc_pool_open_dir (virConnectPtr conn, const char *dir, char **name, GError **error)
{
  return dc_pool_open_dir_full (conn, dir, FALSE, NULL, NULL, name, error);
}

/**
 * dc_pool_make_dir:
 * @conn: connection
 * @dir: directory, made (with its parents) if missing, mode 0700
 * @owner: (nullable): its owner if made
 * @group: (nullable): its group if made
 * @name: (out): the pool's name
 * @error: return location
 *
 * Like dc_pool_open_dir(), for a directory that may not exist yet.
 */
gboolean
dc_pool_make_dir (virConnectPtr conn, const char *dir, const char *owner, const char *group, char **name,
                  GError **error)
{
  return dc_pool_open_dir_full (conn, dir, TRUE, owner, group, name, error);
}

/* Whether @dir is there on @conn's host: a pool over it starts, or fails
 * for another reason than ENOENT (what cannot be told counts as there) */
static gboolean
dc_pool_dir_exists (virConnectPtr conn, const char *dir)
{
  g_autofree char *pool_name = dc_plan_dir_pool_name (dir);
  g_autofree char *xml = dc_pool_dir_xml (dir, FALSE, NULL, NULL);
  g_autoptr (DcPool) pool = virStoragePoolLookupByName (conn, pool_name);

  if (pool != NULL && virStoragePoolIsActive (pool) == 1)
    return TRUE;
  g_clear_pointer (&pool, virStoragePoolFree);
  pool = virStoragePoolCreateXML (conn, xml, 0);
  if (pool == NULL)
    return dc_last_libvirt_code () != VIR_ERR_SYSTEM_ERROR || virGetLastError ()->int1 != ENOENT;
  if (virStoragePoolDestroy (pool) < 0)
    g_debug ("temporary pool '%s' stays: %s", pool_name, virGetLastErrorMessage ());
  return TRUE;
}

/**
 * dc_pool_missing_dirs:
 * @conn: connection
 * @dir: an absolute directory path
 *
 * The directories dc_pool_make_dir() would make for @dir: @dir and
 * those of its parents that are not there, proven missing one by one
 * (one that cannot be told counts as there, and ends the list).
 *
 * Returns: (transfer full) (element-type utf8): the outermost first;
 * empty when @dir is there
 */
GPtrArray *
dc_pool_missing_dirs (virConnectPtr conn, const char *dir)
{
  GPtrArray *missing = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *at = g_strdup (dir);

  while (g_path_is_absolute (at) && !g_str_equal (at, "/") && !dc_pool_dir_exists (conn, at))
    {
      char *parent = g_path_get_dirname (at);

      g_ptr_array_insert (missing, 0, g_steal_pointer (&at));
      at = parent;
    }
  return missing;
}

/**
 * dc_pool_dir_has:
 * @conn: connection
 * @dir: a directory no active pool covers
 * @name: a file name
 * @has: (out): whether @dir holds a file @name libvirt can read
 * @error: return location
 *
 * Looks, through the temporary pool over @dir, and closes that pool at
 * once if this call opened it: a question leaves nothing behind, even
 * when the process is killed right after.
 *
 * Returns: %FALSE with @error set when that cannot be told
 */
gboolean
dc_pool_dir_has (virConnectPtr conn, const char *dir, const char *name, gboolean *has, GError **error)
{
  g_autofree char *pool_name = dc_plan_dir_pool_name (dir);
  g_autoptr (DcPool) pool = virStoragePoolLookupByName (conn, pool_name);
  g_autoptr (DcVol) vol = NULL;
  gboolean opened = FALSE;
  gboolean ok = TRUE;

  *has = FALSE;
  if (pool == NULL || virStoragePoolIsActive (pool) != 1)
    {
      g_autofree char *xml = dc_pool_dir_xml (dir, FALSE, NULL, NULL);

      g_clear_pointer (&pool, virStoragePoolFree);
      pool = virStoragePoolCreateXML (conn, xml, 0);
      if (pool == NULL && dc_last_libvirt_code () == VIR_ERR_SYSTEM_ERROR
          && virGetLastError ()->int1 == ENOENT)
        return TRUE; /* no such directory */
      if (pool == NULL)
        return dc_set_libvirt_error (error, "cannot look into '%s' through a temporary storage pool", dir);
      opened = TRUE;
    }
  vol = virStorageVolLookupByName (pool, name);
  *has = vol != NULL;
  if (vol == NULL && dc_last_libvirt_code () != VIR_ERR_NO_STORAGE_VOL)
    ok = dc_set_libvirt_error (error, "cannot look for '%s' in '%s'", name, dir);
  if (opened && virStoragePoolDestroy (pool) < 0)
    g_debug ("temporary pool '%s' stays: %s", pool_name, virGetLastErrorMessage ());
  return ok;
}

/**
 * dc_pool_close_dirs:
 * @conn: connection
 *
 * Removes the temporary pools this process opened, unless another
 * domclone is copying in one (that one removes it when done).
 */
void
dc_pool_close_dirs (virConnectPtr conn)
{
  dc_pool_close_dirs_on (conn, NULL);
}

/**
 * dc_pool_close_dirs_on:
 * @conn: connection
 * @other: (nullable): a second one (--to: the source's host and the
 *   clone's), where the same names are closed too
 *
 * As dc_pool_close_dirs(), on both connections.
 */
void
dc_pool_close_dirs_on (virConnectPtr conn, virConnectPtr other)
{
  g_autoptr (GHashTable) pools = NULL;
  GHashTableIter iter;
  gpointer name;

  G_LOCK (dc_dir_pools);
  pools = g_steal_pointer (&dc_dir_pools);
  G_UNLOCK (dc_dir_pools);
  if (pools == NULL)
    return;
  g_hash_table_iter_init (&iter, pools);
  while (g_hash_table_iter_next (&iter, &name, NULL))
    for (int i = 0; i < 2; i++)
      {
        virConnectPtr on = i == 0 ? conn : other;
        g_autoptr (DcPool) pool = on ? virStoragePoolLookupByName (on, name) : NULL;

        if (pool != NULL && virStoragePoolDestroy (pool) < 0)
          g_debug ("temporary pool '%s' stays: %s", (const char *) name, virGetLastErrorMessage ());
      }
}

/* Whether @pool is a temporary pool of domclone's: transient, and named
 * after its own directory as dc_plan_dir_pool_name() names it (so a
 * user's pool that only looks like one is never touched). */
static gboolean
dc_pool_is_temporary (virStoragePoolPtr pool)
{
  g_autofree char *xml = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *want = NULL;
  g_autoptr (xmlDoc) doc = NULL;
  g_autoptr (xmlXPathContext) ctxt = NULL;

  if (virStoragePoolIsPersistent (pool) != 0 || !g_str_has_prefix (virStoragePoolGetName (pool), "domclone-"))
    return FALSE;
  xml = virStoragePoolGetXMLDesc (pool, 0);
  if (xml != NULL)
    doc = dc_xml_parse (xml, "pool", "a storage pool's XML", &ctxt, NULL);
  if (doc == NULL)
    return FALSE;
  dir = dc_xml_string (ctxt, NULL, "/pool/target/path");
  if (dir == NULL)
    return FALSE;
  want = dc_plan_dir_pool_name (dir);
  return g_str_equal (want, virStoragePoolGetName (pool));
}

/**
 * dc_pool_sweep:
 * @conn: connection
 *
 * Removes the temporary pools that killed runs left open (a run removes
 * its own at its end, which SIGKILL or a lost daemon prevents). A pool
 * another run is copying in stays (libvirt refuses); one another run has
 * only opened is opened again by that run, as after any other run's
 * close.
 */
void
dc_pool_sweep (virConnectPtr conn)
{
  virStoragePoolPtr *pools = NULL;
  int n = virConnectListAllStoragePools (
    conn, &pools, VIR_CONNECT_LIST_STORAGE_POOLS_TRANSIENT | VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE);

  for (int i = 0; i < n; i++)
    {
      if (dc_pool_is_temporary (pools[i]) && virStoragePoolDestroy (pools[i]) < 0)
        g_debug ("temporary pool '%s' stays: %s", virStoragePoolGetName (pools[i]),
                 virGetLastErrorMessage ());
      virStoragePoolFree (pools[i]);
    }
  if (n < 0)
    g_debug ("no list of storage pools: %s", virGetLastErrorMessage ());
  free (pools);
}

/**
 * dc_pool_vanished:
 *
 * Returns: %TRUE if the last libvirt error says a pool (or a volume
 * looked up in it) was not there or not active: what a use of a shared
 * temporary pool sees when another domclone closed it just then.
 */
gboolean
dc_pool_vanished (void)
{
  int code = dc_last_libvirt_code ();

  return code == VIR_ERR_NO_STORAGE_POOL || code == VIR_ERR_NO_STORAGE_VOL
         || code == VIR_ERR_OPERATION_INVALID;
}

/*
 * The pool cache. A run looks its pools up by name again and again
 * (each volume it reads, makes or checks, each refresh): one round trip
 * to the daemon each time, for a handle that stays right. libvirt finds
 * a pool by its UUID when a handle is used, and a pool keeps its UUID
 * while it is stopped and started again. So each pool is looked up once
 * per run, and the handle is shared by the run's threads. Not cached:
 * domclone's own temporary pools (another domclone may close and open
 * them again, under a new UUID, at any moment) and failed lookups. A
 * handle belongs to its connection: a run that reconnects (a rollback
 * after the daemon went away) looks up afresh on the new one.
 */
static void
dc_pool_unref (gpointer pool)
{
  virStoragePoolFree (pool);
}

struct _DcPoolCache
{
  virConnectPtr conn; /* not owned: each handle holds a reference */
  GMutex lock;
  GHashTable *pools; /* name -> virStoragePoolPtr (under @lock) */
};

/**
 * dc_pool_cache_new:
 * @conn: the connection whose pools it holds
 *
 * Returns: (transfer full): an empty cache
 */
DcPoolCache *
dc_pool_cache_new (virConnectPtr conn)
{
  DcPoolCache *cache = g_new0 (DcPoolCache, 1);

  cache->conn = conn;
  g_mutex_init (&cache->lock);
  cache->pools = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, dc_pool_unref);
  return cache;
}

void
dc_pool_cache_free (DcPoolCache *cache)
{
  if (cache == NULL)
    return;
  g_clear_pointer (&cache->pools, g_hash_table_unref);
  g_mutex_clear (&cache->lock);
  g_free (cache);
}

/**
 * dc_pool_cache_lookup:
 * @cache: (nullable): a cache, or %NULL for a plain lookup
 * @conn: the connection to look on: one other than the cache's (the
 *   other host of --to, a connection made again) is asked directly
 * @name: a pool's name
 *
 * virStoragePoolLookupByName(), once per pool on the cache's connection.
 *
 * Returns: (transfer full): a reference to the pool (free it with
 *   virStoragePoolFree()), or %NULL with the libvirt error set
 */
virStoragePoolPtr
dc_pool_cache_lookup (DcPoolCache *cache, virConnectPtr conn, const char *name)
{
  virStoragePoolPtr pool;

  if (cache == NULL || conn != cache->conn || g_str_has_prefix (name, "domclone-"))
    return virStoragePoolLookupByName (conn, name);
  g_mutex_lock (&cache->lock);
  pool = g_hash_table_lookup (cache->pools, name);
  if (pool != NULL)
    virStoragePoolRef (pool);
  g_mutex_unlock (&cache->lock);
  if (pool != NULL)
    return pool;
  pool = virStoragePoolLookupByName (cache->conn, name);
  if (pool == NULL)
    return NULL;
  g_mutex_lock (&cache->lock);
  if (!g_hash_table_contains (cache->pools, name))
    {
      virStoragePoolRef (pool);
      g_hash_table_insert (cache->pools, g_strdup (name), pool);
    }
  g_mutex_unlock (&cache->lock);
  return pool;
}

/**
 * dc_pool_cache_forget:
 * @cache: (nullable): a cache
 * @name: a pool's name
 *
 * Drops the handle of @name, which libvirt no longer knows (the pool
 * was undefined and defined again, under a new UUID): the next lookup
 * asks the daemon again.
 */
void
dc_pool_cache_forget (DcPoolCache *cache, const char *name)
{
  if (cache == NULL)
    return;
  g_mutex_lock (&cache->lock);
  g_hash_table_remove (cache->pools, name);
  g_mutex_unlock (&cache->lock);
}
