/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live tests, a running domain cloned onto another host (--live --to).
 * The source is the writing guest of tests/lib/live-guest.c on the
 * test's own daemon; the clone is made on a second, independent one
 * (tests/lib/live-other.c), whose pool of the source pool's name lies in
 * a directory private to it, read from here through /proc/PID/root.
 * One pull-mode backup job exports the source's disks over NBD; they are
 * read and streamed across at one instant. Root only.
 */
#include "config.h"

#include "dc-test-assert.h"
#include "dc-test-util.h"
#include "live-guest.h"
#include "live-other.h"

#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#define CRASH_CONSISTENT " while it ran (crash-consistent: no guest agent froze its file systems)"
/* the records the guest has written before a clone starts */
#define RECORDS_FIRST 100
/* a disk of data whose stream across lasts seconds */
#define FULL_DISK_MIB 1024
/* the TCP ports domclone's NBD server listened on before it took a
 * UNIX socket */
#define NBD_PORT_FIRST 10809
#define NBD_PORT_LAST 10840
/* libvirt's private directories of running domains */
#define QEMU_LIB_DIR "/var/lib/libvirt/qemu/domain-"

/* --- helpers ------------------------------------------------------------- */

/* Removes the domains named from @src on and pool @pool from the
 * destination */
static void
to_live_teardown (const char *src, const char *pool)
{
  virDomainPtr *doms = NULL;
  int n = virConnectListAllDomains (live_other_conn, &doms, 0);
  g_autoptr (DcPool) there = NULL;

  for (int i = 0; i < n; i++)
    {
      if (g_str_has_prefix (virDomainGetName (doms[i]), src))
        {
          if (virDomainIsActive (doms[i]) == 1)
            virDomainDestroy (doms[i]);
          virDomainUndefineFlags (doms[i], VIR_DOMAIN_UNDEFINE_NVRAM);
        }
      virDomainFree (doms[i]);
    }
  g_free (doms);
  there = virStoragePoolLookupByName (live_other_conn, pool);
  if (there != NULL)
    {
      virStoragePoolDestroy (there);
      virStoragePoolUndefine (there);
    }
}

/* The arguments of domclone -c SRC --to DST --live ARGS... @src */
static GPtrArray *
to_live_argv (const char *src, const char *const *args)
{
  GPtrArray *argv = g_ptr_array_new ();

  g_ptr_array_add (argv, (gpointer) "-c");
  g_ptr_array_add (argv, (gpointer) g_getenv ("DOMCLONE_TEST_URI"));
  g_ptr_array_add (argv, (gpointer) "--to");
  g_ptr_array_add (argv, (gpointer) live_other_uri);
  g_ptr_array_add (argv, (gpointer) "--live");
  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, (gpointer) src);
  g_ptr_array_add (argv, NULL);
  return argv;
}

/* The files in @dir, sorted, one a line */
static char *
listing (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GString *out = g_string_new (NULL);
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, dc_test_compare_strings);
  for (guint i = 0; i < names->len; i++)
    g_string_append_printf (out, "%s\n", (const char *) names->pdata[i]);
  return g_string_free (out, FALSE);
}

/* Whether a backup job runs on the source @name (the job's stats are
 * not to be had while a pull-mode job starts: "backup job data
 * missing") */
static gboolean
backup_runs (const char *name)
{
  g_autoptr (DcDomain) dom = virDomainLookupByName (live_conn, name);
  g_autofree char *xml = NULL;

  g_assert_nonnull (dom);
  xml = virDomainBackupGetXMLDesc (dom, 0);
  return xml != NULL;
}

/* Waits until the source's backup job runs, and its disks stream
 * across (the new volumes are made before it starts, allocated like
 * the source's: their blocks tell nothing) */
static void
wait_for_job (const LiveGuest *g)
{
  for (int i = 0; i < 6000; i++)
    {
      if (backup_runs (g->src))
        {
          g_usleep (G_USEC_PER_SEC / 2);
          return;
        }
      g_usleep (G_USEC_PER_SEC / 100);
    }
  g_error ("no backup job started on '%s'", g->src);
}

