/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-env.c: the planner's questions, answered by a libvirt connection.
 */
#include "config.h"

#include "dc-env.h"
#include "dc-shape-host.h"
#include "dc-cloudinit.h"
#include "dc-copy.h"
#include "dc-pool.h"
#include "dc-rbd.h"
#include "dc-vol-io.h"
#include "dc-xml.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct
{
  char *name;
  char *path; /* target directory */
  char *type; /* <pool type> */
  gboolean active;
  gboolean refreshed;
} DcPoolEntry;

typedef struct
{
  DcEnv parent;
  virConnectPtr conn;
  GPtrArray *pools;        /* DcPoolEntry, loaded on first use */
  GHashTable *macs;        /* MACs of every domain (dc_host_scan) */
  gboolean read_only;      /* --print-xml: open no temporary pool */
  DcEnv *src;              /* --to: the source's host, which answers for the
                       * source's files (this env answers for the
                       * destination's); NULL on one host */
  GMutex rbd_lock;         /* the copies ask from several threads */
  GPtrArray *rbd;          /* DcRbdEntry: one connection per Ceph cluster */
  DcPoolCache *pool_cache; /* @conn's pools, each looked up once */
} DcLiveEnv;

/* A Ceph cluster this run reached: how (@src), and the connection */
typedef struct
{
  DcRbdSource *src;
  DcRbdConn *conn;
} DcRbdEntry;

static void
dc_rbd_entry_free (DcRbdEntry *e)
{
  dc_rbd_source_free (e->src);
  dc_rbd_conn_free (e->conn);
  g_free (e);
}

static void
dc_pool_entry_free (DcPoolEntry *e)
{
  g_free (e->name);
  g_free (e->path);
  g_free (e->type);
  g_free (e);
}

static gboolean
dc_live_load_pools (DcLiveEnv *env, GError **error)
{
  g_auto (DcPoolList) pools = { NULL, 0 };

  if (env->pools != NULL)
    return TRUE;

  pools.n = virConnectListAllStoragePools (env->conn, &pools.list, 0);
  if (pools.n < 0)
    return dc_set_libvirt_error (error, "cannot list storage pools");

  env->pools = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_pool_entry_free);
  for (int i = 0; i < pools.n; i++)
    {
      virStoragePoolPtr pool = pools.list[i];
      g_autofree char *xml = virStoragePoolGetXMLDesc (pool, 0);
      g_autoptr (xmlXPathContext) ctxt = NULL;
      g_autoptr (xmlDoc) doc = NULL;
      DcPoolEntry *e;

      /* undefined meanwhile, or another domclone's temporary pool */
      if (xml == NULL || g_str_has_prefix (virStoragePoolGetName (pool), "domclone-"))
        continue;
      doc = dc_xml_parse (xml, "pool", "pool XML", &ctxt, NULL);
      if (doc == NULL)
        continue;
      e = g_new0 (DcPoolEntry, 1);
      e->name = g_strdup (virStoragePoolGetName (pool));
      e->path = dc_xml_string (ctxt, NULL, "/pool/target/path");
      e->type = dc_xml_string (ctxt, NULL, "/pool/@type");
      e->active = virStoragePoolIsActive (pool) == 1;
      g_ptr_array_add (env->pools, e);
    }
  return TRUE;
}

static DcPoolEntry *
dc_live_pool_for_dir (DcLiveEnv *env, const char *dir)
{
  for (guint i = 0; i < env->pools->len; i++)
    {
      DcPoolEntry *e = env->pools->pdata[i];

      if (e->path != NULL && g_str_equal (e->path, dir))
        return e;
    }
  return NULL;
}

/* How many pools of the list have @dir as their target */
static guint
dc_live_pools_over (DcLiveEnv *env, const char *dir)
{
  guint n = 0;

  for (guint i = 0; i < env->pools->len; i++)
    {
      DcPoolEntry *e = env->pools->pdata[i];

      n += e->path != NULL && g_str_equal (e->path, dir);
    }
  return n;
}

static DcPoolEntry *
dc_live_pool_by_name (DcLiveEnv *env, const char *name)
{
  for (guint i = 0; i < env->pools->len; i++)
    {
      DcPoolEntry *e = env->pools->pdata[i];

      if (g_str_equal (e->name, name))
        return e;
    }
  return NULL;
}

/* A pool's volume list is as old as its last refresh: refresh each pool
 * once before trusting a miss. */
