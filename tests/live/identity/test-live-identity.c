/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live tests, identity: what a clone must not share with its source
 * beyond MACs and UUIDs (domclone(1), IDENTITY), defined on the real
 * daemon: an Open vSwitch port id libvirt makes anew, a bound unix socket
 * in a directory named after the source (and both domains running side
 * by side), a static sVirt label made dynamic, an NVDIMM's guest memory
 * copied byte for byte; and what cannot be made unique, kept and said on
 * stderr and in --json's "warnings".
 */
#include "config.h"

#include "dc-xml.h"
#include "dc-test-assert.h"
#include "live-fixture.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

/* Defines domain @name (TCG, 64 MiB, no disk) with @devices. */
static virDomainPtr
define_with (const char *name, const char *devices)
{
  g_autofree char *xml = g_strdup_printf ("<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>"
                                          "<os><type arch='x86_64'>hvm</type></os>"
                                          "<devices>%s</devices></domain>",
                                          name, devices);
  virDomainPtr dom = virDomainDefineXML (live_conn, xml);

  if (dom == NULL)
    g_error ("cannot define '%s': %s", name, virGetLastErrorMessage ());
  return dom;
}

static char *
xpath_string (const char *xml, const char *xpath)
{
  g_autoptr (xmlDoc) doc = xmlReadMemory (xml, (int) strlen (xml), "domain.xml", NULL, XML_PARSE_NONET);
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autoptr (xmlXPathObject) obj = NULL;
  g_autofree char *expr = g_strdup_printf ("string(%s)", xpath);

  g_assert_nonnull (doc);
  ctxt = xmlXPathNewContext (doc);
  obj = xmlXPathEvalExpression (BAD_CAST expr, ctxt);
  g_assert_nonnull (obj);
  return g_strdup ((const char *) obj->stringval);
}

/* Clones @src (stderr must be empty) and returns the clone's name. */
static char *
clone_quietly (const char *src)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = dc_test_domclone (&out, &err, src, NULL);

  g_test_message ("exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (err, ==, "");
  return g_strdup_printf ("%s-clone1", src);
}

/* An Open vSwitch interfaceid (the OVN logical port) is libvirt's to
 * make: the clone gets a new one, never the source's. */
static void
test_live_ovs_interfaceid (LiveFixture *f, gconstpointer data)
{
  g_autofree char *src = NULL;
  g_autofree char *clone = NULL;
  g_autofree char *src_xml = NULL;
  g_autofree char *clone_xml = NULL;
  g_autofree char *src_id = NULL;
  g_autofree char *clone_id = NULL;
  g_autofree char *src_qbg = NULL;
  g_autofree char *clone_qbg = NULL;
  g_autoptr (DcDomain) dom = NULL;

  SKIP_WITHOUT_DAEMON ();
  src = g_strdup_printf ("%s-ovs", f->src);
  dom = define_with (src, "<interface type='bridge'><source bridge='br-int'/>"
                          "<virtualport type='openvswitch'/><model type='virtio'/></interface>"
                          "<interface type='direct'><source dev='eth0' mode='vepa'/>"
                          "<virtualport type='802.1Qbg'><parameters managerid='11' typeid='1193047' "
                          "typeidversion='2'/></virtualport></interface>");
  src_xml = live_domain_xml (src);
  src_id = xpath_string (src_xml, "//interface[@type='bridge']/virtualport/parameters/@interfaceid");
  src_qbg = xpath_string (src_xml, "//interface[@type='direct']/virtualport/parameters/@instanceid");
  /* libvirt made them when the source was defined */
  g_assert_cmpuint (strlen (src_id), ==, 36);
  g_assert_cmpuint (strlen (src_qbg), ==, 36);

  clone = clone_quietly (src);
  clone_xml = live_domain_xml (clone);
  clone_id = xpath_string (clone_xml, "//interface[@type='bridge']/virtualport/parameters/@interfaceid");
  clone_qbg = xpath_string (clone_xml, "//interface[@type='direct']/virtualport/parameters/@instanceid");
  g_test_message ("interfaceid %s -> %s, instanceid %s -> %s", src_id, clone_id, src_qbg, clone_qbg);
  g_assert_cmpuint (strlen (clone_id), ==, 36);
  g_assert_cmpstr (clone_id, !=, src_id);
  g_assert_cmpuint (strlen (clone_qbg), ==, 36);
  g_assert_cmpstr (clone_qbg, !=, src_qbg);
  /* the kind of port is kept */
  dc_assert_contains (clone_xml, "managerid='11'");
}

/* A unix socket under a directory named after the source: the file is
 * renamed, the directory stays, and the clone starts next to its
 * source. */
