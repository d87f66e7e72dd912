/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live tests: the domclone binary against a real libvirtd (QEMU driver,
 * dir pools), private to this run. tests/with-libvirtd.sh starts the
 * daemon and exports DOMCLONE_TEST_URI and DOMCLONE_TEST_STATE; without
 * them every test is skipped.
 *
 * Each test gets its own pool directory and source domain (a TCG guest
 * with a qcow2 system disk, a sparse raw data disk, a CD-ROM, a shareable
 * disk and UEFI NVRAM), checks the clone through libvirt and the files
 * themselves, and checks that refusals and failures change nothing.
 */
#include "config.h"

#include "dc-metadata.h"
#include "dc-test-spawn.h"

#include <gio/gio.h>
#include "dc-util.h"

#include <errno.h>
#include <signal.h>
#include <glib/gstdio.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MiB ((gsize) 1024 * 1024)

static virConnectPtr conn;
static const char *state_dir;
static guint fixture_serial;

typedef struct
{
  char *src;       /* source domain name */
  char *pool;      /* its pool's name */
  char *dir;       /* its pool's directory */
  char *nvram_dir; /* where its NVRAM lives (no pool) */
} Fixture;

/* --- helpers ------------------------------------------------------------ */

static void
write_pattern (const char *path, gsize size, const gsize *offsets, gsize n_offsets, guint32 seed)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  g_autofree guint8 *chunk = g_malloc (MiB);
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, size), ==, 0);
  for (gsize i = 0; i < n_offsets; i++)
    {
      for (gsize j = 0; j < MiB; j++)
        chunk[j] = (guint8) g_rand_int (rand);
      g_assert_cmpint (pwrite (fd, chunk, MiB, offsets[i]), ==, MiB);
    }
  g_assert_cmpint (close (fd), ==, 0);
}

/* read(2), not mmap: on tmpfs, mapping a hole allocates it */
static char *
sha256_file (const char *path)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guint8 *buf = g_malloc (MiB);
  int fd = open (path, O_RDONLY);
  ssize_t n;

  g_assert_cmpint (fd, >=, 0);
  while ((n = read (fd, buf, MiB)) > 0)
    g_checksum_update (sum, buf, n);
  g_assert_cmpint (n, ==, 0);
  close (fd);
  return g_strdup (g_checksum_get_string (sum));
}

static guint64
allocated_bytes (const char *path)
{
  struct stat st;

  g_assert_cmpint (stat (path, &st), ==, 0);
  return (guint64) st.st_blocks * 512;
}

static char *
domain_xml (const char *name)
{
  g_autoptr (DcDomain) dom = virDomainLookupByName (conn, name);

  g_assert_nonnull (dom);
  return virDomainGetXMLDesc (dom, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE);
}

/* The source's definition apart from our metadata element, which is the
 * one thing a clone may change on it. */
static char *
domain_xml_without_metadata (const char *name)
{
  g_autofree char *xml = domain_xml (name);
  g_autoptr (GRegex) ours = g_regex_new ("\\s*<(domclone:)?domclone[\\s>].*</(domclone:)?domclone>",
                                         G_REGEX_DOTALL, 0, NULL);
  g_autoptr (GRegex) empty = g_regex_new ("\\s*<metadata>\\s*</metadata>", 0, 0, NULL);
  g_autofree char *stripped = g_regex_replace_literal (ours, xml, -1, 0, "", 0, NULL);

  return g_regex_replace_literal (empty, stripped, -1, 0, "", 0, NULL);
}

static guint64
counter_of (const char *name)
{
  g_autoptr (DcDomain) dom = virDomainLookupByName (conn, name);
  g_autofree char *xml = virDomainGetMetadata (dom, VIR_DOMAIN_METADATA_ELEMENT, DC_METADATA_URI,
                                               VIR_DOMAIN_AFFECT_CONFIG);
  g_autoptr (GError) error = NULL;
  g_autoptr (DcMetadata) md = dc_metadata_parse (xml, &error);

  g_assert_no_error (error);
  return md->counter;
}

static gboolean
domain_exists (const char *name)
{
  g_autoptr (DcDomain) dom = virDomainLookupByName (conn, name);

  return dom != NULL;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Everything a clone could leave behind: domains, and the volumes of
 * every pool, freshly refreshed. */
static char *
snapshot (void)
{
  GString *out = g_string_new (NULL);
  virDomainPtr *doms = NULL;
  virStoragePoolPtr *pools = NULL;
  int n_doms = virConnectListAllDomains (conn, &doms, 0);
  int n_pools = virConnectListAllStoragePools (conn, &pools, VIR_CONNECT_LIST_STORAGE_POOLS_ACTIVE);
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);

  g_assert_cmpint (n_doms, >=, 0);
  g_assert_cmpint (n_pools, >=, 0);
  for (int i = 0; i < n_doms; i++)
    {
      g_ptr_array_add (lines, g_strdup_printf ("domain %s", virDomainGetName (doms[i])));
      virDomainFree (doms[i]);
    }
  for (int i = 0; i < n_pools; i++)
    {
      virStorageVolPtr *vols = NULL;
      int n_vols;

      g_assert_cmpint (virStoragePoolRefresh (pools[i], 0), ==, 0);
      n_vols = virStoragePoolListAllVolumes (pools[i], &vols, 0);
      for (int j = 0; j < n_vols; j++)
        {
          g_ptr_array_add (lines, g_strdup_printf ("volume %s/%s", virStoragePoolGetName (pools[i]),
                                                   virStorageVolGetName (vols[j])));
          virStorageVolFree (vols[j]);
        }
      g_free (vols);
      virStoragePoolFree (pools[i]);
    }
  g_free (doms);
  g_free (pools);
  g_ptr_array_sort (lines, compare_strings);
  for (guint i = 0; i < lines->len; i++)
    g_string_append_printf (out, "%s\n", (const char *) lines->pdata[i]);
  return g_string_free (out, FALSE);
}

static char *
path_in (const Fixture *f, const char *name)
{
  return g_build_filename (f->dir, name, NULL);
}

/* --- fixture ------------------------------------------------------------ */