static gboolean
dc_live_refresh (DcLiveEnv *env, DcPoolEntry *e, GError **error)
{
  g_autoptr (DcPool) pool = NULL;

  if (e->refreshed)
    return TRUE;
  pool = dc_pool_cache_lookup (env->pool_cache, env->conn, e->name);
  if (pool == NULL)
    return dc_set_libvirt_error (error, "cannot find storage pool '%s'", e->name);
  /* libvirt refuses to refresh a pool while volumes are being built in
   * it (another domclone, say); its list is current then anyway. */
  if (virStoragePoolRefresh (pool, 0) < 0)
    g_debug ("storage pool '%s' not refreshed: %s", e->name, virGetLastErrorMessage ());
  e->refreshed = TRUE;
  return TRUE;
}

static DcPoolInfo *
dc_live_pool_info (DcEnv *base, const char *name, GError **error)
{
  DcLiveEnv *env = (DcLiveEnv *) base;
  DcPoolEntry *e;

  if (!dc_live_load_pools (env, error))
    return NULL;
  e = dc_live_pool_by_name (env, name);
  if (e == NULL)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_NOT_FOUND, "storage pool '%s' does not exist", name);
      return NULL;
    }
  /* the plan checks the new volumes' names against its volume list */
  if (e->active && !dc_live_refresh (env, e, error))
    return NULL;
  return dc_pool_info_new (e->name, e->type, e->path, e->active);
}

/* @what names the volume as the caller found it (a path, or pool and
 * name), for messages; @known is its pool where the caller knows it
 * (else libvirt is asked). */
static DcVolInfo *
dc_live_vol_info (DcLiveEnv *env, virStorageVolPtr vol, const char *known, const char *what, GError **error)
{
  g_autoptr (DcPool) pool = known ? NULL : virStoragePoolLookupByVolume (vol);
  g_autofree char *xml = NULL;
  const char *pool_name;
  DcPoolEntry *e;
  DcVolInfo *info;

  if (known == NULL && pool == NULL)
    {
      dc_set_libvirt_error (error, "cannot find the pool of volume %s", what);
      return NULL;
    }
  xml = virStorageVolGetXMLDesc (vol, 0);
  if (xml == NULL)
    {
      dc_set_libvirt_error (error, "cannot read volume %s", what);
      return NULL;
    }
  pool_name = known ? known : virStoragePoolGetName (pool);
  e = dc_live_pool_by_name (env, pool_name);
  info = dc_vol_info_from_xml (xml, pool_name, e ? e->path : NULL, error);
  /* a pool left out of the list is one of domclone's temporary dir pools */
  if (info != NULL)
    info->pool_type = g_strdup (e ? e->type : "dir");
  return info;
}

static DcVolInfo *
dc_live_vol_by_path (DcEnv *base, const char *path, GError **error)
{
  DcLiveEnv *env = (DcLiveEnv *) base;
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr (DcVol) vol = NULL;
  DcPoolEntry *e;

  if (!dc_live_load_pools (env, error))
    return NULL;

  e = dc_live_pool_for_dir (env, dir);
  if (e != NULL && !e->active)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_FAILED,
                   "'%s' is in storage pool '%s', which is not active; start it with 'virsh pool-start %s'",
                   path, e->name, e->name);
      return NULL;
    }
  if (e != NULL && !dc_live_refresh (env, e, error))
    return NULL;

  vol = virStorageVolLookupByPath (env->conn, path);
  if (vol == NULL)
    {
      if (dc_last_libvirt_code () != VIR_ERR_NO_STORAGE_VOL)
        {
          dc_set_libvirt_error (error, "cannot look up '%s'", path);
          return NULL;
        }
      if (e != NULL)
        g_set_error (error, DC_ERROR, DC_ERROR_NOT_FOUND,
                     "its source '%s' does not exist in storage pool '%s'", path, e->name);
      else
        /* what pool to make depends on what the disk is: the planner says */
        g_set_error (error, DC_ERROR, DC_ERROR_UNSUPPORTED,
                     "its source '%s' is not in any active storage pool", path);
      return NULL;
    }
  /* seen through a temporary pool (ours, opened for another file of its
   * directory): outside any pool, as for a miss */
  if (e == NULL)
    {
      g_autoptr (DcPool) pool = virStoragePoolLookupByVolume (vol);

      if (pool != NULL && g_str_has_prefix (virStoragePoolGetName (pool), "domclone-"))
        {
          g_set_error (error, DC_ERROR, DC_ERROR_UNSUPPORTED,
                       "its source '%s' is not in any active storage pool", path);
          return NULL;
        }
    }
  {
    g_autofree char *what = g_strdup_printf ("'%s'", path);

    /* a volume of that directory is in the one pool over it (libvirt
     * refuses a second dir pool on the same path) */
    return dc_live_vol_info (env, vol, e != NULL && dc_live_pools_over (env, dir) == 1 ? e->name : NULL, what,
                             error);
  }
}

