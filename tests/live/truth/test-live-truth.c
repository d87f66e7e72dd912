/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live tests, what a run says and what it leaves: --json is the only
 * thing on stdout and tells the truth (a failed write, the same code for
 * the same failure on either copy path, races for a --name, an
 * --exist-ok rerun that lists the volumes), and a connection lost
 * mid-copy never orphans a volume.
 */
#include "config.h"

#include "dc-test-assert.h"
#include "dc-metadata.h"
#include "live-fixture.h"
#include "dc-test-util.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static char *
error_code_of (const char *text)
{
  g_autoptr (JsonObject) o = dc_test_json_object (text);
  JsonObject *e = json_object_get_object_member (o, "error");

  g_assert_nonnull (e);
  return g_strdup (json_object_get_string_member (e, "code"));
}

/* Waits for @proc, a --json run that must fail (exit 1), and returns
 * the code of its JSON error; its stderr goes to *@err. */
static char *
failed_run_code (GSubprocess *proc, const char *what, char **err)
{
  g_autofree char *out = NULL;
  int status;

  out = dc_test_communicate (proc, err, &status);
  g_test_message ("%s: exit %d: %s%s", what, status, out, *err);
  g_assert_cmpint (status, ==, 1);
  return error_code_of (out);
}

/* --- stdout ------------------------------------------------------------- */

/* A --json object that cannot be written is a failure: exit 1 and a
 * line on stderr, also when the clone itself was made. */
static void
test_live_stdout_full (LiveFixture *f, gconstpointer data)
{
  const char *argv[] = { g_getenv ("DOMCLONE"), "--json", "--name", "full-out", f->src, NULL };
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;

  SKIP_WITHOUT_DAEMON ();
  g_subprocess_launcher_unsetenv (launcher, "G_DEBUG");
  g_subprocess_launcher_set_stdout_file_path (launcher, "/dev/full");
  proc = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, NULL, &err, &error);
  g_assert_no_error (error);
  g_test_message ("exit %d: %s", g_subprocess_get_exit_status (proc), err);
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 1);
  g_assert_cmpstr (err, ==, "domclone: cannot write to standard output: No space left on device\n");
  live_delete_clone ("full-out");
}

/* --- the same code for the same failure --------------------------------- */

/* Runs out of space on the small tmpfs pool, by @local copy or by
 * libvirt's, and returns the JSON error code. */
static char *
no_space_code (LiveFixture *f, gboolean local)
{
  g_autofree char *small = NULL;
  g_autofree char *small_pool = NULL;
  g_autofree char *big = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  const gsize offsets[] = { 0, MiB, 2 * MiB, 3 * MiB, 4 * MiB, 5 * MiB, 6 * MiB, 7 * MiB, 8 * MiB, 9 * MiB };
  const char *args[] = { "--json", f->src, NULL };
  const char *env[] = { local ? "DOMCLONE_LOCAL_COPY=1" : "DOMCLONE_LOCAL_COPY=0", NULL };
  char *code;

  small = live_small_pool (f, 16, &small_pool);
  if (small == NULL)
    return NULL;
  big = g_build_filename (small, "big.raw", NULL);
  live_write_pattern (big, 12 * MiB, offsets, G_N_ELEMENTS (offsets), 77);
  live_attach_disk (f, "vdd", "raw", big);

  before = live_snapshot ();
  proc = dc_test_spawn_domclone_env (args, env);
  code = failed_run_code (proc, local ? "local copy" : "libvirt's copy", &err);
  dc_assert_contains (err, "No space left on device");
  after = live_snapshot ();
  g_assert_cmpstr (after, ==, before);
  live_small_pool_remove (small_pool, small);
  return code;
}

static void
test_live_no_space_libvirt (LiveFixture *f, gconstpointer data)
{
  g_autofree char *code = NULL;

  SKIP_WITHOUT_DAEMON ();
  code = no_space_code (f, FALSE);
  if (code != NULL)
    g_assert_cmpstr (code, ==, "no-space");
}

static void
test_live_no_space_local (LiveFixture *f, gconstpointer data)
{
  g_autofree char *code = NULL;

  SKIP_WITHOUT_DAEMON ();
  code = no_space_code (f, TRUE);
  if (code != NULL)
    g_assert_cmpstr (code, ==, "no-space");
}

