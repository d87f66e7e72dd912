/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live tests, automation: --print-xml and --json against a private
 * libvirtd (see live-fixture.c). --print-xml must change nothing at
 * all, not even for a moment: every storage pool event the daemon sends
 * while it runs is recorded, so a transient pool opened and closed again
 * is caught too. Its XML must be the clone a real run then makes. The
 * JSON objects are parsed (never grepped) and held against libvirt's
 * own view of the clone.
 */
#include "config.h"

#include <sys/wait.h>

#include "live-fixture.h"

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
static char *
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

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The file names in @dir, sorted, one a line */
static char *
list_dir (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  g_autoptr (GString) out = g_string_new (NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, (gpointer) g_strdup (name));
  g_ptr_array_sort (names, compare_strings);
  for (guint i = 0; i < names->len; i++)
    {
      g_string_append_printf (out, "%s\n", (char *) names->pdata[i]);
      g_free (names->pdata[i]);
    }
  return g_strdup (out->str);
}

typedef struct
{
  xmlDoc *doc;
  xmlXPathContext *ctxt;
} Xml;

static void
xml_clear (Xml *x)
{
  g_clear_pointer (&x->ctxt, xmlXPathFreeContext);
  g_clear_pointer (&x->doc, xmlFreeDoc);
}

static void
xml_parse (Xml *x, const char *text)
{
  g_autoptr (GError) error = NULL;

  x->doc = dc_xml_parse (text, "domain", "printed XML", &x->ctxt, &error);
  g_assert_no_error (error);
}

static char *
xml_get (Xml *x, const char *xpath)
{
  return dc_xml_string (x->ctxt, NULL, xpath);
}

/* What a clone's definition says of its storage and identity, apart
 * from what is new at random (UUID, MACs) or by the clock (origin
 * time): name, origin, NVRAM, each disk's target and source, how many
 * interfaces. For comparing print-xml's clone with the one made. */
static char *
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

/* --- --print-xml ------------------------------------------------------------ */

/* Runs --print-xml and checks that nothing changed, not even for a
 * moment: no domain, volume or pool, not the source, not the files
 * next to the NVRAM. Returns the printed XML; *@err gets stderr. */
static char *
print_xml_ok (const LiveFixture *f, const char *name, gboolean verbose, char **err)
{
  g_autofree char *before = live_snapshot ();
  g_autofree char *src_before = live_domain_xml (f->src);
  g_autofree char *files_before = list_dir (f->nvram_dir);
  g_autofree char *pool_files_before = list_dir (f->dir);
  g_autofree char *seen = events_take ();
  g_autofree char *after = NULL;
  g_autofree char *src_after = NULL;
  g_autofree char *files_after = NULL;
  g_autofree char *pool_files_after = NULL;
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  char *out = NULL;
  int status;

  if (verbose)
    g_ptr_array_add (args, "-v");
  g_ptr_array_add (args, "--print-xml");
  if (name != NULL)
    {
      g_ptr_array_add (args, "--name");
      g_ptr_array_add (args, (gpointer) name);
    }
  g_ptr_array_add (args, f->src);
  g_ptr_array_add (args, NULL);
  status = dc_test_domclone_argv ((const char *const *) args->pdata, &out, err);
  g_test_message ("exit %d: %s", status, *err);
  g_assert_cmpint (status, ==, 0);

  g_free (seen);
  seen = events_take ();
  g_assert_cmpstr (seen, ==, "");
  after = live_snapshot ();
  g_assert_cmpstr (after, ==, before);
  src_after = live_domain_xml (f->src);
  g_assert_cmpstr (src_after, ==, src_before);
  files_after = list_dir (f->nvram_dir);
  g_assert_cmpstr (files_after, ==, files_before);
  pool_files_after = list_dir (f->dir);
  g_assert_cmpstr (pool_files_after, ==, pool_files_before);
  return out;
}

static void
test_live_print_xml (LiveFixture *f, gconstpointer data)
{
  g_autofree char *named = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *src_uuid = NULL;
  g_autofree char *expect = NULL;
  g_autofree char *clone1 = NULL;
  Xml x = { 0 };

  SKIP_WITHOUT_DAEMON ();
  {
    Xml src = { 0 };
    g_autofree char *xml = live_domain_xml (f->src);

    xml_parse (&src, xml);
    src_uuid = xml_get (&src, "/domain/uuid");
    xml_clear (&src);
  }

  /* the default name; with -v the plan on stderr */
  out = print_xml_ok (f, NULL, TRUE, &err);
  clone1 = g_strdup_printf ("%s-clone1", f->src);
  xml_parse (&x, out);
  {
    g_autofree char *name = xml_get (&x, "/domain/name");
    g_autofree char *uuid = xml_get (&x, "/domain/uuid");
    g_autoptr (GPtrArray) macs = dc_xml_nodes (x.ctxt, NULL, "/domain/devices/interface/mac/@address");
    g_autofree char *vda = xml_get (&x, "/domain/devices/disk[target/@dev='vda']/source/@file");
    g_autofree char *vdb_pool = xml_get (&x, "/domain/devices/disk[target/@dev='vdb']/source/@pool");
    g_autofree char *vdb = xml_get (&x, "/domain/devices/disk[target/@dev='vdb']/source/@volume");
    g_autofree char *vdc = xml_get (&x, "/domain/devices/disk[target/@dev='vdc']/source/@file");
    g_autofree char *sda = xml_get (&x, "/domain/devices/disk[target/@dev='sda']/source/@file");
    g_autofree char *nvram = xml_get (&x, "normalize-space(/domain/os/nvram)");
    g_autofree char *origin =
      xml_get (&x, "/domain/metadata/*[local-name()='domclone']/*[local-name()='origin']/@uuid");
    g_autofree char *building =
      xml_get (&x, "count(/domain/metadata/*[local-name()='domclone']/*[local-name()='building'])");
    g_autofree char *want = NULL;

    g_assert_cmpstr (name, ==, clone1);
    g_assert_true (g_uuid_string_is_valid (uuid));
    g_assert_cmpstr (uuid, !=, src_uuid);
    g_assert_cmpuint (macs->len, ==, 1);
    for (guint i = 0; i < macs->len; i++)
      {
        g_autoptr (DcXmlChar) mac = xmlNodeGetContent (macs->pdata[i]);

        g_assert_true (g_str_has_prefix ((const char *) mac, "52:54:00:"));
        g_assert_cmpstr ((const char *) mac, !=, "52:54:00:00:00:01");
      }
    want = g_strdup_printf ("%s/%s.qcow2", f->dir, clone1);
    g_assert_cmpstr (vda, ==, want);
    g_assert_cmpstr (vdb_pool, ==, f->pool);
    g_free (want);
    want = g_strdup_printf ("%s-vdb.raw", clone1);
    g_assert_cmpstr (vdb, ==, want);
    g_free (want);
    want = g_strdup_printf ("%s/shared.raw", f->dir);
    g_assert_cmpstr (vdc, ==, want);
    g_free (want);
    want = g_strdup_printf ("%s/install.iso", f->dir);
    g_assert_cmpstr (sda, ==, want);
    g_free (want);
    want = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, clone1);
    g_assert_cmpstr (nvram, ==, want);
    /* the finished clone's metadata: its origin, no marker */
    g_assert_cmpstr (origin, ==, src_uuid);
    g_assert_cmpstr (building, ==, "0");
  }
  xml_clear (&x);
  /* -v lists the volumes it would create, the NVRAM's included */
  expect = g_strdup_printf ("copy disk 'vda': %s/%s.qcow2 -> %s/%s.qcow2 (%s/%s.qcow2)\n", f->pool, f->src,
                            f->pool, clone1, f->dir, clone1);
  g_assert_nonnull (strstr (err, expect));
  g_free (expect);
  expect = g_strdup_printf ("copy disk 'vdb': %s/data.raw -> %s/%s-vdb.raw (%s/%s-vdb.raw)\n", f->pool,
                            f->pool, clone1, f->dir, clone1);
  g_assert_nonnull (strstr (err, expect));
  g_free (expect);
  expect = g_strdup_printf ("/%s_VARS.fd (%s/%s_VARS.fd)\n", clone1, f->nvram_dir, clone1);
  g_assert_nonnull (strstr (err, "copy the NVRAM: domclone-"));
  g_assert_nonnull (strstr (err, expect));
  g_assert_nonnull (strstr (err, "share disk 'vdc' (disk)\n"));
  g_assert_cmpuint (live_counter_of (f->src), ==, 0);

  /* --name: the clone a real run then makes is the one printed */
  named = g_strdup_printf ("%s-web", f->src);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  out = print_xml_ok (f, named, FALSE, &err);
  g_assert_cmpstr (err, ==, "");
  {
    g_autofree char *planned = xml_storage_summary (out);
    g_autofree char *made = NULL;
    g_autofree char *made_xml = NULL;
    g_autofree char *line = live_clone_ok (f, named);
    g_autofree char *seen = events_take ();

    g_test_message ("planned:\n%s", planned);
    /* the control: a real run opens a temporary pool for the NVRAM,
     * which the event watch sees */
    g_assert_nonnull (strstr (seen, "started domclone-"));
    made_xml = live_domain_xml (named);
    made = xml_storage_summary (made_xml);
    g_assert_cmpstr (made, ==, planned);
  }
  g_assert_cmpuint (live_counter_of (f->src), ==, 1);

  /* the counter moved: the next default name is one higher */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  out = print_xml_ok (f, NULL, FALSE, &err);
  xml_parse (&x, out);
  {
    g_autofree char *name = xml_get (&x, "/domain/name");
    g_autofree char *want = g_strdup_printf ("%s-clone2", f->src);

    g_assert_cmpstr (name, ==, want);
  }
  xml_clear (&x);
}

