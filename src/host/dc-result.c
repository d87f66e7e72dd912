/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-result.c: what a run reports of the clone it made (or, with
 * --print-xml, would make; with --exist-ok, found made): its identity,
 * MACs, NVRAM file and volumes. Below both the run and --exist-ok.
 */
#include "config.h"

#include "dc-result.h"
#include "dc-shape.h"
#include "dc-xml.h"

void
dc_result_disk_free (DcResultDisk *d)
{
  g_free (d->disk);
  g_free (d->action);
  g_free (d);
}

void
dc_result_volume_free (DcResultVolume *v)
{
  g_free (v->disk);
  g_free (v->pool);
  g_free (v->name);
  g_free (v->path);
  g_free (v->format);
  g_free (v->backing);
  g_free (v);
}

void
dc_result_free (DcCloneResult *result)
{
  if (result == NULL)
    return;
  g_free (result->source);
  g_free (result->source_uuid);
  g_free (result->name);
  g_free (result->uuid);
  g_free (result->xml);
  g_clear_pointer (&result->macs, g_ptr_array_unref);
  g_clear_pointer (&result->volumes, g_ptr_array_unref);
  g_clear_pointer (&result->disks, g_ptr_array_unref);
  g_free (result->nvram);
  g_clear_pointer (&result->warnings, g_ptr_array_unref);
  g_clear_pointer (&result->identity, dc_reset_free);
  g_free (result);
}

/**
 * dc_result_read_macs:
 * @result: a result whose @macs is set
 * @ctxt: the clone's domain XML
 *
 * Appends the MAC address of each of the clone's interfaces.
 */
void
dc_result_read_macs (DcCloneResult *result, xmlXPathContext *ctxt)
{
  g_autoptr (GPtrArray) macs = dc_xml_nodes (ctxt, NULL, "/domain/devices/interface/mac/@address");

  for (guint i = 0; i < macs->len; i++)
    {
      g_autoptr (DcXmlChar) mac = xmlNodeGetContent (macs->pdata[i]);

      g_ptr_array_add (result->macs, g_strdup ((const char *) mac));
    }
}

/**
 * dc_result_nvram_named:
 * @ctxt: the clone's domain XML
 *
 * Returns: (transfer full) (nullable): the NVRAM file the XML names:
 * <nvram>PATH</nvram>, or <nvram type='file'><source file=/>; %NULL
 * when it names none (libvirt may still name one itself)
 */
char *
dc_result_nvram_named (xmlXPathContext *ctxt)
{
  g_autofree char *nvram = dc_xml_string (ctxt, NULL, "/domain/os/nvram/source/@file");

  if (nvram == NULL)
    nvram = dc_xml_string (ctxt, NULL, "normalize-space(/domain/os/nvram)");
  if (nvram != NULL && nvram[0] != '\0')
    return g_steal_pointer (&nvram);
  return NULL;
}

/* The target of the disk of @plan's XML whose source is @copy's volume */
static char *
dc_result_disk_of (xmlXPathContext *ctxt, const DcCopy *copy)
{
  g_autoptr (GPtrArray) disks = dc_xml_nodes (ctxt, NULL, "/domain/devices/disk[source]");

  for (guint i = 0; i < disks->len; i++)
    {
      xmlNode *source = dc_xml_child (disks->pdata[i], "source", FALSE);
      g_autofree char *file = dc_xml_prop (source, "file");
      g_autofree char *dev = dc_xml_prop (source, "dev");
      g_autofree char *pool = dc_xml_prop (source, "pool");
      g_autofree char *volume = dc_xml_prop (source, "volume");
      g_autofree char *name = dc_xml_prop (source, "name");

      /* a network disk on an RBD image names it as its path says */
      if (copy->rbd != NULL && copy->pool == NULL && g_strcmp0 (name, copy->dst_path) == 0)
        return dc_xml_string (ctxt, disks->pdata[i], "./target/@dev");
      if ((copy->dst_path != NULL
           && (g_strcmp0 (file, copy->dst_path) == 0 || g_strcmp0 (dev, copy->dst_path) == 0))
          || (g_strcmp0 (pool, copy->dst_pool) == 0 && g_strcmp0 (volume, copy->dst_name) == 0))
        return dc_xml_string (ctxt, disks->pdata[i], "./target/@dev");
    }
  return NULL;
}

/**
 * dc_result_read_size:
 * @result: a result
 * @ctxt: the clone's domain XML
 *
 * Sets the clone's memory (bytes) and vCPU count from its XML.
 */
void
dc_result_read_size (DcCloneResult *result, xmlXPathContext *ctxt)
{
  xmlNode *memory = dc_xml_node (ctxt, NULL, "/domain/memory");
  g_autofree char *unit = memory ? dc_xml_prop (memory, "unit") : NULL;
  g_autofree char *size = dc_xml_string (ctxt, NULL, "normalize-space(/domain/memory)");
  g_autofree char *vcpus = dc_xml_string (ctxt, NULL, "normalize-space(/domain/vcpu)");
  guint64 n = 0;

  if (size != NULL && dc_shape_libvirt_size (size, unit, &n) && n <= G_MAXINT64)
    result->memory = (gint64) n;
  if (vcpus != NULL && g_ascii_string_to_unsigned (vcpus, 10, 1, G_MAXINT, &n, NULL))
    result->vcpus = (gint64) n;
}

