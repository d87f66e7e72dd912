/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * live-other.c: the second daemon (see live-other.h).
 */
#include "config.h"

#include "live-other.h"

#include <unistd.h>

virConnectPtr live_other_conn;
const char *live_other_uri;

/* the harness running it, a process in its mount namespace (as this
 * side numbers it), and its URI */
static GSubprocess *other_harness;
static char *other_pid;
static char *other_uri;

/* The pid, as seen here, of a process in mount namespace @ns */
static char *
pid_in_mount_ns (const char *ns)
{
  g_autoptr (GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *name;

  g_assert_nonnull (proc);
  while ((name = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *link = g_strdup_printf ("/proc/%s/ns/mnt", name);
      g_autofree char *target = g_ascii_isdigit (name[0]) ? g_file_read_link (link, NULL) : NULL;

      if (target != NULL && g_str_equal (target, ns))
        return g_strdup (name);
    }
  return NULL;
}

/**
 * live_other_start:
 *
 * Starts the second daemon, once per test program.
 *
 * Returns: FALSE (and the test skipped) where it cannot run: without
 * the first daemon, or as another user than root
 */
gboolean
live_other_start (void)
{
  g_autofree char *harness = NULL;
  g_autoptr (GDataInputStream) lines = NULL;
  g_autofree char *ns = NULL;
  g_autoptr (GError) error = NULL;

  if (live_conn == NULL)
    return FALSE;
  if (geteuid () != 0)
    {
      g_test_skip ("a daemon in a mount namespace of its own needs root");
      return FALSE;
    }
  if (live_other_conn != NULL)
    return TRUE;

  /* it prints its mount namespace once its daemon answers, and runs
   * until its stdin closes */
  harness = g_test_build_filename (G_TEST_DIST, "with-libvirtd.sh", NULL);
  other_harness =
    g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, harness, "--",
                      "sh", "-c", "readlink /proc/self/ns/mnt && exec cat", NULL);
  g_assert_no_error (error);
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (other_harness));
  ns = g_data_input_stream_read_line (lines, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ns);
  other_pid = pid_in_mount_ns (ns);
  g_assert_nonnull (other_pid);
  other_uri =
    g_strdup_printf ("qemu+unix:///system?socket=/proc/%s/root/run/libvirt/libvirt-sock", other_pid);
  live_other_uri = other_uri;
  live_other_conn = virConnectOpen (other_uri);
  g_assert_nonnull (live_other_conn);
  g_test_message ("second daemon at %s", other_uri);
  return TRUE;
}

/**
 * live_other_stop:
 *
 * Ends the second daemon, if one runs (after g_test_run()).
 */
void
live_other_stop (void)
{
  g_clear_pointer (&live_other_conn, virConnectClose);
  if (other_harness != NULL)
    {
      g_output_stream_close (g_subprocess_get_stdin_pipe (other_harness), NULL, NULL);
      g_subprocess_wait (other_harness, NULL, NULL);
      g_clear_object (&other_harness);
    }
  g_clear_pointer (&other_pid, g_free);
  g_clear_pointer (&other_uri, g_free);
  live_other_uri = NULL;
}

/* @path as the second daemon sees it, from here */
char *
live_other_path (const char *path)
{
  return g_strdup_printf ("/proc/%s/root%s", other_pid, path);
}

/* A dir pool @name over @dir on the second daemon, built there */
void
live_other_pool (const char *name, const char *dir)
{
  g_autofree char *xml =
    g_strdup_printf ("<pool type='dir'><name>%s</name><target><path>%s</path></target></pool>", name, dir);
  g_autoptr (DcPool) pool = virStoragePoolLookupByName (live_other_conn, name);

  if (pool != NULL)
    return;
  pool = virStoragePoolDefineXML (live_other_conn, xml, 0);
  g_assert_nonnull (pool);
  g_assert_cmpint (virStoragePoolBuild (pool, 0), ==, 0);
  g_assert_cmpint (virStoragePoolCreate (pool, 0), ==, 0);
}

void
live_other_pool_refresh (const char *name)
{
  g_autoptr (DcPool) pool = virStoragePoolLookupByName (live_other_conn, name);

  g_assert_nonnull (pool);
  g_assert_cmpint (virStoragePoolRefresh (pool, 0), ==, 0);
}

/* Runs @argv in the second daemon's mount namespace (nsenter), and
 * fails the test unless it succeeds: a mount there, say */
void
live_other_run_ok (const char *const *argv)
{
  g_autoptr (GPtrArray) full = g_ptr_array_new ();

  g_ptr_array_add (full, (gpointer) "nsenter");
  g_ptr_array_add (full, (gpointer) "-t");
  g_ptr_array_add (full, other_pid);
  g_ptr_array_add (full, (gpointer) "-m");
  for (guint i = 0; argv[i] != NULL; i++)
    g_ptr_array_add (full, (gpointer) argv[i]);
  g_ptr_array_add (full, NULL);
  dc_test_run_ok ((const char *const *) full->pdata);
}

/* The directory of the second daemon's pool of the name @pool (see
 * live_other_start_with_pool()), private to that daemon */
char *
live_other_there_dir (const char *pool)
{
  return g_strdup_printf ("/var/lib/libvirt/images/%s-there", pool);
}

/* @name in that directory, as this side reads it */
char *
live_other_there_file (const char *pool, const char *name)
{
  g_autofree char *dir = live_other_there_dir (pool);
  g_autofree char *path = g_build_filename (dir, name, NULL);

  return live_other_path (path);
}

/* Starts the second daemon and gives it a pool @pool of its own, in
 * live_other_there_dir(); FALSE (the test skipped) where that cannot be */
gboolean
live_other_start_with_pool (const char *pool)
{
  g_autofree char *dir = NULL;

  if (live_conn == NULL || !live_other_start ())
    return FALSE;
  dir = live_other_there_dir (pool);
  live_other_pool (pool, dir);
  return TRUE;
}
