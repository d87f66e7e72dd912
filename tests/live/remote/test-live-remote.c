/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live tests, remote: the domclone binary over a real remote connection,
 * qemu+tcp://127.0.0.1:PORT/system, to the private libvirtd. As far as
 * the URI says the daemon is on another host, so domclone must take its
 * remote code paths (no look at the daemon's files, every copy through
 * libvirt); since it is in fact this host, the tests then check the
 * copies byte for byte through the files.
 *
 * tests/with-libvirtd.sh exports DOMCLONE_TEST_TCP_URI when it runs as
 * root, with the listener in a private network namespace; without it
 * every test here is skipped.
 */
#include "config.h"

#include "dc-test-assert.h"
#include "live-fixture.h"
#include "dc-test-util.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

/* What a clone of the fixture's source copies: the qcow2 system disk,
 * the raw data disk and the NVRAM (the CD-ROM and the shareable disk are
 * shared). */
#define N_COPIES 3

/* The TCP URI of the private daemon, or NULL after marking the test
 * skipped. */
static const char *
tcp_uri_or_skip (void)
{
  const char *uri = g_getenv ("DOMCLONE_TEST_TCP_URI");

  if (uri == NULL || uri[0] == '\0')
    {
      g_test_skip ("no TCP listener: DOMCLONE_TEST_TCP_URI is unset (tests/with-libvirtd.sh sets it as root, "
                   "when it can make a private network namespace)");
      return NULL;
    }
  return uri;
}

/* Over TCP the daemon's files are not ours to see: every copy must go
 * through libvirt. The copy logging ("by libvirt's copy" / "by a local
 * copy", one line per copy with -v) is not in domclone yet; until it is,
 * there is nothing to assert. */
static void
assert_copies_by_libvirt (const char *err)
{
  if (strstr (err, "by libvirt's copy") == NULL && strstr (err, "by a local copy") == NULL)
    {
      g_test_message ("copy logging not present yet");
      return;
    }
  g_assert_cmpuint (dc_test_count_of (err, "by libvirt's copy"), ==, N_COPIES);
  dc_assert_not_contains (err, "by a local copy");
}

/* Runs `domclone -v -c URI [--name NAME] SOURCE` over TCP; fails the
 * test unless it succeeds, says on stdout that it made @clone, and logs
 * that it connected to @uri. */
static void
clone_over_tcp (const LiveFixture *f, const char *uri, const char *name, const char *clone)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *expect = g_strdup_printf ("Cloned from %s to %s.\n", f->src, clone);
  g_autofree char *connected = g_strdup_printf ("domclone: connected to '%s'\n", uri);
  int status = name ? dc_test_domclone (&out, &err, "-v", "-c", uri, "--name", name, f->src, NULL)
                    : dc_test_domclone (&out, &err, "-v", "-c", uri, f->src, NULL);

  g_test_message ("domclone -v -c %s: exit %d:\n%s", uri, status, err);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (out, ==, expect);
  dc_assert_contains (err, connected);
  assert_copies_by_libvirt (err);
}

/* The lines that the snapshot @after has and @before has not. */
static char *
snapshot_added (const char *before, const char *after)
{
  g_auto (GStrv) old_lines = g_strsplit (before, "\n", -1);
  g_auto (GStrv) new_lines = g_strsplit (after, "\n", -1);
  GString *added = g_string_new (NULL);

  for (size_t i = 0; new_lines[i] != NULL; i++)
    if (new_lines[i][0] != '\0' && !g_strv_contains ((const char *const *) old_lines, new_lines[i]))
      g_string_append_printf (added, "%s\n", new_lines[i]);
  return g_string_free (added, FALSE);
}

/* Checks clone @clone of the fixture's source through the files: its
 * XML names its own volumes, each a faithful copy of the source's. */
static void
assert_clone_copies (const LiveFixture *f, const char *clone)
{
  g_autofree char *clone_xml = live_domain_xml (clone);
  g_autofree char *qcow2 = g_strdup_printf ("%s/%s.qcow2", f->dir, f->src);
  g_autofree char *clone_qcow2 = g_strdup_printf ("%s/%s.qcow2", f->dir, clone);
  g_autofree char *data_raw = live_path_in (f, "data.raw");
  g_autofree char *clone_data = g_strdup_printf ("%s/%s-vdb.raw", f->dir, clone);
  g_autofree char *data_vol = g_strdup_printf ("<source pool='%s' volume='%s-vdb.raw'/>", f->pool, clone);
  g_autofree char *nvram = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, f->src);
  g_autofree char *clone_nvram = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, clone);
  g_autofree char *sum = NULL;
  g_autofree char *clone_sum = NULL;
  struct stat st_src, st_clone;

  /* the clone's XML names the new volumes */
  dc_assert_contains (clone_xml, clone_qcow2);
  dc_assert_contains (clone_xml, data_vol);
  dc_assert_contains (clone_xml, clone_nvram);

  /* the qcow2 system disk: same guest-visible content */
  {
    const char *argv[] = {
      "qemu-img", "compare", "-q", "-f", "qcow2", "-F", "qcow2", qcow2, clone_qcow2, NULL
    };
    dc_test_run_ok (argv);
  }

  /* the raw data disk: byte for byte, still sparse, same permissions */
  sum = live_sha256_file (data_raw);
  clone_sum = live_sha256_file (clone_data);
  g_assert_cmpstr (clone_sum, ==, sum);
  g_assert_cmpint (stat (data_raw, &st_src), ==, 0);
  g_assert_cmpint (stat (clone_data, &st_clone), ==, 0);
  g_assert_cmpint (st_clone.st_size, ==, st_src.st_size);
  g_assert_cmpuint (live_allocated_bytes (clone_data), <=, live_allocated_bytes (data_raw) + 4 * MiB);
  g_assert_cmpint (st_clone.st_mode & 07777, ==, st_src.st_mode & 07777);
  g_clear_pointer (&sum, g_free);
  g_clear_pointer (&clone_sum, g_free);

  /* the NVRAM (in no pool: copied through a temporary one) */
  sum = live_sha256_file (nvram);
  clone_sum = live_sha256_file (clone_nvram);
  g_assert_cmpstr (clone_sum, ==, sum);
}