static const char source_template[] =
  "<domain type='qemu'>\n"
  "  <name>%s</name>\n"
  "  <memory unit='MiB'>128</memory>\n"
  "  <vcpu>1</vcpu>\n"
  "  <os>\n"
  "    <type arch='x86_64' machine='q35'>hvm</type>\n"
  "    <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>\n"
  "    <nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'>%s/%s_VARS.fd</nvram>\n"
  "  </os>\n"
  "  <features><acpi/></features>\n"
  "  <devices>\n"
  "    <disk type='file' device='disk'>\n"
  "      <driver name='qemu' type='qcow2'/>\n"
  "      <source file='%s/%s.qcow2'/>\n"
  "      <target dev='vda' bus='virtio'/>\n"
  "    </disk>\n"
  "    <disk type='volume' device='disk'>\n"
  "      <driver name='qemu' type='raw'/>\n"
  "      <source pool='%s' volume='data.raw'/>\n"
  "      <target dev='vdb' bus='virtio'/>\n"
  "    </disk>\n"
  "    <disk type='file' device='disk'>\n"
  "      <driver name='qemu' type='raw'/>\n"
  "      <source file='%s/shared.raw'/>\n"
  "      <target dev='vdc' bus='virtio'/>\n"
  "      <shareable/>\n"
  "    </disk>\n"
  "    <disk type='file' device='cdrom'>\n"
  "      <driver name='qemu' type='raw'/>\n"
  "      <source file='%s/install.iso'/>\n"
  "      <target dev='sda' bus='sata'/>\n"
  "      <readonly/>\n"
  "    </disk>\n"
  "    <interface type='user'>\n"
  "      <mac address='52:54:00:00:00:01'/>\n"
  "      <model type='virtio'/>\n"
  "    </interface>\n"
  "    <serial type='pty'/>\n"
  "  </devices>\n"
  "</domain>\n";

static void
define_pool (const char *name, const char *dir)
{
  g_autofree char *xml = g_strdup_printf ("<pool type='dir'><name>%s</name>"
                                          "<target><path>%s</path></target></pool>",
                                          name, dir);
  g_autoptr (DcPool) pool = virStoragePoolDefineXML (conn, xml, 0);

  g_assert_nonnull (pool);
  g_assert_cmpint (virStoragePoolCreate (pool, 0), ==, 0);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  guint id = ++fixture_serial;
  const gsize data_offsets[] = { 0, 40 * MiB };
  const gsize sys_offsets[] = { 0, 3 * MiB, 20 * MiB };
  g_autofree char *raw_sys = NULL;
  g_autofree char *qcow2 = NULL;
  g_autofree char *data_raw = NULL;
  g_autofree char *shared = NULL;
  g_autofree char *iso = NULL;
  g_autofree char *nvram = NULL;
  g_autofree char *vars = NULL;
  g_autofree char *xml = NULL;
  g_autoptr (DcDomain) dom = NULL;
  gsize len;

  if (conn == NULL)
    {
      g_test_skip ("no private libvirt daemon (run through tests/with-libvirtd.sh)");
      return;
    }

  f->src = g_strdup_printf ("vm%u", id);
  f->pool = g_strdup_printf ("pool%u", id);
  f->dir = g_strdup_printf ("%s/pool%u", state_dir, id);
  f->nvram_dir = g_strdup_printf ("%s/nvram%u", state_dir, id);
  g_assert_cmpint (g_mkdir_with_parents (f->dir, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (f->nvram_dir, 0755), ==, 0);

  /* the system disk: 32 MiB qcow2 holding 3 MiB of data */
  raw_sys = g_strdup_printf ("%s/sys%u.raw", state_dir, id);
  qcow2 = g_strdup_printf ("%s/%s.qcow2", f->dir, f->src);
  write_pattern (raw_sys, 32 * MiB, sys_offsets, G_N_ELEMENTS (sys_offsets), id);
  {
    const char *argv[] = { "qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", raw_sys, qcow2, NULL };
    dc_test_run_ok (argv);
  }
  g_unlink (raw_sys);

  /* the data disk: 64 MiB raw, sparse, 2 MiB of data */
  data_raw = path_in (f, "data.raw");
  write_pattern (data_raw, 64 * MiB, data_offsets, G_N_ELEMENTS (data_offsets), id + 1000);
  shared = path_in (f, "shared.raw");
  write_pattern (shared, 4 * MiB, data_offsets, 1, id + 2000);
  iso = path_in (f, "install.iso");
  write_pattern (iso, 2 * MiB, data_offsets, 1, id + 3000);

  /* NVRAM: the template with a marker, so a copy can be told from a
   * fresh one made from the template */
  g_assert_true (g_file_get_contents ("/usr/share/OVMF/OVMF_VARS_4M.fd", &vars, &len, NULL));
  memcpy (vars + len - 16, "domclone-marker", 16);
  nvram = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, f->src);
  g_assert_true (g_file_set_contents (nvram, vars, len, NULL));

  define_pool (f->pool, f->dir);

  xml = g_strdup_printf (source_template, f->src, f->nvram_dir, f->src, f->dir, f->src, f->pool,
                         f->dir, f->dir);
  dom = virDomainDefineXML (conn, xml);
  if (dom == NULL)
    g_error ("cannot define the source: %s", virGetLastErrorMessage ());
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  virDomainPtr *doms = NULL;
  int n;

  if (conn == NULL)
    return;
  /* every domain of this test: the source and its clones */
  n = virConnectListAllDomains (conn, &doms, 0);
  for (int i = 0; i < n; i++)
    {
      if (g_str_has_prefix (virDomainGetName (doms[i]), f->src))
        {
          if (virDomainIsActive (doms[i]) == 1)
            virDomainDestroy (doms[i]);
          virDomainUndefineFlags (doms[i], VIR_DOMAIN_UNDEFINE_NVRAM);
        }
      virDomainFree (doms[i]);
    }
  g_free (doms);
  {
    g_autoptr (DcPool) pool = virStoragePoolLookupByName (conn, f->pool);
    if (pool != NULL)
      {
        virStoragePoolDestroy (pool);
        virStoragePoolUndefine (pool);
      }
  }
  g_free (f->src);
  g_free (f->pool);
  g_free (f->dir);
  g_free (f->nvram_dir);
}

#define SKIP_WITHOUT_DAEMON() \
  do { if (conn == NULL) return; } while (0)

static char *
clone_ok (const Fixture *f, const char *name)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = name ? dc_test_domclone (&out, &err, "--name", name, f->src, NULL)
                    : dc_test_domclone (&out, &err, f->src, NULL);

  if (status != 0)
    g_error ("domclone failed (%d): %s", status, err);
  g_assert_cmpstr (err, ==, "");
  return g_steal_pointer (&out);
}