static DcVolInfo *
dc_live_vol_by_name (DcEnv *base, const char *pool_name, const char *name, GError **error)
{
  DcLiveEnv *env = (DcLiveEnv *) base;
  g_autoptr (DcPool) pool = NULL;
  g_autoptr (DcVol) vol = NULL;
  DcPoolEntry *e;

  if (!dc_live_load_pools (env, error))
    return NULL;
  e = dc_live_pool_by_name (env, pool_name);
  if (e == NULL)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_NOT_FOUND, "storage pool '%s' does not exist", pool_name);
      return NULL;
    }
  if (!e->active)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_FAILED,
                   "storage pool '%s' is not active; start it with 'virsh pool-start %s'", pool_name,
                   pool_name);
      return NULL;
    }
  if (!dc_live_refresh (env, e, error))
    return NULL;
  pool = dc_pool_cache_lookup (env->pool_cache, env->conn, pool_name);
  vol = pool ? virStorageVolLookupByName (pool, name) : NULL;
  {
    g_autofree char *what = g_strdup_printf ("'%s' in pool '%s'", name, pool_name);

    if (vol == NULL)
      {
        dc_set_libvirt_error (error, "volume %s", what);
        return NULL;
      }
    return dc_live_vol_info (env, vol, pool_name, what, error);
  }
}

static gboolean
dc_live_vol_exists (DcEnv *base, const char *pool_name, const char *open_dir, const char *name,
                    gboolean *exists, GError **error)
{
  DcLiveEnv *env = (DcLiveEnv *) base;

  /* without the temporary pool, the file answers where it can be seen;
   * elsewhere the name is taken for free (domclone(1), --print-xml) */
  if (env->read_only && open_dir != NULL)
    {
      g_autofree char *path = g_build_filename (open_dir, name, NULL);

      *exists = dc_connection_is_local (env->conn) && g_file_test (path, G_FILE_TEST_EXISTS);
      return TRUE;
    }

  /* a temporary pool may be closed by another domclone between two
   * uses: open it again, as every use of one does */
  for (int attempt = 1;; attempt++)
    {
      g_autofree char *opened = NULL;
      g_autoptr (DcPool) pool = NULL;
      g_autoptr (DcVol) vol = NULL;

      if (open_dir != NULL && !dc_pool_open_dir (env->conn, open_dir, &opened, error))
        return FALSE;
      pool = dc_pool_cache_lookup (env->pool_cache, env->conn, pool_name);
      vol = pool ? virStorageVolLookupByName (pool, name) : NULL;
      if (vol != NULL || dc_last_libvirt_code () == VIR_ERR_NO_STORAGE_VOL)
        {
          *exists = vol != NULL;
          return TRUE;
        }
      if (open_dir == NULL || !dc_pool_vanished () || attempt >= DC_POOL_ATTEMPTS)
        return dc_set_libvirt_error (error, "cannot look up volume '%s' in pool '%s'", name, pool_name);
    }
}

static gboolean
dc_live_domain_exists (DcEnv *base, const char *name, gboolean *exists, GError **error)
{
  DcLiveEnv *env = (DcLiveEnv *) base;
  g_autoptr (DcDomain) dom = virDomainLookupByName (env->conn, name);

  if (dom == NULL && dc_last_libvirt_code () != VIR_ERR_NO_DOMAIN)
    return dc_set_libvirt_error (error, "cannot look up domain '%s'", name);
  *exists = dom != NULL;
  return TRUE;
}

static gboolean
dc_live_mac_in_use (DcEnv *base, const char *mac, gboolean *in_use, GError **error)
{
  DcLiveEnv *env = (DcLiveEnv *) base;
  g_autofree char *lower = g_ascii_strdown (mac, -1);

  *in_use = g_hash_table_contains (env->macs, lower);
  return TRUE;
}

