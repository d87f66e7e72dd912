/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-protect.c: --make-template and --unmake-template, decided from the
 * domain's XML alone.
 *
 * A template is a domain whose writable disks are marked <readonly/>, so
 * that QEMU opens them read-only whoever starts it, and whose domclone
 * metadata carries <template> with the disks that were marked. Both
 * changes are made to the inactive XML and defined at once by the
 * caller: the domain is never half a template.
 */
#include "config.h"

#include "dc-protect.h"
#include "dc-metadata.h"
#include "dc-xml.h"

/* Whether the guest can write to @disk: what a template must protect.
 * CD-ROMs, read-only and shareable disks (shared on purpose with other
 * domains) and empty drives are left as they are. */
static gboolean
dc_disk_is_writable (xmlNode *disk)
{
  g_autofree char *device = dc_xml_prop (disk, "device");
  xmlNode *source = dc_xml_child (disk, "source", FALSE);

  if (g_strcmp0 (device, "cdrom") == 0 || dc_xml_child (disk, "readonly", FALSE) != NULL
      || dc_xml_child (disk, "shareable", FALSE) != NULL)
    return FALSE;
  if (source == NULL || source->properties == NULL)
    return FALSE; /* an empty floppy drive: nothing to write to */
  return TRUE;
}

/* Puts @md in place of our element in @doc's <metadata>; an empty one
 * is removed, and <metadata> with it when nothing else is left, so
 * unmaking a template gives back the XML it was made from. */
static gboolean
dc_protect_set_metadata (xmlDoc *doc, xmlXPathContext *ctxt, const DcMetadata *md, GError **error)
{
  xmlNode *root = xmlDocGetRootElement (doc);
  xmlNode *metadata = dc_xml_child (root, "metadata", FALSE);
  g_autofree char *text = NULL;
  g_autoptr (xmlDoc) mddoc = NULL;

  dc_xml_remove (dc_metadata_node (ctxt));
  if (dc_metadata_is_empty (md))
    {
      gboolean empty = TRUE;

      for (xmlNode *n = metadata ? metadata->children : NULL; n != NULL; n = n->next)
        if (n->type == XML_ELEMENT_NODE)
          empty = FALSE;
      if (metadata != NULL && empty)
        dc_xml_remove (metadata);
      return TRUE;
    }
  if (metadata == NULL)
    metadata = dc_xml_child (root, "metadata", TRUE);
  text = dc_metadata_format (md);
  mddoc = dc_xml_parse (text, "domclone", "the template's domclone metadata", NULL, error);
  if (mddoc == NULL)
    return FALSE;
  xmlAddChild (metadata, xmlDocCopyNode (xmlDocGetRootElement (mddoc), doc, 1));
  return TRUE;
}

/* A domain's XML read for (un)protecting: the document, an XPath
 * context at its root, its domclone metadata and its <disk> nodes */
typedef struct
{
  xmlDoc *doc;
  xmlXPathContext *ctxt;
  DcMetadata *md;
  GPtrArray *disks;
} DcProtectRead;