/* --- races for a --name -------------------------------------------------- */

/* Starts domclone with @args (and -vv) and returns once it has planned
 * and is about to define: the source's description is bigger than a
 * pipe holds, and the clone's XML, logged just before the define, fills
 * the stderr pipe this does not read. dc_test_communicate() lets it go
 * on. */
static GSubprocess *
start_held_before_define (const LiveFixture *f, const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  GSubprocess *proc;
  int fd;
  int queued = 0;

  g_ptr_array_add (argv, (gpointer) "-vv");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  proc = dc_test_spawn_domclone ((const char *const *) argv->pdata);
  /* a GUnixInputStream; its header is in gio-unix, which the build
   * does not ask for */
  g_object_get (g_subprocess_get_stderr_pipe (proc), "fd", &fd, NULL);
  for (int i = 0; i < 3000; i++)
    {
      g_assert_cmpint (ioctl (fd, FIONREAD, &queued), ==, 0);
      if (queued >= 60 * 1024)
        break;
      g_usleep (G_USEC_PER_SEC / 100);
    }
  g_assert_cmpint (queued, >=, 60 * 1024);
  return proc;
}

/* Gives the source a description bigger than a pipe. */
static void
add_big_description (const LiveFixture *f)
{
  g_autofree char *xml = live_domain_xml (f->src);
  g_autofree char *text = g_strnfill (128 * 1024, 'd');
  g_autofree char *desc = g_strdup_printf ("</name><description>%s</description>", text);
  g_auto (GStrv) parts = g_strsplit (xml, "</name>", 2);
  g_autofree char *changed = g_strjoin (desc, parts[0], parts[1], NULL);
  g_autoptr (DcDomain) dom = virDomainDefineXML (live_conn, changed);

  g_assert_nonnull (dom);
}

/* Two runs with the same --name at once: the one that loses the define
 * says name-taken, as when the name was taken before it began. */
static void
test_live_name_race (LiveFixture *f, gconstpointer data)
{
  const char *args[] = { "--json", "--name", "raced", f->src, NULL };
  g_autoptr (GSubprocess) loser = NULL;
  g_autofree char *err = NULL;
  g_autofree char *code = NULL;

  SKIP_WITHOUT_DAEMON ();
  add_big_description (f);
  loser = start_held_before_define (f, args);
  g_assert_false (live_domain_exists ("raced"));
  g_assert_cmpint (dc_test_domclone (NULL, NULL, "--name", "raced", f->src, NULL), ==, 0);
  code = failed_run_code (loser, "loser", &err);
  g_assert_cmpstr (code, ==, "name-taken");
  live_delete_clone ("raced");
}

/* A second --exist-ok run that loses the define to a first one still
 * building the clone says in-progress. */
static void
test_live_exist_ok_race (LiveFixture *f, gconstpointer data)
{
  const char *args[] = { "--json", "--exist-ok", "--name", "raced", f->src, NULL };
  const char *first_args[] = { "--name", "raced", f->src, NULL };
  g_autoptr (GSubprocess) loser = NULL;
  g_autoptr (GSubprocess) first = NULL;
  g_autofree char *big = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *code = NULL;
  int status;

  SKIP_WITHOUT_DAEMON ();
  add_big_description (f);
  big = live_add_big_disk (f);
  loser = start_held_before_define (f, args);
  /* the first run defines the clone and copies its big disk */
  first = dc_test_spawn_domclone (first_args);
  live_wait_for_copy_start (f, "raced-vde.raw");
  code = failed_run_code (loser, "loser", &err);
  g_assert_cmpstr (code, ==, "in-progress");
  g_clear_pointer (&err, g_free);
  out = dc_test_communicate (first, &err, &status);
  g_assert_cmpint (status, ==, 0);
  live_delete_clone ("raced");
}

/* --- --exist-ok describes the clone as the first run did ----------------- */

