/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * --live: clones of a running domain, copied at one instant by a libvirt
 * backup job.
 *
 * The source is the booting guest of tests/lib/live-guest.c in writer
 * mode: it writes numbered records across its data disk, in order, for
 * as long as it runs. A copy made at one instant holds a cut of that
 * sequence (live_guest_records_are_cut()); a copy read while the guest
 * writes does not, once a write lands behind the reader and the next
 * one ahead of it. The busybox guest has no guest agent: the copies
 * here are crash-consistent, and what a frozen guest would change is
 * only the freeze and thaw around the job's start (dc-backup.c).
 */
#include "config.h"

#include "live-guest.h"

#include "dc-test-assert.h"
#include "dc-xml.h"

#include <libvirt/libvirt-qemu.h>

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define CRASH_CONSISTENT " while it ran (crash-consistent: no guest agent froze its file systems)"
/* the records the guest has written before a clone starts */
#define RECORDS_FIRST 100
/* a disk whose backup takes long enough to be paused by id and cut
 * short, also with libvirt and this machine at their slowest (512 MiB
 * was done before the pause got through, under ASan in CI) */
#define BIG_DISK_MIB 4096

/* --- helpers ------------------------------------------------------------- */

/* The index libvirt gave disk vdb's source in the running @dom's live
 * XML (its format node is "libvirt-INDEX-format") */
static char *
live_index_of_vdb (virDomainPtr dom)
{
  g_autofree char *xml = virDomainGetXMLDesc (dom, 0);
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (xmlDoc) doc = NULL;

  g_assert_nonnull (xml);
  doc = dc_xml_parse (xml, "domain", "live domain XML", &ctxt, &error);
  g_assert_no_error (error);
  return dc_xml_string (ctxt, NULL, "/domain/devices/disk[target/@dev='vdb']/source/@index");
}

/* Pauses the backup job of disk vdb of domain @name as soon as QEMU has
 * it (QMP job-pause, through libvirt's monitor pass-through). The job's
 * id is known before it exists (libvirt names it after the disk and its
 * format node, "backup-vdb-libvirt-N-format", N the source's index in
 * the live XML), so the pause is asked again and again from before the
 * job starts: the first ask that libvirt lets through after starting the
 * job pauses it, whatever the machine's speed (asking what runs first
 * and pausing it next lost the race on a quiet machine: the job had
 * concluded in between). FALSE if no job showed up within a minute. */
static gboolean
pause_big_backup_job (const char *name)
{
  g_autoptr (DcDomain) dom = virDomainLookupByName (live_conn, name);
  g_autofree char *index = live_index_of_vdb (dom);
  g_autofree char *id = NULL;
  g_autofree char *pause = NULL;
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  g_assert_nonnull (dom);
  g_assert_nonnull (index);
  id = g_strdup_printf ("backup-vdb-libvirt-%s-format", index);
  pause = g_strdup_printf ("{\"execute\":\"job-pause\",\"arguments\":{\"id\":\"%s\"}}", id);
  while (g_get_monotonic_time () < deadline)
    {
      g_autofree char *out = NULL;

      g_assert_cmpint (virDomainQemuMonitorCommand (dom, pause, &out, 0), ==, 0);
      if (strstr (out, "\"error\"") == NULL)
        {
          g_test_message ("paused QEMU's job '%s'", id);
          return TRUE;
        }
      if (strstr (out, "not found") == NULL)
        g_error ("cannot pause the backup job '%s' of '%s': %s", id, name, out);
      g_usleep (G_USEC_PER_SEC / 500);
    }
  return FALSE;
}

/* Starts domclone --live on the writing source with a big disk
 * (live_guest_add_full_disk()), and returns once its backup job runs, the big
 * disk's part of it paused (pause_big_backup_job()). */
static GSubprocess *
start_clone_mid_job (const LiveGuest *g, char **before)
{
  const char *args[] = { "--live", g->src, NULL };
  GSubprocess *proc;

  *before = live_snapshot ();
  proc = dc_test_spawn_domclone (args);
  if (!pause_big_backup_job (g->src))
    g_error ("the backup job of '%s' did not start", g->src);
  g_assert_cmpint (live_guest_job_type (live_conn, g->src, FALSE), !=, VIR_DOMAIN_JOB_NONE);
  return proc;
}

/* The last progress line of @what in @term says all of it was copied:
 * "WHAT  DONE of TOTAL  RATE" with DONE equal to TOTAL */