/**
 * dc_result_add_disk:
 * @result: a result
 * @disk: (nullable): a disk's target
 * @action: what became of it (DcPlanDisk)
 */
void
dc_result_add_disk (DcCloneResult *result, const char *disk, const char *action)
{
  DcResultDisk *d = g_new0 (DcResultDisk, 1);

  if (result->disks == NULL)
    result->disks = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_result_disk_free);
  d->disk = g_strdup (disk);
  d->action = g_strdup (action);
  g_ptr_array_add (result->disks, d);
}

/* The clone's memory, vCPUs and what it does with each disk (--memory,
 * --vcpus, --disk) */
static void
dc_result_shape (DcCloneResult *result, const DcPlan *plan, xmlXPathContext *ctxt)
{
  dc_result_read_size (result, ctxt);
  result->disks = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_result_disk_free);
  for (guint i = 0; i < plan->disks->len; i++)
    {
      const DcPlanDisk *pd = plan->disks->pdata[i];

      dc_result_add_disk (result, pd->target, pd->action);
    }
}

/* The volume @c makes, its size as planned (from its XML) */
static DcResultVolume *
dc_result_planned_volume (xmlXPathContext *ctxt, const DcCopy *c)
{
  DcResultVolume *v = g_new0 (DcResultVolume, 1);
  g_autoptr (DcVolInfo) planned = dc_vol_info_from_xml (c->xml, c->dst_pool, NULL, NULL);

  v->disk = dc_result_disk_of (ctxt, c);
  /* a temporary pool is gone once the run ends */
  v->pool = c->dst_open_dir != NULL ? NULL : g_strdup (c->dst_pool);
  v->name = g_strdup (c->dst_name);
  v->path = g_strdup (c->dst_path);
  v->format = g_strdup (planned && planned->format ? planned->format : c->src_format);
  v->capacity = planned ? (gint64) planned->capacity : -1;
  v->allocation = -1;
  if (c->kind == DC_COPY_KIND_OVERLAY)
    v->backing = g_strdup (c->src_path);
  return v;
}

/* The clone's NVRAM file: the one its XML names, else the one libvirt
 * names itself for <os firmware='efi'> if the source's was copied there */
static void
dc_result_fill_nvram (DcCloneResult *result, const DcPlan *plan, xmlXPathContext *ctxt, DcEnv *env)
{
  g_autofree char *firmware = NULL;

  result->nvram = dc_result_nvram_named (ctxt);
  if (result->nvram != NULL)
    return;
  firmware = dc_xml_string (ctxt, NULL, "/domain/os/@firmware");
  if (g_strcmp0 (firmware, "efi") == 0)
    {
      g_autofree char *dir = env->nvram_dir (env);
      g_autofree char *file = g_strdup_printf ("%s_VARS.fd", plan->name);
      g_autofree char *path = dir ? g_build_filename (dir, file, NULL) : NULL;

      for (guint i = 0; path != NULL && i < plan->copies->len; i++)
        if (g_strcmp0 (((const DcCopy *) plan->copies->pdata[i])->dst_path, path) == 0)
          result->nvram = g_steal_pointer (&path);
    }
}

/*
 * Fills @result with what @plan makes: the clone's identity, its MAC
 * addresses, its NVRAM file and, from the volumes' XML, each volume it
 * gets (its size as planned: a real run reads the copies back later).
 * @env tells where the NVRAM libvirt names itself lives.
 */
void
dc_result_fill (DcCloneResult *result, const DcPlan *plan, DcEnv *env)
{
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autoptr (xmlDoc) doc = dc_xml_parse (plan->xml, "domain", "the clone's XML", &ctxt, NULL);
  g_autoptr (GPtrArray) volumes = NULL;

  result->source = g_strdup (plan->source_name);
  result->source_uuid = g_strdup (plan->source_uuid);
  result->name = g_strdup (plan->name);
  result->uuid = g_strdup (plan->uuid);
  for (guint i = 0; i < plan->copies->len; i++)
    if (((const DcCopy *) plan->copies->pdata[i])->kind == DC_COPY_KIND_OVERLAY)
      result->linked = TRUE;
  result->macs = g_ptr_array_new_with_free_func (g_free);
  result->volumes = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_result_volume_free);
  result->warnings = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < plan->warnings->len; i++)
    g_ptr_array_add (result->warnings, g_strdup (plan->warnings->pdata[i]));
  if (doc == NULL)
    return; /* the planner made it: it parses */

  dc_result_read_macs (result, ctxt);
  dc_result_shape (result, plan, ctxt);

  volumes = dc_plan_volumes (plan);
  for (guint i = 0; i < volumes->len; i++)
    g_ptr_array_add (result->volumes, dc_result_planned_volume (ctxt, volumes->pdata[i]));

  dc_result_fill_nvram (result, plan, ctxt, env);
}
