/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-plan-seed.c: a source's cloud-init NoCloud seed disk, planned as a
 * new volume made for the clone (DcSeed); its bytes are made by the
 * host (src/host/dc-seed-vol.c).
 */
#include "config.h"

#include "dc-plan-priv.h"
#include "dc-name.h"
#include "dc-newvol.h"
#include "dc-cloudinit.h"

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

gboolean
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
