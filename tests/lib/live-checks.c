/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The live tests' shared checks (declared in live-fixture.h): a clone
 * interrupted mid-copy, runs refused or failed that must leave the
 * daemon as it was, a pinned definition, a pool too small.
 */
#include "config.h"

#include "dc-test-assert.h"
#include "dc-test-util.h"
#include "live-fixture.h"

#include "dc-metadata.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Gives the source a big sparse raw disk (vde): libvirt copies raw to raw
 * by reading every byte of it, which takes long enough to interrupt. */
char *
live_add_big_disk (const LiveFixture *f)
{
  g_autofree char *path = live_path_in (f, "big.raw");
  g_autofree char *xml = NULL;
  g_autoptr (DcDomain) src = virDomainLookupByName (live_conn, f->src);
  g_autoptr (DcPool) pool = virStoragePoolLookupByName (live_conn, f->pool);
  const gsize offsets[] = { 0, 1024 * MiB, 3000 * MiB };

  live_write_pattern (path, 3 * 1024 * MiB, offsets, G_N_ELEMENTS (offsets), 99);
  g_assert_cmpint (virStoragePoolRefresh (pool, 0), ==, 0);
  xml = g_strdup_printf ("<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                         "<source file='%s'/><target dev='vde' bus='virtio'/></disk>",
                         path);
  g_assert_cmpint (virDomainAttachDeviceFlags (src, xml, VIR_DOMAIN_AFFECT_CONFIG), ==, 0);
  return g_strdup_printf ("%s-clone1-vde.raw", f->src);
}

/* Waits until libvirt has started building volume @name in the pool. */
void
live_wait_for_copy_start (const LiveFixture *f, const char *name)
{
  g_autoptr (DcPool) pool = virStoragePoolLookupByName (live_conn, f->pool);

  for (int i = 0; i < 3000; i++)
    {
      g_autoptr (DcVol) vol = virStorageVolLookupByName (pool, name);

      if (vol != NULL)
        {
          g_usleep (G_USEC_PER_SEC / 5);
          return;
        }
      g_usleep (G_USEC_PER_SEC / 100);
    }
  g_error ("the copy of '%s' did not start", name);
}

/* libvirt refuses to refresh a pool while it builds a volume in it. */
void
live_wait_for_copies_to_end (const LiveFixture *f)
{
  g_autoptr (DcPool) pool = virStoragePoolLookupByName (live_conn, f->pool);

  for (int i = 0; i < 1200; i++)
    {
      if (virStoragePoolRefresh (pool, 0) == 0)
        return;
      g_usleep (G_USEC_PER_SEC / 10);
    }
  g_error ("libvirt is still copying after two minutes");
}

/* Gives the source its big disk, takes a @before snapshot if asked,
 * and starts a clone of it that is in the middle of that disk's copy
 * when this returns. */
GSubprocess *
live_start_clone_mid_copy (const LiveFixture *f, char **before)
{
  const char *args[] = { f->src, NULL };
  g_autofree char *big = live_add_big_disk (f);
  GSubprocess *proc;

  if (before != NULL)
    *before = live_snapshot ();
  proc = dc_test_spawn_domclone (args);
  live_wait_for_copy_start (f, big);
  return proc;
}

/**
 * live_define_bare_domain:
 * @name: a domain name
 *
 * Returns: (transfer full): a new shut-off domain with no devices, to
 * take a name or play a part
 */
virDomainPtr
live_define_bare_domain (const char *name)
{
  g_autofree char *xml = g_strdup_printf ("<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>"
                                          "<os><type arch='x86_64'>hvm</type></os></domain>",
                                          name);
  virDomainPtr dom = virDomainDefineXML (live_conn, xml);

  g_assert_nonnull (dom);
  return dom;
}

/**
 * live_assert_refused:
 * @f: the fixture
 * @r: what the refusal must look like
 * @args: domclone's arguments, %NULL-terminated
 *
 * Runs domclone, which must refuse as @r says, with nothing on stdout,
 * one "domclone: " line on stderr, and the daemon and the source's
 * definition as they were.
 */
void
live_assert_refused (const LiveFixture *f, const LiveRefusal *r, const char *const *args)
{
  g_autofree char *xml_before = live_domain_xml (f->src);
  g_autofree char *xml_after = NULL;
  g_autofree char *err = NULL;

  g_test_message ("%s", r->label);
  err = live_assert_fails_cleanly (args, NULL, r->status);
  g_assert_true (g_str_has_prefix (err, "domclone: "));
  dc_assert_contains (err, r->err_part);

  xml_after = live_domain_xml (f->src);
  g_assert_cmpstr (xml_after, ==, xml_before);
}

/**
 * live_assert_sigterm_rolls_back:
 * @proc: a domclone run in the middle of its copies
 * @before: live_snapshot() from before it started
 *
 * Sends SIGTERM: the run must exit 1, say it was interrupted and that
 * everything it made was removed, and leave the daemon as @before.
 *
 * Returns: (transfer full): its stderr, for more checks
 */