/* A refusal: --print-xml refuses what a real run refuses, with the same
 * exit status and message, and neither changes anything. "@" stands
 * for the fixture's source. */
typedef struct
{
  const char *label;
  const char *args[4];
  int status;
  const char *err_part;
} PrintXmlRefusal;

static void
assert_both_refuse (const LiveFixture *f, const PrintXmlRefusal *r)
{
  g_autofree char *before = live_snapshot ();
  g_autofree char *seen = events_take ();
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  char *out[2] = { NULL, NULL };
  char *err[2] = { NULL, NULL };
  int status[2];

  for (int real = 0; real < 2; real++)
    {
      g_ptr_array_set_size (args, 0);
      if (!real)
        g_ptr_array_add (args, "--print-xml");
      for (size_t j = 0; r->args[j] != NULL; j++)
        g_ptr_array_add (args, (gpointer) (g_str_equal (r->args[j], "@") ? f->src : r->args[j]));
      g_ptr_array_add (args, NULL);
      status[real] = dc_test_domclone_argv ((const char *const *) args->pdata, &out[real], &err[real]);
      g_test_message ("%s (%s): exit %d: %s", r->label, real ? "real" : "print-xml", status[real], err[real]);
    }
  g_assert_cmpint (status[0], ==, r->status);
  g_assert_cmpint (status[1], ==, r->status);
  g_assert_cmpstr (out[0], ==, "");
  g_assert_cmpstr (err[0], ==, err[1]);
  g_assert_nonnull (strstr (err[0], r->err_part));
  {
    g_autofree char *after = live_snapshot ();

    g_assert_cmpstr (after, ==, before);
  }
  for (int i = 0; i < 2; i++)
    {
      g_free (out[i]);
      g_free (err[i]);
    }
}

static void
test_live_print_xml_refusals (LiveFixture *f, gconstpointer data)
{
  g_autofree char *taken = NULL;
  g_autoptr (DcDomain) other = NULL;

  SKIP_WITHOUT_DAEMON ();
  taken = g_strdup_printf ("%s-taken", f->src);
  other = live_define_bare_domain (taken);
  {
    const PrintXmlRefusal cases[] = {
      { "missing source", { "no-such-vm", NULL }, 1, "domain 'no-such-vm' not found" },
      { "bad name", { "--name", "1abc", "@", NULL }, 2, "invalid name '1abc'" },
      { "source's own name", { "--name", "@", "@", NULL }, 2, "it is the source's own name" },
      { "existing name", { "--name", taken, "@", NULL }, 1, "already exists" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
      assert_both_refuse (f, &cases[i]);
  }
  {
    /* a volume in the way of a planned one */
    g_autofree char *leftover = g_strdup_printf ("%s/%s-clone1.qcow2", f->dir, f->src);
    const PrintXmlRefusal r = { "volume exists", { "@", NULL }, 1, "already exists in pool" };

    g_assert_true (g_file_set_contents (leftover, "precious", -1, NULL));
    assert_both_refuse (f, &r);
    g_unlink (leftover);
  }
  {
    g_autoptr (DcDomain) dom = virDomainLookupByName (live_conn, f->src);
    const PrintXmlRefusal r = { "running source", { "@", NULL }, 1, "is running; shut it down first" };

    if (virDomainCreate (dom) < 0)
      g_error ("cannot start the source: %s", virGetLastErrorMessage ());
    assert_both_refuse (f, &r);
    virDomainDestroy (dom);
  }
  {
    /* the NVRAM, outside any pool, looked at without one */
    g_autofree char *nvram = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, f->src);
    const PrintXmlRefusal r = { "NVRAM is a directory", { "@", NULL }, 1, "is a directory, not a file" };

    g_assert_cmpint (g_unlink (nvram), ==, 0);
    g_assert_cmpint (g_mkdir (nvram, 0700), ==, 0);
    assert_both_refuse (f, &r);
    g_rmdir (nvram);
  }
  g_assert_cmpuint (live_counter_of (f->src), ==, 0);
}

/* A source that ran has implicit UEFI variables (firmware='efi', no
 * <nvram>) and TPM state, both outside pools: print-xml plans their
 * copies, opening no pool over their directories. */
static void
test_live_print_xml_tpm_efi (LiveFixture *f, gconstpointer data)
{
  g_autofree char *swtpm = g_find_program_in_path ("swtpm");
  g_autofree char *name = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *seen = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autoptr (DcDomain) dom = NULL;
  const char *args[] = { "-v", "--print-xml", NULL, NULL };
  int status;

  SKIP_WITHOUT_DAEMON ();
  if (swtpm == NULL)
    {
      g_test_skip ("swtpm is not installed");
      return;
    }
  name = g_strdup_printf ("%s-efitpm", f->src);
  xml = g_strdup_printf ("<domain type='qemu'><name>%s</name><memory unit='MiB'>128</memory>"
                         "<os firmware='efi'><type arch='x86_64' machine='q35'>hvm</type></os>"
                         "<features><acpi/></features><devices>"
                         "<tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>"
                         "</devices></domain>",
                         name);
  dom = virDomainDefineXML (live_conn, xml);
  g_assert_nonnull (dom);
  if (virDomainCreate (dom) < 0)
    g_error ("cannot start the source: %s", virGetLastErrorMessage ());
  virDomainDestroy (dom);

  before = live_snapshot ();
  g_free (events_take ());
  args[2] = name;
  status = dc_test_domclone_argv (args, &out, &err);
  g_test_message ("exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 0);
  seen = events_take ();
  g_assert_cmpstr (seen, ==, "");
  after = live_snapshot ();
  g_assert_cmpstr (after, ==, before);
  g_assert_nonnull (strstr (err, "copy the NVRAM: "));
  g_assert_nonnull (strstr (err, "copy the TPM state: "));
  g_assert_true (g_str_has_prefix (out, "<domain"));
  virDomainUndefineFlags (dom, VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_TPM);
}

/* --- --json --------------------------------------------------------------- */

/* Runs domclone with @args ("@" for the fixture's source), checks that
 * stdout is exactly one JSON object on one line, and returns it;
 * *@status and *@err get the exit status and stderr. */
static JsonObject *
run_json (const LiveFixture *f, const char *const *args, int *status, char **err)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  JsonNode *root;

  for (size_t i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) (f != NULL && g_str_equal (args[i], "@") ? f->src : args[i]));
  g_ptr_array_add (argv, NULL);
  *status = dc_test_domclone_argv ((const char *const *) argv->pdata, &out, err);
  g_test_message ("exit %d: %s%s", *status, out, *err);
  g_assert_true (g_str_has_suffix (out, "\n"));
  g_assert_true (strchr (out, '\n') == out + strlen (out) - 1);
  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  root = json_parser_get_root (parser);
  g_assert_nonnull (root);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  return json_object_ref (json_node_get_object (root));
}

