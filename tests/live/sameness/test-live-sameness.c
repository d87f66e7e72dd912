/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live tests, the local copy only where the file is the one libvirt
 * sees (see src/host/dc-sameness.c). A second, independent daemon
 * runs in a mount namespace of its own (tests/with-libvirtd.sh, started
 * from inside this test's namespace) and is reached through its socket,
 * qemu+unix:///system?socket=/proc/<pid>/root/run/libvirt/libvirt-sock:
 * a URI without a host name, yet its /var/lib/libvirt is not this
 * side's. The same pool directory path exists on both sides holding
 * different files; domclone must clone the daemon's files and leave
 * this side's alone. Root only.
 */
#include "config.h"

#include "dc-test-assert.h"
#include "live-fixture.h"
#include "live-other.h"
#include "dc-test-util.h"
#include "dc-xml.h"
#include "seed-iso.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

/* the pool directory path both sides have, each its own */
#define OTHER_DIR "/var/lib/libvirt/images/domclone-sameness"

/* A shut-off domain @name on the second daemon, its one raw disk
 * @disk */
static void
other_domain (const char *name, const char *disk)
{
  g_autofree char *xml = g_strdup_printf (
    "<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>"
    "<os><type arch='x86_64'>hvm</type></os><devices><disk type='file' device='disk'>"
    "<driver name='qemu' type='raw'/><source file='%s'/><target dev='vda' bus='virtio'/></disk>"
    "</devices></domain>",
    name, disk);
  g_autoptr (DcDomain) dom = virDomainDefineXML (live_other_conn, xml);

  g_assert_nonnull (dom);
}

/* The source @name's disk, OTHER_DIR/@name.raw: on the second daemon
 * one pattern, here another one; here also an unrelated file named as
 * the clone's volume will be. Returns the checksums of this side's two
 * files. */
static void
two_sides (const char *name, char **here_src_sum, char **here_clone_sum)
{
  const gsize offsets[] = { 0, 5 * MiB };
  g_autofree char *file = g_strdup_printf ("%s.raw", name);
  g_autofree char *clone_file = g_strdup_printf ("%s-clone1.raw", name);
  g_autofree char *disk = g_build_filename (OTHER_DIR, file, NULL);
  g_autofree char *there = live_other_path (disk);
  g_autofree char *here_clone = g_build_filename (OTHER_DIR, clone_file, NULL);

  live_other_pool ("same", OTHER_DIR);
  live_write_pattern (there, 8 * MiB, offsets, G_N_ELEMENTS (offsets), 1);
  live_other_pool_refresh ("same");
  other_domain (name, disk);

  g_assert_cmpint (g_mkdir_with_parents (OTHER_DIR, 0755), ==, 0);
  live_write_pattern (disk, 8 * MiB, offsets, G_N_ELEMENTS (offsets), 2);
  live_write_pattern (here_clone, 8 * MiB, offsets, G_N_ELEMENTS (offsets), 3);
  *here_src_sum = live_sha256_file (disk);
  *here_clone_sum = live_sha256_file (here_clone);
  {
    g_autofree char *there_sum = live_sha256_file (there);
    g_assert_cmpstr (there_sum, !=, *here_src_sum);
  }
}

/* No scratch volume of the proof is left in @dir */
static void
assert_no_proof_left (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    g_assert_false (g_str_has_prefix (name, "domclone-proof-"));
}

/* The clone goes into the source's pool, whose directory path exists
 * here too holding other files: the daemon's clone holds the daemon's
 * source, made by libvirt's copy, and this side's file of the clone's
 * name is untouched. */
static void
test_live_sameness_other_namespace (LiveFixture *f, gconstpointer data)
{
  g_autofree char *here_src = NULL;
  g_autofree char *here_clone = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *there_src = NULL;
  g_autofree char *there_clone = NULL;
  int status;

  if (!live_other_start ())
    return;
  two_sides ("samens1", &here_src, &here_clone);

  status = dc_test_domclone (&out, &err, "-v", "-c", live_other_uri, "samens1", NULL);
  g_test_message ("exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 0);

  there_src = live_other_path (OTHER_DIR "/samens1.raw");
  there_clone = live_other_path (OTHER_DIR "/samens1-clone1.raw");
  {
    g_autofree char *a = live_sha256_file (there_src);
    g_autofree char *b = live_sha256_file (there_clone);
    g_assert_cmpstr (b, ==, a);
  }
  {
    g_autofree char *a = live_sha256_file (OTHER_DIR "/samens1.raw");
    g_autofree char *b = live_sha256_file (OTHER_DIR "/samens1-clone1.raw");
    g_assert_cmpstr (a, ==, here_src);
    g_assert_cmpstr (b, ==, here_clone);
  }
  {
    g_autofree char *there_dir = live_other_path (OTHER_DIR);
    assert_no_proof_left (there_dir);
    assert_no_proof_left (OTHER_DIR);
  }
  /* ... because libvirt copied it */
  dc_assert_contains (err, "'" OTHER_DIR "' here is not the directory libvirt sees");
  dc_assert_contains (err, "copied disk 'vda': libvirt copied it");
}

/* --pool into a pool whose directory both sides share (this test's
 * scratch directory, which the second namespace did not cover), from a
 * source whose directory is not shared: the new volume's directory is
 * proven the same, the source's is not, so libvirt copies, and the
 * clone holds the daemon's source, not this side's file of that name.
 * The proof's scratch volume is gone afterwards. */
static void
test_live_sameness_pool_source (LiveFixture *f, gconstpointer data)
{
  g_autofree char *here_src = NULL;
  g_autofree char *here_clone = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *shared = NULL;
  g_autofree char *there_src = NULL;
  g_autofree char *clone = NULL;
  int status;

  if (!live_other_start ())
    return;
  two_sides ("samens2", &here_src, &here_clone);
  shared = g_build_filename (live_state_dir, "shared", NULL);
  live_other_pool ("shared", shared);

  status = dc_test_domclone (&out, &err, "-v", "-c", live_other_uri, "--pool", "shared", "samens2", NULL);
  g_test_message ("exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 0);

  there_src = live_other_path (OTHER_DIR "/samens2.raw");
  clone = g_build_filename (shared, "samens2-clone1.raw", NULL);
  {
    g_autofree char *a = live_sha256_file (there_src);
    g_autofree char *b = live_sha256_file (clone);
    g_assert_cmpstr (b, ==, a);
  }
  {
    g_autofree char *a = live_sha256_file (OTHER_DIR "/samens2.raw");
    g_assert_cmpstr (a, ==, here_src);
  }
  {
    g_autofree char *there_dir = live_other_path (OTHER_DIR);
    assert_no_proof_left (there_dir);
    assert_no_proof_left (OTHER_DIR);
  }
  /* ... because libvirt copied it */
  dc_assert_contains (err, "'" OTHER_DIR "' here is not the directory libvirt sees");
  dc_assert_contains (err, "copied disk 'vda': libvirt copied it");
}

/* On this side's own daemon each directory is proven once per run
 * (the fixture's pool holds two disks, the NVRAM sits in another
 * directory), and every volume is then copied locally. */
static void
test_live_sameness_proven_once (LiveFixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  SKIP_WITHOUT_DAEMON ();
  status = dc_test_domclone (&out, &err, "-v", f->src, NULL);
  g_test_message ("exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpuint (dc_test_count_of (err, "is the directory libvirt sees"), ==, 2);
  /* (the qcow2 one into a raw volume libvirt then reads as qcow2) */
  g_assert_cmpuint (dc_test_count_of (err, ", by a local copy"), ==, 3);
  g_assert_cmpuint (dc_test_count_of (err, "libvirt copied it"), ==, 0);
}

/* Waits until a file whose name starts with @prefix is created in the
 * directory @fd watches, for at most 60 s; returns its name. */
static char *
wait_for_created (int fd, const char *prefix)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  gsize size = sizeof (struct inotify_event) + NAME_MAX + 1;
  g_autofree char *buf = g_malloc (size * 16);

  while (g_get_monotonic_time () < deadline)
    {
      struct pollfd p = { .fd = fd, .events = POLLIN };
      ssize_t n;

      if (poll (&p, 1, 100) <= 0)
        continue;
      n = read (fd, buf, size * 16);
      for (ssize_t off = 0; n > 0 && off < n;)
        {
          const struct inotify_event *ev = (const struct inotify_event *) (buf + off);

          if (ev->len > 0 && g_str_has_prefix (ev->name, prefix))
            return g_strdup (ev->name);
          off += (ssize_t) (sizeof (struct inotify_event) + ev->len);
        }
    }
  return NULL;
}

/* A run killed while a proof's scratch volume exists leaves it to
 * --cleanup, like the clone's own volumes: the scratch volume is in the
 * clone's <building> marker before it is made. The kill comes the
 * moment the file appears (inotify); on a busy machine the run may
 * still have deleted it first, so that is tried a few times. The
 * scratch volume watched is the NVRAM directory's (a temporary pool's):
 * the disks' directory, which holds their sources too, is proven with
 * the first new volume itself. */
static gboolean
kill_mid_proof (LiveFixture *f, char **scratch_path)
{
  const char *args[] = { f->src, NULL };
  g_autoptr (GSubprocess) proc = NULL;
  g_autofree char *scratch = NULL;
  g_auto (DcFd) fd = inotify_init1 (IN_CLOEXEC | IN_NONBLOCK);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (inotify_add_watch (fd, f->nvram_dir, IN_CREATE), >=, 0);
  proc = dc_test_spawn_domclone (args);
  scratch = wait_for_created (fd, "domclone-proof-");
  g_subprocess_send_signal (proc, SIGKILL);
  g_subprocess_wait (proc, NULL, NULL);
  g_assert_nonnull (scratch);
  *scratch_path = g_build_filename (f->nvram_dir, scratch, NULL);
  return g_file_test (*scratch_path, G_FILE_TEST_EXISTS);
}

static void
test_live_sameness_killed_mid_proof (LiveFixture *f, gconstpointer data)
{
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *clone = g_strdup_printf ("%s-clone1", f->src);
  gboolean caught = FALSE;

  SKIP_WITHOUT_DAEMON ();
  before = live_snapshot ();
  for (int attempt = 1; attempt <= 20 && !caught; attempt++)
    {
      g_autofree char *scratch_path = NULL;
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      int status;

      caught = kill_mid_proof (f, &scratch_path);
      g_test_message ("attempt %d: the scratch volume %s at the kill", attempt,
                      caught ? "existed" : "was gone");
      status = dc_test_domclone (&out, &err, "--cleanup", f->src, NULL);
      g_test_message ("cleanup: exit %d: %s%s", status, out, err);
      g_assert_cmpint (status, ==, 0);
      g_assert_false (g_file_test (scratch_path, G_FILE_TEST_EXISTS));
      /* a run killed too late may have finished its clone */
      if (live_domain_exists (clone))
        live_delete_clone (clone);
    }
  after = live_snapshot ();
  g_assert_cmpstr (after, ==, before);
  if (!caught)
    g_test_skip ("the run deleted its scratch volume before the kill, 20 times");
}

/* A cloud-init seed that only the daemon has (its path missing here):
 * the file this side cannot open is asked of libvirt, so the clone gets
 * a seed of its own instead of sharing the source's. */
static void
test_live_sameness_seed_there_only (LiveFixture *f, gconstpointer data)
{
  const gsize offsets[] = { 0 };
  const char *files[] = { "meta-data", "instance-id: samseed\nlocal-hostname: samseed\n", "user-data", "",
                          NULL };
  g_autoptr (GBytes) iso = seed_iso_build ("cidata", files);
  g_autofree char *iso_there = live_other_path (OTHER_DIR "/samseed-seed.iso");
  g_autofree char *disk_there = live_other_path (OTHER_DIR "/samseed.raw");
  g_autofree char *xml = NULL;
  g_autofree char *clone_xml = NULL;
  g_autofree char *cdrom = NULL;
  g_autofree char *cdrom_there = NULL;
  g_autofree char *label = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GHashTable) seed_files = NULL;
  g_autoptr (GBytes) seed = NULL;
  g_autoptr (DcDomain) dom = NULL;
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autoptr (xmlDoc) doc = NULL;
  int status;

  if (!live_other_start ())
    return;
  live_other_pool ("same", OTHER_DIR);
  live_write_pattern (disk_there, 8 * MiB, offsets, G_N_ELEMENTS (offsets), 4);
  g_assert_true (
    g_file_set_contents (iso_there, g_bytes_get_data (iso, NULL), (gssize) g_bytes_get_size (iso), NULL));
  live_other_pool_refresh ("same");
  g_assert_false (g_file_test (OTHER_DIR "/samseed-seed.iso", G_FILE_TEST_EXISTS));
  xml = g_strdup_printf (
    "<domain type='qemu'><name>samseed</name><memory unit='MiB'>64</memory>"
    "<os><type arch='x86_64'>hvm</type></os><devices><disk type='file' device='disk'>"
    "<driver name='qemu' type='raw'/><source file='%s'/><target dev='vda' bus='virtio'/></disk>"
    "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='%s'/>"
    "<target dev='sda' bus='sata'/><readonly/></disk></devices></domain>",
    OTHER_DIR "/samseed.raw", OTHER_DIR "/samseed-seed.iso");
  dom = virDomainDefineXML (live_other_conn, xml);
  g_assert_nonnull (dom);

  status = dc_test_domclone (&out, &err, "-c", live_other_uri, "samseed", NULL);
  g_test_message ("exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 0);

  g_clear_pointer (&dom, virDomainFree);
  dom = virDomainLookupByName (live_other_conn, "samseed-clone1");
  g_assert_nonnull (dom);
  clone_xml = virDomainGetXMLDesc (dom, VIR_DOMAIN_XML_INACTIVE);
  doc = dc_xml_parse (clone_xml, "domain", "the clone's XML", &ctxt, NULL);
  g_assert_nonnull (doc);
  cdrom = dc_xml_string (ctxt, NULL, "string(/domain/devices/disk[@device='cdrom']/source/@file)");
  /* its own seed, not the source's */
  g_assert_cmpstr (cdrom, !=, OTHER_DIR "/samseed-seed.iso");
  cdrom_there = live_other_path (cdrom);
  seed = seed_iso_read_file (cdrom_there, &label, &seed_files);
  g_assert_nonnull (seed);
  g_assert_cmpstr (label, ==, "cidata");
  dc_assert_contains (g_hash_table_lookup (seed_files, "meta-data"), "samseed-clone1");
}

static gint
by_name (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

/* The names of the files in @dir, sorted, one a line */
static char *
names_in (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, by_name);
  g_ptr_array_add (names, NULL);
  return g_strjoinv ("\n", (char **) names->pdata);
}

/* A linked clone whose overlays go into a directory this side has too,
 * holding other files: the directory is proven with the first overlay
 * itself (a token libvirt writes into it, read back here), which fails,
 * so libvirt makes the overlays (qemu-img) and this side's files stay
 * as they were. */
static void
test_live_sameness_linked (LiveFixture *f, gconstpointer data)
{
  g_autofree char *here_src = NULL;
  g_autofree char *here_clone = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *overlay = NULL;
  int status;

  if (!live_other_start ())
    return;
  two_sides ("samensl", &here_src, &here_clone);
  before = names_in (OTHER_DIR);
  status = dc_test_domclone (&out, &err, "-c", live_other_uri, "--make-template", "samensl", NULL);
  g_assert_cmpint (status, ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  status = dc_test_domclone (&out, &err, "-vv", "-c", live_other_uri, "--linked", "samensl", NULL);
  g_test_message ("exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 0);
  dc_assert_contains (err, "'" OTHER_DIR "' here is not the directory libvirt sees");
  dc_assert_contains (err, "is not proven to be libvirt's; libvirt makes it");

  /* the daemon's overlay, on the daemon's source */
  overlay = live_other_path (OTHER_DIR "/samensl-clone1.qcow2");
  {
    g_autoptr (JsonNode) root = dc_test_qemu_img_info (overlay);
    JsonObject *info = json_node_get_object (root);

    g_assert_cmpstr (json_object_get_string_member (info, "format"), ==, "qcow2");
    g_assert_cmpstr (json_object_get_string_member (info, "backing-filename"), ==, OTHER_DIR "/samensl.raw");
  }
  /* nothing here changed, nothing was made here */
  after = names_in (OTHER_DIR);
  g_assert_cmpstr (after, ==, before);
  {
    g_autofree char *a = live_sha256_file (OTHER_DIR "/samensl.raw");
    g_assert_cmpstr (a, ==, here_src);
  }
  {
    g_autofree char *there_dir = live_other_path (OTHER_DIR);
    assert_no_proof_left (there_dir);
  }
}

int
main (int argc, char **argv)
{
  int ret;

  live_init (&argc, &argv);
  LIVE_TEST ("/live/sameness/other-namespace", test_live_sameness_other_namespace);
  LIVE_TEST ("/live/sameness/pool-source", test_live_sameness_pool_source);
  LIVE_TEST ("/live/sameness/proven-once", test_live_sameness_proven_once);
  LIVE_TEST ("/live/sameness/killed-mid-proof", test_live_sameness_killed_mid_proof);
  LIVE_TEST ("/live/sameness/seed-there-only", test_live_sameness_seed_there_only);
  LIVE_TEST ("/live/sameness/linked", test_live_sameness_linked);
  ret = live_run ();
  live_other_stop ();
  return ret;
}
