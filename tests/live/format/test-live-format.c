/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live tests, formats: a disk's format is its <driver type> in the
 * domain XML, never what a pool probed from the bytes the guest wrote.
 *
 * The lying disk: a raw disk whose first sector holds a qcow2 header
 * with a backing file, a host file holding a marker string (the test's
 * own, standing for /etc/shadow). libvirt's dir pool reports it as qcow2
 * backed by that file; a copy through libvirt's conversion would read
 * the host file into the clone. Each way domclone copies (the local
 * copy, libvirt's side with DOMCLONE_LOCAL_COPY=0, a remote connection)
 * must give a byte-identical raw copy without the marker; a linked
 * clone's overlay must record raw as its backing format. An encrypted
 * disk is refused before anything is made.
 */
#include "config.h"

#include "dc-test-assert.h"
#include "live-fixture.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

/* The lying disk's target, and its volume's name in the fixture's pool */
#define LIE_TARGET "vdd"
#define LIE_VOLUME "lie.raw"

/* The host file's text: what must never reach a clone */
static char *
marker_text (const LiveFixture *f)
{
  return g_strdup_printf ("DOMCLONE-HOST-SECRET-%s-not-for-guests", f->src);
}

/* Gives the fixture's source a writable raw disk (vdd, 16 MiB, data at
 * 8 MiB) whose first sector holds a qcow2 header backed by a marker
 * file, and checks that libvirt's pool took the bait. Returns the
 * disk's path. */
static char *
add_lying_disk (const LiveFixture *f, const char *driver)
{
  g_autofree char *marker = g_strdup_printf ("%s/secret-%s.txt", live_state_dir, f->src);
  g_autofree char *text = marker_text (f);
  g_autofree char *header = g_strdup_printf ("%s/header-%s.qcow2", live_state_dir, f->src);
  g_autofree char *path = live_path_in (f, LIE_VOLUME);
  g_autofree char *hdr = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *volxml = NULL;
  g_autoptr (DcDomain) src = virDomainLookupByName (live_conn, f->src);
  g_autoptr (DcPool) pool = virStoragePoolLookupByName (live_conn, f->pool);
  g_autoptr (DcVol) vol = NULL;
  const gsize offsets[] = { 8 * MiB };
  const char *create[] = { "qemu-img", "create", "-q",   "-f",   "qcow2", "-F",
                           "raw",      "-b",     marker, header, "1G",    NULL };
  gsize len = 0;
  FILE *fp;

  /* a host file worth stealing: the marker, repeated over 64 KiB */
  {
    g_autoptr (GString) secret = g_string_new (NULL);

    while (secret->len < 64 * 1024)
      g_string_append_printf (secret, "%s\n", text);
    g_assert_true (g_file_set_contents (marker, secret->str, secret->len, NULL));
  }
  dc_test_run_ok (create);
  g_assert_true (g_file_get_contents (header, &hdr, &len, NULL));
  g_unlink (header);

  /* what a guest could write into its own raw disk */
  live_write_pattern (path, 16 * MiB, offsets, G_N_ELEMENTS (offsets), 4242);
  fp = fopen (path, "r+");
  g_assert_nonnull (fp);
  g_assert_cmpuint (fwrite (hdr, 1, len, fp), ==, len);
  g_assert_cmpint (fclose (fp), ==, 0);

  g_assert_cmpint (virStoragePoolRefresh (pool, 0), ==, 0);
  vol = virStorageVolLookupByName (pool, LIE_VOLUME);
  g_assert_nonnull (vol);
  volxml = virStorageVolGetXMLDesc (vol, 0);
  /* the premise: the pool believes the header */
  dc_assert_contains (volxml, "<format type='qcow2'/>");
  dc_assert_contains (volxml, marker);

  xml = g_strdup_printf ("<disk type='file' device='disk'>%s<source file='%s'/>"
                         "<target dev='" LIE_TARGET "' bus='virtio'/></disk>",
                         driver, path);
  g_assert_cmpint (virDomainAttachDeviceFlags (src, xml, VIR_DOMAIN_AFFECT_CONFIG), ==, 0);
  return g_steal_pointer (&path);
}

/* Whether the file at @path holds @needle anywhere */
static gboolean
file_contains (const char *path, const char *needle)
{
  g_autofree char *data = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  return memmem (data, len, needle, strlen (needle)) != NULL;
}

/* Clone @clone's copy of the lying disk is the source's bytes, all of
 * them and nothing else: the same size and checksum, no marker, and
 * the clone's XML still says raw. */
static void
assert_raw_copy (const LiveFixture *f, const char *clone, const char *src_path)
{
  g_autofree char *copy = g_strdup_printf ("%s/%s-" LIE_TARGET ".raw", f->dir, clone);
  g_autofree char *text = marker_text (f);
  g_autofree char *sum = live_sha256_file (src_path);
  g_autofree char *clone_sum = live_sha256_file (copy);
  g_autofree char *xml = live_domain_xml (clone);
  g_autofree char *disk =
    g_strdup_printf ("<driver name='qemu' type='raw'/>\n      <source file='%s'/>", copy);
  GStatBuf st_src, st_copy;

  g_assert_cmpint (g_stat (src_path, &st_src), ==, 0);
  g_assert_cmpint (g_stat (copy, &st_copy), ==, 0);
  g_assert_cmpint (st_copy.st_size, ==, st_src.st_size);
  g_assert_cmpstr (clone_sum, ==, sum);
  g_assert_false (file_contains (copy, text));
  g_test_message ("clone XML:\n%s", xml);
  dc_assert_contains (xml, disk);
}

/* The local copy (the default on this host) */
static void
test_live_format_lie_local (LiveFixture *f, gconstpointer data)
{
  g_autofree char *clone = g_strdup_printf ("%s-clone1", f->src);
  g_autofree char *path = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  SKIP_WITHOUT_DAEMON ();
  path = add_lying_disk (f, "<driver name='qemu' type='raw'/>");

  /* the plan (--print-xml) already says raw, as big as the file */
  status = dc_test_domclone (&out, &err, "--print-xml", "--json", f->src, NULL);
  g_assert_cmpint (status, ==, 0);
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (JsonNode) root = json_from_string (out, &error);
    JsonArray *vols;
    gboolean seen = FALSE;

    g_assert_no_error (error);
    vols = json_object_get_array_member (json_object_get_object_member (json_node_get_object (root), "clone"),
                                         "volumes");
    for (guint i = 0; i < json_array_get_length (vols); i++)
      {
        JsonObject *v = json_array_get_object_element (vols, i);

        if (g_strcmp0 (json_object_get_string_member_with_default (v, "disk", ""), LIE_TARGET) != 0)
          continue;
        g_assert_cmpstr (json_object_get_string_member (v, "format"), ==, "raw");
        g_assert_cmpint (json_object_get_int_member (v, "capacity"), ==, 16 * MiB);
        seen = TRUE;
      }
    g_assert_true (seen);
  }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  status = dc_test_domclone (&out, &err, "-v", f->src, NULL);
  g_test_message ("domclone -v: exit %d:\n%s", status, err);
  g_assert_cmpint (status, ==, 0);
  assert_raw_copy (f, clone, path);
}

