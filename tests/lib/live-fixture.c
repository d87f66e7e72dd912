/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fixture of the live tests: tests/with-libvirtd.sh starts a private
 * libvirtd (QEMU driver, dir pools) for each test program and exports
 * DOMCLONE_TEST_URI and DOMCLONE_TEST_STATE; without them every test is
 * skipped.
 *
 * Each test gets its own pool directory and source domain (a TCG guest
 * with a qcow2 system disk, a sparse raw data disk, a CD-ROM, a shareable
 * disk and UEFI NVRAM); the helpers check the clone through libvirt and
 * the files themselves, and that refusals and failures change nothing.
 */
#include "config.h"

#include "dc-test-assert.h"
#include "dc-test-util.h"
#include "live-fixture.h"

#include "dc-metadata.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

virConnectPtr live_conn;
const char *live_state_dir;
static guint fixture_serial;

/**
 * live_init:
 * @argc: main()'s
 * @argv: main()'s
 *
 * Initialises GTest and, when the harness gave a daemon (and $DOMCLONE
 * is set), connects to it. Call before adding the tests.
 */
void
live_init (int *argc, char ***argv)
{
  const char *uri;

  g_test_init (argc, argv, NULL);
  signal (SIGPIPE, SIG_IGN); /* a daemon restarted under our connection */

  uri = g_getenv ("DOMCLONE_TEST_URI");
  live_state_dir = g_getenv ("DOMCLONE_TEST_STATE");
  if (uri != NULL && live_state_dir != NULL && g_getenv ("DOMCLONE") != NULL)
    {
      dc_libvirt_quiet ();
      live_conn = virConnectOpen (uri);
      if (live_conn == NULL)
        g_error ("cannot connect to '%s': %s", uri, virGetLastErrorMessage ());
    }
}

/**
 * live_run:
 *
 * Runs the tests, then closes the connection.
 *
 * Returns: g_test_run()'s result
 */
int
live_run (void)
{
  int ret = g_test_run ();

  if (live_conn != NULL)
    virConnectClose (live_conn);
  live_conn = NULL;
  return ret;
}

/**
 * live_reconnect:
 *
 * Replaces the test's connection, for a test that restarted the daemon
 * under it.
 */
void
live_reconnect (void)
{
  virConnectClose (live_conn);
  live_conn = virConnectOpen (g_getenv ("DOMCLONE_TEST_URI"));
  g_assert_nonnull (live_conn);
}

/**
 * live_daemon_restartable:
 *
 * Whether this test may restart the harness's daemon (as root, with the
 * daemon's command, configuration and pid file in the environment);
 * marks the test skipped when not.
 *
 * Returns: %TRUE when live_restart_daemon() can be called
 */
gboolean
live_daemon_restartable (void)
{
  if (g_getenv ("DOMCLONE_TEST_LIBVIRTD") == NULL || g_getenv ("DOMCLONE_TEST_LIBVIRTD_CONF") == NULL
      || g_getenv ("DOMCLONE_TEST_LIBVIRTD_PIDFILE") == NULL || geteuid () != 0)
    {
      g_test_skip ("needs the harness's root daemon, to restart it");
      return FALSE;
    }
  return TRUE;
}

/**
 * live_restart_daemon:
 *
 * Kills the harness's daemon with SIGKILL (on SIGTERM libvirtd waits
 * for its copies to end) and starts it again. The test's connection
 * died with it: live_reconnect().
 */
void
live_restart_daemon (void)
{
  const char *pidfile = g_getenv ("DOMCLONE_TEST_LIBVIRTD_PIDFILE");
  const char *argv[] = { g_getenv ("DOMCLONE_TEST_LIBVIRTD"),
                         "-d",
                         "-f",
                         g_getenv ("DOMCLONE_TEST_LIBVIRTD_CONF"),
                         "-p",
                         pidfile,
                         NULL };
  g_autofree char *pidtext = NULL;

  g_assert_true (g_file_get_contents (pidfile, &pidtext, NULL, NULL));
  g_assert_cmpint (kill ((pid_t) g_ascii_strtoll (pidtext, NULL, 10), SIGKILL), ==, 0);
  g_usleep (G_USEC_PER_SEC / 2);
  g_unlink (pidfile);
  dc_test_run_ok (argv);
}

