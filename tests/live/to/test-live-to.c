/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live tests, clones onto another host (--to). The source lives on the
 * test's own daemon; the clone is made on a second, independent one
 * (tests/lib/live-other.c: its own mount namespace, its own
 * /var/lib/libvirt, reached through its socket), whose pool of the
 * source pool's name lies in a directory of another path, private to
 * it. The clone's bytes are read there through /proc/PID/root. Root
 * only.
 */
#include "config.h"

#include "dc-test-assert.h"
#include "dc-test-util.h"
#include "live-fixture.h"
#include "live-other.h"
#include "dc-metadata.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

/* Removes the test's domains (stopped) and pool from the destination */
static void
to_teardown (const LiveFixture *f)
{
  virDomainPtr *doms = NULL;
  int n;

  if (live_other_conn == NULL)
    return;
  n = virConnectListAllDomains (live_other_conn, &doms, 0);
  for (int i = 0; i < n; i++)
    {
      if (g_str_has_prefix (virDomainGetName (doms[i]), f->src))
        {
          if (virDomainIsActive (doms[i]) == 1)
            virDomainDestroy (doms[i]);
          virDomainUndefineFlags (doms[i], VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_TPM);
        }
      virDomainFree (doms[i]);
    }
  g_free (doms);
  {
    g_autoptr (DcPool) pool = virStoragePoolLookupByName (live_other_conn, f->pool);

    if (pool != NULL)
      {
        virStoragePoolDestroy (pool);
        virStoragePoolUndefine (pool);
      }
  }
}

/* domclone -c SRC --to DST ARGS... SOURCE */
static int
to_clone (const LiveFixture *f, char **out, char **err, const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();

  g_ptr_array_add (argv, (gpointer) "-c");
  g_ptr_array_add (argv, (gpointer) g_getenv ("DOMCLONE_TEST_URI"));
  g_ptr_array_add (argv, (gpointer) "--to");
  g_ptr_array_add (argv, (gpointer) live_other_uri);
  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, f->src);
  g_ptr_array_add (argv, NULL);
  return dc_test_domclone_argv ((const char *const *) argv->pdata, out, err);
}

static DcMetadata *
other_metadata (const char *name)
{
  g_autoptr (DcDomain) dom = virDomainLookupByName (live_other_conn, name);
  g_autofree char *xml = NULL;
  g_autoptr (GError) error = NULL;
  DcMetadata *md;

  g_assert_nonnull (dom);
  xml = virDomainGetMetadata (dom, VIR_DOMAIN_METADATA_ELEMENT, DC_METADATA_URI, VIR_DOMAIN_AFFECT_CONFIG);
  g_assert_nonnull (xml);
  md = dc_metadata_parse (xml, &error);
  g_assert_no_error (error);
  return md;
}

static gboolean
other_domain_exists (const char *name)
{
  g_autoptr (DcDomain) dom = virDomainLookupByName (live_other_conn, name);

  return dom != NULL;
}

/* An 8 GiB sparse raw disk holding 4 MiB, as vde of the source */
static char *
add_sparse_disk (const LiveFixture *f)
{
  const gsize offsets[] = { 0, 1024 * MiB, 4096 * MiB, 8192 * MiB - MiB };
  g_autofree char *path = live_path_in (f, "sparse.raw");

  live_write_pattern (path, 8192 * MiB, offsets, G_N_ELEMENTS (offsets), 8);
  live_attach_disk (f, "vde", "raw", path);
  return g_steal_pointer (&path);
}

/* --print-xml --to changes nothing on either side, and shows the
 * destination's paths */
