/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-plan-disks.c: the clone's disks: which are copied, shared, kept
 * or given an overlay, in which format, and where the clone's XML
 * points to the new volumes.
 */
#include "config.h"

#include "dc-plan-priv.h"
#include "dc-newvol.h"
#include "dc-plan-rbd.h"

#include <string.h>

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

/* The pool types whose volumes libvirt copies for domclone: files (dir,
 * fs, netfs) and LVM's logical volumes (raw block devices libvirt copies
 * byte for byte); an rbd pool's volumes are Ceph's to copy
 * (dc_planner_rbd_disk(), before this is asked). The others cannot make
 * a volume from another (iscsi, scsi, mpath, iscsi-direct), or were
 * never tried (disk, zfs, gluster, vstorage): refused before anything
 * is made. */
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
      g_autofree char *protocol = source ? dc_xml_prop (source, "protocol") : NULL;
      g_autofree char *named = protocol ? g_strdup_printf (" (protocol '%s')", protocol) : g_strdup ("");

      g_set_error (
        error, DC_ERROR, DC_ERROR_UNSUPPORTED,
        "cannot clone %s: it is a writable '%s' disk%s, which domclone cannot copy; make it <readonly/> or <shareable/> to share it, or detach it first",
        what, type, named);
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

/* The Ceph RBD image a writable disk reads, a network disk's or a
 * volume's of an rbd storage pool; %NULL and no @error for another
 * disk. */
static DcRbdSource *
dc_planner_rbd_source (DcPlanner *p, xmlNode *disk, const char *type, xmlNode *source, char **libvirt_pool,
                       GError **error)
{
  g_autofree char *protocol = source ? dc_xml_prop (source, "protocol") : NULL;
  g_autofree char *pool = source ? dc_xml_prop (source, "pool") : NULL;
  g_autofree char *vol = source ? dc_xml_prop (source, "volume") : NULL;
  g_autoptr (DcVolInfo) info = NULL;

  if (g_str_equal (type, "network") && g_strcmp0 (protocol, "rbd") == 0)
    return dc_rbd_source_from_disk (disk, error);
  if (!g_str_equal (type, "volume") || pool == NULL || vol == NULL)
    return NULL;
  /* a failed lookup is reported by the usual path */
  info = p->env->vol_by_name (p->env, pool, vol, NULL);
  if (info == NULL || g_strcmp0 (info->pool_type, "rbd") != 0)
    return NULL;
  if (p->env->rbd_pool == NULL)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_UNSUPPORTED, "this connection cannot reach Ceph clusters");
      return NULL;
    }
  *libvirt_pool = g_steal_pointer (&pool);
  return p->env->rbd_pool (p->env, *libvirt_pool, vol, error);
}

/* A writable disk on a Ceph RBD image gets an image of its own, made
 * on the Ceph side (dc-plan-rbd.c); *@done says it was one. */
static gboolean
dc_planner_rbd_disk (DcPlanner *p, xmlNode *disk, const char *type, xmlNode *source, const char *what,
                     const char *target, gboolean *done, GError **error)
{
  g_autofree char *libvirt_pool = NULL;
  g_autofree char *format = dc_xml_string (p->ctxt, disk, "./driver/@type");
  g_autoptr (GError) local = NULL;
  g_autoptr (DcRbdSource) src = dc_planner_rbd_source (p, disk, type, source, &libvirt_pool, &local);
  DcRbdDisk d = { what, target, format, p->plan->source_name, p->plan->name, libvirt_pool, p->opts->linked };
  DcCopy *copy;

  *done = src != NULL || local != NULL;
  if (local != NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local), "cannot clone %s: ", what);
      return FALSE;
    }
  if (src == NULL)
    return TRUE;
  if (dc_xml_child (disk, "encryption", FALSE) != NULL
      || (source != NULL && dc_xml_child (source, "encryption", FALSE) != NULL))
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_UNSUPPORTED,
        "cannot clone %s: it is encrypted, and domclone cannot give a copy a secret of its own; make it <readonly/> or <shareable/> to share it, or detach it",
        what);
      return FALSE;
    }
  if (p->into != NULL)
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_UNSUPPORTED,
        "cannot clone %s into pool '%s': it is an RBD image, whose copy stays in its Ceph pool; clone without --pool",
        what, p->into->name);
      return FALSE;
    }
  copy = dc_plan_rbd_copy (p->env, src, &d, p->vol_names, error);
  if (copy == NULL)
    return FALSE;
  g_ptr_array_add (p->plan->copies, copy);
  dc_plan_rbd_point (disk, copy);
  return TRUE;
}