static void
assert_progress_complete (const char *term, const char *what)
{
  const char *line = g_strrstr (term, what);
  g_auto (GStrv) halves = NULL;
  g_autofree char *done = NULL;
  g_autofree char *total = NULL;
  g_autofree char *text = NULL;

  g_assert_nonnull (line);
  text = g_strndup (line + strlen (what), strcspn (line + strlen (what), "\r\n"));
  halves = g_strsplit (text, " of ", 2);
  g_assert_cmpuint (g_strv_length (halves), ==, 2);
  done = g_strstrip (g_strdup (halves[0]));
  /* the total ends where the rate begins, after two spaces or more */
  total = g_strndup (halves[1], strstr (halves[1], "  ") ? (gsize) (strstr (halves[1], "  ") - halves[1])
                                                         : strlen (halves[1]));
  g_assert_cmpstr (done, ==, g_strstrip (total));
}

/* One more clone on a terminal (script(1)): the job's progress, one line
 * for its disks, ends at their total. */
static void
clone_on_terminal (const LiveGuest *g)
{
  g_autofree char *script = g_find_program_in_path ("script");
  g_autofree char *cmd = g_strdup_printf ("'%s' --live '%s'", g_getenv ("DOMCLONE"), g->src);
  const char *argv[] = { "script", "-qec", cmd, "/dev/null", NULL };
  g_autofree char *term = NULL;

  if (script != NULL)
    {
      g_assert_cmpint (dc_test_run (argv, &term, NULL), ==, 0);
      g_test_message ("on a terminal: %s", term);
      dc_assert_contains (term, "\r\033[Kbackup vda ");
      assert_progress_complete (term, "backup vda");
    }
}

/* --- tests --------------------------------------------------------------- */

/* The cut check itself: a cut passes, a torn copy does not. */
static void
test_live_cut_check (void)
{
  g_autofree guint64 *slots = g_new0 (guint64, LIVE_GUEST_SLOTS);
  g_autofree char *why = NULL;
  guint64 last = 0;

  /* the instant record 3000 was written: slots 0..951 hold the second
   * lap (2049..3000), the rest the first (953..2048) */
  for (guint s = 0; s < LIVE_GUEST_SLOTS; s++)
    slots[s] = s < 952 ? s + 1 + LIVE_GUEST_SLOTS : s + 1;
  g_assert_true (live_guest_records_are_cut (slots, &last, &why));
  g_assert_cmpuint (last, ==, 3000);
  /* torn: slot 10 copied before the guest wrote record 2059 there,
   * slot 20 after it wrote 2069 */
  slots[10] = 11;
  g_assert_false (live_guest_records_are_cut (slots, &last, &why));
  dc_assert_contains (why, "slot 10 holds record 11, not 2059");
  /* before the first lap ends, slots past the newest are unwritten */
  memset (slots, 0, LIVE_GUEST_SLOTS * sizeof (guint64));
  for (guint s = 0; s < 100; s++)
    slots[s] = s + 1;
  g_assert_true (live_guest_records_are_cut (slots, &last, &why));
  slots[50] = 0;
  g_clear_pointer (&why, g_free);
  g_assert_false (live_guest_records_are_cut (slots, &last, &why));
}

/* What a running source is refused, with nothing made and the source
 * running on: without --live (the message names it), --quiesce without
 * a guest agent, a pool without room for the job's targets. */
static void
assert_refused (const LiveGuest *g)
{
  const char *plain[] = { g->src, NULL };
  const char *quiesce[] = { "--live", "--quiesce", "--json", g->src, NULL };
  g_autofree char *err = NULL;

  err = live_assert_fails_cleanly (plain, NULL, 1);
  dc_assert_contains (err, "is running");
  dc_assert_contains (err, "--live");
  g_clear_pointer (&err, g_free);

  {
    g_autofree char *out = NULL;
    g_autofree char *before = live_snapshot ();
    g_autofree char *after = NULL;

    g_assert_cmpint (dc_test_domclone_argv (quiesce, &out, &err), ==, 1);
    dc_assert_contains (out, "\"code\":\"no-guest-agent\"");
    dc_assert_contains (err, "guest agent does not answer");
    after = live_snapshot ();
    g_assert_cmpstr (after, ==, before);
    g_clear_pointer (&err, g_free);
  }

  /* the 16 MiB raw disk into an 8 MiB tmpfs (root only: a mount) */
  if (geteuid () == 0)
    {
      LiveFixture f = { .src = g->src, .pool = g->pool, .dir = g->dir };
      g_autofree char *pool = NULL;
      g_autofree char *dir = live_small_pool (&f, 8, &pool);
      const char *small[] = { "--live", "--pool", pool, g->src, NULL };
      g_autofree char *which = g_strdup_printf ("storage pool '%s' has", pool);

      err = live_assert_fails_cleanly (small, NULL, 1);
      dc_assert_contains (err, which);
      dc_assert_contains (err, "free, and the backup of the running disks needs 16 MiB");
      live_small_pool_remove (pool, dir);
    }
  else
    g_test_message ("not root: no small tmpfs pool to fill");
}