static void
assert_print_xml_changes_nothing (const LiveFixture *f)
{
  const char *args[] = { "--print-xml", NULL };
  g_autofree char *before = live_snapshot_of (live_other_conn);
  g_autofree char *before_here = live_snapshot ();
  g_autofree char *after = NULL;
  g_autofree char *after_here = NULL;
  g_autofree char *dir = live_other_there_dir (f->pool);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = to_clone (f, &out, &err, args);

  g_test_message ("--print-xml: exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 0);
  dc_assert_contains (out, dir);
  after = live_snapshot_of (live_other_conn);
  after_here = live_snapshot ();
  g_assert_cmpstr (after, ==, before);
  g_assert_cmpstr (after_here, ==, before_here);
  g_assert_cmpuint (live_counter_of (f->src), ==, 0);
}

/* The fixture's volumes and NVRAM and the 8 GiB disk @sparse, byte for
 * byte in the clone @clone there: the qcow2 as its file (the same
 * bytes, still qcow2), the raw ones as sparse as their sources */
static void
assert_volumes_there (const LiveFixture *f, const char *clone, const char *sparse)
{
  g_autofree char *qcow2 = g_strdup_printf ("%s.qcow2", clone);
  g_autofree char *src_qcow2_name = g_strdup_printf ("%s.qcow2", f->src);
  g_autofree char *src_qcow2 = live_path_in (f, src_qcow2_name);
  g_autofree char *qcow2_copy = live_other_there_file (f->pool, qcow2);
  g_autoptr (JsonNode) info = dc_test_qemu_img_info (qcow2_copy);
  g_autofree char *vdb = g_strdup_printf ("%s-vdb.raw", clone);
  g_autofree char *src_vdb = live_path_in (f, "data.raw");
  g_autofree char *vdb_copy = live_other_there_file (f->pool, vdb);
  g_autofree char *vde = g_strdup_printf ("%s-vde.raw", clone);
  g_autofree char *vde_copy = live_other_there_file (f->pool, vde);
  g_autofree char *nvram = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, f->src);
  g_autofree char *nvram_there = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, clone);
  g_autofree char *nvram_copy = live_other_path (nvram_there);

  live_assert_same_file (src_qcow2, qcow2_copy);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (info), "format"), ==, "qcow2");
  live_assert_same_file (src_vdb, vdb_copy);
  live_assert_same_sparse_file (sparse, vde_copy);
  g_assert_cmpuint (live_allocated_bytes (vde_copy), <, 64 * MiB);
  live_assert_same_file (nvram, nvram_copy);
}

/* The clone's XML names the destination's paths, the shared disks keep
 * theirs (the destination sees these files), its MAC is new, and its
 * <origin> names the source's URI as given and the source's host */
static void
assert_definition_there (const LiveFixture *f, virDomainPtr dom, const char *clone)
{
  g_autofree char *xml = virDomainGetXMLDesc (dom, VIR_DOMAIN_XML_INACTIVE);
  g_autofree char *dir = live_other_there_dir (f->pool);
  g_autofree char *qcow2 = g_strdup_printf ("<source file='%s/%s.qcow2'", dir, clone);
  g_autofree char *vde = g_strdup_printf ("<source file='%s/%s-vde.raw'", dir, clone);
  g_autofree char *shared = g_strdup_printf ("<source file='%s/shared.raw'", f->dir);
  g_autofree char *iso = g_strdup_printf ("<source file='%s/install.iso'", f->dir);
  g_autofree char *host = virConnectGetHostname (live_conn);
  g_autoptr (DcMetadata) md = other_metadata (clone);

  dc_assert_contains (xml, qcow2);
  dc_assert_contains (xml, vde);
  dc_assert_contains (xml, shared);
  dc_assert_contains (xml, iso);
  dc_assert_not_contains (xml, "52:54:00:00:00:01");
  g_assert_cmpstr (md->origin_name, ==, f->src);
  g_assert_cmpstr (md->origin_uri, ==, g_getenv ("DOMCLONE_TEST_URI"));
  g_assert_cmpstr (md->origin_host, ==, host);
  g_assert_null (md->building);
}

/* The fixture's source (a qcow2 and a raw volume, a shareable disk, a
 * CD-ROM, NVRAM) and an 8 GiB sparse raw disk, cloned onto the second
 * daemon: each volume byte for byte in its pool there, of the same
 * format, as sparse as its source; the counter moved on the source
 * only; the clone's definition there; and the clone starts there. */
