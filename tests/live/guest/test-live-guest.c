/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live tests seen from inside: a tiny guest (tests/lib/live-guest.h) boots from
 * the source and from its clones and says what it sees: a clone has its
 * own MAC address and SMBIOS identity, sees the source's data, and what it
 * writes stays its own.
 *
 * A clone's own cloud-init seed is seen from inside too, and linked
 * clones of a template (--make-template, --linked) are tested the same
 * way.
 */
#include "config.h"

#include "live-guest.h"

#include <string.h>

/* "ds=nocloud;i=<name>-iid;h=<name>": the SMBIOS serial the fixture gives
 * its source, as a clone named @name must have it. The test names are
 * host names already. */
static char *
nocloud_serial_of (const char *name)
{
  return g_strdup_printf ("ds=nocloud;i=%s-iid;h=%s", name, name);
}

/* The guest of domain @name saw @name's own MAC address, SMBIOS UUID and
 * SMBIOS serial. */
static void
assert_identity (GHashTable *facts, const char *name)
{
  g_autofree char *mac = live_guest_mac_of (name);
  g_autofree char *uuid = live_guest_uuid_of (name);
  g_autofree char *seen_uuid = g_ascii_strdown (live_guest_fact (facts, "uuid"), -1);
  g_autofree char *serial = nocloud_serial_of (name);

  g_test_message ("%s: MAC %s, UUID %s", name, mac, uuid);
  g_assert_cmpstr (live_guest_fact (facts, "mac"), ==, mac);
  g_assert_cmpstr (seen_uuid, ==, uuid);
  g_assert_cmpstr (live_guest_fact (facts, "serial"), ==, serial);
}

/* Two guests told apart: MAC, UUID and the marker each wrote differ. */
static void
assert_distinct (GHashTable *a, GHashTable *b)
{
  g_assert_cmpstr (live_guest_fact (a, "mac"), !=, live_guest_fact (b, "mac"));
  g_assert_cmpstr (live_guest_fact (a, "uuid"), !=, live_guest_fact (b, "uuid"));
  g_assert_cmpstr (live_guest_fact (a, "marker-written"), !=, live_guest_fact (b, "marker-written"));
}

/* A boot wrote its marker, and it is not one that is there already. */
static const char *
marker_written (GHashTable *facts)
{
  const char *mark = live_guest_fact (facts, "marker-written");

  g_assert_true (g_str_has_prefix (mark, "DOMCLONE-MARK "));
  g_assert_cmpstr (mark, !=, live_guest_fact (facts, "marker-before"));
  return mark;
}

static void
clone_ok (const char *const *args)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = dc_test_domclone_argv (args, &out, &err);

  if (status != 0)
    g_error ("domclone %s failed (%d): %s", args[0], status, err);
  g_assert_cmpstr (err, ==, "");
}

/* The clone's cloud-init seed, seen from inside @clone: its own
 * instance-id (the source's with the clone's name, or the clone's UUID, as
 * the SMBIOS identity gets it), host name and MAC address. */
static void
assert_seed (const LiveGuest *g, GHashTable *facts, const char *clone)
{
  g_autofree char *source_iid = g_strdup_printf ("iid-%s", g->src);
  g_autofree char *renamed_iid = g_strdup_printf ("iid-%s", clone);
  g_autofree char *uuid = live_guest_uuid_of (clone);
  g_autofree char *mac = live_guest_mac_of (clone);
  const char *iid = live_guest_fact (facts, "seed-instance-id");

  g_test_message ("%s: seed instance-id %s", clone, iid);
  g_assert_cmpstr (iid, !=, source_iid);
  g_assert_true (g_str_equal (iid, renamed_iid) || g_ascii_strcasecmp (iid, uuid) == 0);
  g_assert_cmpstr (live_guest_fact (facts, "seed-local-hostname"), ==, clone);
  g_assert_cmpstr (live_guest_fact (facts, "seed-mac"), ==, mac);
}