/* A string member, NULL for null */
static const char *
json_str (JsonObject *o, const char *key)
{
  JsonNode *n = json_object_get_member (o, key);

  g_assert_nonnull (n);
  if (JSON_NODE_HOLDS_NULL (n))
    return NULL;
  g_assert_cmpint (json_node_get_value_type (n), ==, G_TYPE_STRING);
  return json_node_get_string (n);
}

static gint64
json_int (JsonObject *o, const char *key)
{
  JsonNode *n = json_object_get_member (o, key);

  g_assert_nonnull (n);
  g_assert_cmpint (json_node_get_value_type (n), ==, G_TYPE_INT64);
  return json_node_get_int (n);
}

static gboolean
json_bool (JsonObject *o, const char *key)
{
  JsonNode *n = json_object_get_member (o, key);

  g_assert_nonnull (n);
  g_assert_cmpint (json_node_get_value_type (n), ==, G_TYPE_BOOLEAN);
  return json_node_get_boolean (n);
}

/* A failure's object: "changed": false, and an error whose message is
 * the line on stderr */
static void
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
static char *
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

static char *
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
static void
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

static void
test_live_json_clone (LiveFixture *f, gconstpointer data)
{
  g_autofree char *name = NULL;
  g_autofree char *err = NULL;
  g_autofree char *src_uuid = NULL;
  g_autofree char *clone_xml = NULL;
  g_autofree char *macs = NULL;
  g_autofree char *got_macs = NULL;
  g_autofree char *snapshot = NULL;
  g_autoptr (JsonObject) o = NULL;
  g_autoptr (JsonObject) planned = NULL;
  JsonObject *source, *clone;
  JsonArray *volumes, *planned_volumes;
  int status;
  Xml x = { 0 };

  SKIP_WITHOUT_DAEMON ();
  name = g_strdup_printf ("%s-json", f->src);
  {
    g_autofree char *xml = live_domain_xml (f->src);

    xml_parse (&x, xml);
    src_uuid = xml_get (&x, "/domain/uuid");
    xml_clear (&x);
  }

  /* --print-xml --json: the plan, as one object */
  {
    const char *args[] = { "--json", "--print-xml", "--name", name, "@", NULL };
    g_autofree char *before = live_snapshot ();
    g_autofree char *after = NULL;
    g_autofree char *xml_name = NULL;
    g_autofree char *xml_uuid = NULL;
    g_autofree char *seen = events_take ();

    planned = run_json (f, args, &status, &err);
    g_assert_cmpint (status, ==, 0);
    g_assert_cmpstr (err, ==, "");
    g_free (seen);
    seen = events_take ();
    g_assert_cmpstr (seen, ==, "");
    after = live_snapshot ();
    g_assert_cmpstr (after, ==, before);
    g_assert_false (json_bool (planned, "changed"));
    g_assert_true (json_bool (planned, "dry_run"));
    clone = json_object_get_object_member (planned, "clone");
    g_assert_cmpstr (json_str (clone, "name"), ==, name);
    xml_parse (&x, json_str (planned, "xml"));
    xml_name = xml_get (&x, "/domain/name");
    xml_uuid = xml_get (&x, "/domain/uuid");
    xml_clear (&x);
    g_assert_cmpstr (xml_name, ==, name);
    g_assert_cmpstr (xml_uuid, ==, json_str (clone, "uuid"));
    g_free (macs);
    macs = macs_of (json_str (planned, "xml"));
    g_free (got_macs);
    got_macs = json_macs (clone);
    g_assert_cmpstr (got_macs, ==, macs);
    g_assert_false (json_object_has_member (json_object_get_object_member (planned, "source"), "counter"));
    planned_volumes = json_object_get_array_member (clone, "volumes");
    g_assert_cmpuint (json_array_get_length (planned_volumes), ==, 3);
    for (guint i = 0; i < 3; i++)
      {
        JsonObject *v = json_array_get_object_element (planned_volumes, i);

        /* not copied yet: no allocation; the file is not there */
        g_assert_true (JSON_NODE_HOLDS_NULL (json_object_get_member (v, "allocation")));
        g_assert_false (g_file_test (json_str (v, "path"), G_FILE_TEST_EXISTS));
      }
    g_clear_pointer (&err, g_free);
  }

  /* the clone, as one object */
  {
    const char *args[] = { "--json", "--name", name, "@", NULL };

    o = run_json (f, args, &status, &err);
  }
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (err, ==, "");
  g_assert_true (json_bool (o, "changed"));
  g_assert_false (json_object_has_member (o, "error"));
  g_assert_false (json_object_has_member (o, "dry_run"));
  source = json_object_get_object_member (o, "source");
  g_assert_cmpstr (json_str (source, "name"), ==, f->src);
  g_assert_cmpstr (json_str (source, "uuid"), ==, src_uuid);
  g_assert_cmpint (json_int (source, "counter"), ==, (gint64) live_counter_of (f->src));
  g_assert_cmpint (json_int (source, "counter"), ==, 1);

  clone = json_object_get_object_member (o, "clone");
  g_assert_cmpstr (json_str (clone, "name"), ==, name);
  clone_xml = live_domain_xml (name);
  xml_parse (&x, clone_xml);
  {
    g_autofree char *uuid = xml_get (&x, "/domain/uuid");
    g_autofree char *nvram = xml_get (&x, "normalize-space(/domain/os/nvram)");
    g_autofree char *want_nvram = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, name);

    g_assert_cmpstr (json_str (clone, "uuid"), ==, uuid);
    g_assert_cmpstr (json_str (clone, "nvram"), ==, nvram);
    g_assert_cmpstr (json_str (clone, "nvram"), ==, want_nvram);
  }
  g_free (macs);
  macs = macs_of (clone_xml);
  g_free (got_macs);
  got_macs = json_macs (clone);
  g_assert_cmpstr (got_macs, ==, macs);
  g_assert_cmpstr (got_macs, !=, "52:54:00:00:00:01\n");

  /* every volume made, as libvirt sees it; each disk's names its volume */
  volumes = json_object_get_array_member (clone, "volumes");
  g_assert_cmpuint (json_array_get_length (volumes), ==, 3);
  for (guint i = 0; i < json_array_get_length (volumes); i++)
    {
      JsonObject *v = json_array_get_object_element (volumes, i);
      JsonObject *p = json_array_get_object_element (planned_volumes, i);
      const char *disk = json_str (v, "disk");

      assert_json_volume_is_real (v);
      if (disk != NULL)
        {
          g_autofree char *xpath = g_strdup_printf (
            "concat(/domain/devices/disk[target/@dev='%s']/source/@file,/domain/devices/disk[target/@dev='%s']/source/@volume)",
            disk, disk);
          g_autofree char *source_of = xml_get (&x, xpath);

          g_assert_true (g_strcmp0 (source_of, json_str (v, "path")) == 0
                         || g_strcmp0 (source_of, json_str (v, "name")) == 0);
        }
      else
        g_assert_cmpstr (json_str (v, "path"), ==, json_str (clone, "nvram"));
      /* the dry run said so */
      g_assert_cmpstr (json_str (v, "disk"), ==, json_str (p, "disk"));
      g_assert_cmpstr (json_str (v, "pool"), ==, json_str (p, "pool"));
      g_assert_cmpstr (json_str (v, "name"), ==, json_str (p, "name"));
      g_assert_cmpstr (json_str (v, "path"), ==, json_str (p, "path"));
      g_assert_cmpstr (json_str (v, "format"), ==, json_str (p, "format"));
      g_assert_cmpint (json_int (v, "capacity"), ==, json_int (p, "capacity"));
    }
  xml_clear (&x);
  {
    JsonObject *vda = json_array_get_object_element (volumes, 0);
    JsonObject *vdb = json_array_get_object_element (volumes, 1);
    JsonObject *nvram = json_array_get_object_element (volumes, 2);

    g_assert_cmpstr (json_str (vda, "disk"), ==, "vda");
    g_assert_cmpstr (json_str (vda, "pool"), ==, f->pool);
    g_assert_cmpstr (json_str (vda, "format"), ==, "qcow2");
    g_assert_cmpstr (json_str (vdb, "disk"), ==, "vdb");
    g_assert_cmpstr (json_str (vdb, "format"), ==, "raw");
    /* the sparse data disk stays sparse */
    g_assert_cmpint (json_int (vdb, "capacity"), ==, 64 * MiB);
    g_assert_cmpint (json_int (vdb, "allocation"), <, 64 * MiB);
    g_assert_null (json_str (nvram, "disk"));
    g_assert_null (json_str (nvram, "pool"));
  }
  /* the temporary pool over the NVRAM's directory is gone */
  snapshot = live_snapshot ();
  g_assert_null (strstr (snapshot, "domclone-"));
}

