/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live tests, automation: --json against a private libvirtd (see
 * live-fixture.c). The JSON objects are parsed (never grepped) and held
 * against libvirt's own view of the clone.
 */
#include "config.h"

#include <sys/wait.h>

#include "dc-test-assert.h"
#include "live-auto.h"

#include "dc-metadata.h"
#include "dc-volinfo.h"
#include "dc-xml.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- --json --------------------------------------------------------------- */

/* --print-xml --json: the plan of the clone @name, as one object, which
 * changes nothing. Returns the object. */
static JsonObject *
json_plan_of (const LiveFixture *f, const char *name)
{
  const char *args[] = { "--json", "--print-xml", "--name", name, "@", NULL };
  g_autofree char *before = live_snapshot ();
  g_autofree char *after = NULL;
  g_autofree char *xml_name = NULL;
  g_autofree char *xml_uuid = NULL;
  g_autofree char *macs = NULL;
  g_autofree char *got_macs = NULL;
  g_autofree char *err = NULL;
  g_autofree char *seen = events_take ();
  g_autoptr (JsonObject) planned = NULL;
  JsonObject *clone;
  JsonArray *planned_volumes;
  Xml x = { 0 };
  int status;

  planned = live_run_json (f, args, &status, &err);
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
  macs = macs_of (json_str (planned, "xml"));
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
  return g_steal_pointer (&planned);
}

/* Every volume of @clone (JSON) was made, as libvirt sees it, is the
 * one its disk in @clone_xml names (the NVRAM's, its <nvram>), and is
 * the one @planned_volumes, the dry run's, said. */
static void
assert_json_volumes_as_planned (JsonObject *clone, const char *clone_xml, JsonArray *planned_volumes)
{
  JsonArray *volumes = json_object_get_array_member (clone, "volumes");
  Xml x = { 0 };

  g_assert_cmpuint (json_array_get_length (volumes), ==, 3);
  xml_parse (&x, clone_xml);
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
}

/* The fixture's three volumes in @volumes, in order: vda (qcow2, in the
 * fixture's pool), vdb (raw, sparse), the NVRAM (no disk, no pool). */
static void
assert_json_fixture_volumes (const LiveFixture *f, JsonArray *volumes)
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

static void
test_live_json_clone (LiveFixture *f, gconstpointer data)
{
  const char *args[] = { "--json", "--name", NULL, "@", NULL };
  g_autofree char *name = g_strdup_printf ("%s-json", f->src);
  g_autofree char *err = NULL;
  g_autofree char *src_uuid = NULL;
  g_autofree char *clone_xml = NULL;
  g_autofree char *macs = NULL;
  g_autofree char *got_macs = NULL;
  g_autofree char *snapshot = NULL;
  g_autoptr (JsonObject) o = NULL;
  g_autoptr (JsonObject) planned = NULL;
  JsonObject *source, *clone;
  int status;
  Xml x = { 0 };

  SKIP_WITHOUT_DAEMON ();
  src_uuid = uuid_of (f->src);
  planned = json_plan_of (f, name);

  /* the clone, as one object */
  args[2] = name;
  o = live_run_json (f, args, &status, &err);
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
  xml_clear (&x);
  macs = macs_of (clone_xml);
  got_macs = json_macs (clone);
  g_assert_cmpstr (got_macs, ==, macs);
  g_assert_cmpstr (got_macs, !=, "52:54:00:00:00:01\n");

  assert_json_volumes_as_planned (
    clone, clone_xml,
    json_object_get_array_member (json_object_get_object_member (planned, "clone"), "volumes"));
  assert_json_fixture_volumes (f, json_object_get_array_member (clone, "volumes"));
  /* the temporary pool over the NVRAM's directory is gone */
  snapshot = live_snapshot ();
  dc_assert_not_contains (snapshot, "domclone-");
}

typedef struct
{
  const char *label;
  const char *args[6];
  int status;
  const char *code;
} JsonFailure;

/* Longer than 60 lines: one scenario, each step starting from what the
 * step before left; it reads best in that order. */
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
        o = live_run_json (f, cases[i].args, &status, &err);
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
    o = live_run_json (f, args, &status, &err);
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
    o = live_run_json (f, args, &status, &err);
    g_assert_cmpint (status, ==, 1);
    assert_json_error (o, err, "source-running");
    virDomainDestroy (dom);
  }
  after = live_snapshot ();
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpuint (live_counter_of (f->src), ==, 0);
}

/* Longer than 60 lines: one scenario, each step starting from what the
 * step before left; it reads best in that order. */
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
    g_autoptr (JsonObject) o = live_run_json (f, args, &status, &err);
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
    g_autoptr (JsonObject) o = live_run_json (f, args, &status, &err);

    g_assert_cmpint (status, ==, 0);
    g_assert_false (json_bool (o, "changed"));
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "removed")), ==, 0);
  }
}

int
main (int argc, char **argv)
{
  live_auto_init (&argc, &argv);
  LIVE_TEST ("/live/auto/json/clone", test_live_json_clone);
  LIVE_TEST ("/live/auto/json/failures", test_live_json_failures);
  LIVE_TEST ("/live/auto/json/cleanup", test_live_json_cleanup);
  return live_auto_run ();
}