static void
dc_protect_read_clear (DcProtectRead *r)
{
  g_clear_pointer (&r->disks, g_ptr_array_unref);
  g_clear_pointer (&r->md, dc_metadata_free);
  g_clear_pointer (&r->ctxt, xmlXPathFreeContext);
  g_clear_pointer (&r->doc, xmlFreeDoc);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (DcProtectRead, dc_protect_read_clear)

/* Parses the domain's @xml into @r. Returns: %FALSE with @error set if
 * it or its domclone metadata cannot be read */
static gboolean
dc_protect_read (const char *xml, DcProtectRead *r, GError **error)
{
  r->doc = dc_xml_parse (xml, "domain", "the domain's XML", &r->ctxt, error);
  if (r->doc == NULL)
    return FALSE;
  r->md = dc_metadata_of_domain (r->ctxt, error);
  if (r->md == NULL)
    return FALSE;
  r->disks = dc_xml_nodes (r->ctxt, NULL, "/domain/devices/disk");
  return TRUE;
}

/**
 * dc_protect_xml:
 * @xml: the domain's inactive XML
 * @new_xml: (out): the XML to define, %NULL when nothing changes (it is
 *   a template already and all its disks are protected)
 * @disks: (element-type utf8): gets the targets of the disks made
 *   read-only now
 * @error: return location
 *
 * Marks every writable disk <readonly/> and records in domclone's
 * metadata that the domain is a template, adding the disks marked to
 * those it already lists. A disk that became writable again on a
 * template (virsh edit) is protected again.
 *
 * Returns: FALSE with @error set if the XML cannot be read or a
 * writable disk has no target
 */
gboolean
dc_protect_xml (const char *xml, char **new_xml, GPtrArray *disks, GError **error)
{
  g_auto (DcProtectRead) r = { 0 };

  *new_xml = NULL;
  if (!dc_protect_read (xml, &r, error))
    return FALSE;
  for (guint i = 0; i < r.disks->len; i++)
    {
      xmlNode *disk = r.disks->pdata[i];
      g_autofree char *target = NULL;
      guint index;

      if (!dc_disk_is_writable (disk))
        continue;
      target = dc_xml_string (r.ctxt, disk, "./target/@dev");
      if (target == NULL)
        {
          g_set_error (error, DC_ERROR, DC_ERROR_XML, "a writable disk has no <target dev>; give it one");
          return FALSE;
        }
      xmlNewChild (disk, NULL, BAD_CAST "readonly", NULL);
      if (!g_ptr_array_find_with_equal_func (r.md->template_disks, target, g_str_equal, &index))
        g_ptr_array_add (r.md->template_disks, g_strdup (target));
      g_ptr_array_add (disks, g_steal_pointer (&target));
    }
  if (r.md->template && disks->len == 0)
    return TRUE;
  r.md->template = TRUE;
  if (!dc_protect_set_metadata (r.doc, r.ctxt, r.md, error))
    return FALSE;
  *new_xml = dc_xml_format (xmlDocGetRootElement (r.doc), TRUE);
  return TRUE;
}

/**
 * dc_unprotect_xml:
 * @xml: the domain's inactive XML
 * @new_xml: (out): the XML to define, %NULL when nothing changes (it is
 *   no template)
 * @disks: (element-type utf8): gets the targets of the disks made
 *   writable again
 * @error: return location
 *
 * Undoes dc_protect_xml(): removes <readonly/> from exactly the disks
 * the template mark lists (a disk that was read-only before stays so)
 * and the mark itself.
 *
 * Returns: FALSE with @error set if the XML cannot be read
 */
gboolean
dc_unprotect_xml (const char *xml, char **new_xml, GPtrArray *disks, GError **error)
{
  g_auto (DcProtectRead) r = { 0 };

  *new_xml = NULL;
  if (!dc_protect_read (xml, &r, error))
    return FALSE;
  if (!r.md->template)
    return TRUE;
  for (guint i = 0; i < r.disks->len; i++)
    {
      xmlNode *disk = r.disks->pdata[i];
      xmlNode *readonly = dc_xml_child (disk, "readonly", FALSE);
      g_autofree char *target = dc_xml_string (r.ctxt, disk, "./target/@dev");

      if (readonly == NULL || target == NULL
          || !g_ptr_array_find_with_equal_func (r.md->template_disks, target, g_str_equal, NULL))
        continue;
      dc_xml_remove (readonly);
      g_ptr_array_add (disks, g_steal_pointer (&target));
    }
  r.md->template = FALSE;
  g_ptr_array_set_size (r.md->template_disks, 0);
  if (!dc_protect_set_metadata (r.doc, r.ctxt, r.md, error))
    return FALSE;
  *new_xml = dc_xml_format (xmlDocGetRootElement (r.doc), TRUE);
  return TRUE;
}
