/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live tests, cloning: the domclone binary against a private libvirtd
 * (see live-fixture.c). Names handed out in sequence, data, NVRAM and
 * TPM state copied, the clone starting next to its source, concurrent
 * runs, a whole clone under valgrind, and the pass over the host's
 * domains (what it finds, how often it lists them).
 */
#include "config.h"

#include "dc-test-assert.h"
#include "live-fixture.h"
#include "dc-test-util.h"

#include "dc-metadata.h"
#include "dc-run.h"
#include "dc-scan.h"

#include <json-glib/json-glib.h>

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

static void
test_live_sequence (LiveFixture *f, gconstpointer data)
{
  SKIP_WITHOUT_DAEMON ();
  for (int i = 1; i <= 3; i++)
    {
      g_autofree char *out = live_clone_ok (f, NULL);
      g_autofree char *expect = g_strdup_printf ("Cloned from %s to %s-clone%d.\n", f->src, f->src, i);

      g_assert_cmpstr (out, ==, expect);
      g_assert_cmpuint (live_counter_of (f->src), ==, i);
    }

  /* a deleted clone's number is not handed out again */
  {
    g_autofree char *clone2 = g_strdup_printf ("%s-clone2", f->src);
    g_autofree char *out = NULL;
    g_autofree char *expect = g_strdup_printf ("Cloned from %s to %s-clone4.\n", f->src, f->src);

    live_delete_clone (clone2);
    g_assert_false (live_domain_exists (clone2));
    out = live_clone_ok (f, NULL);
    g_assert_cmpstr (out, ==, expect);
    g_assert_false (live_domain_exists (clone2));
  }

  /* the counter as an administrator sees it */
  {
    const char *argv[] = { "virsh", "-q", "metadata", f->src, DC_METADATA_URI, NULL };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    g_assert_cmpint (dc_test_run (argv, &out, &err), ==, 0);
    dc_assert_contains (out, "<counter>4</counter>");
  }

  /* each clone records its origin and has no counter of its own */
  {
    g_autofree char *clone4 = g_strdup_printf ("%s-clone4", f->src);
    g_autoptr (DcDomain) dom = virDomainLookupByName (live_conn, clone4);
    g_autofree char *xml =
      virDomainGetMetadata (dom, VIR_DOMAIN_METADATA_ELEMENT, DC_METADATA_URI, VIR_DOMAIN_AFFECT_CONFIG);
    g_autoptr (DcMetadata) md = dc_metadata_parse (xml, NULL);

    g_assert_nonnull (md);
    g_assert_cmpuint (md->counter, ==, 0);
    g_assert_cmpstr (md->origin_name, ==, f->src);
  }
}

static void
test_live_taken_name_skipped (LiveFixture *f, gconstpointer data)
{
  g_autofree char *taken = NULL;
  g_autofree char *out = NULL;
  g_autofree char *expect = NULL;
  g_autoptr (DcDomain) other = NULL;

  SKIP_WITHOUT_DAEMON ();
  taken = g_strdup_printf ("%s-clone1", f->src);
  other = live_define_bare_domain (taken);

  out = live_clone_ok (f, NULL);
  expect = g_strdup_printf ("Cloned from %s to %s-clone2.\n", f->src, f->src);
  g_assert_cmpstr (out, ==, expect);
  g_assert_cmpuint (live_counter_of (f->src), ==, 2);
}

static void
test_live_named (LiveFixture *f, gconstpointer data)
{
  g_autofree char *name = NULL;
  g_autofree char *out = NULL;
  g_autofree char *expect = NULL;
  g_autofree char *out2 = NULL;
  g_autofree char *expect2 = NULL;

  SKIP_WITHOUT_DAEMON ();
  name = g_strdup_printf ("%s-blue", f->src);
  out = live_clone_ok (f, name);
  expect = g_strdup_printf ("Cloned from %s to %s.\n", f->src, name);
  g_assert_cmpstr (out, ==, expect);
  g_assert_true (live_domain_exists (name));
  /* --name clones count too */
  g_assert_cmpuint (live_counter_of (f->src), ==, 1);

  out2 = live_clone_ok (f, NULL);
  expect2 = g_strdup_printf ("Cloned from %s to %s-clone2.\n", f->src, f->src);
  g_assert_cmpstr (out2, ==, expect2);
}

/* Longer than 60 lines: one scenario, each step starting from what the
 * step before left; it reads best in that order. */
