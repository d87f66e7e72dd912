/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * live-auto.h: the helpers of the automation tests (tests/live/auto).
 */
#pragma once

#include "live-fixture.h"

#include "dc-xml.h"

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* printed XML, looked into with XPath */
typedef struct
{
  xmlDoc *doc;
  xmlXPathContext *ctxt;
} Xml;

void live_auto_init (int *argc, char ***argv);
int live_auto_run (void);
char *events_take (void);
char *list_dir (const char *dir);
void xml_clear (Xml *x);
void xml_parse (Xml *x, const char *text);
char *xml_get (Xml *x, const char *xpath);
char *xml_storage_summary (const char *text);
const char *json_str (JsonObject *o, const char *key);
gint64 json_int (JsonObject *o, const char *key);
gboolean json_bool (JsonObject *o, const char *key);
void assert_json_error (JsonObject *o, const char *err, const char *code);
char *macs_of (const char *xml);
char *json_macs (JsonObject *clone);
void assert_json_volume_is_real (JsonObject *v);
char *leftover_metadata (const LiveFixture *f, const char *src_uuid, const char *volume);
char *uuid_of (const char *name);

G_END_DECLS
