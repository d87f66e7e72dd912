/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * live-auto.c: what the automation tests (tests/live/auto: --print-xml,
 * --json, --exist-ok, --count) share: the daemon's storage pool events,
 * a look into printed XML, and domclone's JSON held against libvirt.
 */
#include "config.h"

#include <sys/wait.h>

#include "dc-test-util.h"
#include "live-auto.h"

#include "dc-metadata.h"
#include "dc-volinfo.h"
#include "dc-xml.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- storage pool events -------------------------------------------------- */

static GMutex events_lock;
static GCond events_cond;
static GPtrArray *events; /* "EVENT POOL" lines, under events_lock */
static int events_callback = -1;
static guint fence_serial;

static const char *
pool_event_name (int event)
{
  switch (event)
    {
    case VIR_STORAGE_POOL_EVENT_DEFINED:
      return "defined";
    case VIR_STORAGE_POOL_EVENT_UNDEFINED:
      return "undefined";
    case VIR_STORAGE_POOL_EVENT_STARTED:
      return "started";
    case VIR_STORAGE_POOL_EVENT_STOPPED:
      return "stopped";
    case VIR_STORAGE_POOL_EVENT_CREATED:
      return "created";
    case VIR_STORAGE_POOL_EVENT_DELETED:
      return "deleted";
    default:
      return "other";
    }
}

static void
on_pool_event (virConnectPtr conn, virStoragePoolPtr pool, int event, int detail, void *opaque)
{
  g_mutex_lock (&events_lock);
  g_ptr_array_add (events, g_strdup_printf ("%s %s", pool_event_name (event), virStoragePoolGetName (pool)));
  g_cond_broadcast (&events_cond);
  g_mutex_unlock (&events_lock);
}

static gpointer
event_loop (gpointer data)
{
  for (;;)
    virEventRunDefaultImpl ();
  return NULL;
}

static gboolean
events_hold (const char *line)
{
  for (guint i = 0; i < events->len; i++)
    if (g_str_equal (events->pdata[i], line))
      return TRUE;
  return FALSE;
}

/*
 * The pool events since the last call, as one string. The daemon sends
 * events in order: once the events of a pool defined and undefined here
 * arrived, every earlier one has too. The fence's own are left out.
 */
char *
events_take (void)
{
  g_autofree char *fence = g_strdup_printf ("fence%u", ++fence_serial);
  g_autofree char *last = g_strdup_printf ("undefined %s", fence);
  g_autofree char *dir = g_build_filename (live_state_dir, fence, NULL);
  g_autofree char *xml = g_strdup_printf ("<pool type='dir'><name>%s</name>"
                                          "<target><path>%s</path></target></pool>",
                                          fence, dir);
  g_autoptr (DcPool) pool = virStoragePoolDefineXML (live_conn, xml, 0);
  GString *out = g_string_new (NULL);
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  g_assert_nonnull (pool);
  g_assert_cmpint (virStoragePoolUndefine (pool), ==, 0);
  g_mutex_lock (&events_lock);
  while (!events_hold (last))
    if (!g_cond_wait_until (&events_cond, &events_lock, deadline))
      g_error ("the events of pool '%s' did not arrive", fence);
  for (guint i = 0; i < events->len; i++)
    {
      const char *line = events->pdata[i];
      const char *space = strchr (line, ' ');

      if (!g_str_equal (space + 1, fence))
        g_string_append_printf (out, "%s\n", line);
    }
  g_ptr_array_set_size (events, 0);
  g_mutex_unlock (&events_lock);
  return g_string_free (out, FALSE);
}
/* --- helpers -------------------------------------------------------------- */

/* The file names in @dir, sorted, one a line */
char *
list_dir (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  g_autoptr (GString) out = g_string_new (NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, (gpointer) g_strdup (name));
  g_ptr_array_sort (names, dc_test_compare_strings);
  for (guint i = 0; i < names->len; i++)
    {
      g_string_append_printf (out, "%s\n", (char *) names->pdata[i]);
      g_free (names->pdata[i]);
    }
  return g_strdup (out->str);
}

void
xml_clear (Xml *x)
{
  g_clear_pointer (&x->ctxt, xmlXPathFreeContext);
  g_clear_pointer (&x->doc, xmlFreeDoc);
}

void
xml_parse (Xml *x, const char *text)
{
  g_autoptr (GError) error = NULL;

  x->doc = dc_xml_parse (text, "domain", "printed XML", &x->ctxt, &error);
  g_assert_no_error (error);
}

char *
xml_get (Xml *x, const char *xpath)
{
  return dc_xml_string (x->ctxt, NULL, xpath);
}

