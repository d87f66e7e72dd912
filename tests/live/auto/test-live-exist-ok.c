/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live tests, automation: --exist-ok against a private libvirtd (see
 * live-fixture.c): a rerun finds its clone and changes nothing, what is
 * not its clone is refused, and a killed run's leftover is replaced.
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

/* --- --exist-ok ----------------------------------------------------------- */

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
 * as text, as JSON, with --print-xml, and with the source running.
 *
 * Longer than 60 lines: one scenario, each step starting from what the
 * step before left; it reads best in that order.
 */
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
    g_autoptr (JsonObject) o = live_run_json (f, args, &status, &err);

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
    g_autoptr (JsonObject) o = live_run_json (f, args, &status, &err);
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
    o = live_run_json (f, args, &status, &err);
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
    g_autoptr (JsonObject) o = live_run_json (f, args, &status, &err);

    g_assert_cmpint (status, ==, 1);
    assert_json_error (o, err, "name-taken");
  }
}

/* What --exist-ok does not take for its clone: a domain of another
 * origin or none, and one that a live run is still building. Each is an
 * error that changes nothing.
 *
 * Longer than 60 lines: one scenario, each step starting from what the
 * step before left; it reads best in that order.
 */
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
        g_autoptr (JsonObject) o = live_run_json (f, args, &status, &err);
        g_autoptr (JsonObject) p = NULL;

        g_test_message ("%s", cases[i].name);
        g_assert_cmpint (status, ==, 1);
        assert_json_error (o, err, cases[i].code);
        dc_assert_contains (err, cases[i].part);
        p = live_run_json (f, dry, &status, &dry_err);
        g_assert_cmpint (status, ==, 1);
        g_assert_cmpstr (dry_err, ==, err);
      }
  }
  {
    /* the origin is compared by UUID: without the source, no answer */
    const char *args[] = { "--json", "--exist-ok", "--name", bare, "no-such-vm", NULL };
    g_autofree char *err = NULL;
    g_autoptr (JsonObject) o = live_run_json (f, args, &status, &err);

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
 * made: --exist-ok says "changed".
 *
 * Longer than 60 lines: one scenario, each step starting from what the
 * step before left; it reads best in that order.
 */
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

    o = live_run_json (f, args, &status, &err);
  }
  g_assert_cmpint (status, ==, 0);
  g_assert_true (json_bool (o, "changed"));
  {
    g_autofree char *said = g_strdup_printf ("removed '%s', left unfinished by a killed run", name);

    dc_assert_contains (err, said);
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

int
main (int argc, char **argv)
{
  live_auto_init (&argc, &argv);
  LIVE_TEST ("/live/auto/exist-ok/rerun", test_live_exist_ok);
  LIVE_TEST ("/live/auto/exist-ok/refusals", test_live_exist_ok_refusals);
  LIVE_TEST ("/live/auto/exist-ok/leftover", test_live_exist_ok_leftover);
  return live_auto_run ();
}
