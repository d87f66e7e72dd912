/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live tests, automation: --count against a private libvirtd (see
 * live-fixture.c): a series of clones in one call, one result, and what
 * a failure half-way leaves.
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

/* Nothing beyond the batch's @n clones: no temporary pool left, no
 * clone numbered @n + 1. */
static void
assert_nothing_past (const LiveFixture *f, guint n)
{
  g_autofree char *snapshot = live_snapshot ();
  g_autofree char *next = g_strdup_printf ("%s-clone%u", f->src, n + 1);

  dc_assert_not_contains (snapshot, "domclone-");
  g_assert_false (live_domain_exists (next));
}

/* --count 3: three complete clones, one call, one result
 *
 * Longer than 60 lines: one scenario, each step starting from what the
 * step before left; it reads best in that order.
 */
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

  o = live_run_json (f, args, &status, &err);
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
  assert_nothing_past (f, 3);

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
 * clones exist. Here a volume is in the way of the second clone's.
 *
 * Longer than 60 lines: one scenario, each step starting from what the
 * step before left; it reads best in that order.
 */
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
  o = live_run_json (f, args, &status, &err);
  g_assert_cmpint (status, ==, 1);
  g_assert_true (g_str_has_suffix (err, kept));
  dc_assert_contains (err, "already exists in pool");
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

    o2 = live_run_json (f, args, &status, &err2);
    g_assert_cmpint (status, ==, 1);
    g_assert_false (json_bool (o2, "changed"));
    g_assert_false (json_object_has_member (o2, "source"));
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o2, "clones")), ==, 0);
    dc_assert_not_contains (err2, "kept");
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
 * of it only. Root only (mount). With -j 1, the clones are made one
 * after another, so the second is the one that runs out of room.
 *
 * Longer than 60 lines: one scenario, each step starting from what the
 * step before left; it reads best in that order.
 */
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
  const char *args[] = { "--json", "-j", "1", "--count", "3", "@", NULL };
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

  o = live_run_json (f, args, &status, &err);
  g_assert_cmpint (status, ==, 1);
  expect =
    g_strdup_printf ("everything made for '%s' was removed; %s was made and is kept\n", clone2, clone1);
  g_assert_true (g_str_has_suffix (err, expect));
  dc_assert_contains (err, "cannot clone disk 'vdd'");
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
    dc_assert_contains (snapshot, vol1);
    dc_assert_contains (snapshot, big1);
    dc_assert_not_contains (snapshot, clone2);
    dc_assert_not_contains (snapshot, "domclone-");
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

/* --- clones made at once ---------------------------------------------------- */

#define FENCE_URI "http://domclone.org/xmlns/test-fence/1"

/* The changes of the metadata of one domain, as the daemon reports
 * them: domclone's (the source's counter), and a fence written after. */
typedef struct
{
  GMutex lock;
  GCond cond;
  guint ours;
  gboolean fenced;
  int id;
} MetaEvents;

static void
on_metadata_change (virConnectPtr conn, virDomainPtr dom, int type, const char *nsuri, void *opaque)
{
  MetaEvents *m = opaque;

  g_mutex_lock (&m->lock);
  if (g_strcmp0 (nsuri, DC_METADATA_URI) == 0)
    m->ours++;
  else if (g_strcmp0 (nsuri, FENCE_URI) == 0)
    m->fenced = TRUE;
  g_cond_broadcast (&m->cond);
  g_mutex_unlock (&m->lock);
}

static void
meta_events_watch (MetaEvents *m, const char *name)
{
  g_autoptr (DcDomain) dom = virDomainLookupByName (live_conn, name);

  g_assert_nonnull (dom);
  g_mutex_init (&m->lock);
  g_cond_init (&m->cond);
  m->id = virConnectDomainEventRegisterAny (live_conn, dom, VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
                                            VIR_DOMAIN_EVENT_CALLBACK (on_metadata_change), m, NULL);
  g_assert_cmpint (m->id, >=, 0);
}

/* How often domclone's metadata of @name changed since
 * meta_events_watch(): the daemon sends events in order, so once the
 * fence written here arrives, every change before it has. */