/*
 * --print-xml: a file outside any pool (NVRAM, TPM state), described
 * without the temporary pool a real run opens over its directory, as
 * that would be a change. On this host the file itself answers (what a
 * dir pool would say of it: type, format, sizes, owner); where this
 * process cannot see it (a remote connection, a directory it may not
 * enter) it is taken to exist, with nothing known of it but its path.
 */
static DcVolInfo *
dc_live_file_without_pool (DcLiveEnv *env, const char *path, const char *dir, GError **error)
{
  g_autoptr (DcVolInfo) info = dc_vol_info_new ();
  GStatBuf st;

  info->pool = dc_plan_dir_pool_name (dir);
  info->pool_path = g_strdup (dir);
  info->name = g_path_get_basename (path);
  info->path = g_strdup (path);
  info->open_dir = g_strdup (dir);
  info->pool_type = g_strdup ("dir");
  if (dc_connection_is_local (env->conn))
    {
      if (g_stat (path, &st) == 0)
        {
          if (!S_ISREG (st.st_mode) && !S_ISDIR (st.st_mode))
            {
              g_set_error (error, DC_ERROR, DC_ERROR_FAILED,
                           "'%s' exists but libvirt cannot read it as a file; check it (permissions, type)",
                           path);
              return NULL;
            }
          info->type = g_strdup (S_ISDIR (st.st_mode) ? "dir" : "file");
          if (S_ISREG (st.st_mode))
            info->format = g_strdup (dc_qcow2_header_read (path, NULL) ? "qcow2" : "raw");
          info->capacity = (guint64) st.st_size;
          info->allocation = (guint64) st.st_blocks * 512;
          info->mode = g_strdup_printf ("%04o", (guint) (st.st_mode & 07777));
          info->owner = g_strdup_printf ("%u", (guint) st.st_uid);
          info->group = g_strdup_printf ("%u", (guint) st.st_gid);
          return g_steal_pointer (&info);
        }
      if (errno == ENOENT || errno == ENOTDIR)
        {
          g_set_error (error, DC_ERROR, DC_ERROR_NOT_FOUND, "'%s' does not exist", path);
          return NULL;
        }
      g_debug ("cannot look at '%s' from here: %s", path, g_strerror (errno));
    }
  g_info ("'%s' is outside any storage pool and cannot be seen from here: taken to exist", path);
  info->type = g_strdup ("file");
  return g_steal_pointer (&info);
}

static DcVolInfo *
dc_live_file (DcEnv *base, const char *path, GError **error)
{
  DcLiveEnv *env = (DcLiveEnv *) base;
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base_name = g_path_get_basename (path);
  DcPoolEntry *e;

  if (!dc_live_load_pools (env, error))
    return NULL;
  e = dc_live_pool_for_dir (env, dir);
  if (e != NULL)
    return dc_live_vol_by_name (base, e->name, base_name, error);
  if (env->read_only)
    return dc_live_file_without_pool (env, path, dir, error);

  for (int attempt = 0; attempt < DC_POOL_ATTEMPTS; attempt++)
    {
      g_autofree char *pool_name = NULL;
      g_autoptr (DcPool) pool = NULL;
      g_autoptr (DcVol) vol = NULL;
      g_autofree char *xml = NULL;
      DcVolInfo *info = NULL;
      gboolean vanished = FALSE;

      if (!dc_pool_open_dir (env->conn, dir, &pool_name, error))
        return NULL;
      pool = virStoragePoolLookupByName (env->conn, pool_name);
      vol = pool ? virStorageVolLookupByName (pool, base_name) : NULL;
      xml = vol ? virStorageVolGetXMLDesc (vol, 0) : NULL;
      if (xml != NULL)
        info = dc_vol_info_from_xml (xml, pool_name, dir, error);
      if (info != NULL)
        info->pool_type = g_strdup ("dir");
      else if (pool != NULL && dc_last_libvirt_code () == VIR_ERR_NO_STORAGE_VOL
               && virStoragePoolIsActive (pool) == 1)
        {
          /* A pool lists only files it can open: on this host, tell a
           * file that is not there (the source never ran) from one that
           * cannot be read, which must not pass for a fresh start. */
          if (dc_connection_is_local (env->conn) && g_file_test (path, G_FILE_TEST_EXISTS))
            g_set_error (error, DC_ERROR, DC_ERROR_FAILED,
                         "'%s' exists but libvirt cannot read it as a file; check it (permissions, type)",
                         path);
          else
            g_set_error (error, DC_ERROR, DC_ERROR_NOT_FOUND, "'%s' does not exist", path);
        }
      else if (dc_pool_vanished ())
        vanished = TRUE;
      else
        dc_set_libvirt_error (error, "cannot read '%s'", path);

      if (info != NULL)
        info->open_dir = g_strdup (dir);
      if (!vanished)
        return info;
    }
  g_set_error (error, DC_ERROR, DC_ERROR_FAILED, "cannot read '%s': its temporary pool keeps vanishing",
               path);
  return NULL;
}

