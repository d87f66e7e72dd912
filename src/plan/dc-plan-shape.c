/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-plan-shape.c: the plan shaped as the user asked (--memory, --vcpus,
 * --resize, --disk, --format): what becomes of each disk, the new
 * volume's capacity and format, and the clone's memory and vCPUs (the
 * rules themselves are dc-shape.c's).
 */
#include "config.h"

#include "dc-plan-priv.h"
#include "dc-newvol.h"
#include "dc-shape.h"

/* Records what the clone does with disk @target (DcPlan.disks). */
void
dc_planner_disk_did (DcPlanner *p, const char *target, const char *action)
{
  DcPlanDisk *d = g_new0 (DcPlanDisk, 1);

  d->target = g_strdup (target);
  d->action = action;
  g_ptr_array_add (p->plan->disks, d);
}

/*
 * --resize and --format for a disk's new volume: @info gets the
 * capacity and format the copy is made with, and the disk's <driver> the
 * new format. A copy whose bytes must move as they are (the pool probed
 * another format) is neither converted nor grown: libvirt would work
 * from the probe. An overlay keeps its base's format (it is qcow2
 * anyway) and is made as large as asked.
 */
static gboolean
dc_planner_disk_shape (DcPlanner *p, xmlNode *disk, const char *what, const DcShapeDisk *shaped,
                       DcVolInfo *info, gboolean bytes_only, gboolean overlay, DcCopy *plan_copy,
                       GError **error)
{
  const char *format = p->opts->shape ? p->opts->shape->format : NULL;
  gboolean convert = !overlay && format != NULL && g_strcmp0 (info->format, format) != 0;
  gboolean file = info->type == NULL || g_str_equal (info->type, "file");
  guint64 capacity;

  if (!dc_shape_capacity (shaped, what, info->capacity, &capacity, error))
    return FALSE;
  if ((convert || capacity != info->capacity) && (bytes_only || !file))
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_UNSUPPORTED, "cannot %s %s: %s; clone it without --resize and --format",
        convert ? "convert" : "resize", what,
        bytes_only
          ? "its pool reads another format from its bytes than its <driver> names, so its bytes are copied as they are"
          : "its volume is no file (an LVM logical volume, say)");
      return FALSE;
    }
  plan_copy->grow_to = capacity != info->capacity ? capacity : 0;
  info->capacity = capacity;
  if (!convert)
    return TRUE;
  /* qemu-img's defaults for a new qcow2 (compat 1.1); none for raw */
  g_clear_pointer (&info->compat, g_free);
  g_clear_pointer (&info->cluster_size, g_free);
  g_clear_pointer (&info->features, g_strfreev);
  if (g_str_equal (format, "qcow2"))
    info->compat = g_strdup ("1.1");
  g_free (info->format);
  info->format = g_strdup (format);
  xmlSetProp (dc_xml_child (disk, "driver", TRUE), BAD_CAST "type", BAD_CAST format);
  plan_copy->convert = TRUE;
  return TRUE;
}

/* What --disk asks of a disk before the rest is planned: skip (the disk
 * is taken out of the clone), share (kept as it is), or copy (refused
 * for a CD-ROM or an empty drive). *@done: nothing more to plan. */
gboolean
dc_planner_disk_asked (DcPlanner *p, xmlNode *disk, const char *device, const char *target, gboolean empty,
                       DcDiskAction action, gboolean *done, GError **error)
{
  *done = TRUE;
  if (action == DC_DISK_SKIP)
    {
      dc_xml_remove (disk);
      dc_planner_disk_did (p, target, "skip");
      return TRUE;
    }
  if (action == DC_DISK_COPY && (g_str_equal (device, "cdrom") || empty))
    {
      g_set_error (error, DC_ERROR, DC_ERROR_USAGE,
                   "--disk %s=copy: disk '%s' is %s, which has nothing of its own to copy; share or skip it",
                   target, target, empty ? "an empty drive" : "a CD-ROM");
      return FALSE;
    }
  if (action == DC_DISK_SHARE || empty)
    {
      if (!empty)
        g_ptr_array_add (p->plan->shared, g_strdup_printf ("disk '%s' (%s, --disk share)", target, device));
      if (!empty && !g_str_equal (device, "cdrom") && dc_xml_child (disk, "readonly", FALSE) == NULL
          && dc_xml_child (disk, "shareable", FALSE) == NULL)
        dc_planner_warn (
          p,
          "'%s' shares writable disk '%s' with '%s' (--disk share): two guests writing it at once corrupt it unless it is <shareable/>, so run one at a time",
          p->plan->name, target, p->plan->source_name);
      dc_planner_disk_did (p, target, empty ? "empty" : "share");
      return TRUE;
    }
  *done = FALSE;
  return TRUE;
}

/* The new volume of a writable disk (or one --disk copies): a copy, or
 * with --linked an overlay, shaped as --resize and --format say. */
DcCopy *
dc_planner_disk_volume (DcPlanner *p, xmlNode *disk, const char *what, const char *target,
                        const DcShapeDisk *shaped, DcVolInfo *info, gboolean bytes_only, GError **error)
{
  gboolean overlay = p->opts->linked && (shaped == NULL || shaped->action != DC_DISK_COPY);
  g_autofree char *src_format = g_strdup (info->format);
  g_autofree char *dst_name = NULL;
  g_autofree char *renamed = NULL;
  DcCopy shaping = { 0 };
  DcCopy *copy;

  if (!dc_planner_disk_shape (p, disk, what, shaped, info, bytes_only, overlay, &shaping, error))
    return NULL;
  if (overlay)
    copy = (DcCopy *) dc_planner_add_overlay (p, what, target, info, error);
  else
    {
      dst_name = dc_newvol_name (info->name, target ? target : "disk", p->plan->source_name, p->plan->name);
      renamed = dc_shape_vol_name (dst_name, src_format, info->format);
      copy = (DcCopy *) dc_planner_add_copy_to (p, what, info, NULL, p->into, renamed, error);
    }
  if (copy == NULL)
    return NULL;
  copy->bytes_only = bytes_only && copy->kind == DC_COPY_KIND_FULL;
  copy->convert = shaping.convert;
  copy->grow_to = shaping.grow_to;
  /* libvirt copies from the format the pool names: the source's */
  if (copy->convert)
    {
      g_free (copy->src_format);
      copy->src_format = g_steal_pointer (&src_format);
    }
  dc_planner_disk_did (p, target, overlay ? "overlay" : "copy");
  return copy;
}

/* --memory and --vcpus, within what the machine type takes here. */
gboolean
dc_planner_shape_domain (DcPlanner *p, GError **error)
{
  const DcShape *shape = p->opts->shape;
  guint max_vcpus = 0;

  if (shape != NULL && shape->vcpus > 0 && p->env->max_vcpus != NULL)
    {
      g_autofree char *virt_type = dc_xml_string (p->ctxt, NULL, "/domain/@type");
      g_autofree char *arch = dc_xml_string (p->ctxt, NULL, "/domain/os/type/@arch");
      g_autofree char *machine = dc_xml_string (p->ctxt, NULL, "/domain/os/type/@machine");
      g_autofree char *emulator = dc_xml_string (p->ctxt, NULL, "normalize-space(/domain/devices/emulator)");

      max_vcpus = p->env->max_vcpus (p->env, virt_type, arch, machine,
                                     emulator && emulator[0] != '\0' ? emulator : NULL);
    }
  return dc_shape_domain (shape, p->ctxt, max_vcpus, error);
}