static void
test_live_data (LiveFixture *f, gconstpointer data)
{
  g_autofree char *src_xml_before = NULL;
  g_autofree char *src_xml_after = NULL;
  g_autofree char *qcow2 = NULL, *qcow2_sum = NULL;
  g_autofree char *data_raw = NULL, *data_sum = NULL;
  g_autofree char *clone = NULL, *clone_xml = NULL, *out = NULL;
  g_autofree char *clone_qcow2 = NULL, *clone_data = NULL;
  g_autofree char *src_nvram = NULL, *clone_nvram = NULL;
  g_autofree char *s1 = NULL, *s2 = NULL;
  struct stat st_src, st_clone;

  SKIP_WITHOUT_DAEMON ();
  qcow2 = g_strdup_printf ("%s/%s.qcow2", f->dir, f->src);
  data_raw = live_path_in (f, "data.raw");
  qcow2_sum = live_sha256_file (qcow2);
  data_sum = live_sha256_file (data_raw);
  src_xml_before = live_domain_xml_without_metadata (f->src);

  out = live_clone_ok (f, NULL);
  clone = g_strdup_printf ("%s-clone1", f->src);
  clone_xml = live_domain_xml (clone);

  /* the source is untouched: definition (but for our counter) and data */
  src_xml_after = live_domain_xml_without_metadata (f->src);
  g_assert_cmpstr (src_xml_after, ==, src_xml_before);
  s1 = live_sha256_file (qcow2);
  s2 = live_sha256_file (data_raw);
  g_assert_cmpstr (s1, ==, qcow2_sum);
  g_assert_cmpstr (s2, ==, data_sum);
  g_clear_pointer (&s1, g_free);
  g_clear_pointer (&s2, g_free);

  /* the qcow2 system disk: a new file, same guest-visible content */
  clone_qcow2 = g_strdup_printf ("%s/%s.qcow2", f->dir, clone);
  dc_assert_contains (clone_xml, clone_qcow2);
  {
    const char *argv[] = {
      "qemu-img", "compare", "-q", "-f", "qcow2", "-F", "qcow2", qcow2, clone_qcow2, NULL
    };
    dc_test_run_ok (argv);
  }

  /* the raw data disk (a volume disk): byte for byte, still sparse,
   * same permissions, still a volume disk */
  clone_data = g_strdup_printf ("%s/%s-vdb.raw", f->dir, clone);
  {
    g_autofree char *expect = g_strdup_printf ("<source pool='%s' volume='%s-vdb.raw'/>", f->pool, clone);
    dc_assert_contains (clone_xml, expect);
  }
  s1 = live_sha256_file (clone_data);
  g_assert_cmpstr (s1, ==, data_sum);
  g_assert_cmpint (stat (data_raw, &st_src), ==, 0);
  g_assert_cmpint (stat (clone_data, &st_clone), ==, 0);
  g_assert_cmpint (st_clone.st_size, ==, st_src.st_size);
  g_assert_cmpuint (live_allocated_bytes (clone_data), <=, live_allocated_bytes (data_raw) + 4 * MiB);
  g_assert_cmpuint (live_allocated_bytes (clone_data), <, 16 * MiB);
  g_assert_cmpint (st_clone.st_mode & 07777, ==, st_src.st_mode & 07777);

  /* the NVRAM: copied with its content, named after the clone */
  src_nvram = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, f->src);
  clone_nvram = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, clone);
  dc_assert_contains (clone_xml, clone_nvram);
  s2 = live_sha256_file (clone_nvram);
  g_clear_pointer (&s1, g_free);
  s1 = live_sha256_file (src_nvram);
  g_assert_cmpstr (s2, ==, s1);

  /* shared, unchanged: the CD-ROM and the shareable disk */
  {
    g_autofree char *iso = g_strdup_printf ("<source file='%s/install.iso'/>", f->dir);
    g_autofree char *shared = g_strdup_printf ("<source file='%s/shared.raw'/>", f->dir);

    dc_assert_contains (clone_xml, iso);
    dc_assert_contains (clone_xml, shared);
  }

  /* a fresh identity */
  dc_assert_not_contains (clone_xml, "52:54:00:00:00:01");
  {
    g_autoptr (DcDomain) a = virDomainLookupByName (live_conn, f->src);
    g_autoptr (DcDomain) b = virDomainLookupByName (live_conn, clone);
    char ua[VIR_UUID_STRING_BUFLEN], ub[VIR_UUID_STRING_BUFLEN];

    g_assert_cmpint (virDomainGetUUIDString (a, ua), ==, 0);
    g_assert_cmpint (virDomainGetUUIDString (b, ub), ==, 0);
    g_assert_cmpstr (ua, !=, ub);
  }
}