char *
live_domain_xml (const char *name)
{
  g_autoptr (DcDomain) dom = virDomainLookupByName (live_conn, name);

  g_assert_nonnull (dom);
  return virDomainGetXMLDesc (dom, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE);
}

/* The source's definition apart from our metadata element, which is the
 * one thing a clone may change on it. */
char *
live_domain_xml_without_metadata (const char *name)
{
  g_autofree char *xml = live_domain_xml (name);
  g_autoptr (GRegex) ours =
    g_regex_new ("\\s*<(domclone:)?domclone[\\s>].*</(domclone:)?domclone>", G_REGEX_DOTALL, 0, NULL);
  g_autoptr (GRegex) empty = g_regex_new ("\\s*<metadata>\\s*</metadata>", 0, 0, NULL);
  g_autofree char *stripped = g_regex_replace_literal (ours, xml, -1, 0, "", 0, NULL);

  return g_regex_replace_literal (empty, stripped, -1, 0, "", 0, NULL);
}

guint64
live_counter_of (const char *name)
{
  g_autoptr (DcDomain) dom = virDomainLookupByName (live_conn, name);
  g_autofree char *xml =
    virDomainGetMetadata (dom, VIR_DOMAIN_METADATA_ELEMENT, DC_METADATA_URI, VIR_DOMAIN_AFFECT_CONFIG);
  g_autoptr (GError) error = NULL;
  g_autoptr (DcMetadata) md = dc_metadata_parse (xml, &error);

  g_assert_no_error (error);
  return md->counter;
}

gboolean
live_domain_exists (const char *name)
{
  g_autoptr (DcDomain) dom = virDomainLookupByName (live_conn, name);

  return dom != NULL;
}

/* Everything a clone could leave behind: domains, every pool (active
 * or not, persistent or transient), and the volumes of every active
 * pool, freshly refreshed. */
char *
live_snapshot (void)
{
  return live_snapshot_of (live_conn);
}

/**
 * live_snapshot_of:
 * @conn: a connection
 *
 * Returns: (transfer full): live_snapshot() of the daemon of @conn
 */
char *
live_snapshot_of (virConnectPtr conn)
{
  GString *out = g_string_new (NULL);
  g_auto (DcDomainList) doms = { NULL, 0 };
  g_auto (DcPoolList) pools = { NULL, 0 };
  g_autoptr (GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);

  doms.n = virConnectListAllDomains (conn, &doms.list, 0);
  pools.n = virConnectListAllStoragePools (conn, &pools.list, 0);
  g_assert_cmpint (doms.n, >=, 0);
  g_assert_cmpint (pools.n, >=, 0);
  for (int i = 0; i < doms.n; i++)
    g_ptr_array_add (lines, g_strdup_printf ("domain %s", virDomainGetName (doms.list[i])));
  for (int i = 0; i < pools.n; i++)
    {
      virStoragePoolPtr pool = pools.list[i];
      g_auto (DcVolList) vols = { NULL, 0 };
      gboolean active = virStoragePoolIsActive (pool) == 1;

      g_ptr_array_add (lines, g_strdup_printf ("pool %s%s%s", virStoragePoolGetName (pool),
                                               active ? "" : " inactive",
                                               virStoragePoolIsPersistent (pool) == 1 ? "" : " transient"));
      if (!active)
        continue;
      g_assert_cmpint (virStoragePoolRefresh (pool, 0), ==, 0);
      vols.n = virStoragePoolListAllVolumes (pool, &vols.list, 0);
      for (int j = 0; j < vols.n; j++)
        g_ptr_array_add (lines, g_strdup_printf ("volume %s/%s", virStoragePoolGetName (pool),
                                                 virStorageVolGetName (vols.list[j])));
    }
  g_ptr_array_sort (lines, dc_test_compare_strings);
  for (guint i = 0; i < lines->len; i++)
    g_string_append_printf (out, "%s\n", (const char *) lines->pdata[i]);
  return g_string_free (out, FALSE);
}

