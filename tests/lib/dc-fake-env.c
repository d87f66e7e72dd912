/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A DcEnv that answers from a key file (tests/data/inventory.ini), so the
 * planner is tested without a daemon.
 */
#include "config.h"

#include "dc-fake-env.h"

#include <string.h>

typedef struct
{
  DcEnv parent;
  GKeyFile *kf;
  char *fail; /* the question that fails, see dc_fake_env_fail() */
} DcFakeEnv;

/* TRUE with @error set when @question is the one made to fail */
static gboolean
fake_fails (DcFakeEnv *env, const char *question, GError **error)
{
  if (g_strcmp0 (env->fail, question) != 0)
    return FALSE;
  g_set_error (error, DC_ERROR, DC_ERROR_LIBVIRT, "fake failure of %s", question);
  return TRUE;
}

/**
 * dc_fake_env_fail:
 * @env: a fake env
 * @question: the name of the DcEnv member ("mac_in_use", "vol_exists")
 *   that fails from now on, as a lost connection would make it
 */
void
dc_fake_env_fail (DcEnv *base, const char *question)
{
  DcFakeEnv *env = (DcFakeEnv *) base;

  g_free (env->fail);
  env->fail = g_strdup (question);
}

static gboolean
fake_list_contains (GKeyFile *kf, const char *group, const char *key, const char *value)
{
  g_auto (GStrv) list = g_key_file_get_string_list (kf, group, key, NULL, NULL);

  return list != NULL && g_strv_contains ((const char *const *) list, value);
}

static gboolean
fake_domain_exists (DcEnv *base, const char *name, gboolean *exists, GError **error)
{
  *exists = fake_list_contains (((DcFakeEnv *) base)->kf, "domains", "names", name);
  return TRUE;
}

static gboolean
fake_mac_in_use (DcEnv *base, const char *mac, gboolean *in_use, GError **error)
{
  if (fake_fails ((DcFakeEnv *) base, "mac_in_use", error))
    return FALSE;
  *in_use = fake_list_contains (((DcFakeEnv *) base)->kf, "macs", "in-use", mac);
  return TRUE;
}

static DcVolInfo *
fake_vol (DcFakeEnv *env, const char *pool, const char *name, GError **error)
{
  g_autofree char *group = g_strdup_printf ("volume %s/%s", pool, name);
  g_autofree char *pool_group = g_strdup_printf ("pool %s", pool);
  GKeyFile *kf = env->kf;
  DcVolInfo *info;

  if (!g_key_file_has_group (kf, group))
    {
      g_set_error (error, DC_ERROR, DC_ERROR_NOT_FOUND, "volume '%s' does not exist in storage pool '%s'",
                   name, pool);
      return NULL;
    }
  info = dc_vol_info_new ();
  info->pool = g_strdup (pool);
  info->pool_path = g_key_file_get_string (kf, pool_group, "path", NULL);
  info->name = g_strdup (name);
  info->path = g_build_filename (info->pool_path, name, NULL);
  info->format = g_key_file_get_string (kf, group, "format", NULL);
  info->compat = g_key_file_get_string (kf, group, "compat", NULL);
  info->cluster_size = g_key_file_get_string (kf, group, "cluster-size", NULL);
  info->features = g_key_file_get_string_list (kf, group, "features", NULL, NULL);
  info->capacity = g_key_file_get_uint64 (kf, group, "capacity", NULL);
  info->allocation = g_key_file_get_uint64 (kf, group, "allocation", NULL);
  info->physical = g_key_file_get_uint64 (kf, group, "physical", NULL);
  info->mode = g_key_file_get_string (kf, group, "mode", NULL);
  info->owner = g_key_file_get_string (kf, group, "owner", NULL);
  info->group = g_key_file_get_string (kf, group, "group", NULL);
  /* what the pool probed (backing=, encryption=) and its type= */
  info->type = g_key_file_get_string (kf, group, "type", NULL);
  info->backing = g_key_file_get_string (kf, group, "backing", NULL);
  info->encryption = g_key_file_get_string (kf, group, "encryption", NULL);
  info->pool_type = g_key_file_get_string (kf, pool_group, "type", NULL);
  if (info->pool_type == NULL)
    info->pool_type = g_strdup ("dir");
  return info;
}