/* Boots @clone on the destination to its end; its facts */
static GHashTable *
boot_there (const char *clone)
{
  g_autoptr (DcDomain) dom = virDomainLookupByName (live_other_conn, clone);
  g_autofree char *xml = NULL;
  g_autofree char *log = NULL;
  const char *at, *end;

  g_assert_nonnull (dom);
  xml = virDomainGetXMLDesc (dom, VIR_DOMAIN_XML_INACTIVE);
  g_assert_nonnull (xml);
  /* <serial type='file'><source path='...'/> */
  at = strstr (xml, "<serial type='file'>");
  g_assert_nonnull (at);
  at = strstr (at, "path='");
  g_assert_nonnull (at);
  at += strlen ("path='");
  end = strchr (at, '\'');
  {
    g_autofree char *path = g_strndup (at, (gsize) (end - at));

    log = live_other_path (path);
  }
  live_guest_start_on (live_other_conn, clone, log);
  return live_guest_wait_on (live_other_conn, clone, log);
}

/* Whether something listens on a TCP port from @first to @last in this
 * network namespace, the source daemon's (/proc/net/tcp{,6}: "local
 * address" HEX-IP:HEX-PORT, state 0A is LISTEN) */
static gboolean
tcp_listens (guint first, guint last)
{
  static const char *const tables[] = { "/proc/net/tcp", "/proc/net/tcp6" };

  for (guint t = 0; t < G_N_ELEMENTS (tables); t++)
    {
      g_autofree char *text = NULL;
      g_auto (GStrv) lines = NULL;

      g_assert_true (g_file_get_contents (tables[t], &text, NULL, NULL));
      lines = g_strsplit (text, "\n", -1);
      for (guint i = 1; lines[i] != NULL; i++)
        {
          g_auto (GStrv) fields = g_strsplit_set (g_strstrip (lines[i]), " ", -1);
          g_autoptr (GPtrArray) words = g_ptr_array_new ();
          const char *colon;
          guint port;

          for (guint f = 0; fields[f] != NULL; f++)
            if (fields[f][0] != '\0')
              g_ptr_array_add (words, fields[f]);
          if (words->len < 4 || (colon = strrchr (words->pdata[1], ':')) == NULL)
            continue;
          port = (guint) g_ascii_strtoull (colon + 1, NULL, 16);
          if (g_str_equal (words->pdata[3], "0A") && port >= first && port <= last)
            return TRUE;
        }
    }
  return FALSE;
}

/* While the job of a run on @g's source runs: its disks are exported on
 * a UNIX socket in a directory of libvirt's that only root and QEMU's
 * user (root here) can enter, and on no TCP port. Returns the socket's
 * path. */
static char *
assert_exported_privately (const LiveGuest *g)
{
  g_autoptr (DcDomain) dom = virDomainLookupByName (live_conn, g->src);
  g_autofree char *xml = NULL;
  g_autofree char *dir = NULL;
  const char *at, *end;
  char *socket;
  struct stat st;

  g_assert_nonnull (dom);
  xml = virDomainBackupGetXMLDesc (dom, 0);
  g_assert_nonnull (xml);
  g_test_message ("the job: %s", xml);
  dc_assert_contains (xml, "transport='unix'");
  at = strstr (xml, "socket='");
  g_assert_nonnull (at);
  at += strlen ("socket='");
  end = strchr (at, '\'');
  socket = g_strndup (at, (gsize) (end - at));
  g_assert_true (g_str_has_prefix (socket, QEMU_LIB_DIR));
  g_assert_cmpint (lstat (socket, &st), ==, 0);
  g_assert_true (S_ISSOCK (st.st_mode));
  dir = g_path_get_dirname (socket);
  g_assert_cmpint (stat (dir, &st), ==, 0);
  g_assert_true (S_ISDIR (st.st_mode));
  g_assert_cmpuint (st.st_uid, ==, 0);
  g_assert_cmpuint (st.st_mode & 0007, ==, 0);
  g_assert_false (tcp_listens (NBD_PORT_FIRST, NBD_PORT_LAST));
  return socket;
}

