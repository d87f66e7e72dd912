/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-plan-devices.c: the per-domain files a clone gets its own copy
 * of: UEFI NVRAM, TPM state and the backing files of memory devices.
 */
#include "config.h"

#include "dc-plan-priv.h"
#include "dc-newvol.h"

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
gboolean
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
dc_planner_memory_device (DcPlanner *p, xmlNode *node, const char *path, gboolean nvdimm, const char *label,
                          GError **error)
{
  g_autofree char *what = g_strdup_printf ("the %s '%s'", nvdimm ? "NVDIMM" : "virtio-pmem device", path);
  g_autofree char *dst_name = NULL;
  g_autoptr (DcVolInfo) info = NULL;
  const DcCopy *copy;

  if (g_str_has_prefix (path, "/dev/"))
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_UNSUPPORTED,
        "cannot clone %s: it is a device, which domclone cannot copy, and the clone must not share the guest memory on it; detach it first",
        what);
      return FALSE;
    }
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
      return TRUE;
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
  return TRUE;
}

/* Every NVDIMM and virtio-pmem device with a file, each named by its
 * place among those of its model (nvdimm0, pmem0, ...). */
gboolean
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
      gboolean nvdimm = g_strcmp0 (model, "nvdimm") == 0;
      g_autofree char *label = NULL;

      if (node == NULL || path == NULL)
        continue;
      label = nvdimm ? g_strdup_printf ("nvdimm%u", n_nvdimm++) : g_strdup_printf ("pmem%u", n_pmem++);
      if (!dc_planner_memory_device (p, node, path, nvdimm, label, error))
        return FALSE;
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

/* The file <nvram> names, in its text (<nvram>PATH</nvram>) or, newer,
 * in <nvram type='file'><source file=/>: its path or %NULL, and the
 * node (*@holder) and attribute (*@attr, %NULL for the node's text)
 * that name it. */
static char *
dc_nvram_file (xmlNode *nvram, xmlNode **holder, const char **attr)
{
  g_autoptr (DcXmlChar) text = NULL;

  *holder = dc_xml_child (nvram, "source", FALSE);
  *attr = "file";
  if (*holder != NULL)
    return dc_xml_prop (*holder, "file");
  *holder = nvram;
  *attr = NULL;
  text = xmlNodeGetContent (nvram);
  if (text != NULL && text[0] != '\0')
    return g_strstrip (g_strdup ((const char *) text));
  return NULL;
}

gboolean
dc_planner_nvram (DcPlanner *p, GError **error)
{
  xmlNode *nvram = dc_xml_node (p->ctxt, NULL, "/domain/os/nvram");
  xmlNode *holder;
  g_autofree char *path = NULL;
  g_autofree char *dst_path = NULL;
  g_autoptr (DcVolInfo) info = NULL;
  g_autofree char *type = NULL;
  const char *attr = NULL;

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

  path = dc_nvram_file (nvram, &holder, &attr);
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