/* Whether @clone got a seed of its own rather than the source's. */
static gboolean
has_own_seed (const LiveGuest *g, const char *clone)
{
  g_autofree char *seed = live_guest_seed_of (clone);

  g_assert_nonnull (seed);
  return !g_str_equal (seed, g->seed_path) && !g_str_has_suffix (g->seed_path, seed);
}

/* Boot the source, clone it, boot the clone: the clone has its own
 * identity, sees the source's data as the source left it, and what it
 * writes stays out of the source's disk. */
static void
test_guest_full (LiveGuest *g, gconstpointer data)
{
  g_autofree char *clone = NULL;
  g_autofree char *on_disk = NULL;
  g_autoptr (GHashTable) src_facts = NULL;
  g_autoptr (GHashTable) clone_facts = NULL;
  const char *src_mark;

  SKIP_WITHOUT_GUEST (g);
  clone = g_strdup_printf ("%s-copy", g->src);

  /* the source, as the facts of the clone are compared with it; what it
   * writes is in the disk the clone is copied from */
  src_facts = live_guest_boot (g->src);
  assert_identity (src_facts, g->src);
  g_assert_cmpstr (live_guest_fact (src_facts, "mac"), ==, g->mac);
  g_assert_cmpstr (live_guest_fact (src_facts, "data"), ==, g->data);
  g_assert_cmpstr (live_guest_fact (src_facts, "marker-before"), ==, LIVE_GUEST_FIRST_MARK);
  src_mark = marker_written (src_facts);

  {
    const char *args[] = { "--name", clone, g->src, NULL };
    clone_ok (args);
  }
  clone_facts = live_guest_boot (clone);

  /* its own identity: what its definition says, not the source's */
  assert_identity (clone_facts, clone);
  assert_distinct (clone_facts, src_facts);
  /* the source's data, with what the source's guest wrote */
  g_assert_cmpstr (live_guest_fact (clone_facts, "data"), ==, g->data);
  g_assert_cmpstr (live_guest_fact (clone_facts, "marker-before"), ==, src_mark);
  marker_written (clone_facts);

  /* what the clone wrote is not in the source's disk, which still holds
   * what the source wrote */
  on_disk = live_guest_read_line (g->data_path, LIVE_GUEST_MARK_OFFSET);
  g_assert_cmpstr (on_disk, ==, src_mark);
  g_assert_cmpstr (on_disk, !=, live_guest_fact (clone_facts, "marker-written"));
}

/* A clone's cloud-init seed is its own, seen from inside the clone; the
 * source's is left as it was. */
static void
test_guest_seed (LiveGuest *g, gconstpointer data)
{
  g_autofree char *clone = NULL;
  g_autofree char *seed_sum = NULL;
  g_autofree char *seed_sum_after = NULL;
  g_autoptr (GHashTable) facts = NULL;

  SKIP_WITHOUT_GUEST (g);
  clone = g_strdup_printf ("%s-seeded", g->src);
  seed_sum = live_sha256_file (g->seed_path);
  {
    const char *args[] = { "--name", clone, g->src, NULL };
    clone_ok (args);
  }
  g_assert_true (has_own_seed (g, clone));
  facts = live_guest_boot (clone);
  assert_identity (facts, clone);
  assert_seed (g, facts, clone);
  seed_sum_after = live_sha256_file (g->seed_path);
  g_assert_cmpstr (seed_sum_after, ==, seed_sum);
}

/* Two linked clones of a template: each its own identity, both see the
 * template's data; what one writes is seen neither by the template nor
 * by the other, and stays in its own disk across boots.
 *
 * Longer than 60 lines: one scenario, each step starting from what the
 * step before left; it reads best in that order.
 */