/* A guest that writes: refused what it must be (assert_refused()), then
 * cloned while it writes: the clone's disk is the source's at one
 * instant, sparse again; the source is not stopped; the clone boots
 * beside it. */
static void
test_live_clone (LiveGuest *g, gconstpointer data)
{
  g_autofree char *clone = NULL;
  g_autofree char *clone_disk = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *json = NULL;
  g_autofree char *want = NULL;
  g_autoptr (GHashTable) facts = NULL;
  g_autofree char *line = NULL;
  guint64 last;

  SKIP_WITHOUT_GUEST (g);
  clone = g_strdup_printf ("%s-clone1", g->src);
  clone_disk = g_strdup_printf ("%s/%s-data.raw", g->dir, clone);
  live_guest_start_writer (g, RECORDS_FIRST);
  assert_refused (g);

  g_assert_cmpint (dc_test_domclone (&out, &err, "--live", g->src, NULL), ==, 0);
  want = g_strdup_printf ("Cloned from %s to %s" CRASH_CONSISTENT ".\n", g->src, clone);
  g_assert_cmpstr (out, ==, want);
  last = live_guest_assert_one_instant (clone_disk, RECORDS_FIRST);
  g_test_message ("'%s' holds records 1 to %" G_GUINT64_FORMAT, clone, last);
  live_guest_assert_goes_on (g, last);
  /* the zeros QEMU wrote for the source's holes are holes again: the
   * data are the lines and the records (a few 64 KiB clusters) */
  g_assert_cmpuint (live_allocated_bytes (clone_disk), <, 4 * MiB);
  line = live_guest_read_line (clone_disk, LIVE_GUEST_DATA_OFFSET);
  g_assert_cmpstr (line, ==, g->data);

  /* --json says how consistent the copy is */
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (dc_test_domclone (&json, NULL, "--live", "--json", g->src, NULL), ==, 0);
  dc_assert_contains (json, "\"live\":\"crash-consistent\"");

  clone_on_terminal (g);

  /* the clone boots beside its running source (QEMU's locks would refuse
   * a disk they share), as itself, on the source's data */
  live_guest_write_line (clone_disk, LIVE_GUEST_WRITER_OFFSET, LIVE_GUEST_WRITER_OFF);
  facts = live_guest_boot (clone);
  g_assert_cmpstr (live_guest_fact (facts, "data"), ==, g->data);
  {
    g_autofree char *mac = live_guest_mac_of (clone);

    g_assert_cmpstr (live_guest_fact (facts, "mac"), ==, mac);
    g_assert_cmpstr (mac, !=, g->mac);
  }
  g_assert_cmpint (live_guest_state (live_conn, g->src), ==, VIR_DOMAIN_RUNNING);
}

/* SIGTERM while the job runs: the job is aborted, not finished, what
 * the run made is gone, the source runs on. Then a run killed while
 * its job runs leaves the job going and a marked clone; --cleanup ends
 * the job and removes the clone. */
static void
test_live_interrupted (LiveGuest *g, gconstpointer data)
{
  g_autofree char *before = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GSubprocess) killed = NULL;
  g_autofree char *clone = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *after = NULL;

  SKIP_WITHOUT_GUEST (g);
  live_guest_add_full_disk (g, "vdb", BIG_DISK_MIB);
  live_guest_start_writer (g, 1);

  proc = start_clone_mid_job (g, &before);
  err = live_assert_sigterm_rolls_back (proc, before);
  dc_assert_contains (err, "aborting the backup job");
  g_assert_cmpint (live_guest_job_type (live_conn, g->src, TRUE), ==, VIR_DOMAIN_JOB_CANCELLED);
  live_guest_assert_goes_on (g, live_guest_last_record (g->data_path));
  g_clear_pointer (&err, g_free);
  g_clear_pointer (&before, g_free);

  /* the counter did not move: the killed run's clone is clone1 too */
  clone = g_strdup_printf ("%s-clone1", g->src);
  killed = start_clone_mid_job (g, &before);
  g_subprocess_force_exit (killed);
  g_assert_true (g_subprocess_wait (killed, NULL, NULL));
  g_assert_true (live_has_building_marker (clone));
  g_assert_cmpint (live_guest_job_type (live_conn, g->src, FALSE), !=, VIR_DOMAIN_JOB_NONE);

  g_assert_cmpint (dc_test_domclone (&out, &err, "--cleanup", g->src, NULL), ==, 0);
  g_test_message ("--cleanup: %s%s", out, err);
  dc_assert_contains (out, clone);
  g_assert_cmpint (live_guest_job_type (live_conn, g->src, TRUE), ==, VIR_DOMAIN_JOB_CANCELLED);
  after = live_snapshot ();
  g_assert_cmpstr (after, ==, before);
  live_guest_assert_goes_on (g, live_guest_last_record (g->data_path));
}