static void
test_live_to_data (LiveFixture *f, gconstpointer data)
{
  g_autofree char *sparse = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *clone = NULL;
  g_autofree char *line = NULL;
  g_autoptr (DcDomain) dom = NULL;
  int status;

  if (!live_other_start_with_pool (f->pool))
    return;
  sparse = add_sparse_disk (f);
  clone = g_strdup_printf ("%s-clone1", f->src);
  assert_print_xml_changes_nothing (f);

  status = to_clone (f, &out, &err, NULL);
  g_test_message ("exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  line = g_strdup_printf ("Cloned from %s to %s.\n", f->src, clone);
  g_assert_cmpstr (out, ==, line);
  /* made there, counted here */
  g_assert_true (other_domain_exists (clone));
  g_assert_false (live_domain_exists (clone));
  g_assert_cmpuint (live_counter_of (f->src), ==, 1);
  assert_volumes_there (f, clone, sparse);
  dom = virDomainLookupByName (live_other_conn, clone);
  assert_definition_there (f, dom, clone);

  /* it starts there (QEMU opens and locks every image) */
  if (virDomainCreate (dom) < 0)
    g_error ("cannot start the clone on the destination: %s", virGetLastErrorMessage ());
  virDomainDestroy (dom);
  to_teardown (f);
}

/* The fixture's source redefined with its system disk alone: its
 * NVRAM's directory is this test's scratch one, which the destination
 * sees too, and a clone of the same name would find its file there
 * (and is refused) */
static void
source_system_disk_only (const LiveFixture *f)
{
  g_autoptr (DcDomain) dom = virDomainLookupByName (live_conn, f->src);
  g_autofree char *xml = g_strdup_printf (
    "<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>"
    "<os><type arch='x86_64'>hvm</type></os><devices><disk type='file' device='disk'>"
    "<driver name='qemu' type='qcow2'/><source file='%s/%s.qcow2'/><target dev='vda' bus='virtio'/>"
    "</disk></devices></domain>",
    f->src, f->dir, f->src);
  g_autoptr (DcDomain) again = NULL;

  g_assert_cmpint (virDomainUndefineFlags (dom, VIR_DOMAIN_UNDEFINE_NVRAM), ==, 0);
  again = virDomainDefineXML (live_conn, xml);
  g_assert_nonnull (again);
}

/* --name equal to the source's own name is free on another host; the
 * next clone without --name takes the source's next number */
static void
test_live_to_same_name (LiveFixture *f, gconstpointer data)
{
  const char *named[] = { "--name", f->src, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *out2 = NULL;
  g_autofree char *err2 = NULL;
  g_autofree char *second = NULL;
  int status;

  if (!live_other_start_with_pool (f->pool))
    return;
  source_system_disk_only (f);
  status = to_clone (f, &out, &err, named);
  g_test_message ("exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  g_assert_true (other_domain_exists (f->src));
  g_assert_cmpuint (live_counter_of (f->src), ==, 1);
  {
    g_autofree char *name = g_strdup_printf ("%s.qcow2", f->src);
    g_autofree char *src = live_path_in (f, name);
    g_autofree char *copy = live_other_there_file (f->pool, name);

    live_assert_same_file (src, copy);
  }

  status = to_clone (f, &out2, &err2, NULL);
  g_test_message ("exit %d: %s%s", status, out2, err2);
  g_assert_cmpint (status, ==, 0);
  second = g_strdup_printf ("%s-clone2", f->src);
  g_assert_true (other_domain_exists (second));
  g_assert_cmpuint (live_counter_of (f->src), ==, 2);

  /* --count: one run, two more there */
  {
    const char *args[] = { "--count", "2", NULL };
    g_autofree char *out3 = NULL;
    g_autofree char *err3 = NULL;
    g_autofree char *third = g_strdup_printf ("%s-clone3", f->src);
    g_autofree char *fourth = g_strdup_printf ("%s-clone4", f->src);

    status = to_clone (f, &out3, &err3, args);
    g_test_message ("--count 2: exit %d: %s%s", status, out3, err3);
    g_assert_cmpint (status, ==, 0);
    g_assert_true (other_domain_exists (third));
    g_assert_true (other_domain_exists (fourth));
    g_assert_false (live_domain_exists (third));
    g_assert_cmpuint (live_counter_of (f->src), ==, 4);
  }
  to_teardown (f);
}

/* A UEFI domain @name with an emulated TPM, its NVRAM @nvram (with a
 * marker) in @dir; started once, so that swtpm makes its state */
static virDomainPtr
define_tpm_source (const char *name, const char *dir, const char *nvram)
{
  g_autofree char *vars = NULL;
  g_autofree char *xml = NULL;
  virDomainPtr dom;
  gsize len;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (g_file_get_contents ("/usr/share/OVMF/OVMF_VARS_4M.fd", &vars, &len, NULL));
  memcpy (vars + len - 16, "domclone-marker", 16);
  g_assert_true (g_file_set_contents (nvram, vars, len, NULL));
  xml = g_strdup_printf ("<domain type='qemu'><name>%s</name><memory unit='MiB'>128</memory>"
                         "<os><type arch='x86_64' machine='q35'>hvm</type>"
                         "<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>"
                         "<nvram>%s</nvram></os><features><acpi/></features><devices>"
                         "<tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>"
                         "</devices></domain>",
                         name, nvram);
  dom = virDomainDefineXML (live_conn, xml);
  if (dom == NULL)
    g_error ("cannot define the TPM source: %s", virGetLastErrorMessage ());
  if (virDomainCreate (dom) < 0)
    g_error ("cannot start the TPM source: %s", virGetLastErrorMessage ());
  virDomainDestroy (dom);
  return dom;
}

/* A domain with an emulated TPM (its state made by a first start) and
 * NVRAM in a directory only the source's host has: both go across, the
 * TPM state into the clone's UUID's folder there, the NVRAM into the
 * same directory there, made; and swtpm takes the state when the clone
 * starts there. */
static void
test_live_to_tpm_nvram (LiveFixture *f, gconstpointer data)
{
  g_autofree char *name = g_strdup_printf ("%s-tpm", f->src);
  g_autofree char *clone = g_strdup_printf ("%s-tpm-clone1", f->src);
  g_autofree char *nvdir = g_strdup_printf ("/var/lib/libvirt/images/nv-%s", f->src);
  g_autofree char *nvram = g_strdup_printf ("%s/%s_VARS.fd", nvdir, name);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *src_state = NULL;
  g_autofree char *clone_state = NULL;
  g_autoptr (DcDomain) dom = NULL;
  g_autoptr (DcDomain) c = NULL;
  char uuid[VIR_UUID_STRING_BUFLEN], clone_uuid[VIR_UUID_STRING_BUFLEN];
  int status;

  g_autofree char *swtpm = g_find_program_in_path ("swtpm");

  if (!live_other_start_with_pool (f->pool))
    return;
  if (swtpm == NULL)
    {
      g_test_skip ("swtpm is not installed");
      return;
    }
  dom = define_tpm_source (name, nvdir, nvram);
  g_assert_cmpint (virDomainGetUUIDString (dom, uuid), ==, 0);
  src_state = g_strdup_printf ("/var/lib/libvirt/swtpm/%s/tpm2/tpm2-00.permall", uuid);
  {
    g_autofree char *there = live_other_path (nvdir);
    g_assert_false (g_file_test (there, G_FILE_TEST_EXISTS));
  }

  {
    const char *args[] = { "-c", g_getenv ("DOMCLONE_TEST_URI"), "--to", live_other_uri, name, NULL };
    status = dc_test_domclone_argv (args, &out, &err);
  }
  g_test_message ("exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  c = virDomainLookupByName (live_other_conn, clone);
  g_assert_nonnull (c);
  g_assert_cmpint (virDomainGetUUIDString (c, clone_uuid), ==, 0);
  {
    g_autofree char *path = g_strdup_printf ("/var/lib/libvirt/swtpm/%s/tpm2/tpm2-00.permall", clone_uuid);
    clone_state = live_other_path (path);
  }
  live_assert_same_file (src_state, clone_state);
  {
    g_autofree char *path = g_strdup_printf ("%s/%s_VARS.fd", nvdir, clone);
    g_autofree char *copy = live_other_path (path);
    g_autofree char *cxml = virDomainGetXMLDesc (c, VIR_DOMAIN_XML_INACTIVE);

    live_assert_same_file (nvram, copy);
    dc_assert_contains (cxml, path);
  }
  if (virDomainCreate (c) < 0)
    g_error ("cannot start the TPM clone on the destination: %s", virGetLastErrorMessage ());
  virDomainDestroy (c);
  virDomainUndefineFlags (dom, VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_TPM);
  to_teardown (f);
}

/* A CD-ROM @iso as sdb of the source, in pool @pool over @dir */
static void
attach_media (const LiveFixture *f, const char *pool, const char *dir, const char *iso)
{
  const gsize offsets[] = { 0, 3 * MiB };
  g_autoptr (DcDomain) src = virDomainLookupByName (live_conn, f->src);
  g_autofree char *xml =
    g_strdup_printf ("<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
                     "<source file='%s'/><target dev='sdb' bus='sata'/><readonly/></disk>",
                     iso);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  live_write_pattern (iso, 4 * MiB, offsets, G_N_ELEMENTS (offsets), 77);
  live_define_pool (pool, dir);
  g_assert_cmpint (virDomainAttachDeviceFlags (src, xml, VIR_DOMAIN_AFFECT_CONFIG), ==, 0);
}

/* A CD-ROM in a pool whose directory the destination does not have:
 * copied once into the destination's pool of that name, under its own
 * name, and shared there by the next clone (not copied again); it is
 * no volume of either clone's own */
static void
test_live_to_media (LiveFixture *f, gconstpointer data)
{
  g_autofree char *pool = g_strdup_printf ("media-%s", f->src);
  g_autofree char *dir = g_strdup_printf ("/var/lib/libvirt/images/%s", pool);
  g_autofree char *there_dir = live_other_there_dir (pool);
  g_autofree char *iso = g_build_filename (dir, "media.iso", NULL);
  g_autofree char *there_iso = g_build_filename (there_dir, "media.iso", NULL);
  g_autofree char *copy = NULL;
  GStatBuf first, second;

  if (!live_other_start_with_pool (f->pool))
    return;
  attach_media (f, pool, dir, iso);
  live_other_pool (pool, there_dir);
  copy = live_other_path (there_iso);

  for (int i = 1; i <= 2; i++)
    {
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      g_autofree char *clone = g_strdup_printf ("%s-clone%d", f->src, i);
      g_autofree char *xml = NULL;
      g_autoptr (DcDomain) dom = NULL;
      g_autoptr (DcMetadata) md = NULL;
      int status = to_clone (f, &out, &err, NULL);

      g_test_message ("exit %d: %s%s", status, out, err);
      g_assert_cmpint (status, ==, 0);
      dom = virDomainLookupByName (live_other_conn, clone);
      g_assert_nonnull (dom);
      xml = virDomainGetXMLDesc (dom, VIR_DOMAIN_XML_INACTIVE);
      {
        g_autofree char *src_attr = g_strdup_printf ("<source file='%s'", there_iso);
        dc_assert_contains (xml, src_attr);
      }
      md = other_metadata (clone);
      for (guint j = 0; j < md->volumes->len; j++)
        g_assert_cmpstr (((DcOwnedVolume *) md->volumes->pdata[j])->name, !=, "media.iso");
      live_assert_same_file (iso, copy);
      g_assert_cmpint (g_stat (copy, i == 1 ? &first : &second), ==, 0);
    }
  /* the second clone shares the first copy */
  g_assert_cmpuint (second.st_ino, ==, first.st_ino);
  g_assert_cmpint (second.st_mtime, ==, first.st_mtime);

  to_teardown (f);
  {
    g_autoptr (DcPool) p = virStoragePoolLookupByName (live_other_conn, pool);

    virStoragePoolDestroy (p);
    virStoragePoolUndefine (p);
  }
  live_remove_pool (pool);
}

/* Attaches vdf, a qcow2 overlay on a qcow2 base, to the source; returns
 * the base's path */
static char *
attach_overlay (const LiveFixture *f)
{
  g_autofree char *base = live_path_in (f, "base.qcow2");
  g_autofree char *top = live_path_in (f, "top.qcow2");
  const char *mkbase[] = { "qemu-img", "create", "-q", "-f", "qcow2", base, "16M", NULL };
  const char *mktop[] = { "qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base, top, NULL };

  dc_test_run_ok (mkbase);
  dc_test_run_ok (mktop);
  live_attach_disk (f, "vdf", "qcow2", top);
  return g_steal_pointer (&base);
}

/* domclone -c SRC --to DST ARGS... SOURCE fails with @status, its
 * message holding @part */
static void
assert_to_refused (const LiveFixture *f, const char *const *args, int status, const char *part)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int got = to_clone (f, &out, &err, args);

  g_test_message ("exit %d: %s", got, err);
  g_assert_cmpint (got, ==, status);
  g_assert_cmpstr (out, ==, "");
  dc_assert_contains (err, part);
}

/* Refusals across hosts change nothing on either side: a name taken on
 * the destination, a pool missing there, a qcow2 disk with a backing
 * file (named), --linked. */
static void
test_live_to_refuse (LiveFixture *f, gconstpointer data)
{
  g_autofree char *taken = g_strdup_printf ("%s-taken", f->src);
  g_autofree char *before_here = NULL;
  g_autofree char *before_there = NULL;
  g_autofree char *src_xml = NULL;
  g_autoptr (DcDomain) bare = NULL;

  if (!live_other_start_with_pool (f->pool))
    return;
  {
    g_autofree char *xml =
      g_strdup_printf ("<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>"
                       "<os><type arch='x86_64'>hvm</type></os></domain>",
                       taken);
    bare = virDomainDefineXML (live_other_conn, xml);
    g_assert_nonnull (bare);
  }
  src_xml = live_domain_xml (f->src);
  before_here = live_snapshot ();
  before_there = live_snapshot_of (live_other_conn);
  {
    const char *named[] = { "--name", taken, NULL };
    const char *linked[] = { "--linked", NULL };
    const char *pool[] = { "--pool", "no-such-pool", NULL };

    assert_to_refused (f, named, 1, "already exists; choose another --name");
    assert_to_refused (f, linked, 2, "it takes no --to");
    assert_to_refused (f, pool, 1, "storage pool 'no-such-pool' not found");
  }
  /* a qcow2 overlay: its backing file stays on the source's host */
  {
    g_autofree char *base = attach_overlay (f);

    g_free (src_xml);
    src_xml = live_domain_xml (f->src);
    g_free (before_here);
    before_here = live_snapshot ();
    assert_to_refused (f, NULL, 1, "disk 'vdf'");
    assert_to_refused (f, NULL, 1, base);
  }
  {
    g_autofree char *after_here = live_snapshot ();
    g_autofree char *after_there = live_snapshot_of (live_other_conn);
    g_autofree char *xml = live_domain_xml (f->src);

    g_assert_cmpstr (after_here, ==, before_here);
    g_assert_cmpstr (after_there, ==, before_there);
    g_assert_cmpstr (xml, ==, src_xml);
  }
  g_assert_cmpuint (live_counter_of (f->src), ==, 0);
  to_teardown (f);
}

/* A source disk of 1 GiB of data (zeros written, so data to the sparse
 * stream), so that a stream across lasts a moment */
static void
add_full_disk (const LiveFixture *f, guint mib)
{
  g_autofree char *path = live_path_in (f, "full.raw");
  g_autofree char *of = g_strdup_printf ("of=%s", path);
  g_autofree char *count = g_strdup_printf ("count=%u", mib);
  const char *argv[] = { "dd", "if=/dev/zero", of, "bs=1M", count, "status=none", NULL };

  dc_test_run_ok (argv);
  live_attach_disk (f, "vdg", "raw", path);
}

/* Waits until the destination's pool holds volume @name with data in it */
static void
wait_for_stream (const LiveFixture *f, const char *name)
{
  g_autofree char *path = live_other_there_file (f->pool, name);

  for (int i = 0; i < 3000; i++)
    {
      GStatBuf st;

      if (g_stat (path, &st) == 0 && st.st_blocks > 0)
        return;
      g_usleep (G_USEC_PER_SEC / 100);
    }
  g_error ("the stream into '%s' did not start", name);
}

/* The entries of @dir on the destination, sorted; "(none)" when it is
 * not there */
static char *
there_entries (const char *dir)
{
  g_autofree char *path = live_other_path (dir);
  g_autoptr (GDir) d = g_dir_open (path, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GString *out = g_string_new (NULL);
  const char *name;

  if (d == NULL)
    return g_string_free (g_string_append (out, "(none)"), FALSE);
  while ((name = g_dir_read_name (d)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, dc_test_compare_strings);
  for (guint i = 0; i < names->len; i++)
    g_string_append_printf (out, "%s\n", (const char *) names->pdata[i]);
  return g_string_free (out, FALSE);
}

/* The files in the destination's pool directory */
static char *
there_listing (const LiveFixture *f)
{
  g_autofree char *dir = live_other_there_dir (f->pool);
  char *listing = there_entries (dir);

  g_assert_cmpstr (listing, !=, "(none)");
  return listing;
}

/* The destination's pool of the fixture's pool's name, over a 48 MiB
 * tmpfs mounted in its namespace (there_pool_unmount() unmounts it) */
static void
there_pool_on_tmpfs (const LiveFixture *f)
{
  g_autofree char *dir = live_other_there_dir (f->pool);
  g_autofree char *there = live_other_path (dir);
  const char *mount[] = { "mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", dir, NULL };

  g_assert_cmpint (g_mkdir_with_parents (there, 0755), ==, 0);
  live_other_run_ok (mount);
  live_other_pool (f->pool, dir);
}

static void
there_pool_unmount (const LiveFixture *f)
{
  g_autofree char *dir = live_other_there_dir (f->pool);
  const char *umount[] = { "umount", dir, NULL };

  live_other_run_ok (umount);
}

/* Gives the source a 1 GiB disk vdg, puts a snapshot of the destination
 * in *@before, and starts cloning the source there, one volume at a
 * time: returned once vdg's data streams in. */
static GSubprocess *
start_mid_stream (const LiveFixture *f, char **before)
{
  const char *args[] = {
    "-c", g_getenv ("DOMCLONE_TEST_URI"), "--to", live_other_uri, "-j", "1", f->src, NULL
  };
  g_autofree char *vol = g_strdup_printf ("%s-clone1-vdg.raw", f->src);
  GSubprocess *proc;

  add_full_disk (f, 1024);
  *before = live_snapshot_of (live_other_conn);
  proc = dc_test_spawn_domclone (args);
  wait_for_stream (f, vol);
  return proc;
}

/* SIGTERM while a volume streams across: the run rolls back on the
 * destination, the source keeps its counter */
static void
test_live_to_sigterm (LiveFixture *f, gconstpointer data)
{
  g_autofree char *before = NULL;
  g_autofree char *files = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  if (!live_other_start_with_pool (f->pool))
    return;
  files = there_listing (f);
  proc = start_mid_stream (f, &before);
  g_subprocess_send_signal (proc, SIGTERM);
  out = dc_test_communicate (proc, &err, &status);
  g_test_message ("SIGTERM: exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 1);
  dc_assert_contains (err, "everything this run created was removed");
  {
    g_autofree char *after = live_snapshot_of (live_other_conn);
    g_autofree char *files_after = there_listing (f);

    g_assert_cmpstr (after, ==, before);
    g_assert_cmpstr (files_after, ==, files);
  }
  g_assert_cmpuint (live_counter_of (f->src), ==, 0);
  to_teardown (f);
}

/* A run killed (SIGKILL) mid-stream leaves its clone on the
 * destination; --to DST --cleanup SOURCE removes it there, and nothing
 * else */
static void
test_live_to_cleanup (LiveFixture *f, gconstpointer data)
{
  g_autofree char *before = NULL;
  g_autofree char *clone = g_strdup_printf ("%s-clone1", f->src);
  g_autoptr (GSubprocess) proc = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  if (!live_other_start_with_pool (f->pool))
    return;
  proc = start_mid_stream (f, &before);
  g_subprocess_send_signal (proc, SIGKILL);
  g_subprocess_wait (proc, NULL, NULL);
  g_clear_pointer (&out, g_free);
  g_assert_true (other_domain_exists (clone));

  {
    const char *args[] = { "-c", g_getenv ("DOMCLONE_TEST_URI"), "--to", live_other_uri, "--cleanup", f->src,
                           NULL };
    status = dc_test_domclone_argv (args, &out, &err);
  }
  g_test_message ("--cleanup: exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  dc_assert_contains (out, clone);
  {
    g_autofree char *after = live_snapshot_of (live_other_conn);
    g_assert_cmpstr (after, ==, before);
  }
  g_assert_cmpuint (live_counter_of (f->src), ==, 0);
  to_teardown (f);
}

/* The destination's pool on a tmpfs too small for the clone: the
 * stream fails there, and the run rolls back on the destination */
static void
test_live_to_full_pool (LiveFixture *f, gconstpointer data)
{
  g_autofree char *before = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *src_xml = NULL;
  int status;

  if (live_conn == NULL || !live_other_start ())
    return;
  there_pool_on_tmpfs (f);
  add_full_disk (f, 96);
  src_xml = live_domain_xml (f->src);
  before = live_snapshot_of (live_other_conn);

  status = to_clone (f, &out, &err, NULL);
  g_test_message ("exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 1);
  dc_assert_contains (err, "everything this run created was removed");
  {
    g_autofree char *after = live_snapshot_of (live_other_conn);
    g_autofree char *files = there_listing (f);
    g_autofree char *xml = live_domain_xml (f->src);

    g_assert_cmpstr (after, ==, before);
    g_assert_cmpstr (files, ==, "");
    g_assert_cmpstr (xml, ==, src_xml);
  }
  g_assert_cmpuint (live_counter_of (f->src), ==, 0);
  to_teardown (f);
  there_pool_unmount (f);
}

/* The TPM source @name with a 96 MiB disk too big for the destination's
 * pool (a 48 MiB tmpfs): cloned across, all at once (-j 8), it fails
 * there after its NVRAM and TPM state went across, and rolls back */
static void
assert_tpm_clone_rolls_back (const LiveFixture *f, const char *name)
{
  const char *args[] = {
    "-c", g_getenv ("DOMCLONE_TEST_URI"), "--to", live_other_uri, "-j", "8", name, NULL
  };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = dc_test_domclone_argv (args, &out, &err);

  g_test_message ("exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 1);
  dc_assert_contains (err, "everything this run created was removed");
}

/* A rollback on the destination removes the directories the run made
 * there for the NVRAM and the TPM state (and their parents it made),
 * and never one that was there before: the NVRAM's directory, missing
 * on the first run, is gone after it; made beforehand (empty) for the
 * second, it stays. */
static void
test_live_to_rollback_dirs (LiveFixture *f, gconstpointer data)
{
  g_autofree char *name = g_strdup_printf ("%s-tpm", f->src);
  g_autofree char *nvdir = g_strdup_printf ("/var/lib/libvirt/images/nv-%s", f->src);
  g_autofree char *nvram = g_strdup_printf ("%s/%s_VARS.fd", nvdir, name);
  g_autofree char *nvdir_there = NULL;
  g_autofree char *swtpm_before = NULL;
  g_autofree char *before = NULL;
  g_autofree char *swtpm = g_find_program_in_path ("swtpm");
  g_autoptr (DcDomain) dom = NULL;

  if (live_conn == NULL || !live_other_start ())
    return;
  if (swtpm == NULL)
    {
      g_test_skip ("swtpm is not installed");
      return;
    }
  nvdir_there = live_other_path (nvdir);
  there_pool_on_tmpfs (f);
  dom = define_tpm_source (name, nvdir, nvram);
  {
    g_autofree char *path = live_path_in (f, "full.raw");
    g_autofree char *of = g_strdup_printf ("of=%s", path);
    const char *dd[] = { "dd", "if=/dev/zero", of, "bs=1M", "count=96", "status=none", NULL };
    g_autofree char *xml = g_strdup_printf ("<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                                            "<source file='%s'/><target dev='vda' bus='virtio'/></disk>",
                                            path);

    dc_test_run_ok (dd);
    g_assert_cmpint (virDomainAttachDeviceFlags (dom, xml, VIR_DOMAIN_AFFECT_CONFIG), ==, 0);
  }
  swtpm_before = there_entries ("/var/lib/libvirt/swtpm");
  before = live_snapshot_of (live_other_conn);

  g_assert_false (g_file_test (nvdir_there, G_FILE_TEST_EXISTS));
  assert_tpm_clone_rolls_back (f, name);
  g_assert_false (g_file_test (nvdir_there, G_FILE_TEST_EXISTS));
  {
    g_autofree char *swtpm_after = there_entries ("/var/lib/libvirt/swtpm");
    g_autofree char *after = live_snapshot_of (live_other_conn);

    g_assert_cmpstr (swtpm_after, ==, swtpm_before);
    g_assert_cmpstr (after, ==, before);
  }

  g_assert_cmpint (g_mkdir (nvdir_there, 0755), ==, 0);
  assert_tpm_clone_rolls_back (f, name);
  g_assert_true (g_file_test (nvdir_there, G_FILE_TEST_IS_DIR));
  {
    g_autofree char *entries = there_entries (nvdir);
    g_autofree char *swtpm_after = there_entries ("/var/lib/libvirt/swtpm");

    g_assert_cmpstr (entries, ==, "");
    g_assert_cmpstr (swtpm_after, ==, swtpm_before);
  }
  g_assert_cmpuint (live_counter_of (name), ==, 0);

  g_assert_cmpint (g_rmdir (nvdir_there), ==, 0);
  virDomainUndefineFlags (dom, VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_TPM);
  to_teardown (f);
  there_pool_unmount (f);
}

int
main (int argc, char **argv)
{
  int ret;

  live_init (&argc, &argv);
  LIVE_TEST ("/live/to/data", test_live_to_data);
  LIVE_TEST ("/live/to/same-name", test_live_to_same_name);
  LIVE_TEST ("/live/to/tpm-nvram", test_live_to_tpm_nvram);
  LIVE_TEST ("/live/to/media", test_live_to_media);
  LIVE_TEST ("/live/to/refuse", test_live_to_refuse);
  LIVE_TEST ("/live/to/sigterm", test_live_to_sigterm);
  LIVE_TEST ("/live/to/cleanup", test_live_to_cleanup);
  LIVE_TEST ("/live/to/full-pool", test_live_to_full_pool);
  LIVE_TEST ("/live/to/rollback-dirs", test_live_to_rollback_dirs);
  ret = live_run ();
  live_other_stop ();
  return ret;
}