static void
delete_clone (const char *name)
{
  g_autoptr (DcDomain) dom = virDomainLookupByName (conn, name);
  g_autofree char *xml = NULL;
  g_autoptr (GRegex) re = g_regex_new ("<source (?:file|volume)='([^']+)'", 0, 0, NULL);
  g_autoptr (GMatchInfo) match = NULL;

  g_assert_nonnull (dom);
  xml = virDomainGetXMLDesc (dom, VIR_DOMAIN_XML_INACTIVE);
  g_assert_cmpint (virDomainUndefineFlags (dom, VIR_DOMAIN_UNDEFINE_NVRAM), ==, 0);
  /* remove its own volumes (the file-backed qcow2 of the clone) */
  for (g_regex_match (re, xml, 0, &match); g_match_info_matches (match); g_match_info_next (match, NULL))
    {
      g_autofree char *path = g_match_info_fetch (match, 1);
      g_autoptr (DcVol) vol = virStorageVolLookupByPath (conn, path);

      if (vol != NULL && strstr (path, name) != NULL)
        virStorageVolDelete (vol, 0);
    }
}

/* --- tests -------------------------------------------------------------- */

static void
test_live_sequence (Fixture *f, gconstpointer data)
{
  SKIP_WITHOUT_DAEMON ();
  for (int i = 1; i <= 3; i++)
    {
      g_autofree char *out = clone_ok (f, NULL);
      g_autofree char *expect = g_strdup_printf ("Cloned from %s to %s-clone%d.\n", f->src, f->src, i);

      g_assert_cmpstr (out, ==, expect);
      g_assert_cmpuint (counter_of (f->src), ==, i);
    }

  /* a deleted clone's number is not handed out again */
  {
    g_autofree char *clone2 = g_strdup_printf ("%s-clone2", f->src);
    g_autofree char *out = NULL;
    g_autofree char *expect = g_strdup_printf ("Cloned from %s to %s-clone4.\n", f->src, f->src);

    delete_clone (clone2);
    g_assert_false (domain_exists (clone2));
    out = clone_ok (f, NULL);
    g_assert_cmpstr (out, ==, expect);
    g_assert_false (domain_exists (clone2));
  }

  /* the counter as an administrator sees it */
  {
    const char *argv[] = { "virsh", "-q", "metadata", f->src, DC_METADATA_URI, NULL };
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;

    g_assert_cmpint (dc_test_run (argv, &out, &err), ==, 0);
    g_assert_nonnull (strstr (out, "<counter>4</counter>"));
  }

  /* each clone records its origin and has no counter of its own */
  {
    g_autofree char *clone4 = g_strdup_printf ("%s-clone4", f->src);
    g_autoptr (DcDomain) dom = virDomainLookupByName (conn, clone4);
    g_autofree char *xml = virDomainGetMetadata (dom, VIR_DOMAIN_METADATA_ELEMENT, DC_METADATA_URI,
                                                 VIR_DOMAIN_AFFECT_CONFIG);
    g_autoptr (DcMetadata) md = dc_metadata_parse (xml, NULL);

    g_assert_nonnull (md);
    g_assert_cmpuint (md->counter, ==, 0);
    g_assert_cmpstr (md->origin_name, ==, f->src);
  }
}

static void
test_live_taken_name_skipped (Fixture *f, gconstpointer data)
{
  g_autofree char *taken = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *out = NULL;
  g_autofree char *expect = NULL;
  g_autoptr (DcDomain) other = NULL;

  SKIP_WITHOUT_DAEMON ();
  taken = g_strdup_printf ("%s-clone1", f->src);
  xml = g_strdup_printf ("<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>"
                         "<os><type arch='x86_64'>hvm</type></os></domain>", taken);
  other = virDomainDefineXML (conn, xml);
  g_assert_nonnull (other);

  out = clone_ok (f, NULL);
  expect = g_strdup_printf ("Cloned from %s to %s-clone2.\n", f->src, f->src);
  g_assert_cmpstr (out, ==, expect);
  g_assert_cmpuint (counter_of (f->src), ==, 2);
}

static void
test_live_named (Fixture *f, gconstpointer data)
{
  g_autofree char *name = NULL;
  g_autofree char *out = NULL;
  g_autofree char *expect = NULL;
  g_autofree char *out2 = NULL;
  g_autofree char *expect2 = NULL;

  SKIP_WITHOUT_DAEMON ();
  name = g_strdup_printf ("%s-blue", f->src);
  out = clone_ok (f, name);
  expect = g_strdup_printf ("Cloned from %s to %s.\n", f->src, name);
  g_assert_cmpstr (out, ==, expect);
  g_assert_true (domain_exists (name));
  /* --name clones count too */
  g_assert_cmpuint (counter_of (f->src), ==, 1);

  out2 = clone_ok (f, NULL);
  expect2 = g_strdup_printf ("Cloned from %s to %s-clone2.\n", f->src, f->src);
  g_assert_cmpstr (out2, ==, expect2);
}

static void
test_live_data (Fixture *f, gconstpointer data)
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
  data_raw = path_in (f, "data.raw");
  qcow2_sum = sha256_file (qcow2);
  data_sum = sha256_file (data_raw);
  src_xml_before = domain_xml_without_metadata (f->src);

  out = clone_ok (f, NULL);
  clone = g_strdup_printf ("%s-clone1", f->src);
  clone_xml = domain_xml (clone);

  /* the source is untouched: definition (but for our counter) and data */
  src_xml_after = domain_xml_without_metadata (f->src);
  g_assert_cmpstr (src_xml_after, ==, src_xml_before);
  s1 = sha256_file (qcow2);
  s2 = sha256_file (data_raw);
  g_assert_cmpstr (s1, ==, qcow2_sum);
  g_assert_cmpstr (s2, ==, data_sum);
  g_clear_pointer (&s1, g_free);
  g_clear_pointer (&s2, g_free);

  /* the qcow2 system disk: a new file, same guest-visible content */
  clone_qcow2 = g_strdup_printf ("%s/%s.qcow2", f->dir, clone);
  g_assert_nonnull (strstr (clone_xml, clone_qcow2));
  {
    const char *argv[] = { "qemu-img", "compare", "-q", "-f", "qcow2", "-F", "qcow2", qcow2, clone_qcow2, NULL };
    dc_test_run_ok (argv);
  }

  /* the raw data disk (a volume disk): byte for byte, still sparse,
   * same permissions, still a volume disk */
  clone_data = g_strdup_printf ("%s/%s-vdb.raw", f->dir, clone);
  {
    g_autofree char *expect = g_strdup_printf ("<source pool='%s' volume='%s-vdb.raw'/>", f->pool, clone);
    g_assert_nonnull (strstr (clone_xml, expect));
  }
  s1 = sha256_file (clone_data);
  g_assert_cmpstr (s1, ==, data_sum);
  g_assert_cmpint (stat (data_raw, &st_src), ==, 0);
  g_assert_cmpint (stat (clone_data, &st_clone), ==, 0);
  g_assert_cmpint (st_clone.st_size, ==, st_src.st_size);
  g_assert_cmpuint (allocated_bytes (clone_data), <=, allocated_bytes (data_raw) + 4 * MiB);
  g_assert_cmpuint (allocated_bytes (clone_data), <, 16 * MiB);
  g_assert_cmpint (st_clone.st_mode & 07777, ==, st_src.st_mode & 07777);

  /* the NVRAM: copied with its content, named after the clone */
  src_nvram = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, f->src);
  clone_nvram = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, clone);
  g_assert_nonnull (strstr (clone_xml, clone_nvram));
  s2 = sha256_file (clone_nvram);
  g_clear_pointer (&s1, g_free);
  s1 = sha256_file (src_nvram);
  g_assert_cmpstr (s2, ==, s1);

  /* shared, unchanged: the CD-ROM and the shareable disk */
  {
    g_autofree char *iso = g_strdup_printf ("<source file='%s/install.iso'/>", f->dir);
    g_autofree char *shared = g_strdup_printf ("<source file='%s/shared.raw'/>", f->dir);

    g_assert_nonnull (strstr (clone_xml, iso));
    g_assert_nonnull (strstr (clone_xml, shared));
  }

  /* a fresh identity */
  g_assert_null (strstr (clone_xml, "52:54:00:00:00:01"));
  {
    g_autoptr (DcDomain) a = virDomainLookupByName (conn, f->src);
    g_autoptr (DcDomain) b = virDomainLookupByName (conn, clone);
    char ua[VIR_UUID_STRING_BUFLEN], ub[VIR_UUID_STRING_BUFLEN];

    g_assert_cmpint (virDomainGetUUIDString (a, ua), ==, 0);
    g_assert_cmpint (virDomainGetUUIDString (b, ub), ==, 0);
    g_assert_cmpstr (ua, !=, ub);
  }
}