/* libvirt's side (DOMCLONE_LOCAL_COPY=0): never its conversion, a byte
 * stream through it */
static void
test_live_format_lie_libvirt (LiveFixture *f, gconstpointer data)
{
  g_autofree char *clone = g_strdup_printf ("%s-clone1", f->src);
  g_autofree char *path = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  const char *args[] = { "-v", f->src, NULL };
  const char *env[] = { "DOMCLONE_LOCAL_COPY=0", NULL };
  int status;

  SKIP_WITHOUT_DAEMON ();
  path = add_lying_disk (f, "<driver name='qemu' type='raw'/>");
  proc = dc_test_spawn_domclone_env (args, env);
  out = dc_test_communicate (proc, &err, &status);
  g_test_message ("domclone -v (DOMCLONE_LOCAL_COPY=0): exit %d:\n%s", status, err);
  g_assert_cmpint (status, ==, 0);
  assert_raw_copy (f, clone, path);
  dc_assert_contains (err, "'" LIE_VOLUME "' in pool");
  dc_assert_contains (err, "by a byte stream through libvirt");
}

/* A remote connection (TCP to the same daemon): every copy is libvirt's
 * business, and the lying disk still comes out as its bytes */
static void
test_live_format_lie_tcp (LiveFixture *f, gconstpointer data)
{
  const char *uri = g_getenv ("DOMCLONE_TEST_TCP_URI");
  g_autofree char *clone = g_strdup_printf ("%s-clone1", f->src);
  g_autofree char *path = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  SKIP_WITHOUT_DAEMON ();
  if (uri == NULL || uri[0] == '\0')
    {
      g_test_skip (
        "no TCP listener: DOMCLONE_TEST_TCP_URI is unset (tests/with-libvirtd.sh sets it as root)");
      return;
    }
  path = add_lying_disk (f, "<driver name='qemu' type='raw'/>");
  status = dc_test_domclone (&out, &err, "-v", "-c", uri, f->src, NULL);
  g_test_message ("domclone -v -c %s: exit %d:\n%s", uri, status, err);
  g_assert_cmpint (status, ==, 0);
  assert_raw_copy (f, clone, path);
  dc_assert_contains (err, "by a byte stream through libvirt");
}