/* Where libvirt's QEMU driver keeps the NVRAM files it names itself:
 * /var/lib/libvirt/qemu/nvram for qemu:///system (local or remote, as
 * distributions build it), the user's config dir for a local
 * qemu:///session. */
static char *
dc_live_nvram_dir (DcEnv *base)
{
  DcLiveEnv *env = (DcLiveEnv *) base;
  g_autofree char *uri = virConnectGetURI (env->conn);
  g_autoptr (GUri) parsed = uri ? g_uri_parse (uri, G_URI_FLAGS_NONE, NULL) : NULL;
  const char *scheme = parsed ? g_uri_get_scheme (parsed) : NULL;
  const char *path = parsed ? g_uri_get_path (parsed) : NULL;

  if (scheme == NULL || path == NULL || !g_str_has_prefix (scheme, "qemu"))
    return NULL;
  if (g_str_equal (path, "/system"))
    return g_strdup ("/var/lib/libvirt/qemu/nvram");
  if (g_str_equal (path, "/session") && (g_str_equal (scheme, "qemu") || g_str_equal (scheme, "qemu+unix")))
    return g_build_filename (g_get_user_config_dir (), "libvirt", "qemu", "nvram", NULL);
  return NULL;
}

/* swtpm state: /var/lib/libvirt/swtpm for qemu:///system, the user's
 * config dir for a local qemu:///session (as libvirt's qemu driver). */
static char *
dc_live_swtpm_dir (DcEnv *base)
{
  g_autofree char *nvram = dc_live_nvram_dir (base);
  g_autofree char *qemu_dir = NULL;

  if (nvram == NULL)
    return NULL;
  if (g_str_equal (nvram, "/var/lib/libvirt/qemu/nvram"))
    return g_strdup ("/var/lib/libvirt/swtpm");
  qemu_dir = g_path_get_dirname (nvram);
  return g_build_filename (qemu_dir, "swtpm", NULL);
}

/*
 * The ISO 9660 label of a disk's image, to tell a cloud-init seed: on
 * this host the file itself is read where that finds a label; else
 * libvirt reads the sector for us, from the volume's pool or from a
 * temporary pool over its directory (not under --print-xml, which opens
 * none: there a seed out of pools on a remote host is not seen). A URI
 * without a host name is no proof that the file here is the daemon's
 * (another mount namespace): a file missing, unreadable or unlabelled
 * here is asked of libvirt, so a seed only the daemon has is still
 * found. A missing image is no seed.
 */
/* The label of the image at @path read here; FALSE when none was
 * read, and libvirt is worth asking. */
static gboolean
dc_live_iso_label_here (const char *path, char **label)
{
  g_auto (DcFd) fd = open (path, O_RDONLY | O_CLOEXEC);
  guint8 buf[DC_CLOUDINIT_PVD_SIZE];

  if (fd < 0)
    {
      g_debug ("cannot read '%s' here (%s): asking libvirt", path, g_strerror (errno));
      return FALSE;
    }
  if (pread (fd, buf, sizeof (buf), DC_CLOUDINIT_PVD_OFFSET) == (ssize_t) sizeof (buf))
    *label = dc_cloudinit_pvd_label (buf, sizeof (buf));
  return *label != NULL;
}

