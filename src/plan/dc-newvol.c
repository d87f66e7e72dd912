/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-newvol.c: what a clone's new volume is called and the XML libvirt
 * makes it from: a copy's, an overlay's. Pure: names in, names and XML
 * out.
 */
#include "config.h"

#include "dc-newvol.h"
#include "dc-metadata.h"
#include "dc-name.h"
#include "dc-xml.h"

#include <string.h>

/* A path for a file of the clone: the source's name in the file name
 * replaced by the clone's, or else the clone's name put in front, so the
 * two never share the file. */
char *
dc_newvol_path (const char *path, const char *source, const char *clone)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *renamed = dc_name_replace (base, source, clone);

  if (renamed == NULL)
    renamed = g_strdup_printf ("%s-%s", clone, base);
  return g_build_filename (dir, renamed, NULL);
}

/* The name of a cloned volume: the source's name in it replaced by the
 * clone's, else "<clone>-<target>.<ext>" (domclone(1), STORAGE). */
char *
dc_newvol_name (const char *vol, const char *target, const char *source, const char *clone)
{
  char *renamed = dc_name_replace (vol, source, clone);
  const char *dot;

  if (renamed != NULL)
    return renamed;
  dot = strrchr (vol, '.');
  if (dot != NULL && dot != vol && dot[1] != '\0')
    return g_strdup_printf ("%s-%s%s", clone, target, dot);
  return g_strdup_printf ("%s-%s", clone, target);
}

gboolean
dc_newvol_name_is_safe (const char *name)
{
  return name[0] != '\0' && strchr (name, '/') == NULL && strcmp (name, ".") != 0 && strcmp (name, "..") != 0;
}

/* The mode of a new volume: the source's, with write for its owner. A
 * base image kept read-only (0444, 0400) would otherwise give a copy, an
 * overlay or an NVRAM that QEMU, running as the owner libvirt gives it,
 * cannot write (domclone(1), STORAGE). Group and other bits stay. */
static char *
dc_newvol_mode (const char *mode)
{
  guint64 bits;

  if (mode == NULL || !g_ascii_string_to_unsigned (mode, 8, 0, 07777, &bits, NULL))
    return g_strdup (mode);
  return g_strdup_printf ("%04o", (guint) (bits | 0200));
}

char *
dc_newvol_xml (const DcVolInfo *src, const char *name)
{
  g_autoptr (xmlDoc) doc = dc_metadata_xml_template ("volume.xml");
  g_autoptr (xmlXPathContext) ctxt = xmlXPathNewContext (doc);
  g_autofree char *capacity = g_strdup_printf ("%" G_GUINT64_FORMAT, src->capacity);
  /* libvirt fills a volume up to <allocation>: 0 keeps a sparse source
   * sparse; a fully allocated source stays fully allocated. */
  guint64 alloc = src->allocation < src->capacity ? 0 : src->capacity;
  g_autofree char *allocation = g_strdup_printf ("%" G_GUINT64_FORMAT, alloc);
  g_autofree char *mode = dc_newvol_mode (src->mode);
  const struct
  {
    const char *xpath;
    const char *value;
  } fields[] = {
    { "/volume/name", name },
    { "/volume/capacity", capacity },
    { "/volume/allocation", allocation },
    { "/volume/target/permissions/mode", mode },
    { "/volume/target/permissions/owner", src->owner },
    { "/volume/target/permissions/group", src->group },
    /* without these a qcow2 copy gets libvirt's defaults (compat 0.10,
     * no lazy refcounts), not what the source has */
    { "/volume/target/compat", src->compat },
    { "/volume/target/clusterSize", src->cluster_size },
  };
  xmlNode *format = dc_xml_node (ctxt, NULL, "/volume/target/format");
  xmlNode *features, *perms;

  /* an element with no value is dropped: libvirt's default applies */
  for (size_t i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      xmlNode *node = dc_xml_node (ctxt, NULL, fields[i].xpath);

      if (fields[i].value != NULL)
        dc_xml_set_text (node, fields[i].value);
      else
        dc_xml_remove (node);
    }
  if (src->format != NULL)
    xmlSetProp (format, BAD_CAST "type", BAD_CAST src->format);
  else
    dc_xml_remove (format);
  features = dc_xml_node (ctxt, NULL, "/volume/target/features");
  for (guint i = 0; src->features != NULL && src->features[i] != NULL; i++)
    xmlNewChild (features, NULL, BAD_CAST src->features[i], NULL);
  if (features->children == NULL)
    dc_xml_remove (features);
  perms = dc_xml_node (ctxt, NULL, "/volume/target/permissions");
  if (perms != NULL && perms->children == NULL)
    dc_xml_remove (perms);

  return dc_xml_format (xmlDocGetRootElement (doc), TRUE);
}

/* A linked clone's disk: an empty qcow2 volume beside @src, in its pool,
 * with @src as its backing file. qcow2 reads a raw or a qcow2 backing
 * file; anything else (vmdk, qed, a directory) it cannot be made on. */
char *
dc_newvol_overlay_xml (const DcVolInfo *src, const char *name)
{
  DcVolInfo overlay = *src;
  g_autofree char *xml = NULL;
  g_autoptr (xmlDoc) doc = NULL;
  xmlNode *root, *backing, *format;

  /* compat 1.1 as qemu-img makes it; the cluster size and features are
   * qemu-img's defaults, not the base's */
  overlay.format = (char *) "qcow2";
  overlay.compat = (char *) "1.1";
  overlay.cluster_size = NULL;
  overlay.features = NULL;
  overlay.allocation = 0;
  xml = dc_newvol_xml (&overlay, name);
  doc = dc_xml_parse (xml, "volume", "the overlay's XML", NULL, NULL);
  g_assert (doc != NULL); /* made just now from our own template */
  root = xmlDocGetRootElement (doc);
  /* libvirt records the backing format in the qcow2 header
   * (qemu-img create -F): QEMU and libvirt then never probe it */
  backing = xmlNewChild (root, NULL, BAD_CAST "backingStore", NULL);
  xmlNewTextChild (backing, NULL, BAD_CAST "path", BAD_CAST src->path);
  format = xmlNewChild (backing, NULL, BAD_CAST "format", NULL);
  xmlSetProp (format, BAD_CAST "type", BAD_CAST src->format);
  return dc_xml_format (root, TRUE);
}

/* The name of a linked clone's overlay: as a copy's, with a .qcow2
 * extension whatever the base's (data.raw -> web1-clone1-vdb.qcow2). */
char *
dc_newvol_overlay_name (const char *vol, const char *target, const char *source, const char *clone)
{
  g_autofree char *name = dc_newvol_name (vol, target, source, clone);
  const char *dot = strrchr (name, '.');

  if (dot != NULL && dot != name && g_str_equal (dot, ".qcow2"))
    return g_steal_pointer (&name);
  if (dot != NULL && dot != name)
    return g_strdup_printf ("%.*s.qcow2", (int) (dot - name), name);
  return g_strdup_printf ("%s.qcow2", name);
}