typedef struct
{
  const char *label;
  const char *args[6];
  int status;
  const char *code;
} JsonFailure;

static void
test_live_json_failures (LiveFixture *f, gconstpointer data)
{
  g_autofree char *taken = NULL;
  g_autofree char *leftover = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autoptr (DcDomain) other = NULL;
  g_autoptr (DcDomain) dom = NULL;

  SKIP_WITHOUT_DAEMON ();
  taken = g_strdup_printf ("%s-taken", f->src);
  other = live_define_bare_domain (taken);
  before = live_snapshot ();
  {
    const JsonFailure cases[] = {
      { "unknown source", { "--json", "no-such-vm", NULL }, 1, "source-not-found" },
      { "bad name", { "--json", "--name", "1abc", "@", NULL }, 2, "invalid-name" },
      { "source's own name", { "--json", "--name", "@", "@", NULL }, 2, "invalid-name" },
      { "unknown option", { "--frobnicate", "--json", "@", NULL }, 2, "usage" },
      { "missing source", { "--json", NULL }, 2, "usage" },
      { "bad name, print-xml", { "--print-xml", "--json", "-n", "9x", "@", NULL }, 2, "invalid-name" },
      { "name taken", { "--json", "--name", taken, "@", NULL }, 1, "name-taken" },
      { "no connection", { "--json", "-c", "qemu:///nosuchpath", "@", NULL }, 1, "connect-failed" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        g_autofree char *err = NULL;
        g_autoptr (JsonObject) o = NULL;
        int status;

        g_test_message ("%s", cases[i].label);
        o = run_json (f, cases[i].args, &status, &err);
        g_assert_cmpint (status, ==, cases[i].status);
        assert_json_error (o, err, cases[i].code);
      }
  }
  {
    /* a volume in the way of a planned one */
    const char *args[] = { "--json", "@", NULL };
    g_autofree char *err = NULL;
    g_autoptr (JsonObject) o = NULL;
    int status;

    leftover = g_strdup_printf ("%s/%s-clone1.qcow2", f->dir, f->src);
    g_assert_true (g_file_set_contents (leftover, "precious", -1, NULL));
    o = run_json (f, args, &status, &err);
    g_assert_cmpint (status, ==, 1);
    assert_json_error (o, err, "volume-exists");
    g_unlink (leftover);
  }
  {
    /* running, or any state but shut off */
    const char *args[] = { "--json", "@", NULL };
    g_autofree char *err = NULL;
    g_autoptr (JsonObject) o = NULL;
    int status;

    dom = virDomainLookupByName (live_conn, f->src);
    if (virDomainCreate (dom) < 0)
      g_error ("cannot start the source: %s", virGetLastErrorMessage ());
    g_assert_cmpint (virDomainSuspend (dom), ==, 0);
    o = run_json (f, args, &status, &err);
    g_assert_cmpint (status, ==, 1);
    assert_json_error (o, err, "source-running");
    virDomainDestroy (dom);
  }
  after = live_snapshot ();
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpuint (live_counter_of (f->src), ==, 0);
}

/* The domclone metadata of a clone that a killed run left: the marker
 * of a process that is gone (its start time is not the one recorded) */
static char *
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

static void
test_live_json_cleanup (LiveFixture *f, gconstpointer data)
{
  g_autofree char *name = NULL;
  g_autofree char *vol_name = NULL;
  g_autofree char *md = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *src_uuid = NULL;
  g_autoptr (DcDomain) left = NULL;
  g_autoptr (DcPool) pool = NULL;
  g_autoptr (DcVol) vol = NULL;
  const char *args[] = { "--json", "--cleanup", "@", NULL };
  int status;
  Xml x = { 0 };

  SKIP_WITHOUT_DAEMON ();
  {
    g_autofree char *src_xml = live_domain_xml (f->src);

    xml_parse (&x, src_xml);
    src_uuid = xml_get (&x, "/domain/uuid");
    xml_clear (&x);
  }
  name = g_strdup_printf ("%s-clone7", f->src);
  vol_name = g_strdup_printf ("%s.raw", name);
  pool = virStoragePoolLookupByName (live_conn, f->pool);
  xml = g_strdup_printf ("<volume><name>%s</name><capacity>1048576</capacity>"
                         "<target><format type='raw'/></target></volume>",
                         vol_name);
  vol = virStorageVolCreateXML (pool, xml, 0);
  g_assert_nonnull (vol);
  left = live_define_bare_domain (name);
  md = leftover_metadata (f, src_uuid, vol_name);
  g_assert_cmpint (virDomainSetMetadata (left, VIR_DOMAIN_METADATA_ELEMENT, md, DC_METADATA_PREFIX,
                                         DC_METADATA_URI, VIR_DOMAIN_AFFECT_CONFIG),
                   ==, 0);
  g_assert_true (live_has_building_marker (name));

  /* the leftover is removed and named */
  {
    g_autofree char *err = NULL;
    g_autoptr (JsonObject) o = run_json (f, args, &status, &err);
    JsonArray *removed = json_object_get_array_member (o, "removed");

    g_assert_cmpint (status, ==, 0);
    g_assert_cmpstr (err, ==, "");
    g_assert_true (json_bool (o, "changed"));
    g_assert_cmpstr (json_str (json_object_get_object_member (o, "source"), "name"), ==, f->src);
    g_assert_cmpuint (json_array_get_length (removed), ==, 1);
    g_assert_cmpstr (json_array_get_string_element (removed, 0), ==, name);
    g_assert_false (json_object_has_member (o, "error"));
  }
  g_assert_false (live_domain_exists (name));
  {
    g_autoptr (DcVol) gone = NULL;

    virStoragePoolRefresh (pool, 0);
    gone = virStorageVolLookupByName (pool, vol_name);
    g_assert_null (gone);
  }

  /* nothing left: no change */
  {
    g_autofree char *err = NULL;
    g_autoptr (JsonObject) o = run_json (f, args, &status, &err);

    g_assert_cmpint (status, ==, 0);
    g_assert_false (json_bool (o, "changed"));
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "removed")), ==, 0);
  }
}