static gboolean
dc_live_iso_label (DcEnv *base, const char *path, const char *pool_name, const char *name, char **label,
                   GError **error)
{
  DcLiveEnv *env = (DcLiveEnv *) base;
  g_autofree char *opened = NULL;
  g_autoptr (DcPool) pool = NULL;
  g_autoptr (DcVol) vol = NULL;
  g_autoptr (GBytes) sector = NULL;
  virStorageVolInfo info;

  *label = NULL;
  if (path != NULL && dc_connection_is_local (env->conn) && dc_live_iso_label_here (path, label))
    return TRUE;

  if (!dc_live_load_pools (env, error))
    return FALSE;
  if (path != NULL)
    {
      g_autofree char *dir = g_path_get_dirname (path);
      g_autofree char *base_name = g_path_get_basename (path);
      DcPoolEntry *e = dc_live_pool_for_dir (env, dir);

      if (e != NULL && (!e->active || !dc_live_refresh (env, e, error)))
        return e->active ? FALSE : TRUE;
      if (e != NULL)
        pool = dc_pool_cache_lookup (env->pool_cache, env->conn, e->name);
      else if (env->read_only)
        {
          g_info (
            "'%s' is outside any storage pool and cannot be read from here: not taken for a cloud-init seed",
            path);
          return TRUE;
        }
      else if (dc_pool_open_dir (env->conn, dir, &opened, NULL))
        pool = virStoragePoolLookupByName (env->conn, opened);
      vol = pool ? virStorageVolLookupByName (pool, base_name) : NULL;
    }
  else
    {
      pool = virStoragePoolLookupByName (env->conn, pool_name);
      vol = pool ? virStorageVolLookupByName (pool, name) : NULL;
    }
  if (vol == NULL)
    return TRUE;
  if (virStorageVolGetInfo (vol, &info) < 0)
    return dc_set_libvirt_error (error, "cannot read volume '%s'", virStorageVolGetName (vol));
  if (info.type != VIR_STORAGE_VOL_FILE || info.capacity < DC_CLOUDINIT_PVD_OFFSET + DC_CLOUDINIT_PVD_SIZE)
    return TRUE;
  sector = dc_vol_io_download (env->conn, vol, DC_CLOUDINIT_PVD_OFFSET, DC_CLOUDINIT_PVD_SIZE, error);
  if (sector == NULL)
    return FALSE;
  *label = dc_cloudinit_pvd_label (g_bytes_get_data (sector, NULL), g_bytes_get_size (sector));
  return TRUE;
}

static guint
dc_live_max_vcpus (DcEnv *base, const char *virt_type, const char *arch, const char *machine,
                   const char *emulator)
{
  DcLiveEnv *env = (DcLiveEnv *) base;

  return dc_shape_host_max_vcpus (env->conn, virt_type, arch, machine, emulator);
}

/**
 * dc_env_live_rbd:
 * @base: a live env
 * @src: an RBD image's place
 * @error: return location
 *
 * The run's connection to @src's cluster, made on first asking and kept
 * while @base lives (librados connections serve several threads).
 *
 * Returns: (transfer none): the connection, or %NULL with @error set
 */
DcRbdConn *
dc_env_live_rbd (DcEnv *base, const DcRbdSource *src, GError **error)
{
  DcLiveEnv *env = (DcLiveEnv *) base;
  DcRbdConn *found = NULL;

  g_mutex_lock (&env->rbd_lock);
  for (guint i = 0; found == NULL && i < env->rbd->len; i++)
    {
      DcRbdEntry *e = env->rbd->pdata[i];

      if (dc_rbd_source_same_cluster (e->src, src))
        found = e->conn;
    }
  if (found == NULL)
    {
      DcRbdConn *c = dc_rbd_connect (env->conn, src, error);

      if (c != NULL)
        {
          DcRbdEntry *e = g_new0 (DcRbdEntry, 1);

          e->src = dc_rbd_source_copy (src, NULL);
          e->conn = found = c;
          g_ptr_array_add (env->rbd, e);
        }
    }
  g_mutex_unlock (&env->rbd_lock);
  return found;
}

static gboolean
dc_live_rbd_image (DcEnv *base, const DcRbdSource *src, DcRbdImage *image, GError **error)
{
  DcRbdConn *c = dc_env_live_rbd (base, src, error);

  return c != NULL && dc_rbd_stat (c, src, image, error);
}

static DcRbdSource *
dc_live_rbd_pool (DcEnv *base, const char *pool_name, const char *image, GError **error)
{
  DcLiveEnv *env = (DcLiveEnv *) base;
  g_autoptr (DcPool) pool = dc_pool_cache_lookup (env->pool_cache, env->conn, pool_name);
  g_autofree char *xml = pool ? virStoragePoolGetXMLDesc (pool, 0) : NULL;

  if (xml == NULL)
    {
      dc_set_libvirt_error (error, "cannot read storage pool '%s'", pool_name);
      return NULL;
    }
  return dc_rbd_source_from_pool_xml (xml, image, error);
}