static void
test_live_exist_ok_volumes (LiveFixture *f, gconstpointer data)
{
  const char *args[] = { "--json", "--exist-ok", "--name", "again", "@", NULL };
  g_autofree char *err1 = NULL;
  g_autofree char *err2 = NULL;
  g_autoptr (JsonObject) o1 = NULL;
  g_autoptr (JsonObject) o2 = NULL;
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  JsonArray *volumes;
  int status;

  SKIP_WITHOUT_DAEMON ();
  o1 = live_run_json (f, args, &status, &err1);
  g_assert_cmpint (status, ==, 0);
  o2 = live_run_json (f, args, &status, &err2);
  g_assert_cmpint (status, ==, 0);
  /* what must differ: whether this run changed anything */
  g_assert_true (json_object_get_boolean_member (o1, "changed"));
  g_assert_false (json_object_get_boolean_member (o2, "changed"));
  json_object_remove_member (o1, "changed");
  json_object_remove_member (o2, "changed");
  volumes = json_object_get_array_member (json_object_get_object_member (o1, "clone"), "volumes");
  g_assert_cmpuint (json_array_get_length (volumes), >, 0);
  {
    g_autoptr (JsonNode) n1 = json_node_init_object (json_node_alloc (), o1);
    g_autoptr (JsonNode) n2 = json_node_init_object (json_node_alloc (), o2);
    g_autofree char *s1 = NULL;
    g_autofree char *s2 = NULL;

    json_generator_set_root (gen, n1);
    s1 = json_generator_to_data (gen, NULL);
    json_generator_set_root (gen, n2);
    s2 = json_generator_to_data (gen, NULL);
    g_assert_cmpstr (s2, ==, s1);
  }
  /* the clone's metadata lists them; --print-xml shows that too */
  {
    g_autoptr (DcDomain) dom = virDomainLookupByName (live_conn, "again");
    g_autofree char *md =
      virDomainGetMetadata (dom, VIR_DOMAIN_METADATA_ELEMENT, DC_METADATA_URI, VIR_DOMAIN_AFFECT_CONFIG);
    g_autofree char *xml = NULL;
    g_autofree char *want =
      g_strdup_printf ("<volume disk=\"vda\" pool=\"%s\" name=\"again.qcow2\"", f->pool);
    g_autofree char *want_dry =
      g_strdup_printf ("<volume disk=\"vda\" pool=\"%s\" name=\"dry.qcow2\"", f->pool);

    g_assert_nonnull (md);
    dc_assert_contains (md, want);
    g_assert_cmpint (dc_test_domclone (&xml, NULL, "--print-xml", "--name", "dry", f->src, NULL), ==, 0);
    dc_assert_contains (xml, want_dry);
  }
  live_delete_clone ("again");
}

/* --- a connection lost mid-copy ----------------------------------------- */

/* Gives the source five more big disks (six with the fixture's own
 * copied ones is more than libvirtd's five calls at once per client);
 * returns their volume names in the clone. */
static GPtrArray *
add_six_big_disks (const LiveFixture *f)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (DcDomain) src = virDomainLookupByName (live_conn, f->src);
  g_autoptr (DcPool) pool = virStoragePoolLookupByName (live_conn, f->pool);

  for (guint i = 0; i < 6; i++)
    {
      g_autofree char *file = g_strdup_printf ("big%u.raw", i);
      g_autofree char *path = live_path_in (f, file);
      g_autofree char *xml = NULL;
      const gsize offsets[] = { 0, 1024 * MiB + i * MiB, 2000 * MiB };

      live_write_pattern (path, 2 * 1024 * MiB + 4 * MiB, offsets, G_N_ELEMENTS (offsets), 200 + i);
      xml = g_strdup_printf ("<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                             "<source file='%s'/><target dev='vd%c' bus='virtio'/></disk>",
                             path, 'j' + i);
      g_assert_cmpint (virDomainAttachDeviceFlags (src, xml, VIR_DOMAIN_AFFECT_CONFIG), ==, 0);
      g_ptr_array_add (names, g_strdup_printf ("%s-clone1-vd%c.raw", f->src, 'j' + i));
    }
  g_assert_cmpint (virStoragePoolRefresh (pool, 0), ==, 0);
  return names;
}

/* Waits until libvirt builds one of @names (in @f's pool), then a bit */
static void
wait_for_any_copy (const LiveFixture *f, const GPtrArray *names)
{
  g_autoptr (DcPool) pool = virStoragePoolLookupByName (live_conn, f->pool);

  for (int i = 0; i < 3000; i++)
    for (guint j = 0; j < names->len; j++)
      {
        g_autoptr (DcVol) vol = virStorageVolLookupByName (pool, names->pdata[j]);

        if (vol != NULL)
          {
            g_usleep (G_USEC_PER_SEC);
            return;
          }
        g_usleep (G_USEC_PER_SEC / 100);
      }
  g_error ("no copy started");
}

