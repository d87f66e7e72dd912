/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "dc-error.h"

#include <libxml/tree.h>
#include <libxml/xpath.h>

G_BEGIN_DECLS

xmlDoc *dc_xml_parse (const char *xml, const char *root, const char *what, xmlXPathContext **ctxt,
                      GError **error);
xmlNode *dc_xml_node (xmlXPathContext *ctxt, xmlNode *at, const char *xpath);
GPtrArray *dc_xml_nodes (xmlXPathContext *ctxt, xmlNode *at, const char *xpath);
char *dc_xml_string (xmlXPathContext *ctxt, xmlNode *at, const char *xpath);
char *dc_xml_prop (xmlNode *node, const char *name);
void dc_xml_set_text (xmlNode *node, const char *text);
xmlNode *dc_xml_child (xmlNode *parent, const char *name, gboolean create);
void dc_xml_remove (xmlNode *node);
char *dc_xml_format (xmlNode *node, gboolean indent);

/* The automatic cleanups for libxml2 objects. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlXPathContext, xmlXPathFreeContext)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlXPathObject, xmlXPathFreeObject)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlBuffer, xmlBufferFree)

/* xmlChar strings are freed with xmlFree, not g_free. */
typedef xmlChar DcXmlChar;
static inline void
dc_xml_char_free (DcXmlChar *s)
{
  xmlFree (s);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcXmlChar, dc_xml_char_free)

G_END_DECLS