/* What a clone's definition says of its storage and identity, apart
 * from what is new at random (UUID, MACs) or by the clock (origin
 * time): name, origin, NVRAM, each disk's target and source, how many
 * interfaces. For comparing print-xml's clone with the one made. */
char *
xml_storage_summary (const char *text)
{
  Xml x = { 0 };
  GString *out = g_string_new (NULL);
  g_autoptr (GPtrArray) disks = NULL;
  g_autofree char *name = NULL;
  g_autofree char *origin = NULL;
  g_autofree char *nvram = NULL;
  g_autofree char *ifaces = NULL;

  xml_parse (&x, text);
  name = xml_get (&x, "/domain/name");
  origin = xml_get (&x, "concat(/domain/metadata/*[local-name()='domclone']/*[local-name()='origin']/@name,"
                        "' ',/domain/metadata/*[local-name()='domclone']/*[local-name()='origin']/@uuid)");
  nvram = xml_get (&x, "normalize-space(/domain/os/nvram)");
  ifaces = xml_get (&x, "count(/domain/devices/interface)");
  g_string_append_printf (out, "name %s\norigin %s\nnvram %s\ninterfaces %s\n", name, origin, nvram, ifaces);
  disks = dc_xml_nodes (x.ctxt, NULL, "/domain/devices/disk");
  for (guint i = 0; i < disks->len; i++)
    {
      xmlNode *disk = disks->pdata[i];
      g_autofree char *line =
        dc_xml_string (x.ctxt, disk,
                       "concat(@device,' ',@type,' ',target/@dev,' ',source/@file,source/@dev,' ',"
                       "source/@pool,' ',source/@volume,' ',count(readonly),count(shareable))");

      g_string_append_printf (out, "disk %s\n", line);
    }
  xml_clear (&x);
  return g_string_free (out, FALSE);
}
/* --- --json --------------------------------------------------------------- */

/* A string member, NULL for null */
const char *
json_str (JsonObject *o, const char *key)
{
  JsonNode *n = json_object_get_member (o, key);

  g_assert_nonnull (n);
  if (JSON_NODE_HOLDS_NULL (n))
    return NULL;
  g_assert_cmpint (json_node_get_value_type (n), ==, G_TYPE_STRING);
  return json_node_get_string (n);
}

gint64
json_int (JsonObject *o, const char *key)
{
  JsonNode *n = json_object_get_member (o, key);

  g_assert_nonnull (n);
  g_assert_cmpint (json_node_get_value_type (n), ==, G_TYPE_INT64);
  return json_node_get_int (n);
}

gboolean
json_bool (JsonObject *o, const char *key)
{
  JsonNode *n = json_object_get_member (o, key);

  g_assert_nonnull (n);
  g_assert_cmpint (json_node_get_value_type (n), ==, G_TYPE_BOOLEAN);
  return json_node_get_boolean (n);
}

/* A failure's object: "changed": false, and an error whose message is
 * the line on stderr */
void
assert_json_error (JsonObject *o, const char *err, const char *code)
{
  JsonObject *e = json_object_get_object_member (o, "error");
  g_autofree char *line = NULL;

  g_assert_false (json_bool (o, "changed"));
  g_assert_nonnull (e);
  g_assert_cmpstr (json_str (e, "code"), ==, code);
  line = g_strdup_printf ("domclone: %s\n", json_str (e, "message"));
  g_assert_cmpstr (line, ==, err);
}

/* The MAC addresses of @xml's interfaces, one a line */
char *
macs_of (const char *xml)
{
  Xml x = { 0 };
  g_autoptr (GPtrArray) macs = NULL;
  GString *out = g_string_new (NULL);

  xml_parse (&x, xml);
  macs = dc_xml_nodes (x.ctxt, NULL, "/domain/devices/interface/mac/@address");
  for (guint i = 0; i < macs->len; i++)
    {
      g_autoptr (DcXmlChar) mac = xmlNodeGetContent (macs->pdata[i]);

      g_string_append_printf (out, "%s\n", (const char *) mac);
    }
  xml_clear (&x);
  return g_string_free (out, FALSE);
}

char *
json_macs (JsonObject *clone)
{
  JsonArray *macs = json_object_get_array_member (clone, "macs");
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < json_array_get_length (macs); i++)
    g_string_append_printf (out, "%s\n", json_array_get_string_element (macs, i));
  return g_string_free (out, FALSE);
}

/* One volume of "clone"."volumes" held against libvirt's view of it:
 * path, format, capacity and allocation as libvirt reads them now. A
 * volume made through a temporary pool ("pool": null) is a file that
 * is looked at directly. */