/* A clone over TCP under the default name: the copies are faithful, the
 * source is untouched but for its counter, and the daemon holds the
 * clone and its two pool volumes and nothing else new (the NVRAM's
 * temporary pool is gone). */
static void
test_live_remote_data (LiveFixture *f, gconstpointer data)
{
  const char *uri;
  g_autofree char *src_xml_before = NULL;
  g_autofree char *src_xml_after = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *added = NULL;
  g_autofree char *expect = NULL;
  g_autofree char *clone = NULL;

  SKIP_WITHOUT_DAEMON ();
  if ((uri = tcp_uri_or_skip ()) == NULL)
    return;
  src_xml_before = live_domain_xml_without_metadata (f->src);
  before = live_snapshot ();

  clone = g_strdup_printf ("%s-clone1", f->src);
  clone_over_tcp (f, uri, NULL, clone);
  assert_clone_copies (f, clone);
  g_assert_cmpuint (live_counter_of (f->src), ==, 1);

  src_xml_after = live_domain_xml_without_metadata (f->src);
  g_assert_cmpstr (src_xml_after, ==, src_xml_before);
  after = live_snapshot ();
  added = snapshot_added (before, after);
  expect = g_strdup_printf ("domain %s\nvolume %s/%s-vdb.raw\nvolume %s/%s.qcow2\n", clone, f->pool, clone,
                            f->pool, clone);
  g_assert_cmpstr (added, ==, expect);
}

/* A clone over TCP with --name, then one under the default name: both
 * count, and the second gets the next number. */
static void
test_live_remote_named (LiveFixture *f, gconstpointer data)
{
  const char *uri;
  g_autofree char *name = NULL;
  g_autofree char *clone2 = NULL;

  SKIP_WITHOUT_DAEMON ();
  if ((uri = tcp_uri_or_skip ()) == NULL)
    return;
  name = g_strdup_printf ("%s-remote", f->src);
  clone_over_tcp (f, uri, name, name);
  assert_clone_copies (f, name);
  g_assert_cmpuint (live_counter_of (f->src), ==, 1);

  clone2 = g_strdup_printf ("%s-clone2", f->src);
  clone_over_tcp (f, uri, NULL, clone2);
  assert_clone_copies (f, clone2);
  g_assert_cmpuint (live_counter_of (f->src), ==, 2);
}

/* Runs domclone over TCP with @args (the connection options are added
 * in front); it must refuse as @r says and change nothing. */
static void
assert_refused_over_tcp (const LiveFixture *f, const char *uri, const LiveRefusal *r, const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();

  g_ptr_array_add (argv, (gpointer) "-c");
  g_ptr_array_add (argv, (gpointer) uri);
  for (size_t i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  live_assert_refused (f, r, (const char *const *) argv->pdata);
}

/* Refusals over TCP change nothing: a name that is taken, a volume in
 * the way of the clone's (never overwritten), a source that does not
 * exist. */
static void
test_live_remote_refusals (LiveFixture *f, gconstpointer data)
{
  const char *uri;
  g_autofree char *taken = NULL;
  g_autoptr (DcDomain) other = NULL;

  SKIP_WITHOUT_DAEMON ();
  if ((uri = tcp_uri_or_skip ()) == NULL)
    return;
  taken = g_strdup_printf ("%s-taken", f->src);
  other = live_define_bare_domain (taken);

  {
    const LiveRefusal r = { "existing name", 1, "already exists" };
    const char *args[] = { "--name", taken, f->src, NULL };
    assert_refused_over_tcp (f, uri, &r, args);
  }
  {
    g_autofree char *leftover = g_strdup_printf ("%s/%s-clone1.qcow2", f->dir, f->src);
    g_autofree char *sum = NULL;
    g_autofree char *sum_after = NULL;
    const LiveRefusal r = { "volume exists", 1, "already exists in pool" };
    const char *args[] = { f->src, NULL };

    g_assert_true (g_file_set_contents (leftover, "precious", -1, NULL));
    sum = live_sha256_file (leftover);
    assert_refused_over_tcp (f, uri, &r, args);
    sum_after = live_sha256_file (leftover);
    g_assert_cmpstr (sum_after, ==, sum);
    g_unlink (leftover);
  }
  {
    const LiveRefusal r = { "missing source", 1, "domain 'no-such-vm' not found" };
    const char *args[] = { "no-such-vm", NULL };
    assert_refused_over_tcp (f, uri, &r, args);
  }
  g_assert_cmpuint (live_counter_of (f->src), ==, 0);
}

int
main (int argc, char **argv)
{
  live_init (&argc, &argv);
  LIVE_TEST ("/live/remote/data", test_live_remote_data);
  LIVE_TEST ("/live/remote/named", test_live_remote_named);
  LIVE_TEST ("/live/remote/refusals", test_live_remote_refusals);
  return live_run ();
}
