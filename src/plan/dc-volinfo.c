/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "dc-volinfo.h"
#include "dc-xml.h"

DcVolInfo *
dc_vol_info_new (void)
{
  return g_new0 (DcVolInfo, 1);
}

void
dc_vol_info_free (DcVolInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->pool);
  g_free (info->pool_path);
  g_free (info->name);
  g_free (info->path);
  g_free (info->type);
  g_free (info->format);
  g_free (info->mode);
  g_free (info->owner);
  g_free (info->group);
  g_free (info->compat);
  g_free (info->cluster_size);
  g_strfreev (info->features);
  g_free (info->open_dir);
  g_free (info->pool_type);
  g_free (info->backing);
  g_free (info->encryption);
  g_free (info);
}

static gboolean
dc_parse_size (const char *text, guint64 *value)
{
  return text != NULL && g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT64, value, NULL);
}

/* The <target> of a volume's XML into @info: format, permissions, qcow2
 * details and what the pool probed. */
static void
dc_vol_info_read_target (xmlXPathContext *ctxt, DcVolInfo *info)
{
  g_autoptr (GPtrArray) features = dc_xml_nodes (ctxt, NULL, "/volume/target/features/*");
  guint64 bytes;

  info->format = dc_xml_string (ctxt, NULL, "/volume/target/format/@type");
  info->mode = dc_xml_string (ctxt, NULL, "/volume/target/permissions/mode");
  info->owner = dc_xml_string (ctxt, NULL, "/volume/target/permissions/owner");
  info->group = dc_xml_string (ctxt, NULL, "/volume/target/permissions/group");
  info->compat = dc_xml_string (ctxt, NULL, "/volume/target/compat");
  info->cluster_size = dc_xml_string (ctxt, NULL, "/volume/target/clusterSize");
  /* what the pool probed of the file's bytes: format and backing file
   * are only hints (the domain XML names the format); an encryption
   * header says the bytes are not the guest's plain data */
  if (dc_xml_node (ctxt, NULL, "/volume/target/encryption") != NULL)
    {
      info->encryption = dc_xml_string (ctxt, NULL, "/volume/target/encryption/@format");
      if (info->encryption == NULL)
        info->encryption = g_strdup ("default");
    }
  if (features->len > 0)
    {
      info->features = g_new0 (char *, features->len + 1);
      for (guint i = 0; i < features->len; i++)
        info->features[i] = g_strdup ((const char *) ((xmlNode *) features->pdata[i])->name);
    }
  /* libvirt reports -1 for an owner it could not read */
  if (g_strcmp0 (info->owner, "-1") == 0)
    g_clear_pointer (&info->owner, g_free);
  if (g_strcmp0 (info->group, "-1") == 0)
    g_clear_pointer (&info->group, g_free);
  /* kept only as a plain byte count, which the new volume's XML can say
   * as it is */
  if (info->cluster_size != NULL && (!dc_parse_size (info->cluster_size, &bytes) || bytes == 0))
    g_clear_pointer (&info->cluster_size, g_free);
}

/* The sizes of a volume's XML into @info; %FALSE where one is not a
 * number (the capacity must be there). */
static gboolean
dc_vol_info_read_sizes (xmlXPathContext *ctxt, DcVolInfo *info)
{
  g_autofree char *capacity = dc_xml_string (ctxt, NULL, "/volume/capacity");
  g_autofree char *allocation = dc_xml_string (ctxt, NULL, "/volume/allocation");
  g_autofree char *physical = dc_xml_string (ctxt, NULL, "/volume/physical");

  return dc_parse_size (capacity, &info->capacity)
         && (allocation == NULL || dc_parse_size (allocation, &info->allocation))
         && (physical == NULL || dc_parse_size (physical, &info->physical));
}

/**
 * dc_vol_info_from_xml:
 * @xml: a volume's XML, as virStorageVolGetXMLDesc() gives it
 * @pool: its pool's name
 * @pool_path: (nullable): its pool's target directory
 * @error: return location
 *
 * Sizes are taken in bytes, as libvirt formats them (unit='bytes').
 *
 * Returns: (transfer full): what the planner needs of the volume, or
 * %NULL with @error set
 */
DcVolInfo *
dc_vol_info_from_xml (const char *xml, const char *pool, const char *pool_path, GError **error)
{
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autoptr (xmlDoc) doc = dc_xml_parse (xml, "volume", "volume XML", &ctxt, error);
  g_autoptr (DcVolInfo) info = NULL;

  if (doc == NULL)
    return NULL;
  info = dc_vol_info_new ();
  info->pool = g_strdup (pool);
  info->pool_path = g_strdup (pool_path);
  info->name = dc_xml_string (ctxt, NULL, "/volume/name");
  info->path = dc_xml_string (ctxt, NULL, "/volume/target/path");
  info->type = dc_xml_string (ctxt, NULL, "/volume/@type");
  info->backing = dc_xml_string (ctxt, NULL, "/volume/backingStore/path");
  dc_vol_info_read_target (ctxt, info);
  if (info->name == NULL || !dc_vol_info_read_sizes (ctxt, info))
    {
      g_set_error (error, DC_ERROR, DC_ERROR_XML, "cannot read volume XML from pool '%s'", pool);
      return NULL;
    }
  return g_steal_pointer (&info);
}