/* Gives the fixture's source a thick (fallocated) raw disk vdd of
 * 8 MiB; returns its path */
static char *
add_thick_disk (const LiveFixture *f)
{
  char *thick = live_path_in (f, "thick.raw");
  int fd = open (thick, O_WRONLY | O_CREAT | O_TRUNC, 0600);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (posix_fallocate (fd, 0, 8 * MiB), ==, 0);
  g_assert_cmpint (pwrite (fd, "thick", 5, 4 * MiB), ==, 5);
  g_assert_cmpint (close (fd), ==, 0);
  live_attach_disk (f, "vdd", "raw", thick);
  return thick;
}

/* A paused source (its disks still): a qcow2, a sparse raw and a thick
 * raw disk in one job, the clone's the source's byte for byte, as sparse
 * or as thick; its NVRAM copied as a file; shared disks shared; the
 * source left paused. */
static void
test_live_paused (LiveFixture *f, gconstpointer data)
{
  g_autoptr (DcDomain) src = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *src_qcow2 = NULL;
  g_autofree char *clone_qcow2 = NULL;
  g_autofree char *src_data = NULL;
  g_autofree char *clone_data = NULL;
  g_autofree char *src_nvram = NULL;
  g_autofree char *clone_nvram = NULL;
  g_autofree char *clone = NULL;
  g_autofree char *clone_xml = NULL;
  g_autofree char *thick = NULL;
  g_autofree char *clone_thick = NULL;

  SKIP_WITHOUT_DAEMON ();
  thick = add_thick_disk (f);
  src = virDomainLookupByName (live_conn, f->src);
  g_assert_nonnull (src);
  if (virDomainCreate (src) < 0 || virDomainSuspend (src) < 0)
    g_error ("cannot start and pause '%s': %s", f->src, virGetLastErrorMessage ());

  g_assert_cmpint (dc_test_domclone (&out, &err, "--live", "--json", "-v", f->src, NULL), ==, 0);
  g_test_message ("%s", err);
  dc_assert_contains (out, "\"live\":\"crash-consistent\"");
  dc_assert_contains (err, "backing up 3 disks of the running");
  g_assert_cmpint (live_guest_state (live_conn, f->src), ==, VIR_DOMAIN_PAUSED);

  src_qcow2 = g_strdup_printf ("%s/%s.qcow2", f->dir, f->src);
  clone_qcow2 = g_strdup_printf ("%s/%s-clone1.qcow2", f->dir, f->src);
  {
    const char *argv[] = { "qemu-img", "compare", "-U",      "-f",        "qcow2",
                           "-F",       "qcow2",   src_qcow2, clone_qcow2, NULL };

    dc_test_run_ok (argv);
  }
  src_data = live_path_in (f, "data.raw");
  clone_data = g_strdup_printf ("%s/%s-clone1-vdb.raw", f->dir, f->src);
  live_assert_same_file (src_data, clone_data);
  clone_thick = g_strdup_printf ("%s/%s-clone1-vdd.raw", f->dir, f->src);
  live_assert_same_file (thick, clone_thick);
  g_assert_cmpuint (live_allocated_bytes (clone_thick), >=, 8 * MiB);
  src_nvram = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, f->src);
  clone_nvram = g_strdup_printf ("%s/%s-clone1_VARS.fd", f->nvram_dir, f->src);
  live_assert_same_file (src_nvram, clone_nvram);
  clone = g_strdup_printf ("%s-clone1", f->src);
  clone_xml = live_domain_xml (clone);
  dc_assert_contains (clone_xml, "/shared.raw'");
  dc_assert_contains (clone_xml, "/install.iso'");

  g_assert_cmpint (virDomainResume (src), ==, 0);
  g_assert_cmpint (live_guest_state (live_conn, f->src), ==, VIR_DOMAIN_RUNNING);
  virDomainDestroy (src);
}

/* libvirt's test driver cannot back up: a clear error, exit 1. */
static void
test_live_unsupported (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert_cmpint (dc_test_domclone (&out, &err, "-c", "test:///default", "--live", "--json", "test", NULL),
                   ==, 1);
  dc_assert_contains (out, "\"code\":\"backup-unsupported\"");
  dc_assert_contains (err,
                      "domclone: cannot clone domain 'test' while it runs: libvirt cannot back it up here");
}

int
main (int argc, char **argv)
{
  live_init (&argc, &argv);

  g_test_add_func ("/live/live/cut-check", test_live_cut_check);
  g_test_add_func ("/live/live/unsupported", test_live_unsupported);
  LIVE_TEST ("/live/live/paused", test_live_paused);
  LIVE_GUEST_TEST ("/live/live/clone", test_live_clone);
  LIVE_GUEST_TEST ("/live/live/interrupted", test_live_interrupted);
  return live_run ();
}