/* Whether @path is there (a socket, as lstat sees it) */
static gboolean
exists (const char *path)
{
  struct stat st;

  return lstat (path, &st) == 0;
}

/* --- tests --------------------------------------------------------------- */

/* A guest that writes, cloned onto the other daemon while it writes: the
 * clone's disk there is the source's at one instant and as sparse; the
 * source runs on, writing, no job left on it and no file left beside
 * its disks; the clone boots there, as itself, on the source's data. */
static void
test_to_live_clone (LiveGuest *g, gconstpointer data)
{
  g_autofree char *clone = NULL;
  g_autofree char *clone_disk = NULL;
  g_autofree char *files = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *want = NULL;
  g_autofree char *line = NULL;
  g_autoptr (GPtrArray) argv = NULL;
  g_autoptr (GHashTable) facts = NULL;
  guint64 last;
  int status;

  if (g->src == NULL || !live_other_start_with_pool (g->pool))
    return;
  clone = g_strdup_printf ("%s-clone1", g->src);
  {
    g_autofree char *name = g_strdup_printf ("%s-data.raw", clone);

    clone_disk = live_other_there_file (g->pool, name);
  }
  live_guest_start_writer (g, RECORDS_FIRST);
  files = listing (g->dir);

  argv = to_live_argv (g->src, NULL);
  status = dc_test_domclone_argv ((const char *const *) argv->pdata, &out, &err);
  g_test_message ("exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 0);
  want = g_strdup_printf ("Cloned from %s to %s" CRASH_CONSISTENT ".\n", g->src, clone);
  g_assert_cmpstr (out, ==, want);
  g_assert_false (live_domain_exists (clone));
  g_assert_cmpuint (live_counter_of (g->src), ==, 1);

  last = live_guest_assert_one_instant (clone_disk, RECORDS_FIRST);
  g_test_message ("'%s' holds records 1 to %" G_GUINT64_FORMAT, clone, last);
  live_guest_assert_goes_on (g, last);
  /* a pull-mode job ends by being aborted, which libvirt reports as
   * completed */
  g_assert_cmpint (live_guest_job_type (live_conn, g->src, TRUE), ==, VIR_DOMAIN_JOB_COMPLETED);
  {
    g_autofree char *files_after = listing (g->dir);

    /* the job's scratch files are gone with it */
    g_assert_cmpstr (files_after, ==, files);
  }
  /* 16 MiB, of which the lines and the records are data; the holes
   * came across as holes */
  g_assert_cmpuint (live_allocated_bytes (clone_disk), <, 4 * MiB);
  line = live_guest_read_line (clone_disk, LIVE_GUEST_DATA_OFFSET);
  g_assert_cmpstr (line, ==, g->data);

  /* it boots there beside its running source, as itself */
  live_guest_write_line (clone_disk, LIVE_GUEST_WRITER_OFFSET, LIVE_GUEST_WRITER_OFF);
  facts = boot_there (clone);
  g_assert_cmpstr (live_guest_fact (facts, "data"), ==, g->data);
  g_assert_cmpstr (live_guest_fact (facts, "mac"), !=, g->mac);
  g_assert_cmpint (live_guest_state (live_conn, g->src), ==, VIR_DOMAIN_RUNNING);
  to_live_teardown (g->src, g->pool);
}

/* SIGTERM while a disk streams across: the job on the source is
 * aborted, what was made on the destination is gone, the source runs
 * on with its counter. Then a run killed mid-stream (--format qcow2:
 * into a raw staging volume) leaves the job running and a marked clone
 * there; --cleanup ends the one and removes the other, staging volume
 * included. */
static void
test_to_live_interrupted (LiveGuest *g, gconstpointer data)
{
  const char *one[] = { "-j", "1", NULL };
  const char *staged[] = { "-j", "1", "--format", "qcow2", NULL };
  g_autoptr (GPtrArray) argv = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autofree char *before = NULL;
  g_autofree char *files = NULL;
  g_autofree char *clone = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  if (g->src == NULL || !live_other_start_with_pool (g->pool))
    return;
  live_guest_add_full_disk (g, "vdb", FULL_DISK_MIB);
  live_guest_start_writer (g, 1);
  before = live_snapshot_of (live_other_conn);
  files = listing (g->dir);
  clone = g_strdup_printf ("%s-clone1", g->src);
  argv = to_live_argv (g->src, one);

  proc = dc_test_spawn_domclone ((const char *const *) argv->pdata);
  wait_for_job (g);
  g_subprocess_send_signal (proc, SIGTERM);
  out = dc_test_communicate (proc, &err, &status);
  g_test_message ("SIGTERM: exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 1);
  dc_assert_contains (err, "everything this run created was removed");
  g_assert_false (backup_runs (g->src));
  live_guest_assert_goes_on (g, live_guest_last_record (g->data_path));
  {
    g_autofree char *after = live_snapshot_of (live_other_conn);
    g_autofree char *files_after = listing (g->dir);

    g_assert_cmpstr (after, ==, before);
    g_assert_cmpstr (files_after, ==, files);
  }
  g_assert_cmpuint (live_counter_of (g->src), ==, 0);
  g_clear_object (&proc);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* killed: the job goes on exporting, the clone stays marked */
  g_clear_pointer (&argv, g_ptr_array_unref);
  argv = to_live_argv (g->src, staged);
  proc = dc_test_spawn_domclone ((const char *const *) argv->pdata);
  wait_for_job (g);
  g_subprocess_force_exit (proc);
  g_assert_true (g_subprocess_wait (proc, NULL, NULL));
  g_assert_true (backup_runs (g->src));
  {
    g_autofree char *now = live_snapshot_of (live_other_conn);

    dc_assert_contains (now, ".domclone-staging");
  }
  {
    const char *args[] = { "-c", g_getenv ("DOMCLONE_TEST_URI"), "--to", live_other_uri, "--cleanup", g->src,
                           NULL };

    status = dc_test_domclone_argv (args, &out, &err);
  }
  g_test_message ("--cleanup: exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  dc_assert_contains (out, clone);
  g_assert_false (backup_runs (g->src));
  live_guest_assert_goes_on (g, live_guest_last_record (g->data_path));
  {
    g_autofree char *after = live_snapshot_of (live_other_conn);
    g_autofree char *files_after = listing (g->dir);

    g_assert_cmpstr (after, ==, before);
    g_assert_cmpstr (files_after, ==, files);
  }
  to_live_teardown (g->src, g->pool);
}

/* The exports of a source on this host are a UNIX socket in libvirt's
 * private directory of the domain, not a TCP port anyone may reach;
 * the socket is gone after a SIGTERM, after a SIGKILL and --cleanup,
 * and after a clone, whose disk has the source's bytes. */
static void
test_to_live_private_socket (LiveGuest *g, gconstpointer data)
{
  const char *one[] = { "-j", "1", NULL };
  g_autoptr (GPtrArray) argv = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autofree char *socket = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *clone = NULL;
  int status;

  if (g->src == NULL || !live_other_start_with_pool (g->pool))
    return;
  live_guest_add_full_disk (g, "vdb", FULL_DISK_MIB);
  live_guest_start_writer (g, 1);
  argv = to_live_argv (g->src, one);

  /* SIGTERM */
  proc = dc_test_spawn_domclone ((const char *const *) argv->pdata);
  wait_for_job (g);
  socket = assert_exported_privately (g);
  g_subprocess_send_signal (proc, SIGTERM);
  out = dc_test_communicate (proc, &err, &status);
  g_test_message ("SIGTERM: exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 1);
  g_assert_false (backup_runs (g->src));
  g_assert_false (exists (socket));
  g_clear_object (&proc);
  g_clear_pointer (&socket, g_free);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* SIGKILL: the job goes on exporting, --cleanup ends it */
  proc = dc_test_spawn_domclone ((const char *const *) argv->pdata);
  wait_for_job (g);
  socket = assert_exported_privately (g);
  g_subprocess_force_exit (proc);
  g_assert_true (g_subprocess_wait (proc, NULL, NULL));
  g_assert_true (backup_runs (g->src));
  g_assert_true (exists (socket));
  {
    const char *args[] = { "-c", g_getenv ("DOMCLONE_TEST_URI"), "--to", live_other_uri, "--cleanup", g->src,
                           NULL };

    status = dc_test_domclone_argv (args, &out, &err);
  }
  g_test_message ("--cleanup: exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  g_assert_false (backup_runs (g->src));
  g_assert_false (exists (socket));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* to the end: the same bytes there, no socket left */
  status = dc_test_domclone_argv ((const char *const *) argv->pdata, &out, &err);
  g_test_message ("exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  g_assert_false (exists (socket));
  clone = g_strdup_printf ("%s-clone1", g->src);
  {
    g_autofree char *src_disk = g_strdup_printf ("%s/%s-vdb.raw", g->dir, g->src);
    g_autofree char *name = g_strdup_printf ("%s-vdb.raw", clone);
    g_autofree char *there = live_other_there_file (g->pool, name);

    live_assert_same_file (src_disk, there);
  }
  live_guest_assert_goes_on (g, live_guest_last_record (g->data_path));
  to_live_teardown (g->src, g->pool);
}

/* A source reached over TCP (its URI names a host) is exported on a TCP
 * port, which anyone who reaches it could read from: stderr says so,
 * once, naming the host and the port; the clone is the source's. */
static void
test_to_live_tcp_warns (LiveGuest *g, gconstpointer data)
{
  const char *tcp = g_getenv ("DOMCLONE_TEST_TCP_URI");
  g_autofree char *clone_disk = NULL;
  g_autofree char *line = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *want = NULL;
  int status;

  if (tcp == NULL)
    {
      g_test_skip ("the daemon has no TCP listener (DOMCLONE_TEST_TCP_URI)");
      return;
    }
  if (g->src == NULL || !live_other_start_with_pool (g->pool))
    return;
  {
    g_autofree char *name = g_strdup_printf ("%s-clone1-data.raw", g->src);

    clone_disk = live_other_there_file (g->pool, name);
  }
  live_guest_start_writer (g, 1);
  {
    const char *args[] = { "-c", tcp, "--to", live_other_uri, "--live", g->src, NULL };

    status = dc_test_domclone_argv (args, &out, &err);
  }
  g_test_message ("exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  want = g_strdup_printf ("domclone: warning: the disks of '%s' can be read without a password by anyone who "
                          "reaches '127.0.0.1' port %d (NBD over TCP without TLS) until they are copied\n",
                          g->src, NBD_PORT_FIRST);
  dc_assert_contains (err, want);
  /* once */
  g_assert_null (strstr (strstr (err, want) + strlen (want), "without a password"));
  line = live_guest_read_line (clone_disk, LIVE_GUEST_DATA_OFFSET);
  g_assert_cmpstr (line, ==, g->data);
  live_guest_assert_goes_on (g, live_guest_last_record (g->data_path));
  to_live_teardown (g->src, g->pool);
}

/* A member of the libvirt group (not root) cannot enter libvirt's
 * private directory of the running source, where its exports' socket
 * would be: the clone is refused before anything is made, in one
 * line, and never made over an open TCP port instead. (The destination
 * is the same daemon: the member reaches no other.) */
static void
test_to_live_member_refused (LiveFixture *f, gconstpointer data)
{
  const char *user = g_getenv ("DOMCLONE_TEST_GROUP_USER");
  const char *uri = g_getenv ("DOMCLONE_TEST_URI");
  g_autoptr (DcDomain) src = NULL;
  g_autofree char *clone = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  if (live_conn == NULL)
    return;
  if (user == NULL)
    {
      g_test_skip ("no member of the libvirt group (DOMCLONE_TEST_GROUP_USER)");
      return;
    }
  src = virDomainLookupByName (live_conn, f->src);
  g_assert_nonnull (src);
  if (virDomainCreate (src) < 0 || virDomainSuspend (src) < 0)
    g_error ("cannot start and pause '%s': %s", f->src, virGetLastErrorMessage ());
  clone = g_strdup_printf ("%s-member", f->src);
  before = live_snapshot ();
  {
    g_autofree char *reuid = g_strdup_printf ("--reuid=%s", user);
    g_autofree char *regid = g_strdup_printf ("--regid=%s", user);
    const char *argv[] = { "setpriv", reuid,    regid,       "--init-groups",
                           "--",      "env",    "HOME=/tmp", g_getenv ("DOMCLONE"),
                           "-c",      uri,      "--to",      uri,
                           "--live",  "--name", clone,       f->src,
                           NULL };

    status = dc_test_run (argv, &out, &err);
  }
  g_test_message ("exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 1);
  g_assert_true (g_str_has_prefix (err, "domclone: cannot clone the running domain"));
  /* one line */
  g_assert_cmpstr (strchr (err, '\n'), ==, "\n");
  dc_assert_contains (err, "libvirt's private directory of the domain");
  dc_assert_contains (err, "run domclone as root");
  g_assert_false (backup_runs (f->src));
  g_assert_false (live_domain_exists (clone));
  after = live_snapshot ();
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpint (virDomainDestroy (src), ==, 0);
}

/* The destination's pool @pool holds no staging volume of a qcow2
 * disk's conversion */
static void
assert_no_staging (const char *pool)
{
  g_autofree char *dir = live_other_there_dir (pool);
  g_autofree char *seen = live_other_path (dir);
  g_autofree char *files = listing (seen);

  g_test_message ("destination pool '%s':\n%s", pool, files);
  g_assert_null (strstr (files, ".domclone-staging"));
}

/* The fixture's source (a qcow2 and a raw volume, a shareable disk, a
 * CD-ROM, NVRAM), paused: its qcow2 disk becomes a qcow2 volume on the
 * destination (staged raw there, converted by libvirt), the guest's
 * content of each disk, no staging volume left; with --format raw, the
 * qcow2's content in a raw volume. */
static void
test_to_live_formats (LiveFixture *f, gconstpointer data)
{
  g_autoptr (DcDomain) src = NULL;
  g_autoptr (GPtrArray) plain = NULL;
  g_autoptr (GPtrArray) raw = NULL;
  const char *as_raw[] = { "--format", "raw", NULL };
  g_autofree char *qcow2_name = g_strdup_printf ("%s.qcow2", f->src);
  g_autofree char *src_qcow2 = live_path_in (f, qcow2_name);
  g_autofree char *src_vdb = live_path_in (f, "data.raw");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  if (!live_other_start_with_pool (f->pool))
    return;
  src = virDomainLookupByName (live_conn, f->src);
  g_assert_nonnull (src);
  if (virDomainCreate (src) < 0 || virDomainSuspend (src) < 0)
    g_error ("cannot start and pause '%s': %s", f->src, virGetLastErrorMessage ());

  plain = to_live_argv (f->src, NULL);
  status = dc_test_domclone_argv ((const char *const *) plain->pdata, &out, &err);
  g_test_message ("exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 0);
  g_assert_false (backup_runs (f->src));
  g_assert_cmpint (live_guest_state (live_conn, f->src), ==, VIR_DOMAIN_PAUSED);
  assert_no_staging (f->pool);
  {
    g_autofree char *vda_name = g_strdup_printf ("%s-clone1.qcow2", f->src);
    g_autofree char *vda = live_other_there_file (f->pool, vda_name);
    g_autofree char *vdb_name = g_strdup_printf ("%s-clone1-vdb.raw", f->src);
    g_autofree char *vdb = live_other_there_file (f->pool, vdb_name);
    g_autoptr (JsonNode) info = dc_test_qemu_img_info (vda);
    const char *compare[] = {
      "qemu-img", "compare", "-U", "-f", "qcow2", "-F", "qcow2", src_qcow2, vda, NULL
    };

    g_assert_cmpstr (json_object_get_string_member (json_node_get_object (info), "format"), ==, "qcow2");
    dc_test_run_ok (compare);
    live_assert_same_file (src_vdb, vdb);
  }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  raw = to_live_argv (f->src, as_raw);
  status = dc_test_domclone_argv ((const char *const *) raw->pdata, &out, &err);
  g_test_message ("--format raw: exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 0);
  g_assert_false (backup_runs (f->src));
  g_assert_cmpint (live_guest_state (live_conn, f->src), ==, VIR_DOMAIN_PAUSED);
  {
    g_autofree char *vda_name = g_strdup_printf ("%s-clone2.raw", f->src);
    g_autofree char *vda = live_other_there_file (f->pool, vda_name);
    g_autofree char *vdb_name = g_strdup_printf ("%s-clone2-vdb.raw", f->src);
    g_autofree char *vdb = live_other_there_file (f->pool, vdb_name);
    const char *compare[] = { "qemu-img", "compare", "-U", "-f", "qcow2", "-F", "raw", src_qcow2, vda, NULL };

    dc_test_run_ok (compare);
    live_assert_same_file (src_vdb, vdb);
  }
  g_assert_cmpint (virDomainResume (src), ==, 0);
  virDomainDestroy (src);
  to_live_teardown (f->src, f->pool);
}

/* The fixture's source, paused, cloned onto a destination pool over a
 * 7 MiB tmpfs: room for the qcow2 disk's raw staging volume (3 MiB of
 * data) and the raw disk (2 MiB), not for the qcow2 volume libvirt
 * converts the staging volume into. The run fails there and rolls
 * back: nothing left on the destination, the job on the source ended,
 * the source paused as it was. */
static void
test_to_live_convert_fails (LiveFixture *f, gconstpointer data)
{
  g_autoptr (DcDomain) src = NULL;
  g_autoptr (GPtrArray) argv = NULL;
  g_autofree char *dir = live_other_there_dir (f->pool);
  g_autofree char *seen = NULL;
  const char *mount[] = { "mount", "-t", "tmpfs", "-o", "size=7m", "tmpfs", dir, NULL };
  const char *umount[] = { "umount", dir, NULL };
  g_autofree char *before = NULL;
  g_autofree char *files = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  if (live_conn == NULL || !live_other_start ())
    return;
  seen = live_other_path (dir);
  g_assert_cmpint (g_mkdir_with_parents (seen, 0755), ==, 0);
  live_other_run_ok (mount);
  live_other_pool (f->pool, dir);
  src = virDomainLookupByName (live_conn, f->src);
  g_assert_nonnull (src);
  if (virDomainCreate (src) < 0 || virDomainSuspend (src) < 0)
    g_error ("cannot start and pause '%s': %s", f->src, virGetLastErrorMessage ());
  before = live_snapshot_of (live_other_conn);
  files = listing (seen);

  argv = to_live_argv (f->src, NULL);
  status = dc_test_domclone_argv ((const char *const *) argv->pdata, &out, &err);
  g_test_message ("exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 1);
  dc_assert_contains (err, "cannot clone disk 'vda' to");
  dc_assert_contains (err, "everything this run created was removed");
  g_assert_false (backup_runs (f->src));
  g_assert_cmpint (live_guest_state (live_conn, f->src), ==, VIR_DOMAIN_PAUSED);
  g_assert_cmpuint (live_counter_of (f->src), ==, 0);
  {
    g_autofree char *after = live_snapshot_of (live_other_conn);
    g_autofree char *files_after = listing (seen);

    g_assert_cmpstr (after, ==, before);
    g_assert_cmpstr (files_after, ==, files);
  }
  g_assert_cmpint (virDomainResume (src), ==, 0);
  virDomainDestroy (src);
  to_live_teardown (f->src, f->pool);
  live_other_run_ok (umount);
}

int
main (int argc, char **argv)
{
  int rc;

  live_init (&argc, &argv);
  LIVE_GUEST_TEST ("/live/to-live/clone", test_to_live_clone);
  LIVE_GUEST_TEST ("/live/to-live/interrupted", test_to_live_interrupted);
  LIVE_GUEST_TEST ("/live/to-live/private-socket", test_to_live_private_socket);
  LIVE_GUEST_TEST ("/live/to-live/tcp-warns", test_to_live_tcp_warns);
  LIVE_TEST ("/live/to-live/formats", test_to_live_formats);
  LIVE_TEST ("/live/to-live/convert-fails", test_to_live_convert_fails);
  LIVE_TEST ("/live/to-live/member-refused", test_to_live_member_refused);
  rc = live_run ();
  live_other_stop ();
  return rc;
}
