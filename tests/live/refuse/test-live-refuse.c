/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live tests, refusals: what domclone must refuse once it has a daemon to
 * ask (the name is taken, the source is missing or running, a volume is
 * in the way, the URI leads nowhere), each with a one-line message and
 * its exit status, and with nothing changed. Input the command-line
 * parser refuses by itself is tested without a daemon, in test-cli.
 */
#include "config.h"

#include "dc-test-assert.h"
#include "live-fixture.h"

#include <glib/gstdio.h>
#include <string.h>

static void
test_live_refusals (LiveFixture *f, gconstpointer data)
{
  g_autofree char *taken = NULL;
  g_autoptr (DcDomain) other = NULL;

  SKIP_WITHOUT_DAEMON ();
  taken = g_strdup_printf ("%s-taken", f->src);
  other = live_define_bare_domain (taken);

  {
    const LiveRefusal r = { "bad name", 2, "invalid name '1abc'" };
    const char *args[] = { "--name", "1abc", f->src, NULL };
    live_assert_refused (f, &r, args);
  }
  {
    const LiveRefusal r = { "existing name", 1, "already exists" };
    const char *args[] = { "--name", taken, f->src, NULL };
    live_assert_refused (f, &r, args);
  }
  {
    const LiveRefusal r = { "source's own name", 2, "it is the source's own name" };
    const char *args[] = { "--name", f->src, f->src, NULL };
    live_assert_refused (f, &r, args);
  }
  {
    const LiveRefusal r = { "missing source", 1, "domain 'no-such-vm' not found" };
    const char *args[] = { "no-such-vm", NULL };
    live_assert_refused (f, &r, args);
  }
  {
    /* a leftover volume under the planned name is never overwritten */
    g_autofree char *leftover = g_strdup_printf ("%s/%s-clone1.qcow2", f->dir, f->src);
    g_autofree char *sum = NULL;
    g_autofree char *sum_after = NULL;
    const LiveRefusal r = { "volume exists", 1, "already exists in pool" };
    const char *args[] = { f->src, NULL };

    g_assert_true (g_file_set_contents (leftover, "precious", -1, NULL));
    sum = live_sha256_file (leftover);
    live_assert_refused (f, &r, args);
    sum_after = live_sha256_file (leftover);
    g_assert_cmpstr (sum_after, ==, sum);
    g_unlink (leftover);
  }
  {
    g_autoptr (DcDomain) dom = virDomainLookupByName (live_conn, f->src);
    const LiveRefusal r = { "running source", 1, "is running; shut it down first" };
    const char *args[] = { f->src, NULL };

    if (virDomainCreate (dom) < 0)
      g_error ("cannot start the source: %s", virGetLastErrorMessage ());
    live_assert_refused (f, &r, args);
    virDomainDestroy (dom);
  }
  g_assert_cmpuint (live_counter_of (f->src), ==, 0);
}

/* Hostile input that takes the daemon to judge: every case is refused
 * with a one-line message and its exit status (2 for a clone named as
 * its source, 1 when libvirt is the judge), and no domain or volume
 * appears. "@" stands for the fixture's source domain. What the
 * command-line parser refuses by itself is tested in test-cli. */
typedef struct
{
  const char *args[5];
  int status;
  const char *err_part;
} Hostile;

#define LONG64 "a234567890123456789012345678901234567890123456789012345678901234"
static const Hostile hostile_cases[] = {
  { { "--", "-x", NULL }, 1, "domain '-x' not found" },
  { { "--name", "@", "@", NULL }, 2, "it is the source's own name" },
  { { "no-such-vm", NULL }, 1, "domain 'no-such-vm' not found" },
  { { "../../etc/passwd", NULL }, 1, "not found" },
  { { "<domain>&amp;", NULL }, 1, "not found" },
  { { "a\nb", NULL }, 1, "domain 'a\\nb' not found" },
  { { LONG64 LONG64 LONG64 LONG64, NULL }, 1, "not found" },
  { { "-c", "qemu:///nosuchpath", "@", NULL }, 1, "cannot connect to 'qemu:///nosuchpath'" },
};

static void
test_live_hostile (LiveFixture *f, gconstpointer data)
{
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *long_uri = NULL;
  guint rejected = 0;

  SKIP_WITHOUT_DAEMON ();
  before = live_snapshot ();
  long_uri = g_strnfill (20000, 'x');
  memcpy (long_uri, "qemu:///", 8);

  for (size_t i = 0; i <= G_N_ELEMENTS (hostile_cases); i++)
    {
      /* the last case is built here: an over-long URI */
      Hostile over_long = { { "-c", long_uri, "@", NULL }, 1, "cannot connect to" };
      const Hostile *c = i < G_N_ELEMENTS (hostile_cases) ? &hostile_cases[i] : &over_long;
      g_autoptr (GPtrArray) args = g_ptr_array_new ();
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      int status;

      for (size_t j = 0; c->args[j] != NULL; j++)
        g_ptr_array_add (args, (gpointer) (g_str_equal (c->args[j], "@") ? f->src : c->args[j]));
      g_ptr_array_add (args, NULL);
      status = dc_test_domclone_argv ((const char *const *) args->pdata, &out, &err);

      g_test_message ("case %zu: exit %d: %.200s", i, status, err);
      g_assert_cmpint (status, ==, c->status);
      g_assert_cmpstr (out, ==, "");
      g_assert_true (g_str_has_prefix (err, "domclone: "));
      g_assert_true (strchr (err, '\n') == err + strlen (err) - 1);
      dc_assert_contains (err, c->err_part);
      rejected++;
    }
  g_test_message ("%u hostile inputs rejected", rejected);
  /* the table and the over-long URI: none skipped */
  g_assert_cmpuint (rejected, ==, G_N_ELEMENTS (hostile_cases) + 1);

  after = live_snapshot ();
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpuint (live_counter_of (f->src), ==, 0);
}

int
main (int argc, char **argv)
{
  live_init (&argc, &argv);
  LIVE_TEST ("/live/refuse/all", test_live_refusals);
  LIVE_TEST ("/live/refuse/hostile-input", test_live_hostile);
  return live_run ();
}