char *
live_path_in (const LiveFixture *f, const char *name)
{
  return g_build_filename (f->dir, name, NULL);
}

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

void
live_define_pool (const char *name, const char *dir)
{
  g_autofree char *xml = g_strdup_printf ("<pool type='dir'><name>%s</name>"
                                          "<target><path>%s</path></target></pool>",
                                          name, dir);
  g_autoptr (DcPool) pool = virStoragePoolDefineXML (live_conn, xml, 0);

  g_assert_nonnull (pool);
  g_assert_cmpint (virStoragePoolCreate (pool, 0), ==, 0);
}

/* Longer than 60 lines: it builds its object in the order the parts
 * depend on each other, and a part alone would mean nothing. */
void
live_fixture_setup (LiveFixture *f, gconstpointer data)
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

  if (live_conn == NULL)
    {
      g_test_skip ("no private libvirt daemon (run through tests/with-libvirtd.sh)");
      return;
    }

  f->src = g_strdup_printf ("vm%u", id);
  f->pool = g_strdup_printf ("pool%u", id);
  f->dir = g_strdup_printf ("%s/pool%u", live_state_dir, id);
  f->nvram_dir = g_strdup_printf ("%s/nvram%u", live_state_dir, id);
  g_assert_cmpint (g_mkdir_with_parents (f->dir, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (f->nvram_dir, 0755), ==, 0);

  /* the system disk: 32 MiB qcow2 holding 3 MiB of data */
  raw_sys = g_strdup_printf ("%s/sys%u.raw", live_state_dir, id);
  qcow2 = g_strdup_printf ("%s/%s.qcow2", f->dir, f->src);
  live_write_pattern (raw_sys, 32 * MiB, sys_offsets, G_N_ELEMENTS (sys_offsets), id);
  {
    const char *argv[] = { "qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", raw_sys, qcow2, NULL };
    dc_test_run_ok (argv);
  }
  g_unlink (raw_sys);

  /* the data disk: 64 MiB raw, sparse, 2 MiB of data */
  data_raw = live_path_in (f, "data.raw");
  live_write_pattern (data_raw, 64 * MiB, data_offsets, G_N_ELEMENTS (data_offsets), id + 1000);
  shared = live_path_in (f, "shared.raw");
  live_write_pattern (shared, 4 * MiB, data_offsets, 1, id + 2000);
  iso = live_path_in (f, "install.iso");
  live_write_pattern (iso, 2 * MiB, data_offsets, 1, id + 3000);

  /* NVRAM: the template with a marker, so a copy can be told from a
   * fresh one made from the template */
  g_assert_true (g_file_get_contents ("/usr/share/OVMF/OVMF_VARS_4M.fd", &vars, &len, NULL));
  memcpy (vars + len - 16, "domclone-marker", 16);
  nvram = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, f->src);
  g_assert_true (g_file_set_contents (nvram, vars, len, NULL));

  live_define_pool (f->pool, f->dir);

  xml =
    g_strdup_printf (source_template, f->src, f->nvram_dir, f->src, f->dir, f->src, f->pool, f->dir, f->dir);
  dom = virDomainDefineXML (live_conn, xml);
  if (dom == NULL)
    g_error ("cannot define the source: %s", virGetLastErrorMessage ());
}

/**
 * live_remove_test_objects:
 * @src: a test's source domain name
 * @pool: (nullable): its pool's name
 *
 * Removes every domain of the test (the source and its clones: the
 * names that start with @src), stopped first, with their NVRAM, and the
 * pool @pool.
 */
void
live_remove_test_objects (const char *src, const char *pool_name)
{
  g_auto (DcDomainList) doms = { NULL, 0 };

  doms.n = virConnectListAllDomains (live_conn, &doms.list, 0);
  for (int i = 0; i < doms.n; i++)
    if (g_str_has_prefix (virDomainGetName (doms.list[i]), src))
      {
        if (virDomainIsActive (doms.list[i]) == 1)
          virDomainDestroy (doms.list[i]);
        virDomainUndefineFlags (doms.list[i], VIR_DOMAIN_UNDEFINE_NVRAM);
      }
  if (pool_name != NULL)
    live_remove_pool (pool_name);
}