static void
test_live_start_both (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *clone = NULL;
  g_autoptr (DcDomain) a = NULL;
  g_autoptr (DcDomain) b = NULL;
  int state = 0;

  SKIP_WITHOUT_DAEMON ();
  out = clone_ok (f, NULL);
  clone = g_strdup_printf ("%s-clone1", f->src);
  a = virDomainLookupByName (conn, f->src);
  b = virDomainLookupByName (conn, clone);

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
 * clones of a second source, in the same pool, must not be disturbed. */
static void
test_live_concurrent (Fixture *f, gconstpointer data)
{
  enum { N = 20, M = 5 };
  GSubprocess *procs[N + M];
  g_autoptr (GHashTable) names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *other = NULL;
  gint64 start;

  SKIP_WITHOUT_DAEMON ();
  other = g_strdup_printf ("%sb", f->src);
  {
    g_autofree char *disk = path_in (f, "other.raw");
    g_autofree char *xml = NULL;
    g_autoptr (DcPool) pool = virStoragePoolLookupByName (conn, f->pool);
    g_autoptr (DcDomain) dom = NULL;
    const gsize offsets[] = { 0 };

    write_pattern (disk, 8 * MiB, offsets, 1, 5);
    g_assert_cmpint (virStoragePoolRefresh (pool, 0), ==, 0);
    xml = g_strdup_printf ("<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>"
                           "<os><type arch='x86_64'>hvm</type></os><devices>"
                           "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                           "<source file='%s'/><target dev='vda' bus='virtio'/></disk>"
                           "</devices></domain>", other, disk);
    dom = virDomainDefineXML (conn, xml);
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
      g_assert_true (domain_exists (name));
    }
  for (int i = 1; i <= M; i++)
    {
      g_autofree char *name = g_strdup_printf ("%s-clone%d", other, i);
      g_assert_true (g_hash_table_contains (names, name));
    }
  g_assert_cmpuint (counter_of (f->src), ==, N);
  g_assert_cmpuint (counter_of (other), ==, M);
}

typedef struct
{
  const char *label;
  int status;
  const char *err_part;
} Refusal;

static void
assert_refused (const Fixture *f, const Refusal *r, const char *const *args)
{
  g_autofree char *before = snapshot ();
  g_autofree char *xml_before = domain_xml (f->src);
  g_autofree char *after = NULL;
  g_autofree char *xml_after = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = dc_test_domclone_argv (args, &out, &err);

  g_test_message ("%s: exit %d: %s", r->label, status, err);
  g_assert_cmpint (status, ==, r->status);
  g_assert_cmpstr (out, ==, "");
  g_assert_true (g_str_has_prefix (err, "domclone: "));
  g_assert_nonnull (strstr (err, r->err_part));

  after = snapshot ();
  xml_after = domain_xml (f->src);
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpstr (xml_after, ==, xml_before);
}

static void
test_live_refusals (Fixture *f, gconstpointer data)
{
  g_autofree char *taken = NULL;
  g_autofree char *xml = NULL;
  g_autoptr (DcDomain) other = NULL;

  SKIP_WITHOUT_DAEMON ();
  taken = g_strdup_printf ("%s-taken", f->src);
  xml = g_strdup_printf ("<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>"
                         "<os><type arch='x86_64'>hvm</type></os></domain>", taken);
  other = virDomainDefineXML (conn, xml);
  g_assert_nonnull (other);

  {
    const Refusal r = { "bad name", 2, "invalid name '1abc'" };
    const char *args[] = { "--name", "1abc", f->src, NULL };
    assert_refused (f, &r, args);
  }
  {
    const Refusal r = { "existing name", 1, "already exists" };
    const char *args[] = { "--name", taken, f->src, NULL };
    assert_refused (f, &r, args);
  }
  {
    const Refusal r = { "source's own name", 2, "it is the source's own name" };
    const char *args[] = { "--name", f->src, f->src, NULL };
    assert_refused (f, &r, args);
  }
  {
    const Refusal r = { "missing source", 1, "domain 'no-such-vm' not found" };
    const char *args[] = { "no-such-vm", NULL };
    assert_refused (f, &r, args);
  }
  {
    /* a leftover volume under the planned name is never overwritten */
    g_autofree char *leftover = g_strdup_printf ("%s/%s-clone1.qcow2", f->dir, f->src);
    g_autofree char *sum = NULL;
    g_autofree char *sum_after = NULL;
    const Refusal r = { "volume exists", 1, "already exists in pool" };
    const char *args[] = { f->src, NULL };

    g_assert_true (g_file_set_contents (leftover, "precious", -1, NULL));
    sum = sha256_file (leftover);
    assert_refused (f, &r, args);
    sum_after = sha256_file (leftover);
    g_assert_cmpstr (sum_after, ==, sum);
    g_unlink (leftover);
  }
  {
    g_autoptr (DcDomain) dom = virDomainLookupByName (conn, f->src);
    const Refusal r = { "running source", 1, "is running; shut it down first" };
    const char *args[] = { f->src, NULL };

    if (virDomainCreate (dom) < 0)
      g_error ("cannot start the source: %s", virGetLastErrorMessage ());
    assert_refused (f, &r, args);
    virDomainDestroy (dom);
  }
  g_assert_cmpuint (counter_of (f->src), ==, 0);
}

/* Hostile and malformed input: every case is refused with a one-line
 * message and its exit status (2 when the command line is wrong, 1 when
 * libvirt is the judge), and no domain or volume appears. "@" stands
 * for the fixture's source domain. */
typedef struct
{
  const char *args[5];
  int status;
  const char *err_part;
} Hostile;

#define LONG64 "a234567890123456789012345678901234567890123456789012345678901234"
static const Hostile hostile_cases[] = {
  { { "", NULL }, 2, "source domain name is empty" },
  { { NULL }, 2, "missing the name of the domain to clone" },
  { { "@", "extra", NULL }, 2, "unexpected argument 'extra'" },
  { { "@", "--", "-x", NULL }, 2, "unexpected argument '-x'" },
  { { "--", "-x", NULL }, 1, "domain '-x' not found" },
  { { "--frobnicate", "@", NULL }, 2, "Unknown option --frobnicate" },
  { { "-x", "@", NULL }, 2, "Unknown option -x" },
  { { "@", "--name", NULL }, 2, "Missing argument for --name" },
  { { "--name=", "@", NULL }, 2, "invalid name ''" },
  { { "--name", "", "@", NULL }, 2, "invalid name ''" },
  { { "--name", LONG64, "@", NULL }, 2, "at most 63 characters" },
  { { "--name", LONG64 LONG64 LONG64, "@", NULL }, 2, "at most 63 characters" },
  { { "--name", "1abc", "@", NULL }, 2, "must start with a letter" },
  { { "--name", "-abc", "@", NULL }, 2, "invalid name '-abc'" },
  { { "--name", "abc-", "@", NULL }, 2, "must end with a letter or a digit" },
  { { "--name", "..", "@", NULL }, 2, "invalid name" },
  { { "--name", "a..b", "@", NULL }, 2, "invalid name" },
  { { "--name", "a/b", "@", NULL }, 2, "invalid name" },
  { { "--name", "../../etc/passwd", "@", NULL }, 2, "invalid name" },
  { { "--name", "/tmp/x", "@", NULL }, 2, "invalid name" },
  { { "--name", "a b", "@", NULL }, 2, "invalid name" },
  { { "--name", "a'b", "@", NULL }, 2, "invalid name" },
  { { "--name", "a\"b", "@", NULL }, 2, "invalid name" },
  { { "--name", "a<b", "@", NULL }, 2, "invalid name" },
  { { "--name", "a>b", "@", NULL }, 2, "invalid name" },
  { { "--name", "a&b", "@", NULL }, 2, "invalid name" },
  { { "--name", "a;b", "@", NULL }, 2, "invalid name" },
  { { "--name", "a$(id)", "@", NULL }, 2, "invalid name" },
  { { "--name", "a`id`", "@", NULL }, 2, "invalid name" },
  /* "invalid name", or in the C locale "invalid argument" */
  { { "--name", "caf\xc3\xa9", "@", NULL }, 2, "invalid " },
  { { "--name", "\xe2\x80\xae" "abc", "@", NULL }, 2, "invalid " },
  { { "--name", "\xff\xfe", "@", NULL }, 2, "invalid " },
  { { "--name", "a\nb", "@", NULL }, 2, "invalid name 'a\\nb'" },
  { { "--name", "a\tb", "@", NULL }, 2, "invalid name" },
  { { "--name", "a\x01" "b", "@", NULL }, 2, "invalid name" },
  { { "--name", "a\x7f", "@", NULL }, 2, "invalid name" },
  { { "--name", "-x", "@", NULL }, 2, "invalid name '-x'" },
  { { "--name", "--name", "@", NULL }, 2, "invalid name '--name'" },
  { { "--name", "a_b", "@", NULL }, 2, "invalid name" },
  { { "--name", "a.b", "@", NULL }, 2, "invalid name" },
  { { "--name", "a:b", "@", NULL }, 2, "invalid name" },
  { { "--name", "*", "@", NULL }, 2, "invalid name" },
  { { "--name", "a\\b", "@", NULL }, 2, "invalid name" },
  { { "--name", "@", "@", NULL }, 2, "it is the source's own name" },
  { { "no-such-vm", NULL }, 1, "domain 'no-such-vm' not found" },
  { { "../../etc/passwd", NULL }, 1, "not found" },
  { { "<domain>&amp;", NULL }, 1, "not found" },
  { { "a\nb", NULL }, 1, "domain 'a\\nb' not found" },
  { { LONG64 LONG64 LONG64 LONG64, NULL }, 1, "not found" },
  { { "-c", "qemu:///nosuchpath", "@", NULL }, 1, "cannot connect to 'qemu:///nosuchpath'" },
};

static void
test_live_hostile (Fixture *f, gconstpointer data)
{
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *long_uri = NULL;
  guint rejected = 0;

  SKIP_WITHOUT_DAEMON ();
  before = snapshot ();
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
      g_assert_nonnull (strstr (err, c->err_part));
      rejected++;
    }
  g_test_message ("%u hostile inputs rejected", rejected);
  g_assert_cmpuint (rejected, >=, 40);

  after = snapshot ();
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpuint (counter_of (f->src), ==, 0);
}