/* --- --exist-ok ----------------------------------------------------------- */

static char *
uuid_of (const char *name)
{
  g_autoptr (DcDomain) dom = virDomainLookupByName (live_conn, name);
  char uuid[VIR_UUID_STRING_BUFLEN];

  g_assert_nonnull (dom);
  g_assert_cmpint (virDomainGetUUIDString (dom, uuid), ==, 0);
  return g_strdup (uuid);
}

/* The start time of this process (/proc/self/stat, field 22), which a
 * <building> marker records to tell a live builder from a dead one */
static char *
own_start_time (void)
{
  g_autofree char *stat = NULL;
  g_auto (GStrv) fields = NULL;

  g_assert_true (g_file_get_contents ("/proc/self/stat", &stat, NULL, NULL));
  fields = g_strsplit (strrchr (stat, ')') + 2, " ", 0);
  g_assert_cmpuint (g_strv_length (fields), >, 19);
  return g_strdup (fields[19]);
}

static void
set_metadata (const char *name, const char *md)
{
  g_autoptr (DcDomain) dom = virDomainLookupByName (live_conn, name);

  g_assert_nonnull (dom);
  g_assert_cmpint (virDomainSetMetadata (dom, VIR_DOMAIN_METADATA_ELEMENT, md, DC_METADATA_PREFIX,
                                         DC_METADATA_URI, VIR_DOMAIN_AFFECT_CONFIG),
                   ==, 0);
}

/* A rerun with --exist-ok finds the clone and changes nothing at all:
 * as text, as JSON, with --print-xml, and with the source running. */
static void
test_live_exist_ok (LiveFixture *f, gconstpointer data)
{
  g_autofree char *name = NULL;
  g_autofree char *src_uuid = NULL;
  g_autofree char *clone_uuid = NULL;
  g_autofree char *clone_xml = NULL;
  g_autofree char *before = NULL;
  g_autofree char *line = NULL;
  g_autoptr (DcDomain) src = NULL;
  int status;

  SKIP_WITHOUT_DAEMON ();
  name = g_strdup_printf ("%s-web", f->src);
  src_uuid = uuid_of (f->src);
  line = g_strdup_printf ("%s already exists, cloned from %s.\n", name, f->src);

  /* the first run makes it */
  {
    const char *args[] = { "--json", "--exist-ok", "--name", name, "@", NULL };
    g_autofree char *err = NULL;
    g_autoptr (JsonObject) o = run_json (f, args, &status, &err);

    g_assert_cmpint (status, ==, 0);
    g_assert_true (json_bool (o, "changed"));
    g_assert_cmpuint (json_array_get_length (
                        json_object_get_array_member (json_object_get_object_member (o, "clone"), "volumes")),
                      ==, 3);
  }
  g_assert_true (live_domain_exists (name));
  g_assert_cmpuint (live_counter_of (f->src), ==, 1);
  clone_uuid = uuid_of (name);
  clone_xml = live_domain_xml (name);
  before = live_snapshot ();

  /* the rerun: nothing to do */
  {
    const char *args[] = { "--json", "--exist-ok", "--name", name, "@", NULL };
    g_autofree char *err = NULL;
    g_autofree char *macs = macs_of (clone_xml);
    g_autofree char *got_macs = NULL;
    g_autofree char *want_nvram = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, name);
    g_autoptr (JsonObject) o = run_json (f, args, &status, &err);
    JsonObject *source, *clone;

    g_assert_cmpint (status, ==, 0);
    g_assert_cmpstr (err, ==, "");
    g_assert_false (json_bool (o, "changed"));
    g_assert_false (json_object_has_member (o, "error"));
    g_assert_false (json_object_has_member (o, "dry_run"));
    source = json_object_get_object_member (o, "source");
    g_assert_cmpstr (json_str (source, "name"), ==, f->src);
    g_assert_cmpstr (json_str (source, "uuid"), ==, src_uuid);
    g_assert_cmpint (json_int (source, "counter"), ==, 1);
    clone = json_object_get_object_member (o, "clone");
    g_assert_cmpstr (json_str (clone, "name"), ==, name);
    g_assert_cmpstr (json_str (clone, "uuid"), ==, clone_uuid);
    got_macs = json_macs (clone);
    g_assert_cmpstr (got_macs, ==, macs);
    g_assert_cmpstr (json_str (clone, "nvram"), ==, want_nvram);
    /* the volumes the first run made, as its metadata records them */
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (clone, "volumes")), ==, 3);
  }
  {
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    status = dc_test_domclone (&out, &err, "--exist-ok", "--name", name, f->src, NULL);
    g_assert_cmpint (status, ==, 0);
    g_assert_cmpstr (out, ==, line);
    g_assert_cmpstr (err, ==, "");
  }
  /* a dry run says the same: nothing would be done */
  {
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    const char *args[] = { "--json", "--print-xml", "--exist-ok", "--name", name, "@", NULL };
    g_autoptr (JsonObject) o = NULL;

    status = dc_test_domclone (&out, &err, "--print-xml", "--exist-ok", "--name", name, f->src, NULL);
    g_assert_cmpint (status, ==, 0);
    g_assert_cmpstr (out, ==, line);
    g_clear_pointer (&err, g_free);
    o = run_json (f, args, &status, &err);
    g_assert_cmpint (status, ==, 0);
    g_assert_false (json_bool (o, "changed"));
    g_assert_true (json_bool (o, "dry_run"));
    g_assert_cmpstr (json_str (json_object_get_object_member (o, "clone"), "uuid"), ==, clone_uuid);
    g_assert_null (json_str (o, "xml"));
  }
  /* the source running meanwhile: still nothing to do */
  src = virDomainLookupByName (live_conn, f->src);
  if (virDomainCreate (src) < 0)
    g_error ("cannot start the source: %s", virGetLastErrorMessage ());
  {
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    status = dc_test_domclone (&out, &err, "--exist-ok", "--name", name, f->src, NULL);
    g_assert_cmpint (status, ==, 0);
    g_assert_cmpstr (out, ==, line);
  }
  virDomainDestroy (src);
  {
    g_autofree char *after = live_snapshot ();
    g_autofree char *clone_after = live_domain_xml (name);

    g_assert_cmpstr (after, ==, before);
    g_assert_cmpstr (clone_after, ==, clone_xml);
  }
  g_assert_cmpuint (live_counter_of (f->src), ==, 1);

  /* without --exist-ok it is a name taken, as before */
  {
    const char *args[] = { "--json", "--name", name, "@", NULL };
    g_autofree char *err = NULL;
    g_autoptr (JsonObject) o = run_json (f, args, &status, &err);

    g_assert_cmpint (status, ==, 1);
    assert_json_error (o, err, "name-taken");
  }
}

