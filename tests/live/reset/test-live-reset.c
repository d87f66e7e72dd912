/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live tests, --reset-identity: a real Debian 12 guest
 * (scripts/debian-image.sh: mmdebstrap, ext4 on the whole disk, with the
 * identity a booted guest has) cloned with the option. Its files are read
 * back with debugfs (a linked clone's overlay is flattened with qemu-img
 * first): a new identity in the clone, the source byte for byte as it
 * was, a plain clone byte-identical to the source. Refusals: a disk with
 * no operating system fails the clone (rolled back) or, with =try, keeps
 * it with a warning; a remote URI is refused before anything is made.
 * /reset/boot boots the clone (direct kernel boot of the image's own
 * kernel under TCG) and reads from its console what it made at first
 * boot; it takes minutes, so only with -m slow (scripts/slow-tests.sh).
 */
#include "config.h"

#include "dc-test-assert.h"
#include "dc-test-util.h"
#include "live-fixture.h"
#include "live-guest.h"

#include <glib/gstdio.h>
#include <libvirt/libvirt-qemu.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>

/* scripts/debian-image.sh's directory, NULL when it holds no image */
static char *image_dir;

typedef struct
{
  char *src;  /* the Debian source domain */
  char *pool; /* its pool */
  char *dir;  /* the pool's directory */
  char *disk; /* its disk (vda): a copy of the image */
} ResetFixture;

static const char source_xml[] = "<domain type='qemu'>\n"
                                 "  <name>%s</name>\n"
                                 "  <memory unit='MiB'>512</memory>\n"
                                 "  <vcpu>1</vcpu>\n"
                                 "  <os>\n"
                                 "    <type arch='x86_64' machine='pc'>hvm</type>\n"
                                 "    <kernel>%s/vmlinuz</kernel>\n"
                                 "    <initrd>%s/initrd.img</initrd>\n"
                                 "    <cmdline>root=/dev/vda rw console=ttyS0 panic=-1 quiet%s</cmdline>\n"
                                 "  </os>\n"
                                 /* systemd powers off through ACPI */
                                 "  <features><acpi/></features>\n"
                                 "  <on_reboot>destroy</on_reboot>\n"
                                 "  <on_crash>destroy</on_crash>\n"
                                 "  <devices>\n"
                                 "    <disk type='file' device='disk'>\n"
                                 "      <driver name='qemu' type='raw'/>\n"
                                 "      <source file='%s'/>\n"
                                 "      <target dev='vda' bus='virtio'/>\n"
                                 "    </disk>\n"
                                 "    <serial type='file'><source path='%s/%s-console.log'/></serial>\n"
                                 "%s"
                                 "  </devices>\n"
                                 "</domain>\n";

/* What the "agent" fixture adds: the guest agent's virtio-serial port
 * (qemu-guest-agent in the image starts on it), and a guest that stays
 * up once booted (the image's probe powers off without domclone.stay) */
static const char agent_channel[] = "    <channel type='unix'>\n"
                                    "      <target type='virtio' name='org.qemu.guest_agent.0'/>\n"
                                    "    </channel>\n";
#define AGENT_STAY " domclone.stay"

/* Skips the test without a daemon or an image; the test then returns */
#define SKIP_WITHOUT_IMAGE(f)                                                                                \
  do                                                                                                         \
    {                                                                                                        \
      if ((f)->src == NULL)                                                                                  \
        return;                                                                                              \
    }                                                                                                        \
  while (0)