static void
test_live_start_both (LiveFixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *clone = NULL;
  g_autoptr (DcDomain) a = NULL;
  g_autoptr (DcDomain) b = NULL;
  int state = 0;

  SKIP_WITHOUT_DAEMON ();
  out = live_clone_ok (f, NULL);
  clone = g_strdup_printf ("%s-clone1", f->src);
  a = virDomainLookupByName (live_conn, f->src);
  b = virDomainLookupByName (live_conn, clone);

  /* QEMU locks every image it writes: a shared writable disk or NVRAM
   * would make the second start fail. */
  if (virDomainCreate (a) < 0)
    g_error ("cannot start the source: %s", virGetLastErrorMessage ());
  if (virDomainCreate (b) < 0)
    g_error ("cannot start the clone next to its source: %s", virGetLastErrorMessage ());
  g_assert_cmpint (virDomainGetState (a, &state, NULL, 0), ==, 0);
  g_assert_cmpint (state, ==, VIR_DOMAIN_RUNNING);
  g_assert_cmpint (virDomainGetState (b, &state, NULL, 0), ==, 0);
  g_assert_cmpint (state, ==, VIR_DOMAIN_RUNNING);
  virDomainDestroy (b);
  virDomainDestroy (a);
}

/* Many domclones of one source at once: every one succeeds, each with
 * its own name, and the counter ends at the number of clones. Names are
 * claimed by libvirt's define; no lock file is involved. Meanwhile a few
 * clones of a second source, in the same pool, must not be disturbed.
 *
 * Longer than 60 lines: one scenario, each step starting from what the
 * step before left; it reads best in that order.
 */