/* What --exist-ok does not take for its clone: a domain of another
 * origin or none, and one that a live run is still building. Each is an
 * error that changes nothing. */
static void
test_live_exist_ok_refusals (LiveFixture *f, gconstpointer data)
{
  g_autofree char *bare = NULL;
  g_autofree char *stranger = NULL;
  g_autofree char *busy = NULL;
  g_autofree char *src_uuid = NULL;
  g_autofree char *before = NULL;
  g_autoptr (DcDomain) d1 = NULL;
  g_autoptr (DcDomain) d2 = NULL;
  g_autoptr (DcDomain) d3 = NULL;
  int status;

  SKIP_WITHOUT_DAEMON ();
  src_uuid = uuid_of (f->src);
  bare = g_strdup_printf ("%s-bare", f->src);
  d1 = live_define_bare_domain (bare);
  /* a clone of another domain that had the source's name */
  stranger = g_strdup_printf ("%s-stranger", f->src);
  d2 = live_define_bare_domain (stranger);
  {
    g_autofree char *md = g_strdup_printf ("<domclone xmlns='%s'><origin name='%s' "
                                           "uuid='0b5e1a52-1d4c-4a47-9c0e-5d7f00000001' "
                                           "time='2026-01-01T00:00:00Z'/></domclone>",
                                           DC_METADATA_URI, f->src);
    set_metadata (stranger, md);
  }
  /* a clone of this source that this very process is building */
  busy = g_strdup_printf ("%s-busy", f->src);
  d3 = live_define_bare_domain (busy);
  {
    g_autofree char *boot = NULL;
    g_autofree char *start = own_start_time ();
    g_autofree char *md = NULL;

    g_assert_true (g_file_get_contents ("/proc/sys/kernel/random/boot_id", &boot, NULL, NULL));
    g_strstrip (boot);
    md =
      g_strdup_printf ("<domclone xmlns='%s'><origin name='%s' uuid='%s' time='2026-01-01T00:00:00Z'/>"
                       "<building host='%s' boot='%s' pid='%d' start='%s'/></domclone>",
                       DC_METADATA_URI, f->src, src_uuid, g_get_host_name (), boot, (int) getpid (), start);
    set_metadata (busy, md);
  }
  before = live_snapshot ();
  {
    const struct
    {
      const char *name;
      const char *code;
      const char *part;
    } cases[] = {
      { bare, "name-taken", "already exists and is not a clone of" },
      { stranger, "name-taken", "already exists and is not a clone of" },
      { busy, "in-progress", "is being cloned from" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        const char *args[] = { "--json", "--exist-ok", "--name", cases[i].name, "@", NULL };
        const char *dry[] = { "--json", "--print-xml", "--exist-ok", "--name", cases[i].name, "@", NULL };
        g_autofree char *err = NULL;
        g_autofree char *dry_err = NULL;
        g_autoptr (JsonObject) o = run_json (f, args, &status, &err);
        g_autoptr (JsonObject) p = NULL;

        g_test_message ("%s", cases[i].name);
        g_assert_cmpint (status, ==, 1);
        assert_json_error (o, err, cases[i].code);
        g_assert_nonnull (strstr (err, cases[i].part));
        p = run_json (f, dry, &status, &dry_err);
        g_assert_cmpint (status, ==, 1);
        g_assert_cmpstr (dry_err, ==, err);
      }
  }
  {
    /* the origin is compared by UUID: without the source, no answer */
    const char *args[] = { "--json", "--exist-ok", "--name", bare, "no-such-vm", NULL };
    g_autofree char *err = NULL;
    g_autoptr (JsonObject) o = run_json (f, args, &status, &err);

    g_assert_cmpint (status, ==, 1);
    assert_json_error (o, err, "source-not-found");
  }
  {
    g_autofree char *after = live_snapshot ();

    g_assert_cmpstr (after, ==, before);
  }
  g_assert_true (live_has_building_marker (busy));
  g_assert_cmpuint (live_counter_of (f->src), ==, 0);
}

/* The leftover of a killed run under the name is removed and the clone
 * made: --exist-ok says "changed". */
static void
test_live_exist_ok_leftover (LiveFixture *f, gconstpointer data)
{
  g_autofree char *name = NULL;
  g_autofree char *vol_name = NULL;
  g_autofree char *md = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *src_uuid = NULL;
  g_autofree char *left_uuid = NULL;
  g_autofree char *err = NULL;
  g_autoptr (DcDomain) left = NULL;
  g_autoptr (DcPool) pool = NULL;
  g_autoptr (DcVol) vol = NULL;
  g_autoptr (JsonObject) o = NULL;
  int status;

  SKIP_WITHOUT_DAEMON ();
  src_uuid = uuid_of (f->src);
  name = g_strdup_printf ("%s-web", f->src);
  vol_name = g_strdup_printf ("%s-partial.raw", name);
  pool = virStoragePoolLookupByName (live_conn, f->pool);
  xml = g_strdup_printf ("<volume><name>%s</name><capacity>1048576</capacity>"
                         "<target><format type='raw'/></target></volume>",
                         vol_name);
  vol = virStorageVolCreateXML (pool, xml, 0);
  g_assert_nonnull (vol);
  left = live_define_bare_domain (name);
  left_uuid = uuid_of (name);
  md = leftover_metadata (f, src_uuid, vol_name);
  set_metadata (name, md);

  {
    const char *args[] = { "--json", "--exist-ok", "--name", name, "@", NULL };

    o = run_json (f, args, &status, &err);
  }
  g_assert_cmpint (status, ==, 0);
  g_assert_true (json_bool (o, "changed"));
  {
    g_autofree char *said = g_strdup_printf ("removed '%s', left unfinished by a killed run", name);

    g_assert_nonnull (strstr (err, said));
  }
  /* a new clone under that name, complete, its data the source's */
  {
    g_autofree char *uuid = uuid_of (name);
    g_autofree char *src_data = live_path_in (f, "data.raw");
    g_autofree char *clone_data_name = g_strdup_printf ("%s-vdb.raw", name);
    g_autofree char *clone_data = live_path_in (f, clone_data_name);
    g_autofree char *sum_src = live_sha256_file (src_data);
    g_autofree char *sum_clone = live_sha256_file (clone_data);
    g_autoptr (DcVol) gone = NULL;

    g_assert_cmpstr (uuid, !=, left_uuid);
    g_assert_cmpstr (json_str (json_object_get_object_member (o, "clone"), "uuid"), ==, uuid);
    g_assert_false (live_has_building_marker (name));
    g_assert_cmpstr (sum_clone, ==, sum_src);
    virStoragePoolRefresh (pool, 0);
    gone = virStorageVolLookupByName (pool, vol_name);
    g_assert_null (gone);
  }
  g_assert_cmpuint (live_counter_of (f->src), ==, 1);
}

/* --- --count -------------------------------------------------------------- */

/* Clone @i of "clones" holds what libvirt says of domain @name: its
 * UUID and MACs; its disks' data is the source's, byte for byte (the
 * raw data disk and the NVRAM as files, the qcow2 by content). Adds its
 * UUID and MACs to @seen, which must not hold them yet. */
static void
assert_counted_clone (const LiveFixture *f, JsonObject *clone, const char *name, GHashTable *seen)
{
  g_autofree char *xml = live_domain_xml (name);
  g_autofree char *macs = macs_of (xml);
  g_autofree char *got_macs = json_macs (clone);
  g_autofree char *uuid = uuid_of (name);
  g_auto (GStrv) mac_list = g_strsplit (g_strstrip (macs), "\n", -1);
  JsonArray *volumes = json_object_get_array_member (clone, "volumes");

  g_assert_cmpstr (json_str (clone, "name"), ==, name);
  g_assert_cmpstr (json_str (clone, "uuid"), ==, uuid);
  g_assert_cmpstr (g_strstrip (got_macs), ==, macs);
  g_assert_false (live_has_building_marker (name));
  g_assert_false (g_hash_table_contains (seen, uuid));
  g_hash_table_add (seen, g_strdup (uuid));
  for (guint i = 0; mac_list[i] != NULL; i++)
    {
      g_assert_false (g_hash_table_contains (seen, mac_list[i]));
      g_hash_table_add (seen, g_strdup (mac_list[i]));
    }
  g_assert_cmpuint (json_array_get_length (volumes), ==, 3);
  for (guint i = 0; i < json_array_get_length (volumes); i++)
    assert_json_volume_is_real (json_array_get_object_element (volumes, i));
  {
    g_autofree char *src_qcow2 = g_strdup_printf ("%s/%s.qcow2", f->dir, f->src);
    g_autofree char *qcow2 = g_strdup_printf ("%s/%s.qcow2", f->dir, name);
    g_autofree char *src_data = live_path_in (f, "data.raw");
    g_autofree char *data_name = g_strdup_printf ("%s-vdb.raw", name);
    g_autofree char *data = live_path_in (f, data_name);
    g_autofree char *src_nvram = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, f->src);
    g_autofree char *nvram = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, name);
    g_autofree char *sum_src_data = live_sha256_file (src_data);
    g_autofree char *sum_data = live_sha256_file (data);
    g_autofree char *sum_src_nvram = live_sha256_file (src_nvram);
    g_autofree char *sum_nvram = live_sha256_file (nvram);
    const char *argv[] = {
      "qemu-img", "compare", "-q", "-f", "qcow2", "-F", "qcow2", src_qcow2, qcow2, NULL
    };

    g_assert_cmpstr (sum_data, ==, sum_src_data);
    g_assert_cmpstr (sum_nvram, ==, sum_src_nvram);
    g_assert_cmpstr (json_str (clone, "nvram"), ==, nvram);
    dc_test_run_ok (argv);
  }
}

