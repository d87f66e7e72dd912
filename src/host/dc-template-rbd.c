/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-template-rbd.c: a template's Ceph RBD images.
 *
 * A linked clone's RBD disk is a copy-on-write child of a protected
 * snapshot of the template's image (DC_RBD_TEMPLATE_SNAP): made by
 * --make-template with the read-only marks, removed by
 * --unmake-template, which Ceph refuses while a child exists.
 */
#include "config.h"

#include "dc-template-rbd.h"
#include "dc-metadata.h"
#include "dc-xml.h"

/* The RBD image of @disk, a network disk's or an rbd pool volume's;
 * %NULL without @error for any other disk. */
static DcRbdSource *
dc_template_rbd_of_disk (virConnectPtr conn, xmlNode *disk, GError **error)
{
  g_autofree char *type = dc_xml_prop (disk, "type");
  xmlNode *source = dc_xml_child (disk, "source", FALSE);
  g_autofree char *protocol = source ? dc_xml_prop (source, "protocol") : NULL;
  g_autofree char *pool_name = source ? dc_xml_prop (source, "pool") : NULL;
  g_autofree char *volume = source ? dc_xml_prop (source, "volume") : NULL;
  g_autoptr (DcPool) pool = NULL;
  g_autofree char *pool_xml = NULL;

  if (g_strcmp0 (type, "network") == 0 && g_strcmp0 (protocol, "rbd") == 0)
    return dc_rbd_source_from_disk (disk, error);
  if (g_strcmp0 (type, "volume") != 0 || pool_name == NULL || volume == NULL)
    return NULL;
  pool = virStoragePoolLookupByName (conn, pool_name);
  pool_xml = pool ? virStoragePoolGetXMLDesc (pool, 0) : NULL;
  if (pool_xml == NULL || !g_str_has_prefix (pool_xml, "<pool type='rbd'"))
    return NULL; /* not an rbd pool (a missing one the clone reports) */
  return dc_rbd_source_from_pool_xml (pool_xml, volume, error);
}

/**
 * dc_template_rbd_images:
 * @conn: connection
 * @xml: a template's XML, with its template mark
 * @error: return location
 *
 * Returns: (transfer full) (element-type DcRbdSource): the RBD images of
 * the disks the mark protects, or %NULL with @error set
 */
GPtrArray *
dc_template_rbd_images (virConnectPtr conn, const char *xml, GError **error)
{
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autoptr (xmlDoc) doc = dc_xml_parse (xml, "domain", "the template's XML", &ctxt, error);
  g_autoptr (DcMetadata) md = doc ? dc_metadata_of_domain (ctxt, error) : NULL;
  g_autoptr (GPtrArray) images = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_rbd_source_free);
  g_autoptr (GPtrArray) disks = NULL;

  if (md == NULL)
    return NULL;
  disks = dc_xml_nodes (ctxt, NULL, "/domain/devices/disk[target/@dev]");
  for (guint i = 0; md->template && i < disks->len; i++)
    {
      g_autofree char *target = dc_xml_string (ctxt, disks->pdata[i], "./target/@dev");
      g_autoptr (GError) local = NULL;
      DcRbdSource *src = NULL;

      if (!g_ptr_array_find_with_equal_func (md->template_disks, target, g_str_equal, NULL))
        continue;
      src = dc_template_rbd_of_disk (conn, disks->pdata[i], &local);
      if (local != NULL)
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local), "disk '%s': ", target);
          return NULL;
        }
      if (src != NULL)
        g_ptr_array_add (images, src);
    }
  return g_steal_pointer (&images);
}

/**
 * dc_template_rbd_snaps_make:
 * @conn: connection
 * @images: (element-type DcRbdSource): a template's RBD images
 * @made: (element-type DcRbdSource): the images whose snapshot this call
 *   made are appended (copies), for dc_template_rbd_snaps_undo()
 * @error: return location
 *
 * Gives each image its protected DC_RBD_TEMPLATE_SNAP.
 *
 * Returns: %FALSE with @error set on failure
 */
gboolean
dc_template_rbd_snaps_make (virConnectPtr conn, GPtrArray *images, GPtrArray *made, GError **error)
{
  for (guint i = 0; i < images->len; i++)
    {
      const DcRbdSource *src = images->pdata[i];
      g_autoptr (DcRbdConn) c = dc_rbd_connect (conn, src, error);
      gboolean one = FALSE;

      if (c == NULL || !dc_rbd_snap_make (c, src, &one, error))
        return FALSE;
      if (one)
        g_ptr_array_add (made, dc_rbd_source_copy (src, NULL));
    }
  return TRUE;
}

/**
 * dc_template_rbd_snaps_undo:
 * @conn: connection
 * @made: (element-type DcRbdSource): what dc_template_rbd_snaps_make()
 *   made
 *
 * Removes the snapshots @made lists; failures are warned about.
 */
void
dc_template_rbd_snaps_undo (virConnectPtr conn, GPtrArray *made)
{
  for (guint i = 0; i < made->len; i++)
    {
      const DcRbdSource *src = made->pdata[i];
      g_autoptr (GError) error = NULL;
      g_autoptr (DcRbdConn) c = dc_rbd_connect (conn, src, &error);

      if (c == NULL || !dc_rbd_snap_drop (c, src, &error))
        g_warning ("rollback incomplete: %s", error->message);
    }
}

/**
 * dc_template_rbd_snaps_drop:
 * @conn: connection
 * @images: (element-type DcRbdSource): a template's RBD images
 * @error: return location
 *
 * Removes each image's DC_RBD_TEMPLATE_SNAP; when one cannot go (a
 * copy-on-write child of it exists), those removed are made again.
 *
 * Returns: %FALSE with @error set on failure
 */
gboolean
dc_template_rbd_snaps_drop (virConnectPtr conn, GPtrArray *images, GError **error)
{
  for (guint i = 0; i < images->len; i++)
    {
      const DcRbdSource *src = images->pdata[i];
      g_autoptr (DcRbdConn) c = dc_rbd_connect (conn, src, error);

      if (c != NULL && dc_rbd_snap_drop (c, src, error))
        continue;
      for (guint j = 0; j < i; j++)
        {
          g_autoptr (GError) again = NULL;
          g_autoptr (DcRbdConn) cj = dc_rbd_connect (conn, images->pdata[j], &again);
          gboolean made = FALSE;

          if (cj == NULL || !dc_rbd_snap_make (cj, images->pdata[j], &made, &again))
            g_warning ("rollback incomplete: %s", again->message);
        }
      return FALSE;
    }
  return TRUE;
}