void
assert_json_volume_is_real (JsonObject *v)
{
  const char *pool_name = json_str (v, "pool");
  const char *path = json_str (v, "path");

  g_assert_nonnull (path);
  if (pool_name != NULL)
    {
      g_autoptr (DcPool) pool = virStoragePoolLookupByName (live_conn, pool_name);
      g_autoptr (DcVol) vol = pool ? virStorageVolLookupByName (pool, json_str (v, "name")) : NULL;
      g_autofree char *vol_path = NULL;
      g_autofree char *xml = NULL;
      g_autoptr (DcVolInfo) info = NULL;
      g_autoptr (GError) error = NULL;
      virStorageVolInfo vinfo;

      g_assert_nonnull (vol);
      g_assert_cmpint (virStorageVolGetInfo (vol, &vinfo), ==, 0);
      vol_path = virStorageVolGetPath (vol);
      g_assert_cmpstr (vol_path, ==, path);
      xml = virStorageVolGetXMLDesc (vol, 0);
      info = dc_vol_info_from_xml (xml, pool_name, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (json_str (v, "format"), ==, info->format);
      g_assert_cmpint (json_int (v, "capacity"), ==, (gint64) vinfo.capacity);
      g_assert_cmpint (json_int (v, "allocation"), ==, (gint64) vinfo.allocation);
    }
  else
    {
      g_autofree char *base = g_path_get_basename (path);
      struct stat st;

      g_assert_cmpstr (json_str (v, "name"), ==, base);
      g_assert_cmpint (stat (path, &st), ==, 0);
      g_assert_cmpint (json_int (v, "capacity"), ==, (gint64) st.st_size);
      g_assert_cmpint (json_int (v, "allocation"), ==, (gint64) st.st_blocks * 512);
    }
}

/* The domclone metadata of a clone that a killed run left: the marker
 * of a process that is gone (its start time is not the one recorded) */
char *
leftover_metadata (const LiveFixture *f, const char *src_uuid, const char *volume)
{
  g_autofree char *boot = NULL;
  char *argv[] = { (char *) "true", NULL };
  GPid gone;
  g_autofree char *pid_copy = NULL;

  /* the PID of a process that has ended: reaped here, not by a GSubprocess
   * watch that may have forgotten its identifier before it is asked */
  g_assert_true (g_spawn_async (NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                &gone, NULL));
  g_assert_cmpint (waitpid (gone, NULL, 0), ==, gone);
  pid_copy = g_strdup_printf ("%d", (int) gone);
  g_assert_true (g_file_get_contents ("/proc/sys/kernel/random/boot_id", &boot, NULL, NULL));
  g_strstrip (boot);
  return g_strdup_printf ("<domclone xmlns='%s'><origin name='%s' uuid='%s' time='2026-01-01T00:00:00Z'/>"
                          "<building host='%s' boot='%s' pid='%s' start='1'>"
                          "<volume pool='%s' name='%s'/></building></domclone>",
                          DC_METADATA_URI, f->src, src_uuid, g_get_host_name (), boot, pid_copy, f->pool,
                          volume);
}

/* --- domains ------------------------------------------------------------- */

char *
uuid_of (const char *name)
{
  g_autoptr (DcDomain) dom = virDomainLookupByName (live_conn, name);
  char uuid[VIR_UUID_STRING_BUFLEN];

  g_assert_nonnull (dom);
  g_assert_cmpint (virDomainGetUUIDString (dom, uuid), ==, 0);
  return g_strdup (uuid);
}

/**
 * live_auto_init:
 *
 * live_init(), with the pool events recorded from the start (the event
 * loop is registered before the connection is opened).
 */
void
live_auto_init (int *argc, char ***argv)
{
  virEventRegisterDefaultImpl ();
  live_init (argc, argv);
  events = g_ptr_array_new_with_free_func (g_free);
  if (live_conn != NULL)
    {
      events_callback =
        virConnectStoragePoolEventRegisterAny (live_conn, NULL, VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE,
                                               VIR_STORAGE_POOL_EVENT_CALLBACK (on_pool_event), NULL, NULL);
      g_assert_cmpint (events_callback, >=, 0);
      g_thread_unref (g_thread_new ("events", event_loop, NULL));
    }
}

/* Runs the tests, then closes the connection. */
int
live_auto_run (void)
{
  int ret = g_test_run ();

  if (live_conn != NULL)
    {
      virConnectStoragePoolEventDeregisterAny (live_conn, events_callback);
      virConnectClose (live_conn);
      live_conn = NULL;
    }
  return ret;
}