/* A source whose name and volume hold XML metacharacters clones with
 * --name, and the clone's XML and volumes come out right. */
static void
test_live_metachar_source (Fixture *f, gconstpointer data)
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
  write_pattern (vol_path, 4 * MiB, offsets, 1, 4242);
  sum = sha256_file (vol_path);
  pool = virStoragePoolLookupByName (conn, f->pool);
  g_assert_cmpint (virStoragePoolRefresh (pool, 0), ==, 0);
  {
    g_autofree char *vol_escaped = g_markup_escape_text (vol_path, -1);
    xml = g_strdup_printf ("<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>"
                           "<os><type arch='x86_64'>hvm</type></os><devices>"
                           "<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                           "<source file='%s'/><target dev='vda' bus='virtio'/></disk>"
                           "</devices></domain>", escaped, vol_escaped);
  }
  dom = virDomainDefineXML (conn, xml);
  if (dom == NULL)
    g_error ("cannot define '%s': %s", odd, virGetLastErrorMessage ());

  /* no valid name can be made from it */
  status = dc_test_domclone (&out, &err, odd, NULL);
  g_assert_cmpint (status, ==, 2);
  g_assert_nonnull (strstr (err, "give one with --name"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  clone_path = g_strdup_printf ("%s/%s-plain.raw", f->dir, f->src);
  {
    g_autofree char *name = g_strdup_printf ("%s-plain", f->src);
    status = dc_test_domclone (&out, &err, "--name", name, odd, NULL);
    g_assert_cmpint (status, ==, 0);
    expect = g_strdup_printf ("Cloned from %s to %s.\n", odd, name);
    g_assert_cmpstr (out, ==, expect);
    clone_xml = domain_xml (name);
  }
  /* the volume was renamed after the clone, inside the pool directory */
  g_assert_nonnull (strstr (clone_xml, clone_path));
  clone_sum = sha256_file (clone_path);
  g_assert_cmpstr (clone_sum, ==, sum);
  {
    g_autofree char *origin = g_strdup_printf ("name=\"%s\"", "odd&lt;&amp;'&quot;&gt;vm");
    g_autoptr (DcDomain) c = virDomainLookupByName (conn, f->src);
    (void) c;
    g_assert_true (strstr (clone_xml, origin) != NULL || strstr (clone_xml, "odd&lt;&amp;") != NULL);
  }
  virDomainUndefine (dom);
}

/* <os firmware='efi'> without <nvram>: libvirt names the file itself;
 * the clone's implicit file must be a copy of the source's. */
static void
test_live_implicit_nvram (Fixture *f, gconstpointer data)
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
                         "<features><acpi/></features></domain>", name);
  dom = virDomainDefineXML (conn, xml);
  g_assert_nonnull (dom);

  /* as if it had run: its variables, with a marker */
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (g_file_get_contents ("/usr/share/OVMF/OVMF_VARS_4M.fd", &vars, &len, NULL));
  memcpy (vars + len - 16, "implicit-marker", 16);
  src_vars = g_strdup_printf ("%s/%s_VARS.fd", dir, name);
  g_assert_true (g_file_set_contents (src_vars, vars, len, NULL));
  sum = sha256_file (src_vars);

  status = dc_test_domclone (&out, &err, name, NULL);
  g_test_message ("exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  clone_vars = g_strdup_printf ("%s/%s-clone1_VARS.fd", dir, name);
  clone_sum = sha256_file (clone_vars);
  g_assert_cmpstr (clone_sum, ==, sum);
  /* and the clone starts with it */
  {
    g_autofree char *clone = g_strdup_printf ("%s-clone1", name);
    g_autoptr (DcDomain) c = virDomainLookupByName (conn, clone);

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
test_live_tpm (Fixture *f, gconstpointer data)
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
                         "</devices></domain>", name);
  dom = virDomainDefineXML (conn, xml);
  g_assert_nonnull (dom);
  if (virDomainCreate (dom) < 0)
    g_error ("cannot start the TPM source: %s", virGetLastErrorMessage ());
  virDomainDestroy (dom);
  g_assert_cmpint (virDomainGetUUIDString (dom, uuid), ==, 0);
  src_state = g_strdup_printf ("%s/%s/tpm2/tpm2-00.permall", dir, uuid);
  sum = sha256_file (src_state);

  status = dc_test_domclone (&out, &err, name, NULL);
  g_test_message ("exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  c = virDomainLookupByName (conn, clone);
  g_assert_nonnull (c);
  g_assert_cmpint (virDomainGetUUIDString (c, clone_uuid), ==, 0);
  clone_state = g_strdup_printf ("%s/%s/tpm2/tpm2-00.permall", dir, clone_uuid);
  clone_sum = sha256_file (clone_state);
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
test_live_valgrind (Fixture *f, gconstpointer data)
{
  g_autofree char *valgrind = g_find_program_in_path ("valgrind");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *expect = NULL;
  const char *argv[] = { NULL, "-q", "--leak-check=full", "--errors-for-leak-kinds=definite",
                         "--show-leak-kinds=definite", "--error-exitcode=99", NULL, NULL, NULL };
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

/* --- crash safety ------------------------------------------------------- */

/* Gives the source a big sparse raw disk (vde): libvirt copies raw to raw
 * by reading every byte of it, which takes long enough to interrupt. */
static char *
add_big_disk (const Fixture *f)
{
  g_autofree char *path = path_in (f, "big.raw");
  g_autofree char *xml = NULL;
  g_autoptr (DcDomain) src = virDomainLookupByName (conn, f->src);
  g_autoptr (DcPool) pool = virStoragePoolLookupByName (conn, f->pool);
  const gsize offsets[] = { 0, 1024 * MiB, 3000 * MiB };

  write_pattern (path, 3 * 1024 * MiB, offsets, G_N_ELEMENTS (offsets), 99);
  g_assert_cmpint (virStoragePoolRefresh (pool, 0), ==, 0);
  xml = g_strdup_printf ("<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                         "<source file='%s'/><target dev='vde' bus='virtio'/></disk>", path);
  g_assert_cmpint (virDomainAttachDeviceFlags (src, xml, VIR_DOMAIN_AFFECT_CONFIG), ==, 0);
  return g_strdup_printf ("%s-clone1-vde.raw", f->src);
}


/* Waits until libvirt has started building volume @name in the pool. */
static void
wait_for_copy_start (const Fixture *f, const char *name)
{
  g_autoptr (DcPool) pool = virStoragePoolLookupByName (conn, f->pool);

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
static void
wait_for_copies_to_end (const Fixture *f)
{
  g_autoptr (DcPool) pool = virStoragePoolLookupByName (conn, f->pool);

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
static GSubprocess *
start_clone_mid_copy (const Fixture *f, char **before)
{
  const char *args[] = { f->src, NULL };
  g_autofree char *big = add_big_disk (f);
  GSubprocess *proc;

  if (before != NULL)
    *before = snapshot ();
  proc = dc_test_spawn_domclone (args);
  wait_for_copy_start (f, big);
  return proc;
}


static gboolean
has_building_marker (const char *name)
{
  g_autoptr (DcDomain) dom = virDomainLookupByName (conn, name);
  g_autofree char *xml = dom ? virDomainGetMetadata (dom, VIR_DOMAIN_METADATA_ELEMENT, DC_METADATA_URI,
                                                     VIR_DOMAIN_AFFECT_CONFIG) : NULL;
  g_autoptr (DcMetadata) md = xml ? dc_metadata_parse (xml, NULL) : NULL;

  return md != NULL && md->building != NULL;
}

/* SIGKILL mid-copy leaves a clone marked as being built by a dead
 * process; --cleanup waits for libvirt's copy to end, then removes the
 * clone and every volume it owned. */
static void
test_live_sigkill_cleanup (Fixture *f, gconstpointer data)
{
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *clone = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  int status;

  SKIP_WITHOUT_DAEMON ();
  clone = g_strdup_printf ("%s-clone1", f->src);
  proc = start_clone_mid_copy (f, &before);
  g_subprocess_force_exit (proc);
  g_subprocess_wait (proc, NULL, NULL);
  g_assert_true (g_subprocess_get_if_signaled (proc));

  /* what the killed run left is visible as such */
  g_assert_true (domain_exists (clone));
  g_assert_true (has_building_marker (clone));

  {
    const char *cleanup[] = { "--cleanup", f->src, NULL };
    g_autoptr (GSubprocess) c = dc_test_spawn_domclone (cleanup);
    g_autofree char *expect = g_strdup_printf ("Removed %s, left unfinished by a killed run.\n", clone);

    out = dc_test_communicate (c, &err, &status);
    g_test_message ("cleanup: exit %d: %s%s", status, out, err);
    g_assert_cmpint (status, ==, 0);
    g_assert_cmpstr (out, ==, expect);
  }
  after = snapshot ();
  g_assert_cmpstr (after, ==, before);
  {
    g_autofree char *nvram = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, clone);
    g_assert_false (g_file_test (nvram, G_FILE_TEST_EXISTS));
  }
  g_assert_cmpuint (counter_of (f->src), ==, 0);
}

/* The next ordinary run against the source removes such a leftover by
 * itself, once libvirt has finished copying into it. */
static void
test_live_sigkill_next_run (Fixture *f, gconstpointer data)
{
  g_autofree char *clone = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *expect = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  int status;

  SKIP_WITHOUT_DAEMON ();
  clone = g_strdup_printf ("%s-clone1", f->src);
  proc = start_clone_mid_copy (f, NULL);
  g_subprocess_force_exit (proc);
  g_subprocess_wait (proc, NULL, NULL);
  wait_for_copies_to_end (f);
  g_assert_true (has_building_marker (clone));

  status = dc_test_domclone (&out, &err, f->src, NULL);
  g_test_message ("next run: exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  expect = g_strdup_printf ("domclone: removed '%s', left unfinished by a killed run\n", clone);
  g_assert_cmpstr (err, ==, expect);
  /* the number never completed, so it is handed out again */
  g_clear_pointer (&expect, g_free);
  expect = g_strdup_printf ("Cloned from %s to %s.\n", f->src, clone);
  g_assert_cmpstr (out, ==, expect);
  g_assert_false (has_building_marker (clone));
  g_assert_cmpuint (counter_of (f->src), ==, 1);
}

/* A clone being built by a live process is never touched by a clean-up;
 * SIGTERM then stops that run, which rolls back after libvirt's copy. */
static void
test_live_sigterm_rollback (Fixture *f, gconstpointer data)
{
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  int status;

  SKIP_WITHOUT_DAEMON ();
  proc = start_clone_mid_copy (f, &before);

  {
    g_autofree char *cout = NULL;
    g_autofree char *cerr = NULL;
    g_autofree char *expect = g_strdup_printf ("Nothing to clean up for %s.\n", f->src);
    int cstatus = dc_test_domclone (&cout, &cerr, "--cleanup", f->src, NULL);

    g_assert_cmpint (cstatus, ==, 0);
    g_assert_cmpstr (cout, ==, expect);
  }

  g_subprocess_send_signal (proc, SIGTERM);
  out = dc_test_communicate (proc, &err, &status);
  g_test_message ("SIGTERM: exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 1);
  g_assert_cmpstr (out, ==, "");
  g_assert_nonnull (strstr (err, "interrupted by Terminated"));
  g_assert_nonnull (strstr (err, "everything this run created was removed"));
  after = snapshot ();
  g_assert_cmpstr (after, ==, before);
}

/* The daemon dies mid-copy and comes back: the run reconnects and rolls
 * back everything, the partial volume the dead daemon left included. */
static void
test_live_daemon_restart (Fixture *f, gconstpointer data)
{
  const char *daemon = g_getenv ("DOMCLONE_TEST_LIBVIRTD");
  const char *conf = g_getenv ("DOMCLONE_TEST_LIBVIRTD_CONF");
  const char *pidfile = g_getenv ("DOMCLONE_TEST_LIBVIRTD_PIDFILE");
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *pidtext = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  int status;

  SKIP_WITHOUT_DAEMON ();
  if (daemon == NULL || conf == NULL || pidfile == NULL || geteuid () != 0)
    {
      g_test_skip ("needs the harness's root daemon, to restart it");
      return;
    }
  proc = start_clone_mid_copy (f, &before);

  g_assert_true (g_file_get_contents (pidfile, &pidtext, NULL, NULL));
  g_assert_cmpint (kill ((pid_t) g_ascii_strtoll (pidtext, NULL, 10), SIGKILL), ==, 0);
  g_usleep (G_USEC_PER_SEC / 2);
  g_unlink (pidfile);
  {
    const char *argv[] = { daemon, "-d", "-f", conf, "-p", pidfile, NULL };
    dc_test_run_ok (argv);
  }

  out = dc_test_communicate (proc, &err, &status);
  g_test_message ("daemon restart: exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 1);
  g_assert_cmpstr (out, ==, "");
  g_assert_nonnull (strstr (err, "lost the connection to libvirt; reconnecting"));
  g_assert_nonnull (strstr (err, "everything this run created was removed"));

  /* the test's own connection died with the daemon too */
  virConnectClose (conn);
  conn = virConnectOpen (g_getenv ("DOMCLONE_TEST_URI"));
  g_assert_nonnull (conn);
  after = snapshot ();
  g_assert_cmpstr (after, ==, before);
}

/* An NVRAM that cannot be read as a file (here: a directory where the
 * file should be; libvirt would "copy" it into an empty file) fails the
 * clone with an error naming the NVRAM, and changes nothing. */
static void
test_live_nvram_unreadable (Fixture *f, gconstpointer data)
{
  g_autofree char *nvram = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, f->src);
  g_autofree char *inside = g_build_filename (nvram, "inside", NULL);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  SKIP_WITHOUT_DAEMON ();
  g_assert_cmpint (g_unlink (nvram), ==, 0);
  g_assert_cmpint (g_mkdir (nvram, 0700), ==, 0);
  g_assert_true (g_file_set_contents (inside, "x", -1, NULL));
  before = snapshot ();
  status = dc_test_domclone (&out, &err, f->src, NULL);
  g_test_message ("exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 1);
  g_assert_cmpstr (out, ==, "");
  g_assert_nonnull (strstr (err, "NVRAM"));
  after = snapshot ();
  g_assert_cmpstr (after, ==, before);
  g_unlink (inside);
  g_rmdir (nvram);
}

/* A copy that fails half-way, for real: the data disk's pool sits on a
 * tmpfs too small for a second copy. The system disk was already copied
 * when it fails; everything must go. Needs root (mount), which the
 * harness has in its own mount namespace. */
static void
test_live_rollback (Fixture *f, gconstpointer data)
{
  g_autofree char *small = NULL;
  g_autofree char *small_pool = NULL;
  g_autofree char *big = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *src_before = NULL;
  g_autofree char *src_after = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *big_sum = NULL;
  g_autofree char *big_sum_after = NULL;
  g_autoptr (DcDomain) src = NULL;
  /* 10 MiB of data in a 12 MiB sparse file, on a 16 MiB tmpfs: the
   * sparse copy starts, then runs out of space half-way */
  const gsize offsets[] = { 0, MiB, 2 * MiB, 3 * MiB, 4 * MiB, 5 * MiB, 6 * MiB, 7 * MiB,
                            8 * MiB, 9 * MiB };
  int status;

  SKIP_WITHOUT_DAEMON ();
  if (geteuid () != 0)
    {
      g_test_skip ("needs root to mount a small tmpfs");
      return;
    }
  small = g_strdup_printf ("%s/small-%s", state_dir, f->src);
  small_pool = g_strdup_printf ("small-%s", f->src);
  g_assert_cmpint (g_mkdir_with_parents (small, 0755), ==, 0);
  {
    const char *argv[] = { "mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", small, NULL };
    dc_test_run_ok (argv);
  }
  big = g_build_filename (small, "big.raw", NULL);
  write_pattern (big, 12 * MiB, offsets, G_N_ELEMENTS (offsets), 77);
  big_sum = sha256_file (big);
  g_test_message ("big.raw: %" G_GUINT64_FORMAT " bytes allocated", allocated_bytes (big));
  define_pool (small_pool, small);

  /* attach it as a second writable disk of the source */
  src = virDomainLookupByName (conn, f->src);
  xml = g_strdup_printf ("<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                         "<source file='%s'/><target dev='vdd' bus='virtio'/></disk>", big);
  g_assert_cmpint (virDomainAttachDeviceFlags (src, xml, VIR_DOMAIN_AFFECT_CONFIG), ==, 0);

  before = snapshot ();
  src_before = domain_xml (f->src);
  status = dc_test_domclone (&out, &err, f->src, NULL);
  g_test_message ("exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 1);
  g_assert_cmpstr (out, ==, "");
  g_assert_nonnull (strstr (err, "cannot clone disk 'vdd'"));
  g_assert_nonnull (strstr (err, "everything this run created was removed"));

  after = snapshot ();
  src_after = domain_xml (f->src);
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpstr (src_after, ==, src_before);
  big_sum_after = sha256_file (big);
  g_assert_cmpstr (big_sum_after, ==, big_sum);
  g_assert_cmpuint (counter_of (f->src), ==, 0);
  {
    g_autofree char *nvram = g_strdup_printf ("%s/%s-clone1_VARS.fd", f->nvram_dir, f->src);
    g_assert_false (g_file_test (nvram, G_FILE_TEST_EXISTS));
  }

  {
    g_autoptr (DcPool) pool = virStoragePoolLookupByName (conn, small_pool);
    const char *argv[] = { "umount", small, NULL };

    virStoragePoolDestroy (pool);
    virStoragePoolUndefine (pool);
    dc_test_run_ok (argv);
  }
}

int
main (int argc, char **argv)
{
  const char *uri;
  int ret;

  g_test_init (&argc, &argv, NULL);
  signal (SIGPIPE, SIG_IGN); /* a daemon restarted under our connection */

  uri = g_getenv ("DOMCLONE_TEST_URI");
  state_dir = g_getenv ("DOMCLONE_TEST_STATE");
  if (uri != NULL && state_dir != NULL && g_getenv ("DOMCLONE") != NULL)
    {
      dc_libvirt_quiet ();
      conn = virConnectOpen (uri);
      if (conn == NULL)
        g_error ("cannot connect to '%s': %s", uri, virGetLastErrorMessage ());
    }

  g_test_add ("/live/clone/sequence", Fixture, NULL, fixture_setup, test_live_sequence, fixture_teardown);
  g_test_add ("/live/clone/taken-name-skipped", Fixture, NULL, fixture_setup, test_live_taken_name_skipped, fixture_teardown);
  g_test_add ("/live/clone/named", Fixture, NULL, fixture_setup, test_live_named, fixture_teardown);
  g_test_add ("/live/clone/data", Fixture, NULL, fixture_setup, test_live_data, fixture_teardown);
  g_test_add ("/live/clone/start-both", Fixture, NULL, fixture_setup, test_live_start_both, fixture_teardown);
  g_test_add ("/live/clone/concurrent", Fixture, NULL, fixture_setup, test_live_concurrent, fixture_teardown);
  g_test_add ("/live/refuse/all", Fixture, NULL, fixture_setup, test_live_refusals, fixture_teardown);
  g_test_add ("/live/refuse/hostile-input", Fixture, NULL, fixture_setup, test_live_hostile, fixture_teardown);
  g_test_add ("/live/clone/metachar-source", Fixture, NULL, fixture_setup, test_live_metachar_source, fixture_teardown);
  g_test_add ("/live/clone/implicit-nvram", Fixture, NULL, fixture_setup, test_live_implicit_nvram, fixture_teardown);
  g_test_add ("/live/clone/tpm", Fixture, NULL, fixture_setup, test_live_tpm, fixture_teardown);
  g_test_add ("/live/clone/valgrind", Fixture, NULL, fixture_setup, test_live_valgrind, fixture_teardown);
  g_test_add ("/live/crash/sigkill-cleanup", Fixture, NULL, fixture_setup, test_live_sigkill_cleanup, fixture_teardown);
  g_test_add ("/live/crash/sigkill-next-run", Fixture, NULL, fixture_setup, test_live_sigkill_next_run, fixture_teardown);
  g_test_add ("/live/crash/sigterm-rollback", Fixture, NULL, fixture_setup, test_live_sigterm_rollback, fixture_teardown);
  g_test_add ("/live/fault/daemon-restart", Fixture, NULL, fixture_setup, test_live_daemon_restart, fixture_teardown);
  g_test_add ("/live/fault/nvram-unreadable", Fixture, NULL, fixture_setup, test_live_nvram_unreadable, fixture_teardown);
  g_test_add ("/live/rollback/copy-fails", Fixture, NULL, fixture_setup, test_live_rollback, fixture_teardown);

  ret = g_test_run ();
  if (conn != NULL)
    virConnectClose (conn);
  return ret;
}