static DcVolInfo *
fake_vol_by_path (DcEnv *base, const char *path, GError **error)
{
  DcFakeEnv *env = (DcFakeEnv *) base;
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *name = g_path_get_basename (path);
  g_auto (GStrv) groups = g_key_file_get_groups (env->kf, NULL);

  for (guint i = 0; groups[i] != NULL; i++)
    {
      g_autofree char *pool_path = NULL;

      if (!g_str_has_prefix (groups[i], "pool "))
        continue;
      pool_path = g_key_file_get_string (env->kf, groups[i], "path", NULL);
      if (g_strcmp0 (pool_path, dir) == 0)
        {
          DcVolInfo *info = fake_vol (env, groups[i] + strlen ("pool "), name, NULL);

          if (info == NULL)
            g_set_error (error, DC_ERROR, DC_ERROR_NOT_FOUND,
                         "its source '%s' does not exist in storage pool '%s'", path,
                         groups[i] + strlen ("pool "));
          return info;
        }
    }
  g_set_error (error, DC_ERROR, DC_ERROR_UNSUPPORTED, "its source '%s' is not in any active storage pool",
               path);
  return NULL;
}

/* A file outside any pool: described by a [file PATH] group, and seen
 * through domclone's temporary pool over its directory, as the live
 * env does. Without a group, a missing file. */
static DcVolInfo *
fake_file (DcEnv *base, const char *path, GError **error)
{
  DcFakeEnv *env = (DcFakeEnv *) base;
  g_autofree char *group = g_strdup_printf ("file %s", path);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr (GError) local = NULL;
  DcVolInfo *info = fake_vol_by_path (base, path, &local);
  GKeyFile *kf = env->kf;

  if (info != NULL || !g_error_matches (local, DC_ERROR, DC_ERROR_UNSUPPORTED))
    {
      if (local != NULL)
        g_propagate_error (error, g_steal_pointer (&local));
      return info;
    }
  if (!g_key_file_has_group (kf, group))
    {
      g_set_error (error, DC_ERROR, DC_ERROR_NOT_FOUND, "'%s' does not exist", path);
      return NULL;
    }
  info = dc_vol_info_new ();
  info->pool = dc_plan_dir_pool_name (dir);
  info->pool_path = g_strdup (dir);
  info->open_dir = g_strdup (dir);
  info->name = g_path_get_basename (path);
  info->path = g_strdup (path);
  info->type = g_strdup ("file");
  info->pool_type = g_strdup ("dir");
  info->format = g_key_file_get_string (kf, group, "format", NULL);
  info->capacity = g_key_file_get_uint64 (kf, group, "capacity", NULL);
  info->allocation = g_key_file_get_uint64 (kf, group, "allocation", NULL);
  info->mode = g_key_file_get_string (kf, group, "mode", NULL);
  info->owner = g_key_file_get_string (kf, group, "owner", NULL);
  info->group = g_key_file_get_string (kf, group, "group", NULL);
  return info;
}

/* [pool NAME]: type= (default dir), active= (default true) */
static DcPoolInfo *
fake_pool_info (DcEnv *base, const char *name, GError **error)
{
  GKeyFile *kf = ((DcFakeEnv *) base)->kf;
  g_autofree char *group = g_strdup_printf ("pool %s", name);
  g_autofree char *type = NULL;
  g_autofree char *path = NULL;
  g_autoptr (GError) no_key = NULL;
  gboolean active;

  if (!g_key_file_has_group (kf, group))
    {
      g_set_error (error, DC_ERROR, DC_ERROR_NOT_FOUND, "storage pool '%s' does not exist", name);
      return NULL;
    }
  type = g_key_file_get_string (kf, group, "type", NULL);
  path = g_key_file_get_string (kf, group, "path", NULL);
  active = g_key_file_get_boolean (kf, group, "active", &no_key);
  if (no_key != NULL)
    active = TRUE;
  return dc_pool_info_new (name, type ? type : "dir", path, active);
}

static DcVolInfo *
fake_vol_by_name (DcEnv *base, const char *pool, const char *name, GError **error)
{
  return fake_vol ((DcFakeEnv *) base, pool, name, error);
}