/* An RBD disk's image is made by librbd as the source's is: neither
 * resized nor converted; *@error if --resize or --format asks that. */
static gboolean
dc_planner_rbd_shaped (DcPlanner *p, const char *target, const DcShapeDisk *shaped, GError **error)
{
  const DcShape *shape = p->opts->shape;

  if ((shaped != NULL && shaped->resize != 0) || (shape != NULL && shape->format != NULL))
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_USAGE,
        "cannot %s disk '%s': it is a Ceph RBD image, which domclone copies as it is; clone without %s",
        shaped != NULL && shaped->resize != 0 ? "resize" : "convert", target,
        shaped != NULL && shaped->resize != 0 ? "--resize" : "--format");
      return FALSE;
    }
  dc_planner_disk_did (p, target, p->opts->linked ? "overlay" : "copy");
  return TRUE;
}

/* Longer than 60 lines: each way a disk goes (empty, --disk, kept,
 * copied), read in the order it is decided. */
gboolean
dc_planner_disk (DcPlanner *p, xmlNode *disk, GError **error)
{
  g_autofree char *device = dc_xml_prop (disk, "device");
  g_autofree char *type = dc_xml_prop (disk, "type");
  g_autofree char *target = dc_xml_string (p->ctxt, disk, "./target/@dev");
  g_autofree char *what = g_strdup_printf ("disk '%s'", target ? target : "?");
  xmlNode *source = dc_xml_child (disk, "source", FALSE);
  const DcShapeDisk *shaped = dc_shape_disk (p->opts->shape, target);
  DcDiskAction action = shaped ? shaped->action : DC_DISK_DEFAULT;
  g_autoptr (DcVolInfo) info = NULL;
  DcCopy *copy;
  const char *attr = NULL;
  gboolean done = FALSE;
  gboolean bytes_only = FALSE;
  gboolean empty;
  guint seeds = p->plan->seeds->len;

  if (device == NULL)
    device = g_strdup ("disk");
  if (type == NULL)
    type = g_strdup ("file");

  /* An empty drive has nothing to copy or share: the clone gets one
   * empty too. */
  empty =
    (g_str_equal (device, "cdrom") || g_str_equal (device, "floppy")) && dc_disk_source_is_empty (source);
  if (!dc_planner_disk_asked (p, disk, device, target, empty, action, &done, error))
    return FALSE;
  if (!done && action == DC_DISK_COPY)
    {
      xmlNode *readonly = dc_xml_child (disk, "readonly", FALSE);

      /* a template's protected disk is the clone's own again */
      if (readonly != NULL && dc_planner_protected (p, target))
        dc_xml_remove (readonly);
    }
  else if (!done)
    {
      if (!dc_planner_disk_kept (p, disk, device, type, source, what, target, &done, error))
        return FALSE;
      if (done)
        dc_planner_disk_did (p, target, p->plan->seeds->len > seeds ? "seed" : "share");
    }
  if (done && shaped != NULL && shaped->resize != 0)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_USAGE,
                   "--resize %s: the clone does not copy disk '%s' (%s), and only a copied disk is resized",
                   target, target, ((DcPlanDisk *) p->plan->disks->pdata[p->plan->disks->len - 1])->action);
      return FALSE;
    }
  if (done)
    return TRUE;
  if (!dc_planner_rbd_disk (p, disk, type, source, what, target, &done, error))
    return FALSE;
  if (done)
    return dc_planner_rbd_shaped (p, target, shaped, error);
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
  copy = dc_planner_disk_volume (p, disk, what, target, shaped, info, bytes_only, error);
  if (copy == NULL)
    return FALSE;
  if (copy->kind == DC_COPY_KIND_FULL)
    copy->disk = g_strdup (target);
  dc_planner_disk_point (p, disk, source, attr, copy);
  return TRUE;
}