/**
 * dc_env_live_new:
 * @conn: connection
 * @scan: the pass over the host's domains this run made, which answers
 *   for the MAC addresses in use
 *
 * Returns: (transfer full): the planner's questions, answered by @conn
 */
DcEnv *
dc_env_live_new (virConnectPtr conn, const DcHostScan *scan)
{
  DcLiveEnv *env = g_new0 (DcLiveEnv, 1);

  env->parent.domain_exists = dc_live_domain_exists;
  env->parent.mac_in_use = dc_live_mac_in_use;
  env->parent.vol_by_path = dc_live_vol_by_path;
  env->parent.vol_by_name = dc_live_vol_by_name;
  env->parent.vol_exists = dc_live_vol_exists;
  env->parent.file = dc_live_file;
  env->parent.nvram_dir = dc_live_nvram_dir;
  env->parent.swtpm_dir = dc_live_swtpm_dir;
  env->parent.pool_info = dc_live_pool_info;
  env->parent.iso_label = dc_live_iso_label;
  env->parent.rbd_image = dc_live_rbd_image;
  env->parent.rbd_pool = dc_live_rbd_pool;
  env->parent.max_vcpus = dc_live_max_vcpus;
  env->conn = conn;
  g_mutex_init (&env->rbd_lock);
  env->rbd = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_rbd_entry_free);
  env->pool_cache = dc_pool_cache_new (conn);
  env->macs = g_hash_table_ref (scan->macs);
  return &env->parent;
}

/**
 * dc_env_live_new_read_only:
 * @conn: connection
 * @scan: as for dc_env_live_new()
 *
 * For --print-xml: the same answers, found without opening a temporary
 * pool: files outside pools are looked at directly where this process
 * can see them, and taken to exist where it cannot.
 *
 * Returns: (transfer full): the planner's questions, answered by @conn
 */
DcEnv *
dc_env_live_new_read_only (virConnectPtr conn, const DcHostScan *scan)
{
  DcLiveEnv *env = (DcLiveEnv *) dc_env_live_new (conn, scan);

  env->read_only = TRUE;
  return &env->parent;
}

void
dc_env_live_free (DcEnv *base)
{
  DcLiveEnv *env = (DcLiveEnv *) base;

  if (env == NULL)
    return;
  g_clear_pointer (&env->pools, g_ptr_array_unref);
  g_clear_pointer (&env->macs, g_hash_table_unref);
  g_clear_pointer (&env->src, dc_env_live_free);
  g_clear_pointer (&env->rbd, g_ptr_array_unref);
  g_clear_pointer (&env->pool_cache, dc_pool_cache_free);
  g_mutex_clear (&env->rbd_lock);
  g_free (env);
}

/* The env of @base that answers for @conn: @base's, or its source's
 * (--to); %NULL for another connection */
static DcLiveEnv *
dc_live_env_of (DcEnv *base, virConnectPtr conn)
{
  DcLiveEnv *env = (DcLiveEnv *) base;

  if (env == NULL)
    return NULL;
  if (env->conn == conn)
    return env;
  if (env->src != NULL && ((DcLiveEnv *) env->src)->conn == conn)
    return (DcLiveEnv *) env->src;
  return NULL;
}

/**
 * dc_env_live_pool:
 * @base: (nullable): a live env
 * @conn: the connection of the pool
 * @name: the pool's name
 *
 * virStoragePoolLookupByName(), with the handle @base keeps for the
 * pools of its connections (dc_pool_cache_lookup()); any thread of the
 * run may ask.
 *
 * Returns: (transfer full): the pool, or %NULL with the libvirt error set
 */
virStoragePoolPtr
dc_env_live_pool (DcEnv *base, virConnectPtr conn, const char *name)
{
  DcLiveEnv *env = dc_live_env_of (base, conn);

  return dc_pool_cache_lookup (env ? env->pool_cache : NULL, conn, name);
}

/**
 * dc_env_live_pool_forget:
 * @base: (nullable): a live env
 * @conn: the connection of the pool
 * @name: the pool's name
 *
 * After libvirt said it knows no pool by @name's kept handle (undefined
 * and defined again meanwhile): the next dc_env_live_pool() asks it
 * anew.
 */
void
dc_env_live_pool_forget (DcEnv *base, virConnectPtr conn, const char *name)
{
  DcLiveEnv *env = dc_live_env_of (base, conn);

  if (env != NULL)
    dc_pool_cache_forget (env->pool_cache, name);
}