static guint
meta_events_take (MetaEvents *m, const char *name)
{
  g_autoptr (DcDomain) dom = virDomainLookupByName (live_conn, name);
  gint64 deadline = g_get_monotonic_time () + 30 * G_TIME_SPAN_SECOND;
  guint ours;

  g_assert_cmpint (virDomainSetMetadata (dom, VIR_DOMAIN_METADATA_ELEMENT, "<fence/>", "fence", FENCE_URI,
                                         VIR_DOMAIN_AFFECT_CONFIG),
                   ==, 0);
  g_mutex_lock (&m->lock);
  while (!m->fenced)
    if (!g_cond_wait_until (&m->cond, &m->lock, deadline))
      g_error ("the metadata events of '%s' did not arrive", name);
  ours = m->ours;
  g_mutex_unlock (&m->lock);
  g_assert_cmpint (virConnectDomainEventDeregisterAny (live_conn, m->id), ==, 0);
  g_mutex_clear (&m->lock);
  g_cond_clear (&m->cond);
  return ours;
}

static void
make_template_ok (const LiveFixture *f)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = dc_test_domclone (&out, &err, "--make-template", f->src, NULL);

  g_test_message ("make-template: exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 0);
}

/* Clone @name of the batch in @clone (its JSON) is a complete linked
 * clone of the template: its overlays read as the template's disks, byte
 * for byte, its NVRAM is a copy; its UUID and MACs are in no other
 * domain's (@seen, to which they are added). */
static void
assert_linked_clone (const LiveFixture *f, JsonObject *clone, const char *name, GHashTable *seen)
{
  g_autofree char *base = g_strdup_printf ("%s/%s.qcow2", f->dir, f->src);
  g_autofree char *ovl = g_strdup_printf ("%s/%s.qcow2", f->dir, name);
  g_autofree char *base_data = live_path_in (f, "data.raw");
  g_autofree char *ovl_data = g_strdup_printf ("%s/%s-vdb.qcow2", f->dir, name);
  g_autofree char *src_nvram = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, f->src);
  g_autofree char *nvram = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, name);
  g_autofree char *sum_src_nvram = live_sha256_file (src_nvram);
  g_autofree char *sum_nvram = live_sha256_file (nvram);
  g_autofree char *uuid = uuid_of (name);
  g_autofree char *xml = live_domain_xml (name);
  g_autofree char *macs = macs_of (xml);
  g_auto (GStrv) mac_list = g_strsplit (g_strstrip (macs), "\n", -1);
  const char *sys[] = { "qemu-img", "compare", "-q", "-f", "qcow2", "-F", "qcow2", ovl, base, NULL };
  const char *data[] = { "qemu-img", "compare", "-q", "-f", "qcow2", "-F", "raw", ovl_data, base_data, NULL };

  g_assert_cmpstr (json_str (clone, "name"), ==, name);
  g_assert_cmpstr (json_str (clone, "uuid"), ==, uuid);
  g_assert_true (json_bool (clone, "linked"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (clone, "volumes")), ==, 3);
  g_assert_false (live_has_building_marker (name));
  dc_test_run_ok (sys);
  dc_test_run_ok (data);
  g_assert_cmpstr (sum_nvram, ==, sum_src_nvram);
  g_assert_false (g_hash_table_contains (seen, uuid));
  g_hash_table_add (seen, g_steal_pointer (&uuid));
  for (guint i = 0; mac_list[i] != NULL; i++)
    {
      g_assert_false (g_hash_table_contains (seen, mac_list[i]));
      g_hash_table_add (seen, g_strdup (mac_list[i]));
    }
}

/* --linked --count 6 of a template: more clones than are made at once.
 * The names are consecutive and listed in order, every clone is
 * complete and right, and the source's counter is written once, for all
 * of them (as the daemon's metadata events show). */
