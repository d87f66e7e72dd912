/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live test of contrib/hooks/domclone-backup, the libvirt QEMU hook that
 * takes a rolling backup clone of a marked domain when it stops. The
 * hook is installed into the private daemon's /etc/libvirt/hooks/qemu.d
 * (the harness's own, in its mount namespace), the daemon told to look
 * for it (SIGHUP), and real TCG domains are started and stopped: the
 * marked one gets its backup, byte for byte, the unmarked one none; a
 * second stop makes a second backup and removes the first with its own
 * volumes, never the shared CD-ROM or shareable disk.
 */
#include "config.h"

#include "dc-test-assert.h"
#include "live-fixture.h"
#include "dc-test-util.h"

#include "dc-metadata.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MARK_URI "http://domclone.org/xmlns/domclone/backup/1.0"
#define HOOKS_DIR "/etc/libvirt/hooks"
#define HOOK_PATH HOOKS_DIR "/qemu.d/domclone-backup"
#define HOOK_CONF HOOKS_DIR "/domclone-backup.conf"

static char *hook_log;

static char *
read_log (void)
{
  char *text = NULL;

  if (!g_file_get_contents (hook_log, &text, NULL, NULL))
    return g_strdup ("");
  return text;
}

static guint
count_in_log (const char *line_part)
{
  g_autofree char *text = read_log ();

  return dc_test_count_of (text, line_part);
}

/* Waits (polling, up to five minutes on a busy machine) until the log
 * holds @n lines with @line_part. */
static void
wait_for_log (const char *line_part, guint n)
{
  for (int i = 0; i < 3000; i++)
    {
      if (count_in_log (line_part) >= n)
        return;
      g_usleep (G_USEC_PER_SEC / 10);
    }
  {
    g_autofree char *text = read_log ();
    g_error ("no %u line(s) with '%s' in the hook's log:\n%s", n, line_part, text);
  }
}

/* Copies the hook into the daemon's hooks directory with a configuration
 * for this test, and makes the daemon look for hooks again. */
static void
install_hook (void)
{
  g_autofree char *src =
    g_test_build_filename (G_TEST_DIST, "..", "contrib", "hooks", "domclone-backup", NULL);
  g_autofree char *script = NULL;
  g_autofree char *conf = NULL;
  g_autofree char *pidtext = NULL;
  gsize len;

  hook_log = g_build_filename (live_state_dir, "domclone-backup.log", NULL);
  g_assert_true (g_file_get_contents (src, &script, &len, NULL));
  g_assert_cmpint (g_mkdir_with_parents (HOOKS_DIR "/qemu.d", 0755), ==, 0);
  g_assert_true (g_file_set_contents (HOOK_PATH, script, len, NULL));
  g_assert_cmpint (g_chmod (HOOK_PATH, 0755), ==, 0);
  conf = g_strdup_printf ("DOMCLONE_BACKUP_URI='%s'\n"
                          "DOMCLONE_BACKUP_DOMCLONE='%s'\n"
                          "DOMCLONE_BACKUP_LOG='%s'\n"
                          "DOMCLONE_BACKUP_DEBUG=1\n"
                          "DOMCLONE_BACKUP_WAIT=300\n",
                          g_getenv ("DOMCLONE_TEST_URI"), g_getenv ("DOMCLONE"), hook_log);
  g_assert_true (g_file_set_contents (HOOK_CONF, conf, -1, NULL));

  /* libvirtd looks for hook scripts when it starts and on SIGHUP */
  g_assert_true (g_file_get_contents (g_getenv ("DOMCLONE_TEST_LIBVIRTD_PIDFILE"), &pidtext, NULL, NULL));
  g_assert_cmpint (kill ((pid_t) g_ascii_strtoll (pidtext, NULL, 10), SIGHUP), ==, 0);
}

static void
remove_hook (void)
{
  g_unlink (HOOK_PATH);
  g_unlink (HOOK_CONF);
  g_clear_pointer (&hook_log, g_free);
}

static void
start_and_destroy (virDomainPtr dom)
{
  if (virDomainCreate (dom) < 0)
    g_error ("cannot start '%s': %s", virDomainGetName (dom), virGetLastErrorMessage ());
  g_assert_cmpint (virDomainDestroy (dom), ==, 0);
}

/* The names of the domains whose name starts with @prefix, sorted. */
static GPtrArray *
domains_named (const char *prefix)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  g_auto (DcDomainList) doms = { NULL, 0 };

  doms.n = virConnectListAllDomains (live_conn, &doms.list, 0);
  g_assert_cmpint (doms.n, >=, 0);
  for (int i = 0; i < doms.n; i++)
    if (g_str_has_prefix (virDomainGetName (doms.list[i]), prefix))
      g_ptr_array_add (names, g_strdup (virDomainGetName (doms.list[i])));
  g_ptr_array_sort (names, (GCompareFunc) g_strcmp0);
  return names;
}