/* A linked clone of a template with the lying disk: the overlay's
 * header says its backing file is raw, so neither QEMU nor libvirt
 * ever probes it, and the guest sees the template's bytes */
static void
test_live_format_lie_linked (LiveFixture *f, gconstpointer data)
{
  g_autofree char *clone = g_strdup_printf ("%s-clone1", f->src);
  g_autofree char *overlay = g_strdup_printf ("%s/%s-" LIE_TARGET ".qcow2", f->dir, clone);
  g_autofree char *path = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) error = NULL;
  JsonObject *info;
  int status;

  SKIP_WITHOUT_DAEMON ();
  path = add_lying_disk (f, "<driver name='qemu' type='raw'/>");
  status = dc_test_domclone (&out, &err, "--make-template", f->src, NULL);
  g_test_message ("make-template: exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  status = dc_test_domclone (&out, &err, "-v", "--linked", f->src, NULL);
  g_test_message ("linked: exit %d:\n%s", status, err);
  g_assert_cmpint (status, ==, 0);

  {
    const char *argv[] = { "qemu-img", "info", "-U", "--output=json", overlay, NULL };
    g_autofree char *json = NULL;
    g_autofree char *e = NULL;

    g_assert_cmpint (dc_test_run (argv, &json, &e), ==, 0);
    root = json_from_string (json, &error);
    g_assert_no_error (error);
  }
  info = json_node_get_object (root);
  g_assert_cmpstr (json_object_get_string_member (info, "format"), ==, "qcow2");
  g_assert_cmpstr (json_object_get_string_member (info, "backing-filename"), ==, path);
  g_assert_cmpstr (json_object_get_string_member (info, "backing-filename-format"), ==, "raw");
  /* as big as the raw file, not as the header in it claims (1 GiB) */
  g_assert_cmpint (json_object_get_int_member (info, "virtual-size"), ==, 16 * MiB);
  /* what the guest sees through the overlay is the template's raw bytes */
  {
    const char *compare[] = { "qemu-img", "compare", "-q",    "-U", "-f", "qcow2",
                              "-F",       "raw",     overlay, path, NULL };
    g_autofree char *o = NULL;
    g_autofree char *e = NULL;

    g_assert_cmpint (dc_test_run (compare, &o, &e), ==, 0);
  }
}

/* A writable disk whose <driver> names no format cannot be made here:
 * libvirt 9.0's QEMU driver writes type='raw' into such a definition
 * itself (it never probes). The planner's refusal is tested in
 * tests/unit/test-plan.c (/plan/xml/err-no-format). */