/* --count 3: three complete clones, one call, one result */
static void
test_live_count (LiveFixture *f, gconstpointer data)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *src_xml = live_domain_xml (f->src);
  g_autofree char *src_macs = macs_of (src_xml);
  g_autofree char *err = NULL;
  g_autoptr (JsonObject) o = NULL;
  const char *args[] = { "--json", "--count", "3", "@", NULL };
  JsonArray *clones;
  int status;

  SKIP_WITHOUT_DAEMON ();
  g_hash_table_add (seen, uuid_of (f->src));
  g_hash_table_add (seen, g_strdup (g_strstrip (src_macs)));

  o = run_json (f, args, &status, &err);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (err, ==, "");
  g_assert_true (json_bool (o, "changed"));
  g_assert_false (json_object_has_member (o, "clone"));
  g_assert_false (json_object_has_member (o, "error"));
  g_assert_cmpstr (json_str (json_object_get_object_member (o, "source"), "name"), ==, f->src);
  g_assert_cmpint (json_int (json_object_get_object_member (o, "source"), "counter"), ==, 3);
  g_assert_cmpuint (live_counter_of (f->src), ==, 3);
  clones = json_object_get_array_member (o, "clones");
  g_assert_cmpuint (json_array_get_length (clones), ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s-clone%u", f->src, i + 1);

      assert_counted_clone (f, json_array_get_object_element (clones, i), name, seen);
    }
  /* nothing else: no temporary pool left, no fourth domain */
  {
    g_autofree char *snapshot = live_snapshot ();
    g_autofree char *fourth = g_strdup_printf ("%s-clone4", f->src);

    g_assert_null (strstr (snapshot, "domclone-"));
    g_assert_false (live_domain_exists (fourth));
  }

  /* as text: one line for all; --count 1 is one clone */
  {
    g_autofree char *out = NULL;
    g_autofree char *want =
      g_strdup_printf ("Cloned from %s to %s-clone4, %s-clone5.\n", f->src, f->src, f->src);

    g_clear_pointer (&err, g_free);
    status = dc_test_domclone (&out, &err, "--count", "2", f->src, NULL);
    g_assert_cmpint (status, ==, 0);
    g_assert_cmpstr (out, ==, want);
    g_assert_cmpstr (err, ==, "");
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
    g_free (want);
    want = g_strdup_printf ("Cloned from %s to %s-clone6.\n", f->src, f->src);
    status = dc_test_domclone (&out, &err, "--count", "1", f->src, NULL);
    g_assert_cmpint (status, ==, 0);
    g_assert_cmpstr (out, ==, want);
  }
  g_assert_cmpuint (live_counter_of (f->src), ==, 6);
}

/* A clone of the series that cannot be made: the ones before it stay,
 * complete; nothing of it is left; the error and the JSON say which
 * clones exist. Here a volume is in the way of the second clone's. */