static gboolean
fake_vol_exists (DcEnv *base, const char *pool, const char *open_dir, const char *name, gboolean *exists,
                 GError **error)
{
  DcFakeEnv *env = (DcFakeEnv *) base;
  g_autofree char *group = g_strdup_printf ("volume %s/%s", pool, name);
  g_autofree char *path = open_dir ? g_build_filename (open_dir, name, NULL) : NULL;
  g_autofree char *file_group = open_dir ? g_strdup_printf ("file %s", path) : NULL;

  if (fake_fails (env, "vol_exists", error))
    return FALSE;
  *exists =
    g_key_file_has_group (env->kf, group) || (file_group && g_key_file_has_group (env->kf, file_group));
  return TRUE;
}

/* the label= of the volume, as a seed's image would answer; a path
 * outside the inventory's pools, or a missing volume, has none */
static gboolean
fake_iso_label (DcEnv *base, const char *path, const char *pool, const char *name, char **label,
                GError **error)
{
  DcFakeEnv *env = (DcFakeEnv *) base;
  g_autoptr (DcVolInfo) info = NULL;
  g_autofree char *group = NULL;

  *label = NULL;
  if (fake_fails (env, "iso_label", error))
    return FALSE;
  info = path ? fake_vol_by_path (base, path, NULL) : fake_vol (env, pool, name, NULL);
  if (info == NULL)
    return TRUE;
  group = g_strdup_printf ("volume %s/%s", info->pool, info->name);
  *label = g_key_file_get_string (env->kf, group, "label", NULL);
  return TRUE;
}

/* [rbd POOL/IMAGE]: size=, layering=, template-snap=; no group: no
 * such image */
static gboolean
fake_rbd_image (DcEnv *base, const DcRbdSource *src, DcRbdImage *image, GError **error)
{
  DcFakeEnv *env = (DcFakeEnv *) base;
  g_autofree char *name = dc_rbd_source_name (src, NULL);
  g_autofree char *group = g_strdup_printf ("rbd %s", name);

  if (fake_fails (env, "rbd_image", error))
    return FALSE;
  *image = (DcRbdImage){ 0 };
  image->exists = g_key_file_has_group (env->kf, group);
  if (!image->exists)
    return TRUE;
  image->size = g_key_file_get_uint64 (env->kf, group, "size", NULL);
  image->layering = g_key_file_get_boolean (env->kf, group, "layering", NULL);
  image->template_snap = g_key_file_get_boolean (env->kf, group, "template-snap", NULL);
  return TRUE;
}

static char *
fake_nvram_dir (DcEnv *base)
{
  return g_key_file_get_string (((DcFakeEnv *) base)->kf, "pool nvram", "path", NULL);
}

static char *
fake_swtpm_dir (DcEnv *base)
{
  return g_key_file_get_string (((DcFakeEnv *) base)->kf, "pool swtpm", "path", NULL);
}

DcEnv *
dc_fake_env_new (const char *inventory_path)
{
  DcFakeEnv *env = g_new0 (DcFakeEnv, 1);
  g_autoptr (GError) error = NULL;

  env->kf = g_key_file_new ();
  if (!g_key_file_load_from_file (env->kf, inventory_path, G_KEY_FILE_NONE, &error))
    g_error ("cannot load %s: %s", inventory_path, error->message);
  env->parent.domain_exists = fake_domain_exists;
  env->parent.mac_in_use = fake_mac_in_use;
  env->parent.vol_by_path = fake_vol_by_path;
  env->parent.vol_by_name = fake_vol_by_name;
  env->parent.vol_exists = fake_vol_exists;
  env->parent.file = fake_file;
  env->parent.pool_info = fake_pool_info;
  env->parent.nvram_dir = fake_nvram_dir;
  env->parent.swtpm_dir = fake_swtpm_dir;
  env->parent.iso_label = fake_iso_label;
  env->parent.rbd_image = fake_rbd_image;
  return &env->parent;
}

void
dc_fake_env_free (DcEnv *base)
{
  DcFakeEnv *env = (DcFakeEnv *) base;

  g_key_file_unref (env->kf);
  g_free (env->fail);
  g_free (env);
}
