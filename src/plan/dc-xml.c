/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "dc-xml.h"

#include <libxml/parser.h>
#include <libxml/xpathInternals.h>
#include <string.h>

/**
 * dc_xml_parse:
 * @xml: document text
 * @root: the expected name of the root element
 * @what: what the document is, for error messages ("domain XML")
 * @ctxt: (out) (optional): an XPath context rooted at the root element
 * @error: return location
 *
 * Parses without network access and without blank text nodes, so the
 * result can be re-indented when it is written out.
 *
 * Returns: (transfer full): the document, or %NULL with @error set
 */
xmlDoc *
dc_xml_parse (const char *xml, const char *root, const char *what, xmlXPathContext **ctxt, GError **error)
{
  g_autoptr (xmlDoc) doc = NULL;
  xmlNode *top;
  size_t len = strlen (xml);

  if (len > G_MAXINT)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_XML, "%s is too large", what);
      return NULL;
    }

  doc = xmlReadMemory (xml, (int) len, NULL, NULL,
                       XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (doc == NULL)
    {
      const xmlError *err = xmlGetLastError ();
      g_autofree char *msg = g_strstrip (g_strdup (err && err->message ? err->message : "unknown error"));

      g_set_error (error, DC_ERROR, DC_ERROR_XML, "cannot parse %s: %s", what, msg);
      return NULL;
    }

  top = xmlDocGetRootElement (doc);
  if (top == NULL || !xmlStrEqual (top->name, BAD_CAST root))
    {
      g_set_error (error, DC_ERROR, DC_ERROR_XML, "%s has no <%s> root element", what, root);
      return NULL;
    }

  if (ctxt != NULL)
    {
      *ctxt = xmlXPathNewContext (doc);
      if (*ctxt == NULL)
        g_error ("out of memory");
      (*ctxt)->node = top;
    }
  return g_steal_pointer (&doc);
}

static xmlXPathObject *
dc_xml_eval (xmlXPathContext *ctxt, xmlNode *at, const char *xpath)
{
  xmlNode *saved = ctxt->node;
  xmlXPathObject *obj;

  if (at != NULL)
    ctxt->node = at;
  obj = xmlXPathEval (BAD_CAST xpath, ctxt);
  ctxt->node = saved;
  return obj;
}

/**
 * dc_xml_node:
 * @ctxt: XPath context
 * @at: (nullable): node the expression is relative to, or the context's
 * @xpath: expression
 *
 * Returns: (transfer none) (nullable): the first matching node
 */
xmlNode *
dc_xml_node (xmlXPathContext *ctxt, xmlNode *at, const char *xpath)
{
  g_autoptr (xmlXPathObject) obj = dc_xml_eval (ctxt, at, xpath);

  if (obj == NULL || obj->type != XPATH_NODESET || obj->nodesetval == NULL || obj->nodesetval->nodeNr == 0)
    return NULL;
  return obj->nodesetval->nodeTab[0];
}

/**
 * dc_xml_nodes:
 * @ctxt: XPath context
 * @at: (nullable): node the expression is relative to
 * @xpath: expression
 *
 * Returns: (transfer container): the matching nodes, possibly none; they
 * belong to the document, which must outlive the array
 */
GPtrArray *
dc_xml_nodes (xmlXPathContext *ctxt, xmlNode *at, const char *xpath)
{
  g_autoptr (xmlXPathObject) obj = dc_xml_eval (ctxt, at, xpath);
  GPtrArray *nodes = g_ptr_array_new ();

  if (obj != NULL && obj->type == XPATH_NODESET && obj->nodesetval != NULL)
    for (int i = 0; i < obj->nodesetval->nodeNr; i++)
      g_ptr_array_add (nodes, obj->nodesetval->nodeTab[i]);
  return nodes;
}

/**
 * dc_xml_string:
 * @ctxt: XPath context
 * @at: (nullable): node the expression is relative to
 * @xpath: expression, evaluated as string(@xpath)
 *
 * Returns: (transfer full) (nullable): the value, %NULL when it is empty
 */
char *
dc_xml_string (xmlXPathContext *ctxt, xmlNode *at, const char *xpath)
{
  g_autofree char *expr = g_strdup_printf ("string(%s)", xpath);
  g_autoptr (xmlXPathObject) obj = dc_xml_eval (ctxt, at, expr);

  if (obj == NULL || obj->type != XPATH_STRING || obj->stringval == NULL || obj->stringval[0] == '\0')
    return NULL;
  return g_strdup ((const char *) obj->stringval);
}

/**
 * dc_xml_prop:
 * @node: an element
 * @name: attribute name
 *
 * Returns: (transfer full) (nullable): the attribute's value
 */
char *
dc_xml_prop (xmlNode *node, const char *name)
{
  g_autoptr (DcXmlChar) value = xmlGetProp (node, BAD_CAST name);

  return value ? g_strdup ((const char *) value) : NULL;
}

/**
 * dc_xml_set_text:
 * @node: an element
 * @text: its new content, plain text (it is escaped on output)
 *
 * Replaces the children of @node by one text node. Unlike
 * xmlNodeSetContent(), @text is not taken as already escaped, so a '&'
 * in a name is stored as a character, not as the start of an entity.
 */
void
dc_xml_set_text (xmlNode *node, const char *text)
{
  xmlNodeSetContent (node, NULL);
  xmlNodeAddContent (node, BAD_CAST text);
}

/**
 * dc_xml_child:
 * @parent: an element
 * @name: child element name
 * @create: add the child at the end when there is none
 *
 * Returns: (transfer none) (nullable): the first child element called @name
 */
xmlNode *
dc_xml_child (xmlNode *parent, const char *name, gboolean create)
{
  for (xmlNode *n = parent->children; n != NULL; n = n->next)
    if (n->type == XML_ELEMENT_NODE && xmlStrEqual (n->name, BAD_CAST name))
      return n;
  if (!create)
    return NULL;
  return xmlNewChild (parent, NULL, BAD_CAST name, NULL);
}

/**
 * dc_xml_remove:
 * @node: (nullable): a node to unlink and free
 */
void
dc_xml_remove (xmlNode *node)
{
  if (node == NULL)
    return;
  xmlUnlinkNode (node);
  xmlFreeNode (node);
}

/**
 * dc_xml_format:
 * @node: an element
 * @indent: indent and end with a newline (for people), or write it on
 *   one line (for an element that libvirt stores inside another document)
 *
 * Returns: (transfer full): @node and its children as XML, without an
 * XML declaration (as libvirt writes it)
 */
char *
dc_xml_format (xmlNode *node, gboolean indent)
{
  g_autoptr (xmlBuffer) buf = xmlBufferCreate ();

  if (buf == NULL || xmlNodeDump (buf, node->doc, node, 0, indent ? 1 : 0) < 0)
    g_error ("out of memory");
  return g_strdup_printf ("%s%s", (const char *) xmlBufferContent (buf), indent ? "\n" : "");
}