static void
test_live_count_stops (LiveFixture *f, gconstpointer data)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *in_the_way = g_strdup_printf ("%s/%s-clone2.qcow2", f->dir, f->src);
  g_autofree char *clone1 = g_strdup_printf ("%s-clone1", f->src);
  g_autofree char *clone2 = g_strdup_printf ("%s-clone2", f->src);
  g_autofree char *kept = g_strdup_printf ("; %s was made and is kept\n", clone1);
  g_autofree char *err = NULL;
  g_autofree char *before = NULL;
  g_autoptr (JsonObject) o = NULL;
  const char *args[] = { "--json", "--count", "3", "@", NULL };
  JsonArray *clones;
  JsonObject *e;
  int status;

  SKIP_WITHOUT_DAEMON ();
  g_assert_true (g_file_set_contents (in_the_way, "precious", -1, NULL));
  o = run_json (f, args, &status, &err);
  g_assert_cmpint (status, ==, 1);
  g_assert_true (g_str_has_suffix (err, kept));
  g_assert_nonnull (strstr (err, "already exists in pool"));
  g_assert_true (json_bool (o, "changed"));
  e = json_object_get_object_member (o, "error");
  g_assert_cmpstr (json_str (e, "code"), ==, "volume-exists");
  {
    g_autofree char *line = g_strdup_printf ("domclone: %s\n", json_str (e, "message"));

    g_assert_cmpstr (line, ==, err);
  }
  g_assert_cmpint (json_int (json_object_get_object_member (o, "source"), "counter"), ==, 1);
  clones = json_object_get_array_member (o, "clones");
  g_assert_cmpuint (json_array_get_length (clones), ==, 1);
  assert_counted_clone (f, json_array_get_object_element (clones, 0), clone1, seen);
  g_assert_false (live_domain_exists (clone2));
  g_assert_cmpuint (live_counter_of (f->src), ==, 1);
  {
    g_autofree char *text = NULL;

    g_assert_true (g_file_get_contents (in_the_way, &text, NULL, NULL));
    g_assert_cmpstr (text, ==, "precious");
  }

  /* failing at the first clone: nothing made, nothing changed */
  before = live_snapshot ();
  {
    g_autofree char *err2 = NULL;
    g_autoptr (JsonObject) o2 = NULL;

    o2 = run_json (f, args, &status, &err2);
    g_assert_cmpint (status, ==, 1);
    g_assert_false (json_bool (o2, "changed"));
    g_assert_false (json_object_has_member (o2, "source"));
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o2, "clones")), ==, 0);
    g_assert_null (strstr (err2, "kept"));
  }
  {
    g_autofree char *after = live_snapshot ();

    g_assert_cmpstr (after, ==, before);
  }
  g_assert_cmpuint (live_counter_of (f->src), ==, 1);
  g_unlink (in_the_way);
}

/* A failure half-way through the copies of the second clone: its
 * volumes already copied are removed, its domain undefined; the first
 * stays. The source's third disk sits on a tmpfs with room for one copy
 * of it only. Root only (mount). */
static void
test_live_count_rollback (LiveFixture *f, gconstpointer data)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *small = NULL;
  g_autofree char *small_pool = NULL;
  g_autofree char *big = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *err = NULL;
  g_autofree char *clone1 = g_strdup_printf ("%s-clone1", f->src);
  g_autofree char *clone2 = g_strdup_printf ("%s-clone2", f->src);
  g_autofree char *expect = NULL;
  g_autoptr (DcDomain) src = NULL;
  g_autoptr (JsonObject) o = NULL;
  const char *args[] = { "--json", "--count", "3", "@", NULL };
  const gsize offsets[] = { 0, MiB, 2 * MiB, 3 * MiB, 4 * MiB, 5 * MiB, 6 * MiB, 7 * MiB, 8 * MiB, 9 * MiB };
  JsonArray *clones;
  int status;

  SKIP_WITHOUT_DAEMON ();
  /* 10 MiB of data on a 24 MiB tmpfs: the source and one copy fit */
  small = live_small_pool (f, 24, &small_pool);
  if (small == NULL)
    return;
  big = g_build_filename (small, "big.raw", NULL);
  live_write_pattern (big, 12 * MiB, offsets, G_N_ELEMENTS (offsets), 78);
  src = virDomainLookupByName (live_conn, f->src);
  xml = g_strdup_printf ("<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                         "<source file='%s'/><target dev='vdd' bus='virtio'/></disk>",
                         big);
  g_assert_cmpint (virDomainAttachDeviceFlags (src, xml, VIR_DOMAIN_AFFECT_CONFIG), ==, 0);

  o = run_json (f, args, &status, &err);
  g_assert_cmpint (status, ==, 1);
  expect =
    g_strdup_printf ("everything made for '%s' was removed; %s was made and is kept\n", clone2, clone1);
  g_assert_true (g_str_has_suffix (err, expect));
  g_assert_nonnull (strstr (err, "cannot clone disk 'vdd'"));
  g_assert_true (json_bool (o, "changed"));
  clones = json_object_get_array_member (o, "clones");
  g_assert_cmpuint (json_array_get_length (clones), ==, 1);
  g_assert_cmpstr (json_str (json_array_get_object_element (clones, 0), "name"), ==, clone1);
  g_assert_cmpuint (json_array_get_length (
                      json_object_get_array_member (json_array_get_object_element (clones, 0), "volumes")),
                    ==, 4);

  /* the first clone, complete; of the second, nothing */
  g_assert_true (live_domain_exists (clone1));
  g_assert_false (live_has_building_marker (clone1));
  g_assert_false (live_domain_exists (clone2));
  g_assert_cmpuint (live_counter_of (f->src), ==, 1);
  {
    g_autofree char *snapshot = live_snapshot ();
    g_autofree char *vol1 = g_strdup_printf ("volume %s/%s.qcow2\n", f->pool, clone1);
    g_autofree char *big1 = g_strdup_printf ("volume %s/%s-vdd.raw\n", small_pool, clone1);

    g_test_message ("%s", snapshot);
    g_assert_nonnull (strstr (snapshot, vol1));
    g_assert_nonnull (strstr (snapshot, big1));
    g_assert_null (strstr (snapshot, clone2));
    g_assert_null (strstr (snapshot, "domclone-"));
  }
  {
    g_autofree char *nvram2 = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, clone2);
    g_autofree char *big1 = g_strdup_printf ("%s/%s-vdd.raw", small, clone1);
    g_autofree char *sum = live_sha256_file (big);
    g_autofree char *sum1 = live_sha256_file (big1);

    g_assert_false (g_file_test (nvram2, G_FILE_TEST_EXISTS));
    g_assert_cmpstr (sum1, ==, sum);
  }

  live_small_pool_remove (small_pool, small);
}

int
main (int argc, char **argv)
{
  int ret;

  /* before the connection is opened, for its events */
  virEventRegisterDefaultImpl ();
  live_init (&argc, &argv);
  events = g_ptr_array_new_with_free_func (g_free);
  if (live_conn != NULL)
    {
      events_callback =
        virConnectStoragePoolEventRegisterAny (live_conn, NULL, VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE,
                                               VIR_STORAGE_POOL_EVENT_CALLBACK (on_pool_event), NULL, NULL);
      g_assert_cmpint (events_callback, >=, 0);
      g_thread_unref (g_thread_new ("events", event_loop, NULL));
    }
  LIVE_TEST ("/live/auto/print-xml/changes-nothing", test_live_print_xml);
  LIVE_TEST ("/live/auto/print-xml/refusals", test_live_print_xml_refusals);
  LIVE_TEST ("/live/auto/print-xml/tpm-efi", test_live_print_xml_tpm_efi);
  LIVE_TEST ("/live/auto/json/clone", test_live_json_clone);
  LIVE_TEST ("/live/auto/json/failures", test_live_json_failures);
  LIVE_TEST ("/live/auto/json/cleanup", test_live_json_cleanup);
  LIVE_TEST ("/live/auto/exist-ok/rerun", test_live_exist_ok);
  LIVE_TEST ("/live/auto/exist-ok/refusals", test_live_exist_ok_refusals);
  LIVE_TEST ("/live/auto/exist-ok/leftover", test_live_exist_ok_leftover);
  LIVE_TEST ("/live/auto/count/three", test_live_count);
  LIVE_TEST ("/live/auto/count/stops", test_live_count_stops);
  LIVE_TEST ("/live/auto/count/rollback", test_live_count_rollback);
  ret = g_test_run ();
  if (live_conn != NULL)
    {
      virConnectStoragePoolEventDeregisterAny (live_conn, events_callback);
      virConnectClose (live_conn);
      live_conn = NULL;
    }
  return ret;
}
