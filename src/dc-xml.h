/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "dc-error.h"

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

G_END_DECLS