/* After a failed run: nothing is left, or the clone is still defined
 * with its marker, the message says to run --cleanup, and --cleanup
 * leaves nothing. */
static void
assert_nothing_left_after_cleanup (const LiveFixture *f, const char *err, const char *before)
{
  g_autofree char *clone = g_strdup_printf ("%s-clone1", f->src);
  g_autofree char *after = NULL;

  if (live_domain_exists (clone))
    {
      g_autofree char *hint = g_strdup_printf ("run 'domclone --cleanup %s'", f->src);
      g_autofree char *out = NULL;
      g_autofree char *cerr = NULL;
      int status;

      g_assert_true (live_has_building_marker (clone));
      dc_assert_contains (err, hint);
      status = dc_test_domclone (&out, &cerr, "--cleanup", f->src, NULL);
      g_test_message ("cleanup: exit %d: %s%s", status, out, cerr);
      g_assert_cmpint (status, ==, 0);
    }
  else
    dc_assert_contains (err, "everything this run created was removed");
  after = live_snapshot ();
  g_assert_cmpstr (after, ==, before);
}

/* libvirtd drops the run's connection (as after a keepalive timeout or
 * a network blip) while six copies are under way and keeps copying:
 * the rollback cannot delete those volumes yet. */
static void
test_live_disconnect_mid_copy (LiveFixture *f, gconstpointer data)
{
  const char *args[] = { "-j", "6", f->src, NULL };
  g_autoptr (GPtrArray) names = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autofree char *before = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *clients = NULL;
  g_auto (GStrv) lines = NULL;
  g_autofree char *admin = NULL;
  int status;

  SKIP_WITHOUT_DAEMON ();
  admin = g_find_program_in_path ("virt-admin");
  if (admin == NULL || geteuid () != 0)
    {
      g_test_skip ("needs virt-admin and the harness's root daemon");
      return;
    }
  names = add_six_big_disks (f);
  before = live_snapshot ();
  proc = dc_test_spawn_domclone (args);
  wait_for_any_copy (f, names);

  /* every client goes, this test's own connection too */
  {
    const char *list[] = { "virt-admin", "srv-clients-list", "libvirtd", NULL };
    g_assert_cmpint (dc_test_run (list, &clients, NULL), ==, 0);
  }
  lines = g_strsplit (clients, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) fields = g_strsplit_set (g_strstrip (lines[i]), " ", 2);
      guint64 id;

      if (fields[0] == NULL || !g_ascii_string_to_unsigned (fields[0], 10, 0, G_MAXUINT64, &id, NULL))
        continue;
      {
        const char *drop[] = { "virt-admin", "client-disconnect", "libvirtd", fields[0], NULL };
        dc_test_run (drop, NULL, NULL);
      }
    }

  out = dc_test_communicate (proc, &err, &status);
  g_test_message ("disconnected: exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 1);
  live_reconnect ();
  assert_nothing_left_after_cleanup (f, err, before);
}