static void
test_live_socket_dir (LiveFixture *f, gconstpointer data)
{
  g_autofree char *src = NULL;
  g_autofree char *clone = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *devices = NULL;
  g_autofree char *clone_xml = NULL;
  g_autofree char *expected = NULL;
  g_autoptr (DcDomain) a = NULL;
  g_autoptr (DcDomain) b = NULL;
  int state = 0;

  SKIP_WITHOUT_DAEMON ();
  src = g_strdup_printf ("%s-web", f->src);
  dir = g_build_filename (live_state_dir, "vms", src, NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  devices = g_strdup_printf ("<serial type='unix'><source mode='bind' path='%s/console.sock'/>"
                             "<target port='0'/></serial>"
                             "<channel type='unix'><source mode='bind' path='%s/agent.sock'/>"
                             "<target type='virtio' name='org.qemu.guest_agent.0'/></channel>",
                             dir, dir);
  a = define_with (src, devices);

  clone = clone_quietly (src);
  clone_xml = live_domain_xml (clone);
  expected = g_strdup_printf ("path='%s/%s-agent.sock'", dir, clone);
  g_test_message ("%s", clone_xml);
  dc_assert_contains (clone_xml, expected);
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("path='%s/%s-console.sock'", dir, clone);
  dc_assert_contains (clone_xml, expected);

  b = virDomainLookupByName (live_conn, clone);
  g_assert_nonnull (b);
  if (virDomainCreate (a) < 0)
    g_error ("cannot start the source: %s", virGetLastErrorMessage ());
  if (virDomainCreate (b) < 0)
    g_error ("cannot start the clone next to its source: %s", virGetLastErrorMessage ());
  g_assert_cmpint (virDomainGetState (b, &state, NULL, 0), ==, 0);
  g_assert_cmpint (state, ==, VIR_DOMAIN_RUNNING);
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("%s/%s-agent.sock", dir, clone);
  g_assert_true (g_file_test (expected, G_FILE_TEST_EXISTS));
  virDomainDestroy (b);
  virDomainDestroy (a);
}

/* A socket path the clone's name makes too long for a socket address
 * is refused, and nothing is made. */
static void
test_live_socket_too_long (LiveFixture *f, gconstpointer data)
{
  g_autofree char *src = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *devices = NULL;
  g_autoptr (DcDomain) dom = NULL;
  g_autofree char *long_name = NULL;
  gsize len;

  SKIP_WITHOUT_DAEMON ();
  src = g_strdup_printf ("%s-long", f->src);
  dir = g_build_filename (live_state_dir, "vms", NULL);
  /* a socket path of 100 bytes: "<clone name>-" in front of its file
   * name takes it over 107 */
  len = strlen (dir) + strlen ("/x.sock");
  g_assert_cmpuint (len, <, 100);
  {
    g_autofree char *file = g_strnfill (100 - len, 'x');
    devices = g_strdup_printf ("<serial type='unix'><source mode='bind' path='%s/%s.sock'/>"
                               "<target port='0'/></serial>",
                               dir, file);
  }
  dom = define_with (src, devices);
  long_name = g_strdup_printf ("%s-copy", src);
  {
    const LiveRefusal r = { "socket path too long", 1, "more than the 107 a unix socket path can hold" };
    const char *args[] = { "--name", long_name, src, NULL };

    /* live_assert_refused checks the fixture's source: point it at ours */
    LiveFixture mine = *f;

    mine.src = src;
    live_assert_refused (&mine, &r, args);
  }
}

/* A static SELinux label is the source's sVirt identity: the clone's is
 * dynamic, libvirt gives it its own when it starts. */
static void
test_live_static_seclabel (LiveFixture *f, gconstpointer data)
{
  g_autofree char *src = NULL;
  g_autofree char *clone = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *type = NULL;
  g_autofree char *relabel = NULL;
  g_autofree char *base = NULL;
  g_autoptr (DcDomain) dom = NULL;

  SKIP_WITHOUT_DAEMON ();
  src = g_strdup_printf ("%s-sel", f->src);
  xml = g_strdup_printf ("<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>"
                         "<os><type arch='x86_64'>hvm</type></os>"
                         "<seclabel type='static' model='selinux' relabel='yes'>"
                         "<label>system_u:system_r:svirt_t:s0:c392,c662</label></seclabel></domain>",
                         src);
  dom = virDomainDefineXML (live_conn, xml);
  g_assert_nonnull (dom);
  g_clear_pointer (&xml, g_free);

  clone = clone_quietly (src);
  xml = live_domain_xml (clone);
  g_test_message ("%s", xml);
  type = xpath_string (xml, "/domain/seclabel[@model='selinux']/@type");
  relabel = xpath_string (xml, "/domain/seclabel[@model='selinux']/@relabel");
  base = xpath_string (xml, "/domain/seclabel[@model='selinux']/baselabel");
  g_assert_cmpstr (type, ==, "dynamic");
  g_assert_cmpstr (relabel, ==, "yes");
  g_assert_cmpstr (base, ==, "system_u:system_r:svirt_t:s0");
  dc_assert_not_contains (xml, "c392,c662");
}

/* An NVDIMM's backing file is guest memory on disk: the clone gets its
 * own copy, byte for byte, named after it; the source's is untouched. */
static void
test_live_nvdimm_copied (LiveFixture *f, gconstpointer data)
{
  const gsize offsets[] = { 0, 5 * MiB };
  g_autofree char *src = NULL;
  g_autofree char *clone = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *file = NULL;
  g_autofree char *copy = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *path = NULL;
  g_autofree char *sum = NULL;
  g_autofree char *copy_sum = NULL;
  g_autofree char *after = NULL;
  g_autoptr (DcDomain) dom = NULL;

  SKIP_WITHOUT_DAEMON ();
  src = g_strdup_printf ("%s-pm", f->src);
  dir = g_build_filename (live_state_dir, "pmem", src, NULL);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  file = g_strdup_printf ("%s/%s.img", dir, src);
  live_write_pattern (file, 16 * MiB, offsets, G_N_ELEMENTS (offsets), 13);
  sum = live_sha256_file (file);
  xml = g_strdup_printf ("<domain type='qemu'><name>%s</name>"
                         "<maxMemory slots='2' unit='MiB'>512</maxMemory>"
                         "<memory unit='MiB'>80</memory><vcpu>1</vcpu>"
                         "<cpu><numa><cell id='0' cpus='0' memory='64' unit='MiB'/></numa></cpu>"
                         "<os><type arch='x86_64'>hvm</type></os><features><acpi/></features><devices>"
                         "<memory model='nvdimm' access='shared'><source><path>%s</path></source>"
                         "<target><size unit='MiB'>16</size><node>0</node></target></memory>"
                         "</devices></domain>",
                         src, file);
  dom = virDomainDefineXML (live_conn, xml);
  if (dom == NULL)
    g_error ("cannot define '%s': %s", src, virGetLastErrorMessage ());
  g_clear_pointer (&xml, g_free);

  clone = clone_quietly (src);
  xml = live_domain_xml (clone);
  path = xpath_string (xml, "//memory[@model='nvdimm']/source/path");
  copy = g_strdup_printf ("%s/%s.img", dir, clone);
  g_assert_cmpstr (path, ==, copy);
  copy_sum = live_sha256_file (copy);
  g_assert_cmpstr (copy_sum, ==, sum);
  after = live_sha256_file (file);
  g_assert_cmpstr (after, ==, sum);
}

/* NVRAM on a block device in no pool, or on the network: domclone
 * cannot make the clone one of its own, and never shares it: refused,
 * naming the NVRAM, with nothing changed. */
static void
test_live_nvram_refused (LiveFixture *f, gconstpointer data)
{
  static const struct
  {
    const char *type;
    const char *source;
    const char *err_part;
  } cases[] = {
    { "block", "<source dev='/dev/loop7'/>",
      "cannot clone the NVRAM: its block device '/dev/loop7' is not in any active storage pool" },
    { "network",
      "<source protocol='iscsi' name='iqn.2013-07.com.example:nvram/0'><host name='example.com'/></source>",
      "cannot clone the NVRAM: it is a 'network' volume ('iqn.2013-07.com.example:nvram/0')" },
  };

  SKIP_WITHOUT_DAEMON ();
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *src = g_strdup_printf ("%s-nv%zu", f->src, i);
      g_autofree char *xml =
        g_strdup_printf ("<domain type='qemu'><name>%s</name><memory unit='MiB'>64</memory>"
                         "<os><type arch='x86_64' machine='q35'>hvm</type>"
                         "<loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>"
                         "<nvram type='%s'>%s</nvram></os><features><acpi/></features></domain>",
                         src, cases[i].type, cases[i].source);
      g_autoptr (DcDomain) dom = virDomainDefineXML (live_conn, xml);
      const LiveRefusal r = { cases[i].type, 1, cases[i].err_part };
      const char *args[] = { src, NULL };
      LiveFixture mine = *f;

      if (dom == NULL)
        g_error ("cannot define '%s': %s", src, virGetLastErrorMessage ());
      mine.src = src;
      live_assert_refused (&mine, &r, args);
    }
}

