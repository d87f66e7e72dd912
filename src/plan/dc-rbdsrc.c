/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-rbdsrc.c: a Ceph RBD image as libvirt names it.
 *
 * A network disk names it as <source protocol='rbd' name='POOL/IMAGE'>
 * (or POOL/NAMESPACE/IMAGE) with the monitors as <host>s and the cephx
 * user and libvirt secret as <auth> (inside <source>, or beside it in
 * older XML); an rbd storage pool names the Ceph pool, the monitors and
 * the auth in its own <source>, the image being a volume's name. The
 * same facts go into the <building> marker and the clone's <volumes>,
 * so that a rollback or --cleanup reaches the cluster again.
 */
#include "config.h"

#include "dc-rbdsrc.h"
#include "dc-error.h"

#include <string.h>

void
dc_rbd_source_free (DcRbdSource *src)
{
  if (src == NULL)
    return;
  g_free (src->pool);
  g_free (src->nspace);
  g_free (src->image);
  g_clear_pointer (&src->hosts, g_ptr_array_unref);
  g_free (src->user);
  g_free (src->secret_uuid);
  g_free (src->secret_usage);
  g_free (src->config);
  g_free (src);
}

static DcRbdSource *
dc_rbd_source_new (void)
{
  DcRbdSource *src = g_new0 (DcRbdSource, 1);

  src->hosts = g_ptr_array_new_with_free_func (g_free);
  return src;
}

/**
 * dc_rbd_source_copy:
 * @src: an image's place
 * @image: (nullable): another image in the same pool, or %NULL for @src's
 *
 * Returns: (transfer full): a copy of @src, naming @image if set
 */
DcRbdSource *
dc_rbd_source_copy (const DcRbdSource *src, const char *image)
{
  DcRbdSource *copy = dc_rbd_source_new ();

  copy->pool = g_strdup (src->pool);
  copy->nspace = g_strdup (src->nspace);
  copy->image = g_strdup (image ? image : src->image);
  for (guint i = 0; i < src->hosts->len; i++)
    g_ptr_array_add (copy->hosts, g_strdup (src->hosts->pdata[i]));
  copy->user = g_strdup (src->user);
  copy->secret_uuid = g_strdup (src->secret_uuid);
  copy->secret_usage = g_strdup (src->secret_usage);
  copy->config = g_strdup (src->config);
  return copy;
}

/**
 * dc_rbd_source_split_name:
 * @name: a disk's <source name>: POOL/IMAGE or POOL/NAMESPACE/IMAGE
 * @src: (inout): gets its pool, namespace and image
 * @error: return location
 *
 * Returns: %FALSE with @error set when @name is no such name (a
 * snapshot, IMAGE@SNAP, is no writable disk's)
 */
gboolean
dc_rbd_source_split_name (const char *name, DcRbdSource *src, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (name, "/", -1);
  guint n = g_strv_length (parts);

  if (n < 2 || n > 3 || strchr (name, '@') != NULL)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_UNSUPPORTED,
                   "'%s' names no RBD image as POOL/IMAGE or POOL/NAMESPACE/IMAGE", name);
      return FALSE;
    }
  for (guint i = 0; i < n; i++)
    if (parts[i][0] == '\0')
      {
        g_set_error (error, DC_ERROR, DC_ERROR_UNSUPPORTED,
                     "'%s' names no RBD image as POOL/IMAGE or POOL/NAMESPACE/IMAGE", name);
        return FALSE;
      }
  g_free (src->pool);
  g_free (src->nspace);
  g_free (src->image);
  src->pool = g_strdup (parts[0]);
  src->nspace = n == 3 ? g_strdup (parts[1]) : NULL;
  src->image = g_strdup (parts[n - 1]);
  return TRUE;
}

/* The monitors and auth of an element holding <host>s and <auth>
 * (a disk's <source>, or a pool's). */