static void
reset_setup (ResetFixture *f, gconstpointer data)
{
  static guint serial;
  const char *blank = g_strcmp0 (data, "blank") == 0 ? data : NULL;
  gboolean agent = g_strcmp0 (data, "agent") == 0;
  g_autofree char *image = NULL;
  g_autofree char *xml = NULL;
  g_autoptr (DcDomain) dom = NULL;

  if (live_conn == NULL)
    {
      g_test_skip ("no private libvirt daemon (run through tests/with-libvirtd.sh)");
      return;
    }
  if (image_dir == NULL && blank == NULL)
    {
      g_test_skip (
        "no Debian image: run 'scripts/debian-image.sh build' as root (scripts/install-deps.sh does)");
      return;
    }
  serial++;
  f->src = g_strdup_printf ("deb%u", serial);
  f->pool = g_strdup_printf ("debpool%u", serial);
  f->dir = g_strdup_printf ("%s/debpool%u", live_state_dir, serial);
  f->disk = g_strdup_printf ("%s/%s.raw", f->dir, f->src);
  g_assert_cmpint (g_mkdir_with_parents (f->dir, 0755), ==, 0);
  if (blank != NULL)
    {
      /* no operating system: a sparse, empty disk */
      g_autoptr (GError) error = NULL;

      g_assert_true (g_file_set_contents (f->disk, "", 0, &error));
      g_assert_cmpint (truncate (f->disk, 64 * MiB), ==, 0);
    }
  else
    {
      const char *argv[] = { "cp", "--sparse=always", "--", NULL, f->disk, NULL };

      image = g_build_filename (image_dir, "disk.raw", NULL);
      argv[3] = image;
      dc_test_run_ok (argv);
    }
  live_define_pool (f->pool, f->dir);
  xml = g_strdup_printf (source_xml, f->src, image_dir ? image_dir : f->dir, image_dir ? image_dir : f->dir,
                         agent ? AGENT_STAY : "", f->disk, f->dir, f->src, agent ? agent_channel : "");
  dom = virDomainDefineXML (live_conn, xml);
  if (dom == NULL)
    g_error ("cannot define the source: %s", virGetLastErrorMessage ());
}

static void
reset_teardown (ResetFixture *f, gconstpointer data)
{
  if (f->src != NULL)
    live_remove_test_objects (f->src, f->pool);
  g_free (f->src);
  g_free (f->pool);
  g_free (f->dir);
  g_free (f->disk);
}

#define RESET_TEST(path, func) g_test_add ((path), ResetFixture, NULL, reset_setup, (func), reset_teardown)
#define BLANK_TEST(path, func) g_test_add ((path), ResetFixture, "blank", reset_setup, (func), reset_teardown)
#define AGENT_TEST(path, func) g_test_add ((path), ResetFixture, "agent", reset_setup, (func), reset_teardown)

/* --- reading the guest's files ------------------------------------------ */

/* The file @path of the ext4 file system on the raw @disk (debugfs);
 * %NULL if there is none */