/* The daemon is restarted while six copies run at once. */
static void
test_live_restart_mid_copy (LiveFixture *f, gconstpointer data)
{
  const char *args[] = { "-j", "6", f->src, NULL };
  g_autoptr (GPtrArray) names = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autofree char *before = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  SKIP_WITHOUT_DAEMON ();
  if (!live_daemon_restartable ())
    return;
  names = add_six_big_disks (f);
  before = live_snapshot ();
  proc = dc_test_spawn_domclone (args);
  wait_for_any_copy (f, names);
  live_restart_daemon ();

  out = dc_test_communicate (proc, &err, &status);
  g_test_message ("daemon restart: exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 1);
  live_reconnect ();
  assert_nothing_left_after_cleanup (f, err, before);
}

static void
new_process_group (gpointer data)
{
  setpgid (0, 0);
}

/* Ctrl-C on a terminal reaches the whole foreground process group,
 * where libvirt also runs the ssh of a qemu+ssh:// connection: ssh must
 * live on, so that the rollback runs on the connection it has. The
 * run is started in a process group of its own, as a shell starts a
 * job, and the group gets SIGINT mid-copy. ssh here is a stand-in
 * (tests/data/fake-ssh) that dies of SIGINT unless it is ignored. */
static void
test_live_ssh_ctrl_c (LiveFixture *f, gconstpointer data)
{
  g_autofree char *fake = g_test_build_filename (G_TEST_DIST, "data", "fake-ssh", NULL);
  g_autofree char *bindir = g_path_get_dirname (g_getenv ("DOMCLONE"));
  g_autofree char *helper = g_build_filename (bindir, "domclone-ssh", NULL);
  g_autofree char *path = g_strdup_printf ("%s:%s", fake, g_getenv ("PATH"));
  g_autoptr (GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  const char *argv[] = { g_getenv ("DOMCLONE"), "-c", "qemu+ssh://localhost/system", f->src, NULL };
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *big = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *helper_env = g_strdup (g_getenv ("DOMCLONE_TEST_SSH_HELPER"));
  int status;

  SKIP_WITHOUT_DAEMON ();
  if (!g_file_test ("/usr/bin/virt-ssh-helper", G_FILE_TEST_IS_EXECUTABLE) || geteuid () != 0)
    {
      g_test_skip ("needs virt-ssh-helper and the harness's root daemon");
      return;
    }
  big = live_add_big_disk (f);
  before = live_snapshot ();
  g_subprocess_launcher_unsetenv (launcher, "G_DEBUG");
  g_subprocess_launcher_setenv (launcher, "PATH", path, TRUE);
  /* DOMCLONE_TEST_SSH_HELPER: another helper, to see this fail */
  g_subprocess_launcher_setenv (launcher, "DOMCLONE_SSH_HELPER", helper_env ? helper_env : helper, TRUE);
  g_subprocess_launcher_set_child_setup (launcher, new_process_group, NULL, NULL);
  proc = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  live_wait_for_copy_start (f, big);
  g_assert_cmpint (kill (-(pid_t) g_ascii_strtoll (g_subprocess_get_identifier (proc), NULL, 10), SIGINT), ==,
                   0);

  out = dc_test_communicate (proc, &err, &status);
  g_test_message ("ctrl-c: exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 1);
  dc_assert_not_contains (err, "lost the connection");
  dc_assert_contains (err, "interrupted by Interrupt; everything this run created was removed\n");
  after = live_snapshot ();
  g_assert_cmpstr (after, ==, before);
}

/* Six disks copied at once through libvirt on one connection, more
 * than libvirtd serves at once per client: all arrive, byte for byte. */
static void
test_live_six_disks_j6 (LiveFixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) names = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  SKIP_WITHOUT_DAEMON ();
  names = add_six_big_disks (f);
  status = dc_test_domclone (&out, &err, "-j", "6", f->src, NULL);
  g_test_message ("exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *file = g_strdup_printf ("big%u.raw", i);
      g_autofree char *src = live_path_in (f, file);
      g_autofree char *dst = live_path_in (f, names->pdata[i]);
      g_autofree char *a = live_sha256_file (src);
      g_autofree char *b = live_sha256_file (dst);

      g_assert_cmpstr (b, ==, a);
    }
}

int
main (int argc, char **argv)
{
  live_init (&argc, &argv);
  LIVE_TEST ("/live/truth/stdout-full", test_live_stdout_full);
  LIVE_TEST ("/live/truth/no-space/libvirt", test_live_no_space_libvirt);
  LIVE_TEST ("/live/truth/no-space/local", test_live_no_space_local);
  LIVE_TEST ("/live/truth/name-race", test_live_name_race);
  LIVE_TEST ("/live/truth/exist-ok-race", test_live_exist_ok_race);
  LIVE_TEST ("/live/truth/exist-ok-volumes", test_live_exist_ok_volumes);
  /* the copies below must still be running when the fault hits */
  g_setenv ("DOMCLONE_LOCAL_COPY", "0", TRUE);
  LIVE_TEST ("/live/lost/disconnect-mid-copy", test_live_disconnect_mid_copy);
  LIVE_TEST ("/live/lost/restart-mid-copy", test_live_restart_mid_copy);
  LIVE_TEST ("/live/lost/six-disks-j6", test_live_six_disks_j6);
  LIVE_TEST ("/live/lost/ssh-ctrl-c", test_live_ssh_ctrl_c);
  return live_run ();
}
