/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-plan-rbd.c: what becomes of a writable disk on a Ceph RBD image.
 *
 * Its clone gets an image of its own in the same Ceph pool (and
 * namespace), named as a volume would be, made on the Ceph side by the
 * copy step (src/host/dc-rbd.c): a deep copy, or for --linked a
 * copy-on-write clone of the snapshot --make-template made. The clone's
 * disk names the new image with the source's monitors and auth. The
 * cluster is asked here, before anything is made, whether the source
 * image is there, whether the new name is free, and for --linked
 * whether the image can be a parent.
 */
#include "config.h"

#include "dc-plan-rbd.h"
#include "dc-newvol.h"

#include <string.h>

/* The new image's facts, written as libvirt describes a volume of an
 * rbd pool: its result (--json) and its progress read them as any
 * volume's. */
static char *
dc_plan_rbd_volume_xml (const DcRbdSource *src, const char *name, guint64 size)
{
  g_autofree char *path = dc_rbd_source_name (src, name);

  return g_markup_printf_escaped (
    "<volume type='network'><name>%s</name><capacity unit='bytes'>%" G_GUINT64_FORMAT
    "</capacity><target><path>%s</path><format type='raw'/></target></volume>",
    name, size, path);
}

/* Asks the cluster about image @image next to @src. */
static gboolean
dc_plan_rbd_stat (DcEnv *env, const DcRbdSource *src, const char *image, DcRbdImage *out, GError **error)
{
  g_autoptr (DcRbdSource) at = dc_rbd_source_copy (src, image);

  if (env->rbd_image == NULL)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_UNSUPPORTED, "this connection cannot reach Ceph clusters");
      return FALSE;
    }
  *out = (DcRbdImage){ 0 };
  return env->rbd_image (env, at, out, error);
}

/* Whether the source image can be what @disk asks of it. */
static gboolean
dc_plan_rbd_check_source (const DcRbdSource *src, const DcRbdDisk *disk, const DcRbdImage *image,
                          GError **error)
{
  g_autofree char *name = dc_rbd_source_name (src, NULL);

  if (!image->exists)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_NOT_FOUND, "cannot clone %s: RBD image '%s' does not exist",
                   disk->what, name);
      return FALSE;
    }
  if (disk->linked && !image->layering)
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_UNSUPPORTED,
        "cannot make a linked clone of %s: RBD image '%s' lacks the layering feature, so it cannot be the parent of a copy-on-write clone; clone without --linked (a full copy), or enable it with 'rbd feature enable %s layering'",
        disk->what, name, name);
      return FALSE;
    }
  if (disk->linked && !image->template_snap)
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_UNSUPPORTED,
        "cannot make a linked clone of %s: RBD image '%s' has no protected snapshot '%s'; run 'domclone --make-template %s' again",
        disk->what, name, DC_RBD_TEMPLATE_SNAP, disk->source_name);
      return FALSE;
    }
  return TRUE;
}

/* Whether @dst_name is free next to @src: not in the cluster, not
 * taken by this plan already. */
static gboolean
dc_plan_rbd_dst_free (DcEnv *env, const DcRbdSource *src, const DcRbdDisk *disk, const char *dst_name,
                      GHashTable *vol_names, GError **error)
{
  g_autofree char *hosts = dc_rbd_source_hosts (src);
  g_autofree char *path = dc_rbd_source_name (src, dst_name);
  g_autofree char *key = g_strdup_printf ("rbd:%s|%s", hosts, path);
  DcRbdImage taken = { 0 };

  if (!dc_newvol_name_is_safe (dst_name) || strchr (dst_name, '@') != NULL)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_FAILED, "cannot clone %s: the new image name '%s' is not usable",
                   disk->what, dst_name);
      return FALSE;
    }
  if (!g_hash_table_contains (vol_names, key) && !dc_plan_rbd_stat (env, src, dst_name, &taken, error))
    {
      g_prefix_error (error, "cannot clone %s: ", disk->what);
      return FALSE;
    }
  if (taken.exists || g_hash_table_contains (vol_names, key))
    {
      g_set_error (error, DC_ERROR, DC_ERROR_VOLUME_EXISTS,
                   "cannot clone %s: RBD image '%s' already exists; remove it or clone with another --name",
                   disk->what, path);
      return FALSE;
    }
  g_hash_table_add (vol_names, g_steal_pointer (&key));
  return TRUE;
}

/**
 * dc_plan_rbd_copy:
 * @env: the connection's answers
 * @src: the image the disk reads, and its cluster
 * @disk: the disk
 * @vol_names: "pool/name"s the plan makes already; the new image's is
 *   added
 * @error: return location
 *
 * Returns: (transfer full): the new image's copy step, or %NULL with
 * @error set
 */
DcCopy *
dc_plan_rbd_copy (DcEnv *env, const DcRbdSource *src, const DcRbdDisk *disk, GHashTable *vol_names,
                  GError **error)
{
  g_autofree char *dst_name =
    dc_newvol_name (src->image, disk->target ? disk->target : "disk", disk->source_name, disk->clone_name);
  DcRbdImage image = { 0 };
  DcCopy *copy;

  if (!dc_plan_rbd_stat (env, src, NULL, &image, error))
    {
      g_prefix_error (error, "cannot clone %s: ", disk->what);
      return NULL;
    }
  if (!dc_plan_rbd_check_source (src, disk, &image, error)
      || !dc_plan_rbd_dst_free (env, src, disk, dst_name, vol_names, error))
    return NULL;

  copy = g_new0 (DcCopy, 1);
  copy->kind = disk->linked ? DC_COPY_KIND_OVERLAY : DC_COPY_KIND_FULL;
  copy->what = g_strdup (disk->what);
  copy->pool = g_strdup (disk->libvirt_pool);
  copy->src_name = g_strdup (src->image);
  copy->src_path = dc_rbd_source_name (src, NULL);
  if (disk->linked)
    {
      /* an overlay's backing, as rbd names a snapshot */
      g_autofree char *base = g_steal_pointer (&copy->src_path);
      copy->src_path = g_strdup_printf ("%s@%s", base, DC_RBD_TEMPLATE_SNAP);
    }
  copy->src_format = g_strdup (disk->format ? disk->format : "raw");
  copy->src_allocation = disk->linked ? 0 : image.size;
  copy->dst_pool = g_strdup (disk->libvirt_pool ? disk->libvirt_pool : src->pool);
  copy->dst_name = g_strdup (dst_name);
  copy->dst_path = dc_rbd_source_name (src, dst_name);
  copy->xml = dc_plan_rbd_volume_xml (src, dst_name, image.size);
  copy->rbd = dc_rbd_source_copy (src, NULL);
  return copy;
}

/**
 * dc_plan_rbd_point:
 * @disk: the clone's <disk>, network or volume
 * @copy: its new image's copy step
 *
 * Points @disk at the new image; monitors, auth and driver stay. The
 * new image has no backing chain libvirt should know of: a copy is
 * flat, and a linked clone's parent is Ceph's business.
 */
void
dc_plan_rbd_point (xmlNode *disk, const DcCopy *copy)
{
  xmlNode *source = dc_xml_child (disk, "source", TRUE);

  if (copy->pool != NULL)
    xmlSetProp (source, BAD_CAST "volume", BAD_CAST copy->dst_name);
  else
    xmlSetProp (source, BAD_CAST "name", BAD_CAST copy->dst_path);
  dc_xml_remove (dc_xml_child (disk, "backingStore", FALSE));
}