static void
dc_rbd_source_read_cluster (DcRbdSource *src, xmlNode *node)
{
  for (xmlNode *n = node->children; n != NULL; n = n->next)
    {
      g_autofree char *name = NULL;
      g_autofree char *port = NULL;

      if (n->type != XML_ELEMENT_NODE)
        continue;
      if (g_str_equal ((const char *) n->name, "config") && src->config == NULL)
        src->config = dc_xml_prop (n, "file");
      if (!g_str_equal ((const char *) n->name, "host"))
        continue;
      name = dc_xml_prop (n, "name");
      port = dc_xml_prop (n, "port");
      if (name == NULL)
        continue;
      /* an IPv6 address goes in brackets before a port */
      if (port != NULL && strchr (name, ':') != NULL)
        g_ptr_array_add (src->hosts, g_strdup_printf ("[%s]:%s", name, port));
      else if (port != NULL)
        g_ptr_array_add (src->hosts, g_strdup_printf ("%s:%s", name, port));
      else
        g_ptr_array_add (src->hosts, g_steal_pointer (&name));
    }
}

static void
dc_rbd_source_read_auth (DcRbdSource *src, xmlNode *auth)
{
  xmlNode *secret = dc_xml_child (auth, "secret", FALSE);

  src->user = dc_xml_prop (auth, "username");
  if (secret != NULL)
    {
      src->secret_uuid = dc_xml_prop (secret, "uuid");
      src->secret_usage = dc_xml_prop (secret, "usage");
    }
}

/**
 * dc_rbd_source_from_disk:
 * @disk: a <disk type='network'> whose <source protocol='rbd'>
 * @error: return location
 *
 * Returns: (transfer full): the image the disk reads and its cluster,
 * or %NULL with @error set
 */
DcRbdSource *
dc_rbd_source_from_disk (xmlNode *disk, GError **error)
{
  xmlNode *source = dc_xml_child (disk, "source", FALSE);
  g_autoptr (DcRbdSource) src = dc_rbd_source_new ();
  g_autofree char *name = source ? dc_xml_prop (source, "name") : NULL;
  xmlNode *auth = NULL;

  if (name == NULL)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_UNSUPPORTED, "its <source> names no RBD image");
      return NULL;
    }
  if (dc_xml_child (source, "snapshot", FALSE) != NULL)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_UNSUPPORTED,
                   "it reads a snapshot of RBD image '%s', which no guest can write", name);
      return NULL;
    }
  if (!dc_rbd_source_split_name (name, src, error))
    return NULL;
  dc_rbd_source_read_cluster (src, source);
  auth = dc_xml_child (source, "auth", FALSE);
  if (auth == NULL)
    auth = dc_xml_child (disk, "auth", FALSE);
  if (auth != NULL)
    dc_rbd_source_read_auth (src, auth);
  return g_steal_pointer (&src);
}

/**
 * dc_rbd_source_from_pool_xml:
 * @xml: an rbd storage pool's XML (virStoragePoolGetXMLDesc)
 * @image: a volume of it
 * @error: return location
 *
 * Returns: (transfer full): where @image is and how to reach its
 * cluster, or %NULL with @error set
 */
DcRbdSource *
dc_rbd_source_from_pool_xml (const char *xml, const char *image, GError **error)
{
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autoptr (xmlDoc) doc = dc_xml_parse (xml, "pool", "the storage pool's XML", &ctxt, error);
  g_autoptr (DcRbdSource) src = dc_rbd_source_new ();
  xmlNode *source;
  xmlNode *auth;

  if (doc == NULL)
    return NULL;
  source = dc_xml_node (ctxt, NULL, "/pool[@type='rbd']/source");
  if (source == NULL)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_UNSUPPORTED, "the storage pool is not an rbd pool");
      return NULL;
    }
  src->pool = dc_xml_string (ctxt, source, "./name");
  if (src->pool == NULL || src->pool[0] == '\0')
    {
      g_set_error (error, DC_ERROR, DC_ERROR_UNSUPPORTED, "the rbd storage pool names no Ceph pool");
      return NULL;
    }
  src->image = g_strdup (image);
  dc_rbd_source_read_cluster (src, source);
  auth = dc_xml_child (source, "auth", FALSE);
  if (auth != NULL)
    dc_rbd_source_read_auth (src, auth);
  return g_steal_pointer (&src);
}

/**
 * dc_rbd_source_name:
 * @src: an image's place
 * @image: (nullable): another image in the same pool, or %NULL for @src's
 *
 * Returns: (transfer full): POOL/IMAGE (POOL/NAMESPACE/IMAGE), as a
 * disk's <source name> and libvirt's volume paths say it
 */