static void
test_live_count_parallel (LiveFixture *f, gconstpointer data)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *err = NULL;
  g_autoptr (JsonObject) o = NULL;
  const char *args[] = { "--json", "--linked", "--count", "6", "@", NULL };
  MetaEvents m = { 0 };
  JsonArray *clones;
  int status;

  SKIP_WITHOUT_DAEMON ();
  make_template_ok (f);
  meta_events_watch (&m, f->src);
  o = live_run_json (f, args, &status, &err);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (err, ==, "");
  g_assert_cmpuint (meta_events_take (&m, f->src), ==, 1);
  g_assert_cmpint (json_int (json_object_get_object_member (o, "source"), "counter"), ==, 6);
  g_assert_cmpuint (live_counter_of (f->src), ==, 6);
  clones = json_object_get_array_member (o, "clones");
  g_assert_cmpuint (json_array_get_length (clones), ==, 6);
  for (guint i = 0; i < 6; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s-clone%u", f->src, i + 1);

      assert_linked_clone (f, json_array_get_object_element (clones, i), name, seen);
    }
  assert_nothing_past (f, 6);
}

/* A clone in the middle of a batch made several at once cannot be made
 * (a volume is in the way of the third's): what stays is what a batch
 * made one clone after another leaves. The clones before it are kept,
 * complete, counted once; of the third and of every clone after it
 * (started meanwhile or not) nothing is left; the volume in the way is
 * untouched.
 *
 * Longer than 60 lines: one scenario, each step starting from what the
 * step before left; it reads best in that order.
 */
static void
test_live_count_parallel_stops (LiveFixture *f, gconstpointer data)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *in_the_way = g_strdup_printf ("%s/%s-clone3.qcow2", f->dir, f->src);
  g_autofree char *kept =
    g_strdup_printf ("; %s-clone1 and %s-clone2 were made and are kept\n", f->src, f->src);
  g_autofree char *err = NULL;
  g_autofree char *text = NULL;
  g_autoptr (JsonObject) o = NULL;
  const char *args[] = { "--json", "--linked", "--count", "6", "@", NULL };
  MetaEvents m = { 0 };
  JsonArray *clones;
  int status;

  SKIP_WITHOUT_DAEMON ();
  make_template_ok (f);
  g_assert_true (g_file_set_contents (in_the_way, "precious", -1, NULL));
  meta_events_watch (&m, f->src);
  o = live_run_json (f, args, &status, &err);
  g_assert_cmpint (status, ==, 1);
  g_assert_true (g_str_has_suffix (err, kept));
  dc_assert_contains (err, "already exists in pool");
  g_assert_cmpuint (meta_events_take (&m, f->src), ==, 1);
  g_assert_cmpint (json_int (json_object_get_object_member (o, "source"), "counter"), ==, 2);
  g_assert_cmpuint (live_counter_of (f->src), ==, 2);
  clones = json_object_get_array_member (o, "clones");
  g_assert_cmpuint (json_array_get_length (clones), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s-clone%u", f->src, i + 1);

      assert_linked_clone (f, json_array_get_object_element (clones, i), name, seen);
    }
  /* of the third on, nothing: no domain, volume or NVRAM */
  {
    g_autofree char *snapshot = live_snapshot ();

    g_test_message ("%s", snapshot);
    dc_assert_not_contains (snapshot, "domclone-");
    for (guint n = 3; n <= 6; n++)
      {
        g_autofree char *name = g_strdup_printf ("%s-clone%u", f->src, n);
        g_autofree char *data_vol = g_strdup_printf ("%s-vdb.qcow2", name);
        g_autofree char *nvram = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, name);

        g_assert_false (live_domain_exists (name));
        dc_assert_not_contains (snapshot, data_vol);
        g_assert_false (g_file_test (nvram, G_FILE_TEST_EXISTS));
        if (n > 3)
          dc_assert_not_contains (snapshot, name);
      }
  }
  g_assert_true (g_file_get_contents (in_the_way, &text, NULL, NULL));
  g_assert_cmpstr (text, ==, "precious");
  g_unlink (in_the_way);
}

int
main (int argc, char **argv)
{
  live_auto_init (&argc, &argv);
  LIVE_TEST ("/live/auto/count/three", test_live_count);
  LIVE_TEST ("/live/auto/count/stops", test_live_count_stops);
  LIVE_TEST ("/live/auto/count/rollback", test_live_count_rollback);
  LIVE_TEST ("/live/auto/count/parallel", test_live_count_parallel);
  LIVE_TEST ("/live/auto/count/parallel-stops", test_live_count_parallel_stops);
  return live_auto_run ();
}