char *
live_assert_sigterm_rolls_back (GSubprocess *proc, const char *before)
{
  g_autofree char *after = NULL;
  g_autofree char *out = NULL;
  char *err = NULL;
  int status;

  g_subprocess_send_signal (proc, SIGTERM);
  out = dc_test_communicate (proc, &err, &status);
  g_test_message ("SIGTERM: exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 1);
  g_assert_cmpstr (out, ==, "");
  dc_assert_contains (err, "interrupted by Terminated");
  dc_assert_contains (err, "everything this run created was removed");
  after = live_snapshot ();
  g_assert_cmpstr (after, ==, before);
  return err;
}

/* Makes the saved definition of domain @name impossible to replace: a
 * file bind-mounted onto itself cannot be renamed over (EBUSY), so a
 * clone's last step, the counter update, fails inside libvirtd. Returns
 * the path to give live_unpin_config(), or %NULL after g_test_skip()
 * outside the root harness (a private qemu:///system). */
char *
live_pin_config (const char *name)
{
  g_autofree char *config = g_strdup_printf ("/etc/libvirt/qemu/%s.xml", name);
  const char *argv[] = { "mount", "--bind", config, config, NULL };

  if (geteuid () != 0 || !g_file_test (config, G_FILE_TEST_IS_REGULAR))
    {
      g_test_skip ("needs the root harness (a private qemu:///system) to bind-mount its config");
      return NULL;
    }
  dc_test_run_ok (argv);
  return g_steal_pointer (&config);
}

void
live_unpin_config (const char *config)
{
  const char *argv[] = { "umount", config, NULL };

  dc_test_run_ok (argv);
}

/* A pool called small-<source> over a tmpfs of @mib MiB, to run out of
 * space in; sets *@pool_name and returns its directory, or %NULL after
 * g_test_skip() when not root (mount). */
char *
live_small_pool (const LiveFixture *f, guint mib, char **pool_name)
{
  g_autofree char *dir = g_strdup_printf ("%s/small-%s", live_state_dir, f->src);
  g_autofree char *size = g_strdup_printf ("size=%um", mib);
  const char *argv[] = { "mount", "-t", "tmpfs", "-o", size, "tmpfs", dir, NULL };

  *pool_name = NULL;
  if (geteuid () != 0)
    {
      g_test_skip ("needs root to mount a small tmpfs");
      return NULL;
    }
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  dc_test_run_ok (argv);
  *pool_name = g_strdup_printf ("small-%s", f->src);
  live_define_pool (*pool_name, dir);
  return g_steal_pointer (&dir);
}

void
live_small_pool_remove (const char *pool_name, const char *dir)
{
  g_autoptr (DcPool) pool = virStoragePoolLookupByName (live_conn, pool_name);
  const char *argv[] = { "umount", dir, NULL };

  virStoragePoolDestroy (pool);
  virStoragePoolUndefine (pool);
  dc_test_run_ok (argv);
}

/* live_assert_fails_cleanly() and its pinned form: with @pinned, the
 * config pinned by live_pin_config(), unpinned once the run ended */
static char *
fails_cleanly (const char *const *args, const char *const *env, int status, const char *pinned)
{
  g_autofree char *before = live_snapshot ();
  g_autofree char *after = NULL;
  g_autofree char *out = NULL;
  char *err = NULL;
  int got;

  if (env == NULL)
    got = dc_test_domclone_argv (args, &out, &err);
  else
    {
      g_autoptr (GSubprocess) proc = dc_test_spawn_domclone_env (args, env);

      out = dc_test_communicate (proc, &err, &got);
    }
  if (pinned != NULL)
    live_unpin_config (pinned);
  g_test_message ("exit %d: %s", got, err);
  g_assert_cmpint (got, ==, status);
  g_assert_cmpstr (out, ==, "");
  after = live_snapshot ();
  g_assert_cmpstr (after, ==, before);
  return err;
}

/**
 * live_assert_fails_cleanly:
 * @args: domclone's arguments, %NULL-terminated
 * @env: (nullable): more of its environment, "NAME=value", %NULL-terminated
 * @status: the exit status it must end with
 *
 * The run fails and leaves nothing: domclone exits @status, prints
 * nothing on stdout, and leaves the daemon exactly as it was
 * (live_snapshot() before and after).
 *
 * Returns: (transfer full): its stderr, for the checks of the message
 */
char *
live_assert_fails_cleanly (const char *const *args, const char *const *env, int status)
{
  return fails_cleanly (args, env, status, NULL);
}

/**
 * live_assert_fails_cleanly_pinned:
 * @f: the fixture
 * @args: domclone's arguments, %NULL-terminated
 *
 * live_assert_fails_cleanly() (exit 1) for a run that fails at its last
 * step: the source's config is pinned (live_pin_config()), so libvirt
 * cannot save its clone counter; unpinned again after the run.
 *
 * Returns: (transfer full) (nullable): its stderr, or %NULL after
 *   g_test_skip() where the config cannot be pinned
 */
char *
live_assert_fails_cleanly_pinned (const LiveFixture *f, const char *const *args)
{
  g_autofree char *config = live_pin_config (f->src);

  if (config == NULL)
    return NULL;
  return fails_cleanly (args, NULL, 1, config);
}