char *
dc_rbd_source_name (const DcRbdSource *src, const char *image)
{
  if (src->nspace != NULL)
    return g_strdup_printf ("%s/%s/%s", src->pool, src->nspace, image ? image : src->image);
  return g_strdup_printf ("%s/%s", src->pool, image ? image : src->image);
}

/**
 * dc_rbd_source_hosts:
 * @src: an image's place
 *
 * Returns: (transfer full): the monitors, comma-separated ("" for none),
 * as Ceph's mon_host option takes them
 */
char *
dc_rbd_source_hosts (const DcRbdSource *src)
{
  g_autoptr (GString) out = g_string_new (NULL);

  for (guint i = 0; i < src->hosts->len; i++)
    g_string_append_printf (out, "%s%s", i > 0 ? "," : "", (const char *) src->hosts->pdata[i]);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/**
 * dc_rbd_source_same_cluster:
 * @a: an image's place
 * @b: another's
 *
 * Returns: %TRUE when @a and @b are reached the same way (monitors,
 * user, secret, configuration): one connection serves both
 */
gboolean
dc_rbd_source_same_cluster (const DcRbdSource *a, const DcRbdSource *b)
{
  g_autofree char *ha = dc_rbd_source_hosts (a);
  g_autofree char *hb = dc_rbd_source_hosts (b);

  return g_str_equal (ha, hb) && g_strcmp0 (a->user, b->user) == 0
         && g_strcmp0 (a->secret_uuid, b->secret_uuid) == 0
         && g_strcmp0 (a->secret_usage, b->secret_usage) == 0 && g_strcmp0 (a->config, b->config) == 0;
}

static void
dc_rbd_set_prop (xmlNode *node, const char *name, const char *value)
{
  if (value != NULL)
    xmlSetProp (node, BAD_CAST name, BAD_CAST value);
}

/**
 * dc_rbd_source_to_node:
 * @src: an image's place
 * @parent: an element of domclone's metadata
 *
 * Adds <rbd pool= namespace= image= user= secret= usage= config=>
 * with a <host name=> per monitor to @parent, in @parent's namespace.
 */
void
dc_rbd_source_to_node (const DcRbdSource *src, xmlNode *parent)
{
  xmlNode *rbd = xmlNewChild (parent, parent->ns, BAD_CAST "rbd", NULL);

  dc_rbd_set_prop (rbd, "pool", src->pool);
  dc_rbd_set_prop (rbd, "namespace", src->nspace);
  dc_rbd_set_prop (rbd, "image", src->image);
  dc_rbd_set_prop (rbd, "user", src->user);
  dc_rbd_set_prop (rbd, "secret", src->secret_uuid);
  dc_rbd_set_prop (rbd, "usage", src->secret_usage);
  dc_rbd_set_prop (rbd, "config", src->config);
  for (guint i = 0; i < src->hosts->len; i++)
    {
      xmlNode *host = xmlNewChild (rbd, parent->ns, BAD_CAST "host", NULL);

      xmlSetProp (host, BAD_CAST "name", BAD_CAST src->hosts->pdata[i]);
    }
}

/**
 * dc_rbd_source_from_node:
 * @node: an <rbd> element dc_rbd_source_to_node() made
 *
 * Returns: (transfer full) (nullable): what it says, %NULL when it
 * names no pool and image
 */
DcRbdSource *
dc_rbd_source_from_node (xmlNode *node)
{
  g_autoptr (DcRbdSource) src = dc_rbd_source_new ();

  src->pool = dc_xml_prop (node, "pool");
  src->nspace = dc_xml_prop (node, "namespace");
  src->image = dc_xml_prop (node, "image");
  src->user = dc_xml_prop (node, "user");
  src->secret_uuid = dc_xml_prop (node, "secret");
  src->secret_usage = dc_xml_prop (node, "usage");
  src->config = dc_xml_prop (node, "config");
  if (src->pool == NULL || src->image == NULL)
    return NULL;
  for (xmlNode *n = node->children; n != NULL; n = n->next)
    {
      char *name;

      if (n->type != XML_ELEMENT_NODE || !g_str_equal ((const char *) n->name, "host"))
        continue;
      name = dc_xml_prop (n, "name");
      if (name != NULL)
        g_ptr_array_add (src->hosts, name);
    }
  return g_steal_pointer (&src);
}