static void
test_guest_linked (LiveGuest *g, gconstpointer data)
{
  g_autofree char *l1 = NULL;
  g_autofree char *l2 = NULL;
  g_autofree char *data_on_disk = NULL;
  g_autofree char *mark_on_disk = NULL;
  g_autoptr (GPtrArray) round1 = NULL;
  g_autoptr (GPtrArray) round2 = NULL;
  const char *names[3];

  SKIP_WITHOUT_GUEST (g);
  g_assert_true (live_guest_domclone_has_option ("--make-template"));
  g_assert_true (live_guest_domclone_has_option ("--linked"));
  l1 = g_strdup_printf ("%s-l1", g->src);
  l2 = g_strdup_printf ("%s-l2", g->src);
  {
    const char *args[] = { "--make-template", g->src, NULL };
    clone_ok (args);
  }
  {
    const char *args[] = { "--linked", "--name", l1, g->src, NULL };
    clone_ok (args);
  }
  {
    const char *args[] = { "--linked", "--name", l2, g->src, NULL };
    clone_ok (args);
  }
  names[0] = l1;
  names[1] = l2;
  names[2] = NULL;

  /* first boots: each itself, both on the template's data */
  round1 = live_guest_boot_together (names);
  for (guint i = 0; i < 2; i++)
    {
      GHashTable *facts = round1->pdata[i];

      assert_identity (facts, names[i]);
      g_assert_cmpstr (live_guest_fact (facts, "data"), ==, g->data);
      g_assert_cmpstr (live_guest_fact (facts, "marker-before"), ==, LIVE_GUEST_FIRST_MARK);
      marker_written (facts);
      g_assert_true (has_own_seed (g, names[i]));
      assert_seed (g, facts, names[i]);
    }
  assert_distinct (round1->pdata[0], round1->pdata[1]);

  /* second boots: each finds what it wrote, not what the other did */
  round2 = live_guest_boot_together (names);
  for (guint i = 0; i < 2; i++)
    {
      GHashTable *facts = round2->pdata[i];

      assert_identity (facts, names[i]);
      g_assert_cmpstr (live_guest_fact (facts, "marker-before"), ==,
                       live_guest_fact (round1->pdata[i], "marker-written"));
    }

  /* the template's disk holds what it held */
  data_on_disk = live_guest_read_line (g->data_path, LIVE_GUEST_DATA_OFFSET);
  mark_on_disk = live_guest_read_line (g->data_path, LIVE_GUEST_MARK_OFFSET);
  g_assert_cmpstr (data_on_disk, ==, g->data);
  g_assert_cmpstr (mark_on_disk, ==, LIVE_GUEST_FIRST_MARK);
}

/* The facts parser on its own: kernel messages and carriage returns
 * around the lines, nothing after DOMCLONE-DONE, no DONE no facts. */
static void
test_guest_facts_parse (void)
{
  static const char console[] = "SeaBIOS\r\n"
                                "DOMCLONE-FACT mac=52:54:00:aa:bb:cc\r\n"
                                "[    1.2] random: crng init done\r\n"
                                "DOMCLONE-FACT data=DOMCLONE-DATA x = y\r\n"
                                "DOMCLONE-FACT marker-before=\r\n"
                                "DOMCLONE-FACT mac=52:54:00:aa:bb:dd\r\n"
                                "DOMCLONE-DONE\r\n"
                                "DOMCLONE-FACT late=1\r\n";
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) facts = live_guest_parse_facts (console, &error);
  g_autoptr (GHashTable) none = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (g_hash_table_lookup (facts, "mac"), ==, "52:54:00:aa:bb:dd");
  g_assert_cmpstr (g_hash_table_lookup (facts, "data"), ==, "DOMCLONE-DATA x = y");
  g_assert_cmpstr (g_hash_table_lookup (facts, "marker-before"), ==, "");
  g_assert_null (g_hash_table_lookup (facts, "late"));
  g_assert_cmpuint (g_hash_table_size (facts), ==, 3);

  none = live_guest_parse_facts ("DOMCLONE-FACT mac=52:54:00:aa:bb:cc\r\nKernel panic\r\n", &error);
  g_assert_null (none);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT);
}

int
main (int argc, char **argv)
{
  live_init (&argc, &argv);
  g_test_add_func ("/live/guest/facts-parse", test_guest_facts_parse);
  LIVE_GUEST_TEST ("/live/guest/full", test_guest_full);
  LIVE_GUEST_TEST ("/live/guest/seed", test_guest_seed);
  LIVE_GUEST_TEST ("/live/guest/linked", test_guest_linked);
  return live_run ();
}