/* An encrypted (LUKS) disk is refused before anything is made, on the
 * local path and on libvirt's: libvirt's copy into a volume without
 * <encryption> would decrypt it (seen with libvirt 9.0: the guest's
 * plain data in the new file), next to the clone's <encryption>. */
static void
test_live_format_luks (LiveFixture *f, gconstpointer data)
{
  const LiveRefusal r = { "LUKS", 1, "cannot clone disk 'vdd': it is encrypted" };
  const char *args[] = { f->src, NULL };
  const char *env[] = { "DOMCLONE_LOCAL_COPY=0", NULL };
  g_autofree char *path = live_path_in (f, "vault.raw");
  g_autofree char *secret_xml = NULL;
  g_autofree char *vol_xml = NULL;
  g_autofree char *disk_xml = NULL;
  g_autofree char *err = NULL;
  g_autoptr (DcDomain) src = NULL;
  g_autoptr (DcPool) pool = NULL;
  g_autoptr (DcVol) vol = NULL;
  virSecretPtr secret;
  char uuid[VIR_UUID_STRING_BUFLEN];
  const char passphrase[] = "domclone-test-passphrase";

  SKIP_WITHOUT_DAEMON ();
  src = virDomainLookupByName (live_conn, f->src);
  pool = virStoragePoolLookupByName (live_conn, f->pool);
  secret_xml = g_strdup_printf ("<secret ephemeral='no' private='yes'><usage type='volume'>"
                                "<volume>%s</volume></usage></secret>",
                                path);
  secret = virSecretDefineXML (live_conn, secret_xml, 0);
  g_assert_nonnull (secret);
  g_assert_cmpint (virSecretSetValue (secret, (const unsigned char *) passphrase, strlen (passphrase), 0), ==,
                   0);
  g_assert_cmpint (virSecretGetUUIDString (secret, uuid), ==, 0);

  vol_xml = g_strdup_printf ("<volume><name>vault.raw</name><capacity unit='MiB'>16</capacity>"
                             "<target><format type='raw'/><encryption format='luks'>"
                             "<secret type='passphrase' uuid='%s'/></encryption></target></volume>",
                             uuid);
  /* qemu-img times its key derivation by the CPU time it used, and on a
   * busy machine sometimes measures none ("Unable to get accurate CPU
   * usage"): try again */
  for (int attempt = 0; vol == NULL && attempt < 10; attempt++)
    {
      vol = virStorageVolCreateXML (pool, vol_xml, 0);
      if (vol == NULL)
        g_test_message ("cannot create a LUKS volume (attempt %d): %s", attempt + 1,
                        virGetLastErrorMessage ());
    }
  g_assert_nonnull (vol);
  disk_xml = g_strdup_printf ("<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                              "<source file='%s'><encryption format='luks'>"
                              "<secret type='passphrase' uuid='%s'/></encryption></source>"
                              "<target dev='vdd' bus='virtio'/></disk>",
                              path, uuid);
  g_assert_cmpint (virDomainAttachDeviceFlags (src, disk_xml, VIR_DOMAIN_AFFECT_CONFIG), ==, 0);

  live_assert_refused (f, &r, args);

  g_test_message ("DOMCLONE_LOCAL_COPY=0");
  err = live_assert_fails_cleanly (args, env, 1);
  dc_assert_contains (err, r.err_part);

  virSecretUndefine (secret);
  virSecretFree (secret);
}

int
main (int argc, char **argv)
{
  live_init (&argc, &argv);
  LIVE_TEST ("/live/format/lie/local", test_live_format_lie_local);
  LIVE_TEST ("/live/format/lie/libvirt", test_live_format_lie_libvirt);
  LIVE_TEST ("/live/format/lie/tcp", test_live_format_lie_tcp);
  LIVE_TEST ("/live/format/lie/linked", test_live_format_lie_linked);
  LIVE_TEST ("/live/format/luks", test_live_format_luks);
  return live_run ();
}