/* Where the source's disk outside any pool lives. */
static char *
outside_dir (const LiveFixture *f)
{
  return g_strdup_printf ("%s/outside-%s", live_state_dir, f->src);
}

/* Gives the source a raw disk (vdd) in a directory no pool covers. */
static void
add_outside_disk (const LiveFixture *f)
{
  g_autofree char *dir = outside_dir (f);
  g_autofree char *path = g_build_filename (dir, "extra.raw", NULL);
  g_autofree char *xml = NULL;
  g_autoptr (DcDomain) src = virDomainLookupByName (live_conn, f->src);
  const gsize offsets[] = { MiB };

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  live_write_pattern (path, 8 * MiB, offsets, G_N_ELEMENTS (offsets), 77);
  xml = g_strdup_printf ("<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                         "<source file='%s'/><target dev='vdd' bus='virtio'/></disk>",
                         path);
  g_assert_cmpint (virDomainAttachDeviceFlags (src, xml, VIR_DOMAIN_AFFECT_CONFIG), ==, 0);
}

/* The one backup of @f's source, checked: a clone of it (by UUID), its
 * mark gone, its disks byte-identical to the source's, the CD-ROM and
 * the shareable disk shared.
 *
 * Longer than 60 lines: one backup, every property it must have,
 * checked together.
 */