/*
 * --to: two hosts. The destination's env answers what is free there and
 * where volumes go; the questions about the source's files go to the
 * source's env (DcEnv in dc-env-iface.h says which are which).
 */
static DcEnv *
dc_to_src (DcEnv *base)
{
  return ((DcLiveEnv *) base)->src;
}

static DcVolInfo *
dc_to_vol_by_path (DcEnv *base, const char *path, GError **error)
{
  return dc_live_vol_by_path (dc_to_src (base), path, error);
}

static DcVolInfo *
dc_to_vol_by_name (DcEnv *base, const char *pool, const char *name, GError **error)
{
  return dc_live_vol_by_name (dc_to_src (base), pool, name, error);
}

static DcVolInfo *
dc_to_file (DcEnv *base, const char *path, GError **error)
{
  return dc_live_file (dc_to_src (base), path, error);
}

static char *
dc_to_nvram_dir (DcEnv *base)
{
  return dc_live_nvram_dir (dc_to_src (base));
}

static char *
dc_to_swtpm_dir (DcEnv *base)
{
  return dc_live_swtpm_dir (dc_to_src (base));
}

static gboolean
dc_to_iso_label (DcEnv *base, const char *path, const char *pool, const char *name, char **label,
                 GError **error)
{
  return dc_live_iso_label (dc_to_src (base), path, pool, name, label, error);
}

/* Whether the destination has the file @path (in a pool or not), or
 * volume @name of pool @pool: what a shared disk needs there. */
static gboolean
dc_to_dst_has (DcEnv *base, const char *path, const char *pool, const char *name, gboolean *has,
               GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (DcVolInfo) info = NULL;
  g_autoptr (DcPoolInfo) there = NULL;

  *has = FALSE;
  if (path == NULL)
    {
      there = dc_live_pool_info (base, pool, &local);
      if (there == NULL && g_error_matches (local, DC_ERROR, DC_ERROR_NOT_FOUND))
        return TRUE;
      if (there == NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      return there->active && dc_live_vol_exists (base, pool, NULL, name, has, error);
    }
  info = dc_live_vol_by_path (base, path, &local);
  /* in no pool there: looked for through a temporary one, closed again
   * at once (this is a question, not a use) */
  if (info == NULL && g_error_matches (local, DC_ERROR, DC_ERROR_UNSUPPORTED))
    {
      DcLiveEnv *env = (DcLiveEnv *) base;
      g_autofree char *dir = g_path_get_dirname (path);
      g_autofree char *file = g_path_get_basename (path);

      /* --print-xml opens no pool, not even for a moment: the file
       * answers where it can be seen, else it is taken to be there */
      if (env->read_only)
        {
          *has = !dc_connection_is_local (env->conn) || g_file_test (path, G_FILE_TEST_EXISTS);
          return TRUE;
        }
      return dc_pool_dir_has (env->conn, dir, file, has, error);
    }
  if (info == NULL && !g_error_matches (local, DC_ERROR, DC_ERROR_NOT_FOUND))
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  *has = info != NULL;
  return TRUE;
}

/**
 * dc_env_live_new_to:
 * @src: the source's connection
 * @dst: the destination's (--to)
 * @scan: the pass over the destination's domains
 * @read_only: as dc_env_live_new_read_only() (--print-xml)
 *
 * Returns: (transfer full): the planner's questions, answered by the
 * two hosts, each for its part; free with dc_env_live_free()
 */
DcEnv *
dc_env_live_new_to (virConnectPtr src, virConnectPtr dst, const DcHostScan *scan, gboolean read_only)
{
  DcLiveEnv *env = (DcLiveEnv *) dc_env_live_new (dst, scan);
  DcLiveEnv *from = (DcLiveEnv *) dc_env_live_new (src, scan);

  env->read_only = from->read_only = read_only;
  env->src = &from->parent;
  env->parent.vol_by_path = dc_to_vol_by_path;
  env->parent.vol_by_name = dc_to_vol_by_name;
  env->parent.file = dc_to_file;
  env->parent.nvram_dir = dc_to_nvram_dir;
  env->parent.swtpm_dir = dc_to_swtpm_dir;
  env->parent.iso_label = dc_to_iso_label;
  env->parent.dst_has = dc_to_dst_has;
  /* an RBD image is copied inside its cluster, which the destination
   * may not reach: no RBD disk is planned across hosts */
  env->parent.rbd_image = NULL;
  env->parent.rbd_pool = NULL;
  return &env->parent;
}