/* Identity that cannot be made unique is kept, and each piece named on
 * stderr, one "domclone: warning: " line, and in --json's "warnings";
 * --print-xml says the same; a clone with nothing kept has "warnings":
 * [].
 *
 * Longer than 60 lines: one scenario, each step starting from what the
 * step before left; it reads best in that order.
 */
static void
test_live_kept_warnings (LiveFixture *f, gconstpointer data)
{
  g_autofree char *src = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *xml = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (DcDomain) dom = NULL;
  JsonObject *clone;
  JsonArray *warnings;
  int status;

  SKIP_WITHOUT_DAEMON ();
  src = g_strdup_printf ("%s-gate", f->src);
  dom = define_with (src, "<serial type='tcp'><source mode='bind' host='127.0.0.1' service='4555'/>"
                          "<protocol type='telnet'/><target port='0'/></serial>"
                          "<graphics type='vnc' port='-1' autoport='yes' websocket='5701'>"
                          "<listen type='address' address='127.0.0.1'/></graphics>");

  /* --print-xml: the same warnings, nothing made */
  status = dc_test_domclone (&out, &err, "--print-xml", src, NULL);
  g_test_message ("exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 0);
  lines = g_strsplit (err, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 3);
  g_assert_true (g_str_has_prefix (lines[0], "domclone: warning: "));
  dc_assert_contains (lines[0], "vnc display's fixed websocket port '5701'");
  g_assert_true (g_str_has_prefix (lines[1], "domclone: warning: "));
  dc_assert_contains (lines[1], "serial 0's fixed TCP port '4555'");
  g_assert_cmpstr (lines[2], ==, "");
  g_clear_pointer (&lines, g_strfreev);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* the real run, with --json and -q */
  status = dc_test_domclone (&out, &err, "--json", "-q", src, NULL);
  g_test_message ("exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  lines = g_strsplit (err, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 3);
  dc_assert_contains (lines[0], "domclone: warning: ");
  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  clone = json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)), "clone");
  warnings = json_object_get_array_member (clone, "warnings");
  g_assert_nonnull (warnings);
  g_assert_cmpuint (json_array_get_length (warnings), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *line =
        g_strdup_printf ("domclone: warning: %s", json_array_get_string_element (warnings, i));
      g_assert_cmpstr (lines[i], ==, line);
    }
  /* kept as they were */
  xml = live_domain_xml (json_object_get_string_member (clone, "name"));
  dc_assert_contains (xml, "service='4555'");
  dc_assert_contains (xml, "websocket='5701'");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* --count: each clone's own warnings, in its element of "clones" */
  status = dc_test_domclone (&out, &err, "--json", "--count", "2", src, NULL);
  g_test_message ("exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  g_clear_pointer (&lines, g_strfreev);
  lines = g_strsplit (err, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 5);
  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  {
    JsonArray *clones =
      json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "clones");

    g_assert_cmpuint (json_array_get_length (clones), ==, 2);
    for (guint i = 0; i < 2; i++)
      {
        JsonObject *c = json_array_get_object_element (clones, i);
        g_autofree char *who = g_strdup_printf ("'%s' keeps ", json_object_get_string_member (c, "name"));

        warnings = json_object_get_array_member (c, "warnings");
        g_assert_cmpuint (json_array_get_length (warnings), ==, 2);
        g_assert_true (g_str_has_prefix (json_array_get_string_element (warnings, 0), who));
        dc_assert_contains (err, who);
      }
  }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* nothing kept: an empty array, and nothing on stderr */
  status = dc_test_domclone (&out, &err, "--json", f->src, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (err, ==, "");
  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  clone = json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)), "clone");
  warnings = json_object_get_array_member (clone, "warnings");
  g_assert_nonnull (warnings);
  g_assert_cmpuint (json_array_get_length (warnings), ==, 0);
}

int
main (int argc, char **argv)
{
  live_init (&argc, &argv);
  LIVE_TEST ("/live/identity/ovs-interfaceid", test_live_ovs_interfaceid);
  LIVE_TEST ("/live/identity/socket-dir", test_live_socket_dir);
  LIVE_TEST ("/live/identity/socket-too-long", test_live_socket_too_long);
  LIVE_TEST ("/live/identity/static-seclabel", test_live_static_seclabel);
  LIVE_TEST ("/live/identity/nvdimm-copied", test_live_nvdimm_copied);
  LIVE_TEST ("/live/identity/kept-warnings", test_live_kept_warnings);
  LIVE_TEST ("/live/identity/nvram-refused", test_live_nvram_refused);
  return live_run ();
}