static void
test_live_concurrent (LiveFixture *f, gconstpointer data)
{
  enum
  {
    N = 20,
    M = 5
  };
  GSubprocess *procs[N + M];
  g_autoptr (GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *other = NULL;
  gint64 start;

  SKIP_WITHOUT_DAEMON ();
  other = g_strdup_printf ("%sb", f->src);
  {
    g_autofree char *disk = live_path_in (f, "other.raw");
    g_autofree char *xml = NULL;
    g_autoptr (DcPool) pool = virStoragePoolLookupByName (live_conn, f->pool);
    g_autoptr (DcDomain) dom = NULL;
    const gsize offsets[] = { 0 };

    live_write_pattern (disk, 8 * MiB, offsets, 1, 5);
    g_assert_cmpint (virStoragePoolRefresh (pool, 0), ==, 0);
    xml = g_strdup_printf ("<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>"
                           "<os><type arch='x86_64'>hvm</type></os><devices>"
                           "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                           "<source file='%s'/><target dev='vda' bus='virtio'/></disk>"
                           "</devices></domain>",
                           other, disk);
    dom = virDomainDefineXML (live_conn, xml);
    g_assert_nonnull (dom);
  }

  start = g_get_monotonic_time ();
  for (int i = 0; i < N + M; i++)
    {
      /* the second source's runs interleaved with the first's */
      const char *args[] = { i % 5 == 4 ? other : f->src, NULL };
      procs[i] = dc_test_spawn_domclone (args);
    }
  for (int i = 0; i < N + M; i++)
    {
      g_autofree char *err = NULL;
      int status;
      g_autofree char *out = dc_test_communicate (procs[i], &err, &status);
      const char *src = i % 5 == 4 ? other : f->src;
      g_autofree char *prefix = g_strdup_printf ("Cloned from %s to ", src);

      if (status != 0)
        g_error ("clone %d failed: %s", i, err);
      g_assert_true (g_str_has_prefix (out, prefix));
      g_hash_table_add (names, g_strndup (out + strlen (prefix), strlen (out) - strlen (prefix) - 2));
      g_object_unref (procs[i]);
    }
  g_test_message ("%d concurrent clones of one source and %d of another in %.1f s", N, M,
                  (g_get_monotonic_time () - start) / 1e6);

  g_assert_cmpuint (g_hash_table_size (names), ==, N + M);
  for (int i = 1; i <= N; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s-clone%d", f->src, i);
      g_assert_true (g_hash_table_contains (names, name));
      g_assert_true (live_domain_exists (name));
    }
  for (int i = 1; i <= M; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s-clone%d", other, i);
      g_assert_true (g_hash_table_contains (names, name));
    }
  g_assert_cmpuint (live_counter_of (f->src), ==, N);
  g_assert_cmpuint (live_counter_of (other), ==, M);
}

/* A source whose name and volume hold XML metacharacters clones with
 * --name, and the clone's XML and volumes come out right.
 *
 * Longer than 60 lines: one scenario, each step starting from what the
 * step before left; it reads best in that order.
 */
static void
test_live_metachar_source (LiveFixture *f, gconstpointer data)
{
  const char *odd = "odd<&'\">vm";
  g_autofree char *xml = NULL;
  g_autofree char *escaped = NULL;
  g_autofree char *vol_path = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *clone_xml = NULL;
  g_autofree char *expect = NULL;
  g_autofree char *sum = NULL;
  g_autofree char *clone_sum = NULL;
  g_autofree char *clone_path = NULL;
  g_autoptr (DcDomain) dom = NULL;
  g_autoptr (DcPool) pool = NULL;
  const gsize offsets[] = { 0 };
  int status;

  SKIP_WITHOUT_DAEMON ();
  escaped = g_markup_escape_text (odd, -1);
  vol_path = g_strdup_printf ("%s/%s.raw", f->dir, odd);
  live_write_pattern (vol_path, 4 * MiB, offsets, 1, 4242);
  sum = live_sha256_file (vol_path);
  pool = virStoragePoolLookupByName (live_conn, f->pool);
  g_assert_cmpint (virStoragePoolRefresh (pool, 0), ==, 0);
  {
    g_autofree char *vol_escaped = g_markup_escape_text (vol_path, -1);
    xml = g_strdup_printf ("<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>"
                           "<os><type arch='x86_64'>hvm</type></os><devices>"
                           "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                           "<source file='%s'/><target dev='vda' bus='virtio'/></disk>"
                           "</devices></domain>",
                           escaped, vol_escaped);
  }
  dom = virDomainDefineXML (live_conn, xml);
  if (dom == NULL)
    g_error ("cannot define '%s': %s", odd, virGetLastErrorMessage ());

  /* no valid name can be made from it */
  status = dc_test_domclone (&out, &err, odd, NULL);
  g_assert_cmpint (status, ==, 2);
  dc_assert_contains (err, "give one with --name");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  clone_path = g_strdup_printf ("%s/%s-plain.raw", f->dir, f->src);
  {
    g_autofree char *name = g_strdup_printf ("%s-plain", f->src);
    status = dc_test_domclone (&out, &err, "--name", name, odd, NULL);
    g_assert_cmpint (status, ==, 0);
    expect = g_strdup_printf ("Cloned from %s to %s.\n", odd, name);
    g_assert_cmpstr (out, ==, expect);
    clone_xml = live_domain_xml (name);
  }
  /* the volume was renamed after the clone, inside the pool directory */
  dc_assert_contains (clone_xml, clone_path);
  clone_sum = live_sha256_file (clone_path);
  g_assert_cmpstr (clone_sum, ==, sum);
  /* the origin, escaped as libvirt writes attributes: '<', '&', '"' and
   * '>' as entities, "'" as is (the value is in double quotes) */
  {
    char uuid[VIR_UUID_STRING_BUFLEN];
    g_autofree char *origin = NULL;

    g_assert_cmpint (virDomainGetUUIDString (dom, uuid), ==, 0);
    origin = g_strdup_printf ("<origin name=\"odd&lt;&amp;'&quot;&gt;vm\" uuid=\"%s\" time=\"", uuid);
    dc_assert_contains (clone_xml, origin);
  }
  virDomainUndefine (dom);
}

/* <os firmware='efi'> without <nvram>: libvirt names the file itself;
 * the clone's implicit file must be a copy of the source's. */
static void
test_live_implicit_nvram (LiveFixture *f, gconstpointer data)
{
  g_autofree char *name = g_strdup_printf ("%s-efi", f->src);
  g_autofree char *dir = NULL;
  g_autofree char *src_vars = NULL;
  g_autofree char *clone_vars = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *vars = NULL;
  g_autofree char *sum = NULL;
  g_autofree char *clone_sum = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (DcDomain) dom = NULL;
  gsize len;
  int status;

  SKIP_WITHOUT_DAEMON ();
  if (g_str_has_suffix (g_getenv ("DOMCLONE_TEST_URI"), "/system"))
    dir = g_strdup ("/var/lib/libvirt/qemu/nvram");
  else
    dir = g_build_filename (g_get_user_config_dir (), "libvirt", "qemu", "nvram", NULL);
  xml = g_strdup_printf ("<domain type='qemu'><name>%s</name><memory unit='MiB'>128</memory>"
                         "<os firmware='efi'><type arch='x86_64' machine='q35'>hvm</type></os>"
                         "<features><acpi/></features></domain>",
                         name);
  dom = virDomainDefineXML (live_conn, xml);
  g_assert_nonnull (dom);

  /* as if it had run: its variables, with a marker */
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (g_file_get_contents ("/usr/share/OVMF/OVMF_VARS_4M.fd", &vars, &len, NULL));
  memcpy (vars + len - 16, "implicit-marker", 16);
  src_vars = g_strdup_printf ("%s/%s_VARS.fd", dir, name);
  g_assert_true (g_file_set_contents (src_vars, vars, len, NULL));
  sum = live_sha256_file (src_vars);

  status = dc_test_domclone (&out, &err, name, NULL);
  g_test_message ("exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  clone_vars = g_strdup_printf ("%s/%s-clone1_VARS.fd", dir, name);
  clone_sum = live_sha256_file (clone_vars);
  g_assert_cmpstr (clone_sum, ==, sum);
  /* and the clone starts with it */
  {
    g_autofree char *clone = g_strdup_printf ("%s-clone1", name);
    g_autoptr (DcDomain) c = virDomainLookupByName (live_conn, clone);

    if (virDomainCreate (c) < 0)
      g_error ("cannot start the clone: %s", virGetLastErrorMessage ());
    virDomainDestroy (c);
  }
  g_unlink (src_vars);
}

/* An emulated TPM's state (swtpm) is copied into the clone's UUID's
 * folder: a guest that sealed secrets to its TPM finds them in the
 * clone. The source runs once first, so that swtpm makes its state. */
static void
test_live_tpm (LiveFixture *f, gconstpointer data)
{
  g_autofree char *name = g_strdup_printf ("%s-tpm", f->src);
  g_autofree char *clone = g_strdup_printf ("%s-tpm-clone1", f->src);
  g_autofree char *dir = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *src_state = NULL;
  g_autofree char *clone_state = NULL;
  g_autofree char *sum = NULL;
  g_autofree char *clone_sum = NULL;
  g_autofree char *swtpm = g_find_program_in_path ("swtpm");
  g_autoptr (DcDomain) dom = NULL;
  g_autoptr (DcDomain) c = NULL;
  char uuid[VIR_UUID_STRING_BUFLEN], clone_uuid[VIR_UUID_STRING_BUFLEN];
  int status;

  SKIP_WITHOUT_DAEMON ();
  if (swtpm == NULL)
    {
      g_test_skip ("swtpm is not installed");
      return;
    }
  if (g_str_has_suffix (g_getenv ("DOMCLONE_TEST_URI"), "/system"))
    dir = g_strdup ("/var/lib/libvirt/swtpm");
  else
    dir = g_build_filename (g_get_user_config_dir (), "libvirt", "qemu", "swtpm", NULL);
  xml = g_strdup_printf ("<domain type='qemu'><name>%s</name><memory unit='MiB'>128</memory>"
                         "<os><type arch='x86_64' machine='q35'>hvm</type></os><devices>"
                         "<tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>"
                         "</devices></domain>",
                         name);
  dom = virDomainDefineXML (live_conn, xml);
  g_assert_nonnull (dom);
  if (virDomainCreate (dom) < 0)
    g_error ("cannot start the TPM source: %s", virGetLastErrorMessage ());
  virDomainDestroy (dom);
  g_assert_cmpint (virDomainGetUUIDString (dom, uuid), ==, 0);
  src_state = g_strdup_printf ("%s/%s/tpm2/tpm2-00.permall", dir, uuid);
  sum = live_sha256_file (src_state);

  status = dc_test_domclone (&out, &err, name, NULL);
  g_test_message ("exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  c = virDomainLookupByName (live_conn, clone);
  g_assert_nonnull (c);
  g_assert_cmpint (virDomainGetUUIDString (c, clone_uuid), ==, 0);
  clone_state = g_strdup_printf ("%s/%s/tpm2/tpm2-00.permall", dir, clone_uuid);
  clone_sum = live_sha256_file (clone_state);
  g_assert_cmpstr (clone_sum, ==, sum);

  /* swtpm takes the copied state, next to the source's */
  if (virDomainCreate (dom) < 0 || virDomainCreate (c) < 0)
    g_error ("cannot start the TPM source and clone together: %s", virGetLastErrorMessage ());
  virDomainDestroy (c);
  virDomainDestroy (dom);
}

/* A whole clone under valgrind: no invalid access, no definite leak.
 * (Skipped in a sanitizer build: the two do not mix.) */
static void
test_live_valgrind (LiveFixture *f, gconstpointer data)
{
  g_autofree char *valgrind = g_find_program_in_path ("valgrind");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *expect = NULL;
  const char *argv[] = { NULL,
                         "-q",
                         "--leak-check=full",
                         "--errors-for-leak-kinds=definite",
                         "--show-leak-kinds=definite",
                         "--error-exitcode=99",
                         NULL,
                         NULL,
                         NULL };
  int status;

  SKIP_WITHOUT_DAEMON ();
  if (valgrind == NULL || g_strcmp0 (g_getenv ("DOMCLONE_SANITIZERS"), "yes") == 0)
    {
      g_test_skip ("needs valgrind and a build without sanitizers");
      return;
    }
  argv[0] = valgrind;
  argv[6] = g_getenv ("DOMCLONE");
  argv[7] = f->src;
  status = dc_test_run (argv, &out, &err);
  g_test_message ("valgrind: exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 0);
  expect = g_strdup_printf ("Cloned from %s to %s-clone1.\n", f->src, f->src);
  g_assert_cmpstr (out, ==, expect);
  g_assert_cmpstr (err, ==, "");
}

/* The qcow2 facts of @path that a faithful copy keeps, on one line:
 * compat, lazy refcounts, extended L2, cluster size. */
static char *
qcow2_facts (const char *path)
{
  g_autoptr (JsonNode) root = dc_test_qemu_img_info (path);
  JsonObject *info = json_node_get_object (root);
  JsonObject *data = NULL;

  g_assert_cmpstr (json_object_get_string_member (info, "format"), ==, "qcow2");
  data = json_object_get_object_member (json_object_get_object_member (info, "format-specific"), "data");
  return g_strdup_printf ("compat=%s lazy-refcounts=%d extended-l2=%d cluster-size=%" G_GINT64_FORMAT,
                          json_object_get_string_member (data, "compat"),
                          (int) json_object_get_boolean_member_with_default (data, "lazy-refcounts", FALSE),
                          (int) json_object_get_boolean_member_with_default (data, "extended-l2", FALSE),
                          json_object_get_int_member (info, "cluster-size"));
}

/* qcow2 disks keep what virt-install or qemu-img made them with: compat
 * level, lazy refcounts, extended L2 entries and cluster size (a volume
 * XML without them gets libvirt's defaults: compat 0.10). */
static void
test_live_qcow2_compat (LiveFixture *f, gconstpointer data)
{
  static const struct
  {
    const char *dev;
    const char *options;
  } disks[] = {
    { "vdf", "compat=1.1,lazy_refcounts=on,extended_l2=on,cluster_size=131072" },
    { "vdg", "compat=0.10" },
  };
  g_autoptr (DcDomain) src = NULL;
  g_autoptr (DcPool) pool = NULL;
  g_autofree char *clone = NULL;

  SKIP_WITHOUT_DAEMON ();
  src = virDomainLookupByName (live_conn, f->src);
  pool = virStoragePoolLookupByName (live_conn, f->pool);
  for (size_t i = 0; i < G_N_ELEMENTS (disks); i++)
    {
      g_autofree char *name = g_strdup_printf ("extra-%s.qcow2", disks[i].dev);
      g_autofree char *path = live_path_in (f, name);
      g_autofree char *xml = NULL;
      const char *argv[] = { "qemu-img", "create",         "-q", "-f",  "qcow2",
                             "-o",       disks[i].options, path, "64M", NULL };

      dc_test_run_ok (argv);
      xml = g_strdup_printf ("<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
                             "<source file='%s'/><target dev='%s' bus='virtio'/></disk>",
                             path, disks[i].dev);
      g_assert_cmpint (virDomainAttachDeviceFlags (src, xml, VIR_DOMAIN_AFFECT_CONFIG), ==, 0);
    }
  g_assert_cmpint (virStoragePoolRefresh (pool, 0), ==, 0);

  g_free (live_clone_ok (f, NULL));
  clone = g_strdup_printf ("%s-clone1", f->src);
  for (size_t i = 0; i < G_N_ELEMENTS (disks); i++)
    {
      g_autofree char *src_name = g_strdup_printf ("extra-%s.qcow2", disks[i].dev);
      g_autofree char *dst_name = g_strdup_printf ("%s-%s.qcow2", clone, disks[i].dev);
      g_autofree char *src_path = live_path_in (f, src_name);
      g_autofree char *dst_path = live_path_in (f, dst_name);
      g_autofree char *want = qcow2_facts (src_path);
      g_autofree char *got = qcow2_facts (dst_path);

      g_test_message ("%s: source %s, clone %s", disks[i].dev, want, got);
      g_assert_cmpstr (got, ==, want);
    }
}

/* The host scan (src/host/dc-scan.c) still finds every MAC address,
 * name and unfinished clone: domains it reads from the text and one
 * with domclone's metadata, which it parses. */
static void
test_live_scan (LiveFixture *f, gconstpointer data)
{
  g_autofree char *two = g_strdup_printf ("%s-scan-two", f->src);
  g_autofree char *none = g_strdup_printf ("%s-scan-none", f->src);
  g_autofree char *prefix = g_strdup_printf ("%s-scan", f->src);
  g_autofree char *built = g_strdup_printf ("%s-scan-clone7", f->src);
  g_autofree char *two_xml = g_strdup_printf (
    "<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os>"
    "<devices><interface type='user'><mac address='52:54:00:5C:A1:01'/></interface>"
    "<interface type='user'><mac address='52:54:00:5c:a1:02'/></interface></devices></domain>",
    two);
  g_autofree char *built_xml = g_strdup_printf (
    "<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory><os><type arch='x86_64'>hvm</type></os>"
    "<devices><interface type='user'><mac address='52:54:00:5c:a1:03'/></interface></devices></domain>",
    built);
  g_autoptr (DcDomain) d1 = NULL;
  g_autoptr (DcDomain) d2 = NULL;
  g_autoptr (DcDomain) d3 = NULL;
  g_autoptr (DcMetadata) md = dc_metadata_new ();
  g_autofree char *md_xml = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (DcHostScan) scan = NULL;
  gboolean seen = FALSE;

  SKIP_WITHOUT_DAEMON ();
  d1 = virDomainDefineXML (live_conn, two_xml);
  d2 = live_define_bare_domain (none);
  d3 = virDomainDefineXML (live_conn, built_xml);
  g_assert_nonnull (d1);
  g_assert_nonnull (d3);
  md->building = dc_building_new ();
  md->building->host = g_strdup ("elsewhere");
  md->building->pid = 1;
  md_xml = dc_metadata_format (md);
  g_assert_cmpint (virDomainSetMetadata (d3, VIR_DOMAIN_METADATA_ELEMENT, md_xml, DC_METADATA_PREFIX,
                                         DC_METADATA_URI, VIR_DOMAIN_AFFECT_CONFIG),
                   ==, 0);

  scan = dc_host_scan (live_conn, &error);
  g_assert_no_error (error);
  g_assert_true (g_hash_table_contains (scan->macs, "52:54:00:5c:a1:01"));
  g_assert_true (g_hash_table_contains (scan->macs, "52:54:00:5c:a1:02"));
  g_assert_true (g_hash_table_contains (scan->macs, "52:54:00:5c:a1:03"));
  g_assert_cmpuint (scan->domains, ==, scan->names->len);
  g_assert_cmpuint (scan->names->len, >=, 4);
  for (guint k = 0; k < 4; k++)
    {
      const char *want[] = { f->src, two, none, built };
      gboolean listed = FALSE;

      for (guint i = 0; i < scan->names->len; i++)
        listed |= g_str_equal (scan->names->pdata[i], want[k]);
      g_assert_true (listed);
    }
  for (guint i = 0; i < scan->marked->len; i++)
    seen |= g_str_equal (((DcMarked *) scan->marked->pdata[i])->name, built);
  g_assert_true (seen);
  g_assert_cmpuint (dc_host_scan_highest_clone (scan, f->src), ==, 0);
  g_assert_cmpuint (dc_host_scan_highest_clone (scan, prefix), ==, 7);
}

/* A batch lists the host's domains twice, as one clone did before:
 * once for the pass over them, once for the counter's check after its
 * write; its numbering takes the names the pass listed (issue 18: a
 * listing of a thousand domains costs milliseconds). Counted in
 * libvirt's own log of the client. */
static void
test_live_scan_listings (LiveFixture *f, gconstpointer data)
{
  g_autofree char *log = g_build_filename (live_state_dir, "scan-listings.log", NULL);
  g_autofree char *outputs = g_strdup_printf ("LIBVIRT_LOG_OUTPUTS=1:file:%s", log);
  const char *extra[] = { "LIBVIRT_LOG_FILTERS=1:libvirt.domain 1:libvirt.host 4:*", outputs, NULL };
  const char *args[] = { "--count", "2", f->src, NULL };
  g_autofree char *taken = g_strdup_printf ("%s-clone2", f->src);
  g_autofree char *want =
    g_strdup_printf ("Cloned from %s to %s-clone1, %s-clone3.\n", f->src, f->src, f->src);
  g_autoptr (DcDomain) other = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *text = NULL;
  guint listings = 0;
  int status;

  SKIP_WITHOUT_DAEMON ();
  other = live_define_bare_domain (taken);
  g_unlink (log);
  proc = dc_test_spawn_domclone_env (args, extra);
  out = dc_test_communicate (proc, &err, &status);
  g_test_message ("exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (out, ==, want);
  g_assert_true (g_file_get_contents (log, &text, NULL, NULL));
  for (const char *p = strstr (text, " virConnectListAllDomains:"); p != NULL;
       p = strstr (p + 1, " virConnectListAllDomains:"))
    listings++;
  g_assert_cmpuint (listings, ==, 2);
  g_assert_cmpuint (live_counter_of (f->src), ==, 3);
}

/* The first MAC address of @xml's interfaces */
static char *
first_mac (const char *xml)
{
  const char *p = strstr (xml, "<mac address='");

  g_assert_nonnull (p);
  return g_ascii_strdown (p + strlen ("<mac address='"), 17);
}

/* A clone made in this process with random numbers from @seed; returns
 * its MAC address, and deletes it. */
static char *
clone_mac_deleted (LiveFixture *f, guint32 seed)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  DcCloneOptions opts = { .source = f->src, .rand = rand };
  g_autoptr (GError) error = NULL;
  g_autoptr (DcCloneResult) result = dc_run_clone (live_conn, &opts, &error);
  g_autofree char *xml = NULL;

  g_assert_no_error (error);
  xml = live_domain_xml (result->name);
  live_delete_clone (result->name);
  return first_mac (xml);
}

/* The pass over the domains runs while the source is read (issue 18);
 * the clone's MAC is still new: the address the same random numbers
 * gave a clone before is taken, as the last of forty interfaces, by a
 * domain defined since, and the clone gets another. */
static void
test_live_scan_overlapped_macs (LiveFixture *f, gconstpointer data)
{
  g_autofree char *many = g_strdup_printf ("%s-scan-many", f->src);
  g_autoptr (GString) xml = g_string_new (NULL);
  g_autoptr (DcDomain) dom = NULL;
  g_autofree char *drawn = NULL;
  g_autofree char *again = NULL;
  g_autofree char *got = NULL;

  SKIP_WITHOUT_DAEMON ();
  drawn = clone_mac_deleted (f, 18);
  again = clone_mac_deleted (f, 18);
  g_assert_cmpstr (again, ==, drawn); /* the seed decides it */
  g_string_append_printf (xml,
                          "<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>"
                          "<os><type arch='x86_64'>hvm</type></os><devices>",
                          many);
  for (guint i = 0; i < 39; i++)
    g_string_append_printf (xml, "<interface type='user'><mac address='52:54:00:5c:b0:%02x'/></interface>",
                            i);
  g_string_append_printf (xml, "<interface type='user'><mac address='%s'/></interface></devices></domain>",
                          drawn);
  dom = virDomainDefineXML (live_conn, xml->str);
  g_assert_nonnull (dom);

  got = clone_mac_deleted (f, 18);
  g_assert_cmpstr (got, !=, drawn);
  g_assert_false (g_str_has_prefix (got, "52:54:00:5c:b0:"));
}

int
main (int argc, char **argv)
{
  live_init (&argc, &argv);
  LIVE_TEST ("/live/clone/sequence", test_live_sequence);
  LIVE_TEST ("/live/clone/taken-name-skipped", test_live_taken_name_skipped);
  LIVE_TEST ("/live/clone/named", test_live_named);
  LIVE_TEST ("/live/clone/data", test_live_data);
  LIVE_TEST ("/live/clone/start-both", test_live_start_both);
  LIVE_TEST ("/live/clone/concurrent", test_live_concurrent);
  LIVE_TEST ("/live/clone/metachar-source", test_live_metachar_source);
  LIVE_TEST ("/live/clone/implicit-nvram", test_live_implicit_nvram);
  LIVE_TEST ("/live/clone/tpm", test_live_tpm);
  LIVE_TEST ("/live/clone/valgrind", test_live_valgrind);
  LIVE_TEST ("/live/clone/qcow2-compat", test_live_qcow2_compat);
  LIVE_TEST ("/live/clone/scan", test_live_scan);
  LIVE_TEST ("/live/clone/scan/listings", test_live_scan_listings);
  LIVE_TEST ("/live/clone/scan/overlapped-macs", test_live_scan_overlapped_macs);
  return live_run ();
}