/* Stops and undefines the pool @name, if there is one. */
void
live_remove_pool (const char *name)
{
  g_autoptr (DcPool) pool = virStoragePoolLookupByName (live_conn, name);

  if (pool == NULL)
    return;
  virStoragePoolDestroy (pool);
  virStoragePoolUndefine (pool);
}

void
live_fixture_teardown (LiveFixture *f, gconstpointer data)
{
  if (live_conn == NULL)
    return;
  live_remove_test_objects (f->src, f->pool);
  g_free (f->src);
  g_free (f->pool);
  g_free (f->dir);
  g_free (f->nvram_dir);
}

/* Clones the fixture's source, as @name or under the default name;
 * fails the test unless domclone succeeds silently. Returns its stdout. */
char *
live_clone_ok (const LiveFixture *f, const char *name)
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

/* Undefines clone @name and deletes the volumes named after it. */
void
live_delete_clone (const char *name)
{
  g_autoptr (DcDomain) dom = virDomainLookupByName (live_conn, name);
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
      g_autoptr (DcVol) vol = virStorageVolLookupByPath (live_conn, path);

      if (vol != NULL && strstr (path, name) != NULL)
        virStorageVolDelete (vol, 0);
    }
}

/* Whether domain @name carries the mark of a clone still being built (by
 * a live run, or one that died). */
gboolean
live_has_building_marker (const char *name)
{
  g_autoptr (DcDomain) dom = virDomainLookupByName (live_conn, name);
  g_autofree char *xml =
    dom ? virDomainGetMetadata (dom, VIR_DOMAIN_METADATA_ELEMENT, DC_METADATA_URI, VIR_DOMAIN_AFFECT_CONFIG)
        : NULL;
  g_autoptr (DcMetadata) md = xml ? dc_metadata_parse (xml, NULL) : NULL;

  return md != NULL && md->building != NULL;
}

/**
 * live_attach_disk:
 * @f: the fixture
 * @dev: the target device (vdb, ...)
 * @format: the driver type (raw, qcow2, ...)
 * @path: the file
 *
 * Attaches the @format file @path as disk @dev to the source's
 * definition, and lets the fixture's pool see it.
 */
void
live_attach_disk (const LiveFixture *f, const char *dev, const char *format, const char *path)
{
  g_autoptr (DcDomain) src = virDomainLookupByName (live_conn, f->src);
  g_autoptr (DcPool) pool = virStoragePoolLookupByName (live_conn, f->pool);
  g_autofree char *xml = g_strdup_printf ("<disk type='file' device='disk'><driver name='qemu' type='%s'/>"
                                          "<source file='%s'/><target dev='%s' bus='virtio'/></disk>",
                                          format, path, dev);

  g_assert_nonnull (src);
  g_assert_cmpint (virDomainAttachDeviceFlags (src, xml, VIR_DOMAIN_AFFECT_CONFIG), ==, 0);
  if (pool != NULL)
    g_assert_cmpint (virStoragePoolRefresh (pool, 0), ==, 0);
}

/**
 * live_run_json:
 * @f: (nullable): the fixture
 * @args: domclone's arguments
 * @status: (out): its exit status
 * @err: (out): its stderr
 *
 * Runs domclone with @args ("@" for the fixture's source), checks that
 * stdout is exactly one JSON object on one line.
 *
 * Returns: (transfer full): the object
 */
JsonObject *
live_run_json (const LiveFixture *f, const char *const *args, int *status, char **err)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  JsonNode *root;

  for (size_t i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) (f != NULL && g_str_equal (args[i], "@") ? f->src : args[i]));
  g_ptr_array_add (argv, NULL);
  *status = dc_test_domclone_argv ((const char *const *) argv->pdata, &out, err);
  g_test_message ("exit %d: %s%s", *status, out, *err);
  g_assert_true (g_str_has_suffix (out, "\n"));
  g_assert_true (strchr (out, '\n') == out + strlen (out) - 1);
  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  root = json_parser_get_root (parser);
  g_assert_nonnull (root);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  return json_object_ref (json_node_get_object (root));
}