static char *
the_backup (const LiveFixture *f)
{
  g_autofree char *prefix = g_strdup_printf ("%s-backup-", f->src);
  g_autoptr (GPtrArray) backups = domains_named (prefix);
  g_autoptr (DcDomain) src = virDomainLookupByName (live_conn, f->src);
  g_autoptr (DcDomain) dom = NULL;
  char src_uuid[VIR_UUID_STRING_BUFLEN];
  g_autofree char *md_xml = NULL;
  g_autofree char *mark = NULL;
  g_autoptr (DcMetadata) md = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *src_qcow2 = NULL;
  g_autofree char *qcow2 = NULL;
  g_autofree char *data = NULL;
  g_autofree char *src_data = NULL;
  g_autofree char *s1 = NULL;
  g_autofree char *s2 = NULL;
  g_autofree char *vdb = NULL;
  const char *name;

  g_assert_cmpuint (backups->len, ==, 1);
  name = backups->pdata[0];
  g_test_message ("backup: %s", name);
  g_assert_cmpuint (strlen (name), ==, strlen (prefix) + 14);
  dom = virDomainLookupByName (live_conn, name);
  g_assert_nonnull (dom);

  g_assert_cmpint (virDomainGetUUIDString (src, src_uuid), ==, 0);
  md_xml = virDomainGetMetadata (dom, VIR_DOMAIN_METADATA_ELEMENT, DC_METADATA_URI, VIR_DOMAIN_AFFECT_CONFIG);
  g_assert_nonnull (md_xml);
  md = dc_metadata_parse (md_xml, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (md->origin_uuid, ==, src_uuid);
  mark = virDomainGetMetadata (dom, VIR_DOMAIN_METADATA_ELEMENT, MARK_URI, VIR_DOMAIN_AFFECT_CONFIG);
  g_assert_null (mark);

  /* vda is a qcow2 file named after the domain, vdb a raw volume that
   * is not: domclone's naming rules */
  src_qcow2 = g_strdup_printf ("%s/%s.qcow2", f->dir, f->src);
  qcow2 = g_strdup_printf ("%s/%s.qcow2", f->dir, name);
  {
    const char *argv[] = {
      "qemu-img", "compare", "-q", "-f", "qcow2", "-F", "qcow2", src_qcow2, qcow2, NULL
    };
    dc_test_run_ok (argv);
  }
  vdb = g_strdup_printf ("%s-vdb.raw", name);
  data = live_path_in (f, vdb);
  src_data = live_path_in (f, "data.raw");
  s1 = live_sha256_file (src_data);
  s2 = live_sha256_file (data);
  g_assert_cmpstr (s1, ==, s2);
  {
    g_autofree char *dir = outside_dir (f);
    g_autofree char *src_extra = g_build_filename (dir, "extra.raw", NULL);
    g_autofree char *base = g_strdup_printf ("%s-vdd.raw", name);
    g_autofree char *extra = g_build_filename (dir, base, NULL);

    g_clear_pointer (&s1, g_free);
    g_clear_pointer (&s2, g_free);
    s1 = live_sha256_file (src_extra);
    s2 = live_sha256_file (extra);
    g_assert_cmpstr (s1, ==, s2);
  }

  xml = live_domain_xml (name);
  {
    g_autofree char *iso = g_strdup_printf ("<source file='%s/install.iso'/>", f->dir);
    g_autofree char *shared = g_strdup_printf ("<source file='%s/shared.raw'/>", f->dir);
    dc_assert_contains (xml, iso);
    dc_assert_contains (xml, shared);
  }
  return g_strdup (name);
}

/* Defines the unmarked domain @name and stops it until the hook logs
 * its decision about it (DOMCLONE_BACKUP_DEBUG=1), which also tells
 * that the daemon picked the hook up after the SIGHUP. */
static virDomainPtr
wait_for_hook (const char *name)
{
  g_autofree char *line = g_strdup_printf ("%s stopped: not marked", name);
  g_autoptr (DcDomain) dom = live_define_bare_domain (name);

  for (int i = 0; i < 100; i++)
    {
      start_and_destroy (dom);
      if (count_in_log (line) > 0)
        return g_steal_pointer (&dom);
      g_usleep (G_USEC_PER_SEC / 10);
    }
  g_error ("the daemon did not run the hook after SIGHUP");
}

/* Marks the source for backups, as the hook's documentation says */
static void
mark_for_backup (const LiveFixture *f, const char *uri)
{
  const char *argv[] = { "virsh",
                         "-q",
                         "-c",
                         uri,
                         "metadata",
                         f->src,
                         "--config",
                         "--uri",
                         MARK_URI,
                         "--key",
                         "domclone-backup",
                         "--set",
                         "<backup keep=\"1\"/>",
                         NULL };

  dc_test_run_ok (argv);
}

/* The backup @first is gone with its volumes (the one outside pools
 * too, not its source) and its NVRAM; @second's NVRAM is there. */
static void
assert_backup_gone (const LiveFixture *f, const char *first, const char *second)
{
  g_autofree char *qcow2 = g_strdup_printf ("%s/%s.qcow2", f->dir, first);
  g_autofree char *vdb = g_strdup_printf ("%s/%s-vdb.raw", f->dir, first);
  g_autofree char *nvram = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, first);
  g_autofree char *nvram2 = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, second);
  g_autofree char *dir = outside_dir (f);
  g_autofree char *extra_base = g_strdup_printf ("%s-vdd.raw", first);
  g_autofree char *extra = g_build_filename (dir, extra_base, NULL);
  g_autofree char *src_extra = g_build_filename (dir, "extra.raw", NULL);

  g_assert_false (live_domain_exists (first));
  g_assert_false (g_file_test (qcow2, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (vdb, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (extra, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (src_extra, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (nvram, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (nvram2, G_FILE_TEST_EXISTS));
}

/* Longer than 60 lines: one scenario, each step starting from what the
 * step before left; it reads best in that order. */
static void
test_live_hook_backup (LiveFixture *f, gconstpointer data)
{
  const char *uri = g_getenv ("DOMCLONE_TEST_URI");
  g_autofree char *plain_name = NULL;
  g_autofree char *done_line = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *iso = NULL;
  g_autofree char *shared = NULL;
  g_autofree char *iso_sum = NULL;
  g_autofree char *shared_sum = NULL;
  g_autofree char *after = NULL;
  g_autoptr (DcDomain) plain = NULL;
  g_autoptr (DcDomain) src = NULL;
  g_autoptr (GPtrArray) plain_backups = NULL;

  SKIP_WITHOUT_DAEMON ();
  if (geteuid () != 0 || g_strcmp0 (uri, "qemu:///system") != 0
      || g_getenv ("DOMCLONE_TEST_LIBVIRTD_PIDFILE") == NULL)
    {
      /* a session daemon runs no hooks */
      g_test_skip ("needs the harness's root daemon, which runs /etc/libvirt/hooks");
      return;
    }
  install_hook ();

  plain_name = g_strdup_printf ("%s-plain", f->src);
  plain = wait_for_hook (plain_name);
  mark_for_backup (f, uri);
  add_outside_disk (f);
  iso = live_path_in (f, "install.iso");
  shared = live_path_in (f, "shared.raw");
  iso_sum = live_sha256_file (iso);
  shared_sum = live_sha256_file (shared);

  /* first stop: one backup */
  src = virDomainLookupByName (live_conn, f->src);
  start_and_destroy (src);
  done_line = g_strdup_printf ("worker for %s finished", f->src);
  wait_for_log (done_line, 1);
  first = the_backup (f);

  /* new data on the source, second stop: a second backup of the new
   * data, the first one gone with its own volumes and NVRAM */
  {
    g_autofree char *data_raw = live_path_in (f, "data.raw");
    const gsize offsets[] = { 0, 8 * MiB };

    live_write_pattern (data_raw, 64 * MiB, offsets, G_N_ELEMENTS (offsets), 4242);
  }
  start_and_destroy (src);
  wait_for_log (done_line, 2);
  second = the_backup (f);
  g_assert_cmpstr (second, !=, first);
  assert_backup_gone (f, first, second);
  /* the shared disks are still there, unchanged */
  after = live_sha256_file (iso);
  g_assert_cmpstr (after, ==, iso_sum);
  g_clear_pointer (&after, g_free);
  after = live_sha256_file (shared);
  g_assert_cmpstr (after, ==, shared_sum);

  /* a backup that carries the mark again (say, set by hand) still
   * makes no backup of its own: the hook decides before the stop ends */
  {
    g_autoptr (DcDomain) b = virDomainLookupByName (live_conn, second);
    g_autofree char *line = g_strdup_printf ("%s stopped: a backup itself, skipped", second);

    g_assert_cmpint (virDomainSetMetadata (b, VIR_DOMAIN_METADATA_ELEMENT, "<backup keep='1'/>",
                                           "domclone-backup", MARK_URI, VIR_DOMAIN_AFFECT_CONFIG),
                     ==, 0);
    start_and_destroy (b);
    g_assert_cmpuint (count_in_log (line), ==, 1);
  }

  /* and never a backup of the unmarked domain */
  {
    g_autofree char *prefix = g_strdup_printf ("%s-backup-", plain_name);
    plain_backups = domains_named (prefix);
    g_assert_cmpuint (plain_backups->len, ==, 0);
  }
  {
    g_autofree char *log = read_log ();
    g_test_message ("hook log:\n%s", log);
  }
  remove_hook ();
}

/* Runs the hook with @xml on its stdin from a file (a pipe would fail
 * the write with EPIPE whenever the hook exits without reading it, which
 * libvirtd ignores); returns its exit status. */
static int
run_hook_on_file (const char *const *argv, const char *const *env, const char *dir, const char *xml)
{
  g_autofree char *in = g_build_filename (dir, "stdin.xml", NULL);
  g_autoptr (GSubprocessLauncher) l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr (GSubprocess) p = NULL;
  g_autoptr (GError) error = NULL;
  int fd;

  g_assert_true (g_file_set_contents (in, xml, -1, NULL));
  fd = g_open (in, O_RDONLY, 0);
  g_assert_cmpint (fd, >=, 0);
  g_subprocess_launcher_set_environ (l, (char **) env);
  g_subprocess_launcher_take_stdin_fd (l, fd);
  p = g_subprocess_launcher_spawnv (l, argv, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_wait (p, NULL, &error));
  g_assert_true (g_subprocess_get_if_exited (p));
  return g_subprocess_get_exit_status (p);
}

/* The hook returns, its output pipes closed, while its worker is still
 * busy: libvirtd waits for exactly that, with the domain locked. The
 * worker's virsh (a stand-in) waits for a gate the test opens only after
 * the hook has returned. Needs no daemon.
 *
 * Longer than 60 lines: one scenario, each step starting from what the
 * step before left; it reads best in that order.
 */
static void
test_live_hook_hands_off (void)
{
  g_autofree char *hook =
    g_test_build_filename (G_TEST_DIST, "..", "contrib", "hooks", "domclone-backup", NULL);
  g_autofree char *dir = g_dir_make_tmp ("hook-XXXXXX", NULL);
  g_autofree char *gate = g_build_filename (dir, "gate", NULL);
  g_autofree char *virsh = g_build_filename (dir, "virsh", NULL);
  g_autofree char *conf = g_build_filename (dir, "backup.conf", NULL);
  g_autofree char *script = NULL;
  g_autofree char *conf_text = NULL;
  g_autofree char *env_conf = g_strdup_printf ("DOMCLONE_BACKUP_CONF=%s", conf);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  const char *xml = "<domain type='qemu'><name>marked</name>"
                    "<uuid>3f1b4a2e-0c55-4d7e-9a43-2b6c1d0e9f10</uuid><metadata>"
                    "<domclone-backup:backup xmlns:domclone-backup='" MARK_URI "' keep='3'/>"
                    "</metadata></domain>";
  const char *argv[] = { hook, "marked", "release", "end", "-", NULL };
  const char *env[] = { env_conf, "PATH=/usr/local/bin:/usr/bin:/bin", NULL };
  int fd;
  int status;

  g_assert_nonnull (dir);
  hook_log = g_build_filename (dir, "backup.log", NULL);
  script = g_strdup_printf ("#!/bin/sh\nwhile [ ! -e '%s' ]; do sleep 0.1; done\n"
                            "echo \"error: the stand-in knows no domain\" >&2\nexit 1\n",
                            gate);
  g_assert_true (g_file_set_contents (virsh, script, -1, NULL));
  g_assert_cmpint (g_chmod (virsh, 0755), ==, 0);
  conf_text = g_strdup_printf ("DOMCLONE_BACKUP_VIRSH='%s'\nDOMCLONE_BACKUP_LOG='%s'\n", virsh, hook_log);
  g_assert_true (g_file_set_contents (conf, conf_text, -1, NULL));

  /* libvirtd writes the XML to the hook's stdin: a file here */
  {
    g_autofree char *in = g_build_filename (dir, "domain.xml", NULL);
    g_assert_true (g_file_set_contents (in, xml, -1, NULL));
    fd = g_open (in, O_RDONLY, 0);
    g_assert_cmpint (fd, >=, 0);
  }
  {
    g_autoptr (GSubprocessLauncher) l =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
    g_autoptr (GSubprocess) p = NULL;

    g_subprocess_launcher_set_environ (l, (char **) env);
    g_subprocess_launcher_take_stdin_fd (l, fd);
    p = g_subprocess_launcher_spawnv (l, argv, &error);
    g_assert_no_error (error);
    /* returns once both pipes are closed, as libvirtd waits */
    g_assert_true (g_subprocess_communicate_utf8 (p, NULL, NULL, &out, &err, &error));
    g_assert_no_error (error);
    g_assert_true (g_subprocess_get_if_exited (p));
    status = g_subprocess_get_exit_status (p);
  }
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (out, ==, "");
  g_assert_cmpstr (err, ==, "");
  g_assert_cmpuint (count_in_log ("marked stopped: backup handed to a detached worker"), ==, 1);
  g_assert_cmpuint (count_in_log ("worker for marked finished"), ==, 0);

  /* the worker was waiting all along; let it go */
  g_assert_true (g_file_set_contents (gate, "", 0, NULL));
  wait_for_log ("worker for marked finished", 1);
  g_assert_cmpuint (count_in_log ("marked (3f1b4a2e-0c55-4d7e-9a43-2b6c1d0e9f10) is gone"), ==, 1);

  /* not a release, or XML it cannot read: exit 0 all the same */
  {
    const char *other[] = { hook, "marked", "prepare", "begin", "-", NULL };

    g_assert_cmpint (run_hook_on_file (other, env, dir, "<domain>"), ==, 0);
    g_assert_cmpint (run_hook_on_file (argv, env, dir, "<domain>"), ==, 0);
  }
  g_assert_cmpuint (count_in_log ("cannot read the XML of marked"), ==, 1);
  g_assert_cmpuint (count_in_log ("handed"), ==, 1);

  text = read_log ();
  g_test_message ("hook log:\n%s", text);
  {
    const char *rm[] = { "rm", "-rf", dir, NULL };
    dc_test_run_ok (rm);
  }
  g_clear_pointer (&hook_log, g_free);
}

int
main (int argc, char **argv)
{
  live_init (&argc, &argv);
  g_test_add_func ("/live/hook/hands-off", test_live_hook_hands_off);
  LIVE_TEST ("/live/hook/backup", test_live_hook_backup);
  return live_run ();
}