static char *
guest_file (const char *disk, const char *path)
{
  g_autofree char *request = g_strdup_printf ("cat %s", path);
  g_autofree char *lookup = g_strdup_printf ("stat %s", path);
  const char *probe[] = { "debugfs", "-R", lookup, disk, NULL };
  const char *cat[] = { "debugfs", "-R", request, disk, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert_cmpint (dc_test_run (probe, &out, &err), ==, 0);
  if (strstr (err, "File not found") != NULL)
    return NULL;
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (dc_test_run (cat, &out, &err), ==, 0);
  return g_steal_pointer (&out);
}

/* A raw copy of the qcow2 @overlay (and its backing file) to read */
static char *
flatten (const char *overlay)
{
  g_autofree char *raw = g_strdup_printf ("%s.flat.raw", overlay);
  const char *argv[] = { "qemu-img", "convert", "-q", "-O", "raw", overlay, raw, NULL };

  dc_test_run_ok (argv);
  return g_steal_pointer (&raw);
}

/* "SHA256:..." of the public key in @pub (an OpenSSH .pub line), as
 * ssh-keygen -l prints it */
static char *
key_fingerprint (const char *pub)
{
  g_auto (GStrv) fields = g_strsplit (pub, " ", 3);
  g_autofree guchar *blob = NULL;
  gsize len = 0;
  guint8 digest[32];
  gsize dlen = sizeof (digest);
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree char *b64 = NULL;

  g_assert_nonnull (fields[0]);
  g_assert_nonnull (fields[1]);
  blob = g_base64_decode (fields[1], &len);
  g_checksum_update (sum, blob, len);
  g_checksum_get_digest (sum, digest, &dlen);
  b64 = g_base64_encode (digest, dlen);
  for (char *eq = strchr (b64, '='); eq != NULL; eq = strchr (b64, '='))
    *eq = '\0';
  return g_strdup_printf ("SHA256:%s", b64);
}

/* The identity that the image's files give a guest, read from @disk */
typedef struct
{
  char *machine_id;
  char *hostname;
  char *hosts;
  char *interfaces;
  char *ed25519_pub;
  char *lease;
  char *net_rules;
  char *random_seed;
  char *passwd;
  char *dpkg_log;
} GuestIdentity;

static void
guest_identity_clear (GuestIdentity *id)
{
  g_free (id->machine_id);
  g_free (id->hostname);
  g_free (id->hosts);
  g_free (id->interfaces);
  g_free (id->ed25519_pub);
  g_free (id->lease);
  g_free (id->net_rules);
  g_free (id->random_seed);
  g_free (id->passwd);
  g_free (id->dpkg_log);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (GuestIdentity, guest_identity_clear)

static void
guest_identity_read (GuestIdentity *id, const char *disk)
{
  id->machine_id = guest_file (disk, "/etc/machine-id");
  id->hostname = guest_file (disk, "/etc/hostname");
  id->hosts = guest_file (disk, "/etc/hosts");
  id->interfaces = guest_file (disk, "/etc/network/interfaces");
  id->ed25519_pub = guest_file (disk, "/etc/ssh/ssh_host_ed25519_key.pub");
  id->lease = guest_file (disk, "/var/lib/dhcp/dhclient.enp1s0.leases");
  id->net_rules = guest_file (disk, "/etc/udev/rules.d/70-persistent-net.rules");
  id->random_seed = guest_file (disk, "/var/lib/systemd/random-seed");
  id->passwd = guest_file (disk, "/etc/passwd");
  id->dpkg_log = guest_file (disk, "/var/log/syslog");
}

/* The source's identity is all there (or the test checks nothing) */
static void
assert_source_identity (const GuestIdentity *src)
{
  g_assert_cmpuint (strlen (src->machine_id), ==, 33);
  g_assert_nonnull (src->ed25519_pub);
  g_assert_nonnull (src->lease);
  g_assert_nonnull (src->net_rules);
  dc_assert_contains (src->interfaces, "hwaddress ether");
  g_assert_cmpstr (src->hostname, ==, "debsrc\n");
  dc_assert_contains (src->hosts, "127.0.1.1\tdebsrc\n");
  g_assert_nonnull (src->dpkg_log);
}

/* The clone's disk @disk holds a new identity, host name @host, and the
 * rest of @src (logs, users) */
static void
assert_new_identity (const char *disk, const GuestIdentity *src, const char *host)
{
  g_auto (GuestIdentity) id = { 0 };
  g_autofree char *host_line = g_strdup_printf ("%s\n", host);
  g_autofree char *hosts_line = g_strdup_printf ("127.0.1.1\t%s\n", host);
  g_autofree char *unit = guest_file (disk, "/etc/systemd/system/domclone-ssh-host-keys.service");
  g_autofree char *wants =
    guest_file (disk, "/etc/systemd/system/multi-user.target.wants/domclone-ssh-host-keys.service");
  g_autofree char *rsa = guest_file (disk, "/etc/ssh/ssh_host_rsa_key");

  guest_identity_read (&id, disk);
  g_assert_cmpstr (id.machine_id, ==, "");
  g_assert_null (id.ed25519_pub);
  g_assert_null (rsa);
  g_assert_null (id.lease);
  g_assert_null (id.net_rules);
  dc_assert_not_contains (id.interfaces, "hwaddress");
  dc_assert_contains (id.interfaces, "iface enp1s0 inet dhcp\n");
  g_assert_cmpstr (id.hostname, ==, host_line);
  dc_assert_contains (id.hosts, hosts_line);
  dc_assert_contains (id.hosts, "127.0.0.1\tlocalhost\n");
  g_assert_nonnull (id.random_seed);
  /* first boot makes the host keys; a clone keeps users and logs */
  g_assert_nonnull (unit);
  dc_assert_contains (unit, "ExecStart=/usr/bin/ssh-keygen -A\n");
  dc_assert_contains (unit, "ConditionPathExistsGlob=!/etc/ssh/ssh_host_*_key\n");
  g_assert_nonnull (wants);
  g_assert_cmpstr (id.passwd, ==, src->passwd);
  g_assert_cmpstr (id.dpkg_log, ==, src->dpkg_log);
}

/* Whether the JSON array @member of @o holds @value */
static gboolean
json_array_has (JsonObject *o, const char *member, const char *value)
{
  JsonArray *a = json_object_get_array_member (o, member);

  for (guint i = 0; a != NULL && i < json_array_get_length (a); i++)
    if (g_strcmp0 (json_array_get_string_element (a, i), value) == 0)
      return TRUE;
  return FALSE;
}

/* The "identity" of a clone object, which must say it was reset with
 * host name @host */
static void
assert_json_identity (JsonObject *clone, const char *host)
{
  JsonObject *id;

  g_assert_true (json_object_has_member (clone, "identity"));
  id = json_object_get_object_member (clone, "identity");
  g_assert_true (json_object_get_boolean_member (id, "reset"));
  g_assert_cmpstr (json_object_get_string_member (id, "hostname"), ==, host);
  g_assert_true (json_array_has (id, "disks", "vda"));
  g_assert_true (json_array_has (id, "emptied", "/etc/machine-id"));
  g_assert_true (json_array_has (id, "removed", "/etc/ssh/ssh_host_ed25519_key"));
  g_assert_true (json_array_has (id, "removed", "/var/lib/dhcp/dhclient.enp1s0.leases"));
  g_assert_true (json_array_has (id, "removed", "/etc/udev/rules.d/70-persistent-net.rules"));
  g_assert_true (json_array_has (id, "written", "/etc/hostname"));
  g_assert_true (json_array_has (id, "written", "/etc/hosts"));
  g_assert_true (json_array_has (id, "written", "/etc/network/interfaces"));
  g_assert_true (json_array_has (id, "written", "/var/lib/systemd/random-seed"));
  g_assert_true (g_str_has_prefix (json_object_get_string_member (id, "os"), "debian 12"));
}

/* The path of the first volume of a clone object */
static const char *
json_first_path (JsonObject *clone)
{
  JsonArray *vols = json_object_get_array_member (clone, "volumes");

  g_assert_cmpuint (json_array_get_length (vols), >=, 1);
  return json_object_get_string_member (json_array_get_object_element (vols, 0), "path");
}

/* --- tests ---------------------------------------------------------------- */

/* The clone of a booted Debian guest gets a new identity in its disk:
 * empty machine-id, no host keys (a first-boot unit makes them), no
 * lease, net rule or hardware address, its own host name (the
 * cloud-init rule: '_' and '.' become '-'); users and logs stay. The
 * source's disk is byte for byte as it was, and a plain clone is
 * byte-identical to the source. */
static void
test_reset_debian (ResetFixture *f, gconstpointer data)
{
  g_auto (GuestIdentity) src = { 0 };
  g_autofree char *name = NULL;
  g_autofree char *host = NULL;
  g_autofree char *plain = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (JsonNode) root = NULL;
  JsonObject *clone;
  gint64 start;
  int status;

  SKIP_WITHOUT_IMAGE (f);
  guest_identity_read (&src, f->disk);
  assert_source_identity (&src);
  before = live_sha256_file (f->disk);

  name = g_strdup_printf ("%s-web_1.b", f->src);
  host = g_strdup_printf ("%s-web-1-b", f->src);
  start = g_get_monotonic_time ();
  status = dc_test_domclone (&out, &err, "--reset-identity", "--json", "--name", name, f->src, NULL);
  g_test_message ("clone with --reset-identity: exit %d in %.1f s; stderr: %s", status,
                  (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC, err);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (err, ==, "");
  root = dc_test_json_parse (out);
  clone = json_object_get_object_member (json_node_get_object (root), "clone");
  assert_json_identity (clone, host);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (clone, "warnings")), ==, 0);
  assert_new_identity (json_first_path (clone), &src, host);

  after = live_sha256_file (f->disk);
  g_assert_cmpstr (after, ==, before);

  /* without the option: the disk is the source's, byte for byte */
  plain = g_strdup_printf ("%s-plain", f->src);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  status = dc_test_domclone (&out, &err, "--name", plain, f->src, NULL);
  g_assert_cmpint (status, ==, 0);
  {
    g_autofree char *file = g_strdup_printf ("%s/%s.raw", f->dir, plain);

    live_assert_same_file (f->disk, file);
  }
}

/* --linked --count 2: each overlay gets its own new identity, the
 * template's disk is never written */
static void
test_reset_linked_count (ResetFixture *f, gconstpointer data)
{
  g_auto (GuestIdentity) src = { 0 };
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (JsonNode) root = NULL;
  JsonArray *clones;
  int status;

  SKIP_WITHOUT_IMAGE (f);
  guest_identity_read (&src, f->disk);
  status = dc_test_domclone (&out, &err, "--make-template", f->src, NULL);
  g_assert_cmpint (status, ==, 0);
  before = live_sha256_file (f->disk);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  status =
    dc_test_domclone (&out, &err, "--linked", "--count", "2", "--reset-identity", "--json", f->src, NULL);
  g_test_message ("exit %d; stderr: %s", status, err);
  g_assert_cmpint (status, ==, 0);
  root = dc_test_json_parse (out);
  clones = json_object_get_array_member (json_node_get_object (root), "clones");
  g_assert_cmpuint (json_array_get_length (clones), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      JsonObject *clone = json_array_get_object_element (clones, i);
      g_autofree char *host = g_strdup_printf ("%s-clone%u", f->src, i + 1);
      JsonObject *vol = json_array_get_object_element (json_object_get_array_member (clone, "volumes"), 0);
      g_autofree char *flat = NULL;

      g_assert_cmpstr (json_object_get_string_member (clone, "name"), ==, host);
      g_assert_cmpstr (json_object_get_string_member (vol, "backing"), ==, f->disk);
      assert_json_identity (clone, host);
      flat = flatten (json_object_get_string_member (vol, "path"));
      assert_new_identity (flat, &src, host);
      g_unlink (flat);
    }
  after = live_sha256_file (f->disk);
  g_assert_cmpstr (after, ==, before);
}

/* A disk with no operating system: the clone fails naming the disk, and
 * is rolled back (the daemon as it was) */
static void
test_reset_refuse_blank (ResetFixture *f, gconstpointer data)
{
  const char *args[] = { "--reset-identity", NULL, NULL };
  g_autofree char *err = NULL;

  SKIP_WITHOUT_IMAGE (f);
  args[1] = f->src;
  err = live_assert_fails_cleanly (args, NULL, 1);
  dc_assert_contains (err, "no operating system");
  dc_assert_contains (err, "disk 'vda'");
  dc_assert_contains (err, "everything this run created was removed");
  g_assert_cmpuint (dc_test_count_of (err, "\n"), ==, 1);
}

/* =try keeps that clone, as copied, with a warning on stderr and in the
 * JSON "warnings" */
static void
test_reset_try_blank (ResetFixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *name = g_strdup_printf ("%s-clone1", f->src);
  JsonObject *clone;
  JsonObject *id;
  JsonArray *warnings;
  int status;

  SKIP_WITHOUT_IMAGE (f);
  status = dc_test_domclone (&out, &err, "--reset-identity=try", "--json", f->src, NULL);
  g_assert_cmpint (status, ==, 0);
  dc_assert_contains (err, "domclone: warning: cannot reset the identity of");
  dc_assert_contains (err, "disk 'vda'");
  g_assert_true (live_domain_exists (name));
  root = dc_test_json_parse (out);
  clone = json_object_get_object_member (json_node_get_object (root), "clone");
  id = json_object_get_object_member (clone, "identity");
  g_assert_false (json_object_get_boolean_member (id, "reset"));
  g_assert_cmpstr (json_object_get_string_member (id, "mode"), ==, "try");
  dc_assert_contains (json_object_get_string_member (id, "failure"), "no operating system");
  warnings = json_object_get_array_member (clone, "warnings");
  g_assert_cmpuint (json_array_get_length (warnings), ==, 1);
  dc_assert_contains (json_array_get_string_element (warnings, 0), "--reset-identity=try");
  live_assert_same_file (f->disk, json_first_path (clone));
}

/* Over a remote URI the clone's disks are not reachable: refused with
 * exit 2 before anything is made (root only: the harness's TCP URI) */
static void
test_reset_remote (ResetFixture *f, gconstpointer data)
{
  const char *uri = g_getenv ("DOMCLONE_TEST_TCP_URI");
  const char *args[] = { "-c", uri, "--reset-identity", NULL, NULL };
  g_autofree char *err = NULL;

  SKIP_WITHOUT_IMAGE (f);
  if (uri == NULL || uri[0] == '\0')
    {
      g_test_skip ("no TCP listener: DOMCLONE_TEST_TCP_URI is unset");
      return;
    }
  args[3] = f->src;
  err = live_assert_fails_cleanly (args, NULL, 2);
  dc_assert_contains (err, "remote connection");
  dc_assert_contains (err, "--reset-identity");
}

/* --print-xml --json shows what would be reset and makes nothing */
static void
test_reset_print_xml (ResetFixture *f, gconstpointer data)
{
  g_autofree char *before = live_snapshot ();
  g_autofree char *after = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *host = NULL;
  JsonObject *id;
  int status;

  SKIP_WITHOUT_IMAGE (f);
  host = g_strdup_printf ("%s-clone1", f->src);
  status = dc_test_domclone (&out, &err, "--print-xml", "--json", "--reset-identity", f->src, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (err, ==, "");
  root = dc_test_json_parse (out);
  id = json_object_get_object_member (json_object_get_object_member (json_node_get_object (root), "clone"),
                                      "identity");
  g_assert_nonnull (id);
  g_assert_false (json_object_get_boolean_member (id, "reset"));
  g_assert_cmpstr (json_object_get_string_member (id, "mode"), ==, "strict");
  g_assert_cmpstr (json_object_get_string_member (id, "hostname"), ==, host);
  g_assert_true (json_array_has (id, "disks", "vda"));
  after = live_snapshot ();
  g_assert_cmpstr (after, ==, before);
}

/* The clone boots (the image's own kernel, TCG) and makes a new
 * machine-id and new SSH host keys at first boot, before sshd starts */
static void
test_reset_boot (ResetFixture *f, gconstpointer data)
{
  g_autofree char *id_file = NULL;
  g_autofree char *identity = NULL;
  g_autofree char *src_pub = NULL;
  g_autofree char *src_fp = NULL;
  g_autofree char *name = NULL;
  g_autoptr (GHashTable) facts = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *mid;
  int status;

  SKIP_WITHOUT_IMAGE (f);
  if (!g_test_slow ())
    {
      g_test_skip ("a full Debian boot under TCG takes minutes: scripts/slow-tests.sh runs it (-m slow)");
      return;
    }
  id_file = g_build_filename (image_dir, "identity", NULL);
  g_assert_true (g_file_get_contents (id_file, &identity, NULL, NULL));
  src_pub = guest_file (f->disk, "/etc/ssh/ssh_host_ed25519_key.pub");
  g_assert_nonnull (src_pub);
  src_fp = key_fingerprint (src_pub);

  name = g_strdup_printf ("%s-clone1", f->src);
  status = dc_test_domclone (&out, &err, "--reset-identity", f->src, NULL);
  g_assert_cmpint (status, ==, 0);
  /* systemd under TCG: 1-3 minutes where the busybox guest takes 10 s */
  g_setenv ("LIVE_GUEST_BOOT_TIMEOUT", "600", FALSE);
  facts = live_guest_boot (name);
  mid = live_guest_fact (facts, "machine-id");
  g_assert_cmpuint (strlen (mid), ==, 32);
  dc_assert_not_contains (identity, mid);
  g_assert_cmpstr (live_guest_fact (facts, "hostname"), ==, name);
  g_assert_cmpstr (live_guest_fact (facts, "keys-unit-result"), ==, "success");
  g_assert_cmpstr (live_guest_fact (facts, "sshd"), ==, "active");
  g_assert_true (g_str_has_prefix (live_guest_fact (facts, "key-ed25519"), "SHA256:"));
  g_assert_cmpstr (live_guest_fact (facts, "key-ed25519"), !=, src_fp);
}

/* The guest agent of the running @dom answers @command (JSON); its
 * reply, %NULL (the reason in @why) if it does not */
static char *
agent_ask (virDomainPtr dom, const char *command, char **why)
{
  char *reply = virDomainQemuAgentCommand (dom, command, 10, 0);

  if (reply == NULL && why != NULL)
    *why = g_strdup (virGetLastErrorMessage ());
  return reply;
}

/* Waits until @dom's agent answers, as long as a boot may take
 * ($LIVE_GUEST_BOOT_TIMEOUT seconds: systemd under TCG) */
static void
agent_wait (virDomainPtr dom, const char *name)
{
  gint64 timeout = g_ascii_strtoll (g_getenv ("LIVE_GUEST_BOOT_TIMEOUT"), NULL, 10);
  gint64 start = g_get_monotonic_time ();
  gint64 deadline = start + timeout * G_USEC_PER_SEC;

  for (;;)
    {
      g_autofree char *why = NULL;
      g_autofree char *reply = agent_ask (dom, "{\"execute\":\"guest-ping\"}", &why);

      if (reply != NULL)
        break;
      if (g_get_monotonic_time () > deadline)
        g_error ("the guest agent of '%s' did not answer within %" G_GINT64_FORMAT " s: %s", name, timeout,
                 why);
      g_usleep (2 * G_USEC_PER_SEC);
    }
  g_test_message ("the guest agent of '%s' answered after %.0f s", name,
                  (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC);
}

/* The file system of the raw @disk passes e2fsck -fn (read-only, no
 * loop device), and its journal needs no recovery: ext4 writes the
 * journal out and clears needs_recovery when it is frozen, so a copy
 * taken while frozen is a clean file system (a crash-consistent one
 * would still need its journal replayed). */
static char *
ext4_header (const char *disk)
{
  const char *dump[] = { "dumpe2fs", "-h", disk, NULL };
  g_autofree char *err = NULL;
  char *header = NULL;

  g_assert_cmpint (dc_test_run (dump, &header, &err), ==, 0);
  dc_assert_contains (header, "Filesystem features:");
  return header;
}

static void
assert_clean_ext4 (const char *disk)
{
  const char *fsck[] = { "e2fsck", "-f", "-n", disk, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *header = NULL;
  int status = dc_test_run (fsck, &out, &err);

  g_test_message ("e2fsck -fn %s: exit %d\n%s%s", disk, status, out, err);
  g_assert_cmpint (status, ==, 0);
  header = ext4_header (disk);
  dc_assert_not_contains (header, "needs_recovery");
}

/* --live --quiesce of a running Debian guest whose agent answers: the
 * file systems are frozen for the job's start ("quiesced"), thawed
 * after, the clone's file system is clean, and the clone boots (its
 * agent runs too) while the source is shut down.
 *
 * Longer than 60 lines: one guest's life, booted once (minutes under
 * TCG), checked at each step of it.
 */
static void
test_reset_live_agent (ResetFixture *f, gconstpointer data)
{
  g_autoptr (DcDomain) dom = NULL;
  g_autoptr (DcDomain) clone = NULL;
  g_autoptr (GHashTable) facts = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *name = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *status_reply = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *stay = NULL;
  JsonObject *c;
  int status;

  SKIP_WITHOUT_IMAGE (f);
  if (!g_test_slow ())
    {
      g_test_skip ("a full Debian boot under TCG takes minutes: scripts/slow-tests.sh runs it (-m slow)");
      return;
    }
  /* systemd under TCG: 1-3 minutes where the busybox guest takes 10 s */
  g_setenv ("LIVE_GUEST_BOOT_TIMEOUT", "600", FALSE);
  dom = virDomainLookupByName (live_conn, f->src);
  g_assert_nonnull (dom);
  if (virDomainCreate (dom) < 0)
    g_error ("cannot start '%s': %s", f->src, virGetLastErrorMessage ());
  agent_wait (dom, f->src);

  name = g_strdup_printf ("%s-clone1", f->src);
  status = dc_test_domclone (&out, &err, "--live", "--quiesce", "--json", f->src, NULL);
  g_test_message ("--live --quiesce: exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (err, ==, "");
  root = dc_test_json_parse (out);
  c = json_object_get_object_member (json_node_get_object (root), "clone");
  g_assert_cmpstr (json_object_get_string_member (c, "name"), ==, name);
  g_assert_cmpstr (json_object_get_string_member (c, "live"), ==, "quiesced");

  /* thawed: the guest goes on (a guest left frozen hangs its writers) */
  status_reply = agent_ask (dom, "{\"execute\":\"guest-fsfreeze-status\"}", NULL);
  g_assert_nonnull (status_reply);
  g_assert_cmpstr (status_reply, ==, "{\"return\":\"thawed\"}");
  assert_clean_ext4 (json_first_path (c));
  /* the check tells a frozen copy from one of a running ext4: the
   * source's disk, its guest pulled out of the running state, needs
   * its journal replayed */
  g_assert_cmpint (virDomainDestroy (dom), ==, 0);
  {
    g_autofree char *header = ext4_header (f->disk);

    dc_assert_contains (header, "needs_recovery");
  }

  /* the clone boots to the end: its probe powers it off without
   * domclone.stay on its command line */
  clone = virDomainLookupByName (live_conn, name);
  g_assert_nonnull (clone);
  xml = virDomainGetXMLDesc (clone, VIR_DOMAIN_XML_INACTIVE);
  dc_assert_contains (xml, AGENT_STAY);
  {
    g_auto (GStrv) parts = g_strsplit (xml, AGENT_STAY, 2);
    g_autoptr (DcDomain) redefined = NULL;

    stay = g_strjoinv ("", parts);
    redefined = virDomainDefineXML (live_conn, stay);
    g_assert_nonnull (redefined);
  }
  facts = live_guest_boot (name);
  g_assert_cmpstr (live_guest_fact (facts, "hostname"), ==, "debsrc");
  g_assert_cmpstr (live_guest_fact (facts, "agent"), ==, "active");
}

int
main (int argc, char **argv)
{
  g_autofree char *script = NULL;
  g_autofree char *dir = NULL;

  /* libguestfs's appliance straight under QEMU, and under TCG: this
   * machine's /dev/kvm may be one where guests never run (see
   * LIBVIRT-NOTES), as the test daemon's domains are type='qemu' */
  g_setenv ("LIBGUESTFS_BACKEND", "direct", FALSE);
  g_setenv ("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg", FALSE);
  live_init (&argc, &argv);
  script = g_test_build_filename (G_TEST_DIST, "..", "scripts", "debian-image.sh", NULL);
  {
    const char *path[] = { script, "path", NULL };
    g_autofree char *err = NULL;
    g_autofree char *disk = NULL;

    if (dc_test_run (path, &dir, &err) == 0)
      {
        g_strchomp (dir);
        disk = g_build_filename (dir, "stamp", NULL);
        if (g_file_test (disk, G_FILE_TEST_EXISTS))
          image_dir = g_strdup (dir);
      }
  }
  RESET_TEST ("/reset/debian", test_reset_debian);
  RESET_TEST ("/reset/linked-count", test_reset_linked_count);
  BLANK_TEST ("/reset/refuse/blank", test_reset_refuse_blank);
  BLANK_TEST ("/reset/try/blank", test_reset_try_blank);
  BLANK_TEST ("/reset/refuse/remote", test_reset_remote);
  RESET_TEST ("/reset/print-xml", test_reset_print_xml);
  RESET_TEST ("/reset/boot", test_reset_boot);
  AGENT_TEST ("/reset/live-agent", test_reset_live_agent);
  return live_run ();
}
