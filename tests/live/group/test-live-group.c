/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Clones made by a member of the libvirt group on qemu:///system, the
 * usual desktop: the images are root's, 0600, in a root 0711 directory
 * that is a dir pool, so the member can ask libvirt to copy them but
 * cannot open them itself. tests/with-libvirtd.sh, as root, gives the
 * private daemon's read-write socket to a group and makes an
 * unprivileged member of it (DOMCLONE_TEST_GROUP_USER); domclone runs
 * as that user (setpriv), this test as root, which reads every file to
 * compare the clone's bytes with the source's. Not as root (a session
 * daemon), every test is skipped.
 *
 * Also: a read-only (0444) source or template gives volumes their owner
 * can write (domclone(1), STORAGE).
 */
#include "config.h"

#include "dc-test-assert.h"
#include "dc-test-util.h"
#include "live-fixture.h"
#include "live-other.h"
#include "seed-iso.h"

#include <glib/gstdio.h>
#include <grp.h>
#include <json-glib/json-glib.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct
{
  char *src;   /* source domain */
  char *pool;  /* the dir pool over @dir */
  char *dir;   /* root 0711, like /var/lib/libvirt/images */
  char *nvram; /* the source's NVRAM file, root 0600, in a 0711 directory */
  char *nvram_dir;
  uid_t uid; /* the group member */
  gid_t gid;
} GroupFixture;

static guint group_serial;

static const char group_domain[] =
  "<domain type='qemu'>\n"
  "  <name>%s</name>\n"
  "  <memory unit='MiB'>128</memory>\n"
  "  <vcpu>1</vcpu>\n"
  "  <os>\n"
  "    <type arch='x86_64' machine='q35'>hvm</type>\n"
  "    <loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE_4M.fd</loader>\n"
  "    <nvram template='/usr/share/OVMF/OVMF_VARS_4M.fd'>%s</nvram>\n"
  "  </os>\n"
  "  <features><acpi/></features>\n"
  "  <devices>\n"
  "    <disk type='file' device='disk'>\n"
  "      <driver name='qemu' type='qcow2'/>\n"
  "      <source file='%s/%s.qcow2'/>\n"
  "      <target dev='vda' bus='virtio'/>\n"
  "    </disk>\n"
  "    <disk type='file' device='disk'>\n"
  "      <driver name='qemu' type='raw'/>\n"
  "      <source file='%s/data.raw'/>\n"
  "      <target dev='vdb' bus='virtio'/>\n"
  "    </disk>\n"
  "    <serial type='pty'/>\n"
  "  </devices>\n"
  "</domain>\n";

static void
set_owner_mode (const char *path, uid_t uid, gid_t gid, mode_t mode)
{
  g_assert_cmpint (chown (path, uid, gid), ==, 0);
  g_assert_cmpint (g_chmod (path, mode), ==, 0);
}

/* The fixture: the disks are root's, 0600, in a root 0711 directory;
 * with @data "readonly", the member's own and read-only (0444), as a
 * user keeps a golden image; with "group", root's and the group's,
 * 0640, in a directory the group may write in (0770).
 *
 * Longer than 60 lines: it builds its object in the order the parts
 * depend on each other, and a part alone would mean nothing.
 */
static void
group_setup (GroupFixture *f, gconstpointer data)
{
  const char *user = g_getenv ("DOMCLONE_TEST_GROUP_USER");
  gboolean readonly = g_strcmp0 (data, "readonly") == 0;
  gboolean group = g_strcmp0 (data, "group") == 0;
  mode_t disk_mode = readonly ? 0444 : group ? 0640 : 0600;
  guint id = ++group_serial;
  const gsize sys_offsets[] = { 0, 3 * MiB, 20 * MiB };
  const gsize data_offsets[] = { 0, 9 * MiB };
  g_autofree char *raw_sys = NULL;
  g_autofree char *qcow2 = NULL;
  g_autofree char *data_raw = NULL;
  g_autofree char *vars = NULL;
  g_autofree char *xml = NULL;
  g_autoptr (DcDomain) dom = NULL;
  struct passwd *pw;
  uid_t disk_uid = 0;
  gid_t disk_gid = 0;
  gsize len;

  if (live_conn == NULL)
    {
      g_test_skip ("no private libvirt daemon (run through tests/with-libvirtd.sh)");
      return;
    }
  if (geteuid () != 0 || user == NULL)
    {
      g_test_skip ("needs the root harness, whose qemu:///system gives a group its socket");
      return;
    }
  pw = getpwnam (user);
  g_assert_nonnull (pw);
  f->uid = pw->pw_uid;
  f->gid = pw->pw_gid;
  if (readonly)
    disk_uid = f->uid, disk_gid = f->gid;
  if (group)
    {
      struct group *gr = getgrnam (g_getenv ("DOMCLONE_TEST_GROUP"));

      g_assert_nonnull (gr);
      disk_gid = gr->gr_gid;
    }

  /* inside the harness's namespace /var/lib/libvirt is its own */
  f->src = g_strdup_printf ("gvm%u", id);
  f->pool = g_strdup_printf ("gpool%u", id);
  f->dir = g_strdup_printf ("/var/lib/libvirt/images-%u", id);
  f->nvram_dir = g_strdup_printf ("/var/lib/libvirt/nvram-%u", id);
  f->nvram = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, f->src);
  g_assert_cmpint (g_mkdir_with_parents (f->dir, 0711), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (f->nvram_dir, 0711), ==, 0);
  set_owner_mode (f->dir, 0, disk_gid, group ? 0770 : 0711);
  set_owner_mode (f->nvram_dir, 0, 0, 0711);

  raw_sys = g_strdup_printf ("%s/sys%u.raw", live_state_dir, id);
  qcow2 = g_strdup_printf ("%s/%s.qcow2", f->dir, f->src);
  live_write_pattern (raw_sys, 32 * MiB, sys_offsets, G_N_ELEMENTS (sys_offsets), id);
  {
    const char *argv[] = { "qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", raw_sys, qcow2, NULL };
    dc_test_run_ok (argv);
  }
  g_unlink (raw_sys);
  data_raw = g_strdup_printf ("%s/data.raw", f->dir);
  live_write_pattern (data_raw, 16 * MiB, data_offsets, G_N_ELEMENTS (data_offsets), id + 1000);
  set_owner_mode (qcow2, disk_uid, disk_gid, disk_mode);
  set_owner_mode (data_raw, disk_uid, disk_gid, disk_mode);

  /* NVRAM: the template with a marker, told apart from a fresh one */
  g_assert_true (g_file_get_contents ("/usr/share/OVMF/OVMF_VARS_4M.fd", &vars, &len, NULL));
  memcpy (vars + len - 16, "domclone-marker", 16);
  g_assert_true (g_file_set_contents (f->nvram, vars, len, NULL));
  set_owner_mode (f->nvram, 0, 0, 0600);

  live_define_pool (f->pool, f->dir);
  xml = g_strdup_printf (group_domain, f->src, f->nvram, f->dir, f->src, f->dir);
  dom = virDomainDefineXML (live_conn, xml);
  if (dom == NULL)
    g_error ("cannot define the source: %s", virGetLastErrorMessage ());
}

static void
group_teardown (GroupFixture *f, gconstpointer data)
{
  if (f->src == NULL)
    return;
  live_remove_test_objects (f->src, f->pool);
  g_free (f->src);
  g_free (f->pool);
  g_free (f->dir);
  g_free (f->nvram);
  g_free (f->nvram_dir);
}

/* Runs @argv (a program and its arguments) as the group member, with a
 * home of its own; returns its exit status. No shell: setpriv execs. */
static int
run_as_member (const GroupFixture *f, const char *const *argv, char **out, char **err)
{
  g_autoptr (GPtrArray) full = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) env = g_environ_unsetenv (g_get_environ (), "G_DEBUG");
  const char *user = g_getenv ("DOMCLONE_TEST_GROUP_USER");
  g_autofree char *home = g_strdup_printf ("/run/%s", user);
  g_autoptr (GError) error = NULL;
  int status;

  env = g_environ_setenv (env, "HOME", home, TRUE);
  env = g_environ_setenv (env, "USER", user, TRUE);
  env = g_environ_setenv (env, "LOGNAME", user, TRUE);
  env = g_environ_unsetenv (env, "XDG_RUNTIME_DIR");
  env = g_environ_unsetenv (env, "XDG_CONFIG_HOME");
  env = g_environ_unsetenv (env, "XDG_CACHE_HOME");
  g_ptr_array_add (full, g_strdup ("setpriv"));
  g_ptr_array_add (full, g_strdup_printf ("--reuid=%u", (guint) f->uid));
  g_ptr_array_add (full, g_strdup_printf ("--regid=%u", (guint) f->gid));
  g_ptr_array_add (full, g_strdup ("--init-groups"));
  g_ptr_array_add (full, g_strdup ("--"));
  for (size_t i = 0; argv[i] != NULL; i++)
    g_ptr_array_add (full, g_strdup (argv[i]));
  g_ptr_array_add (full, NULL);

  g_spawn_sync ("/", (char **) full->pdata, env, G_SPAWN_SEARCH_PATH, NULL, NULL, out, err, &status, &error);
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (status));
  return WEXITSTATUS (status);
}

/* domclone, as the group member, on the daemon's qemu:///system;
 * @args end with NULL */
static int
member_domclone (const GroupFixture *f, char **out, char **err, const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();

  g_ptr_array_add (argv, (gpointer) g_getenv ("DOMCLONE"));
  g_ptr_array_add (argv, (gpointer) "--connect");
  g_ptr_array_add (argv, (gpointer) g_getenv ("DOMCLONE_TEST_URI"));
  for (size_t i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  return run_as_member (f, (const char *const *) argv->pdata, out, err);
}

static void
member_domclone_ok (const GroupFixture *f, const char *const *args, const char *expected_out)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = member_domclone (f, &out, &err, args);

  g_test_message ("domclone as the group member: exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (err, ==, "");
  if (expected_out != NULL)
    g_assert_cmpstr (out, ==, expected_out);
}

/* The member can open neither the source's files nor the pool's
 * directory: what the test stands for. */
static void
assert_member_locked_out (const GroupFixture *f)
{
  g_autofree char *qcow2 = g_strdup_printf ("%s/%s.qcow2", f->dir, f->src);
  const char *argv[] = { "head", "-c", "1", qcow2, NULL };
  const char *ls[] = { "ls", f->dir, NULL };

  g_assert_cmpint (run_as_member (f, argv, NULL, NULL), !=, 0);
  g_assert_cmpint (run_as_member (f, ls, NULL, NULL), !=, 0);
}

/* A new volume as libvirt made it: the source's owner, its mode with
 * write for the owner */
static void
assert_owner_mode (const char *path, uid_t uid, guint mode)
{
  struct stat st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_test_message ("%s: %u:%u %04o", path, (guint) st.st_uid, (guint) st.st_gid, (guint) (st.st_mode & 07777));
  g_assert_cmpuint (st.st_uid, ==, uid);
  g_assert_cmpuint (st.st_mode & 07777, ==, mode);
}

/* The guest sees the same bytes in both images (qemu-img compare reads
 * them through their formats; a qcow2 copy is laid out anew). -U: a
 * running source's image is QEMU's, locked for writing. */
static void
assert_same_content (const char *a, const char *b, const char *fmt_a, const char *fmt_b)
{
  const char *argv[] = { "qemu-img", "compare", "-q", "-U", "-f", fmt_a, "-F", fmt_b, a, b, NULL };
  g_autofree char *err = NULL;

  g_assert_cmpint (dc_test_run (argv, NULL, &err), ==, 0);
}

/* The clone @name of @f's source: the raw disk, the qcow2 disk and the
 * NVRAM are copies with the source's bytes, owned and moded as libvirt
 * made them from the source's. */
static void
assert_full_clone (const GroupFixture *f, const char *name, uid_t uid, guint mode)
{
  g_autofree char *qcow2 = g_strdup_printf ("%s/%s.qcow2", f->dir, f->src);
  g_autofree char *raw = g_strdup_printf ("%s/data.raw", f->dir);
  g_autofree char *c_qcow2 = g_strdup_printf ("%s/%s.qcow2", f->dir, name);
  g_autofree char *c_raw = g_strdup_printf ("%s/%s-vdb.raw", f->dir, name);
  g_autofree char *c_nvram = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, name);
  g_autofree char *xml = live_domain_xml (name);
  g_autofree char *sum_raw = live_sha256_file (raw);
  g_autofree char *sum_c_raw = live_sha256_file (c_raw);
  g_autofree char *sum_nvram = live_sha256_file (f->nvram);
  g_autofree char *sum_c_nvram = live_sha256_file (c_nvram);

  dc_assert_contains (xml, c_qcow2);
  dc_assert_contains (xml, c_raw);
  dc_assert_contains (xml, c_nvram);
  g_assert_cmpstr (sum_c_raw, ==, sum_raw);
  g_assert_cmpstr (sum_c_nvram, ==, sum_nvram);
  assert_same_content (qcow2, c_qcow2, "qcow2", "qcow2");
  assert_owner_mode (c_qcow2, uid, mode);
  assert_owner_mode (c_raw, uid, mode);
  assert_owner_mode (c_nvram, 0, 0600);
}

/* A full clone: a qcow2 disk, a raw disk and UEFI NVRAM, each copied by
 * libvirt (the member can read none of them); domclone flushes nothing
 * it may not open. */
static void
test_group_full (GroupFixture *f, gconstpointer data)
{
  g_autofree char *name = NULL;
  g_autofree char *expected = NULL;
  const char *args[] = { NULL, NULL };

  if (f->src == NULL)
    return;
  assert_member_locked_out (f);
  args[0] = f->src;
  name = g_strdup_printf ("%s-clone1", f->src);
  expected = g_strdup_printf ("Cloned from %s to %s.\n", f->src, name);
  member_domclone_ok (f, args, expected);
  assert_full_clone (f, name, 0, 0600);
  g_assert_cmpuint (live_counter_of (f->src), ==, 1);
}

/* --print-xml looks at the NVRAM, outside any pool, from here: a file
 * the member may not open is taken as what it is, not an error */
static void
test_group_print_xml (GroupFixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *c_nvram = NULL;
  const char *args[] = { "--print-xml", NULL, NULL };
  int status;

  if (f->src == NULL)
    return;
  args[1] = f->src;
  before = live_snapshot ();
  status = member_domclone (f, &out, &err, args);
  g_test_message ("exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (err, ==, "");
  c_nvram = g_strdup_printf ("%s/%s-clone1_VARS.fd", f->nvram_dir, f->src);
  dc_assert_contains (out, c_nvram);
  after = live_snapshot ();
  g_assert_cmpstr (after, ==, before);
}

/* --json: the one JSON object, which names the clone and its volumes */
static void
test_group_json (GroupFixture *f, gconstpointer data)
{
  g_autofree char *name = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) error = NULL;
  JsonObject *clone;
  JsonArray *volumes;
  const char *args[] = { "--json", "--name", NULL, NULL, NULL };
  int status;

  if (f->src == NULL)
    return;
  name = g_strdup_printf ("%s-json", f->src);
  args[2] = name;
  args[3] = f->src;
  status = member_domclone (f, &out, &err, args);
  g_test_message ("exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (err, ==, "");
  root = json_from_string (out, &error);
  g_assert_no_error (error);
  clone = json_object_get_object_member (json_node_get_object (root), "clone");
  g_assert_nonnull (clone);
  g_assert_cmpstr (json_object_get_string_member (clone, "name"), ==, name);
  /* the two disks and the NVRAM, each a new file named after the clone */
  volumes = json_object_get_array_member (clone, "volumes");
  g_assert_cmpuint (json_array_get_length (volumes), ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      JsonObject *v = json_array_get_object_element (volumes, i);
      const char *path = json_object_get_string_member (v, "path");

      g_assert_true (g_str_has_prefix (path, i < 2 ? f->dir : f->nvram_dir));
      dc_assert_contains (path, name);
    }
  assert_full_clone (f, name, 0, 0600);
}

/* --make-template, then --linked, both as the member: the overlays sit
 * beside their bases, read through them the base's bytes, and are
 * root's, 0600, as libvirt made them. */
static void
test_group_linked (GroupFixture *f, gconstpointer data)
{
  g_autofree char *name = NULL;
  g_autofree char *qcow2 = NULL;
  g_autofree char *raw = NULL;
  g_autofree char *o_qcow2 = NULL;
  g_autofree char *o_raw = NULL;
  const char *make[] = { "--make-template", NULL, NULL };
  const char *linked[] = { "--linked", "--name", NULL, NULL, NULL };
  gboolean member_owns = data != NULL;

  if (f->src == NULL)
    return;
  make[1] = f->src;
  member_domclone_ok (f, make, NULL);
  name = g_strdup_printf ("%s-linked", f->src);
  linked[2] = name;
  linked[3] = f->src;
  member_domclone_ok (f, linked, NULL);

  qcow2 = g_strdup_printf ("%s/%s.qcow2", f->dir, f->src);
  raw = g_strdup_printf ("%s/data.raw", f->dir);
  o_qcow2 = g_strdup_printf ("%s/%s.qcow2", f->dir, name);
  o_raw = g_strdup_printf ("%s/%s-vdb.qcow2", f->dir, name);
  assert_same_content (qcow2, o_qcow2, "qcow2", "qcow2");
  assert_same_content (raw, o_raw, "raw", "qcow2");
  assert_owner_mode (o_qcow2, member_owns ? f->uid : 0, member_owns ? 0644 : 0600);
  assert_owner_mode (o_raw, member_owns ? f->uid : 0, member_owns ? 0644 : 0600);
  if (member_owns)
    {
      /* the owner can write the overlays (QEMU runs as the owner
       * libvirt gives them) */
      const char *w1[] = { "qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 64k", o_qcow2, NULL };
      const char *w2[] = { "qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 64k", o_raw, NULL };
      g_autofree char *err = NULL;

      g_assert_cmpint (run_as_member (f, w1, NULL, &err), ==, 0);
      g_assert_cmpint (run_as_member (f, w2, NULL, NULL), ==, 0);
    }
}

/* A read-only (0444) source of the member's own: the copies are the
 * member's, and writable by it (0644), so QEMU running as the owner can
 * write them; the clone starts. */
static void
test_group_readonly_source (GroupFixture *f, gconstpointer data)
{
  g_autofree char *name = NULL;
  g_autofree char *c_qcow2 = NULL;
  g_autofree char *c_raw = NULL;
  const char *args[] = { NULL, NULL };
  g_autoptr (DcDomain) clone = NULL;

  if (f->src == NULL)
    return;
  args[0] = f->src;
  name = g_strdup_printf ("%s-clone1", f->src);
  member_domclone_ok (f, args, NULL);
  assert_full_clone (f, name, f->uid, 0644);

  c_qcow2 = g_strdup_printf ("%s/%s.qcow2", f->dir, name);
  c_raw = g_strdup_printf ("%s/%s-vdb.raw", f->dir, name);
  {
    const char *w1[] = { "qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 64k", c_qcow2, NULL };
    const char *w2[] = { "qemu-io", "-f", "raw", "-c", "write -P 0x5a 0 64k", c_raw, NULL };
    g_autofree char *err = NULL;

    g_assert_cmpint (run_as_member (f, w1, NULL, &err), ==, 0);
    g_assert_cmpint (run_as_member (f, w2, NULL, NULL), ==, 0);
  }
  clone = virDomainLookupByName (live_conn, name);
  g_assert_nonnull (clone);
  if (virDomainCreate (clone) < 0)
    g_error ("the clone does not start: %s", virGetLastErrorMessage ());
  g_assert_cmpint (virDomainDestroy (clone), ==, 0);
}

/* A cloud-init seed (a cidata ISO, root's, 0600) as a CD-ROM: libvirt
 * reads it for the member and writes the clone's, rewritten; domclone
 * does not flush what it may not open. */
static void
test_group_seed (GroupFixture *f, gconstpointer data)
{
  g_autofree char *seed = NULL;
  g_autofree char *meta = NULL;
  g_autofree char *c_seed = NULL;
  g_autofree char *name = NULL;
  g_autofree char *label = NULL;
  g_autofree char *disk = NULL;
  g_autoptr (GBytes) iso = NULL;
  g_autoptr (GBytes) c_iso = NULL;
  g_autoptr (GHashTable) files = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (DcDomain) src = NULL;
  g_autoptr (DcPool) pool = NULL;
  const char *args[] = { NULL, NULL };

  if (f->src == NULL)
    return;
  seed = g_strdup_printf ("%s/%s-seed.iso", f->dir, f->src);
  meta = g_strdup_printf ("instance-id: %s\nlocal-hostname: %s\n", f->src, f->src);
  {
    const char *iso_files[] = { "meta-data", meta, "user-data", "#cloud-config\n", NULL };

    iso = seed_iso_build ("cidata", iso_files);
  }
  g_file_set_contents (seed, g_bytes_get_data (iso, NULL), (gssize) g_bytes_get_size (iso), &error);
  g_assert_no_error (error);
  set_owner_mode (seed, 0, 0, 0600);
  pool = virStoragePoolLookupByName (live_conn, f->pool);
  g_assert_cmpint (virStoragePoolRefresh (pool, 0), ==, 0);
  src = virDomainLookupByName (live_conn, f->src);
  disk =
    g_strdup_printf ("<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='%s'/>"
                     "<target dev='sdb' bus='sata'/><readonly/></disk>",
                     seed);
  g_assert_cmpint (virDomainAttachDeviceFlags (src, disk, VIR_DOMAIN_AFFECT_CONFIG), ==, 0);

  args[0] = f->src;
  name = g_strdup_printf ("%s-clone1", f->src);
  member_domclone_ok (f, args, NULL);
  c_seed = g_strdup_printf ("%s/%s-seed.iso", f->dir, name);
  c_iso = seed_iso_read_file (c_seed, &label, &files);
  g_assert_nonnull (c_iso);
  g_assert_cmpstr (label, ==, "cidata");
  dc_assert_contains (g_hash_table_lookup (files, "meta-data"), name);
  g_assert_cmpstr (g_hash_table_lookup (files, "user-data"), ==, "#cloud-config\n");
  assert_owner_mode (c_seed, 0, 0600);
  assert_full_clone (f, name, 0, 0600);
}

/* The member may read the source and write in the pool's directory, but
 * not the volumes libvirt makes there (root's, the group may only read
 * them): libvirt copies, not domclone. */
static void
test_group_readable (GroupFixture *f, gconstpointer data)
{
  g_autofree char *name = NULL;
  g_autofree char *qcow2 = NULL;
  const char *args[] = { NULL, NULL };
  const char *head[] = { "head", "-c", "1", NULL, NULL };

  if (f->src == NULL)
    return;
  qcow2 = g_strdup_printf ("%s/%s.qcow2", f->dir, f->src);
  head[3] = qcow2;
  g_assert_cmpint (run_as_member (f, head, NULL, NULL), ==, 0);
  args[0] = f->src;
  name = g_strdup_printf ("%s-clone1", f->src);
  member_domclone_ok (f, args, NULL);
  assert_full_clone (f, name, 0, 0640);
}

/* --live, as the member, of a running source (started paused: its
 * disks hold still, so the clone's bytes must be the source's): one
 * backup job into volumes libvirt made (root's, 0600), the NVRAM
 * copied, crash-consistent (no guest agent), the source left paused. */
static void
test_group_live (GroupFixture *f, gconstpointer data)
{
  g_autofree char *name = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *raw = NULL;
  g_autofree char *c_raw = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (DcDomain) dom = NULL;
  const char *args[] = { "--live", "--json", "--name", NULL, NULL, NULL };
  JsonObject *clone;
  int state = 0;
  int status;

  if (f->src == NULL)
    return;
  dom = virDomainLookupByName (live_conn, f->src);
  g_assert_nonnull (dom);
  if (virDomainCreateWithFlags (dom, VIR_DOMAIN_START_PAUSED) < 0)
    g_error ("cannot start the source paused: %s", virGetLastErrorMessage ());
  assert_member_locked_out (f);
  name = g_strdup_printf ("%s-live", f->src);
  args[3] = name;
  args[4] = f->src;
  status = member_domclone (f, &out, &err, args);
  g_test_message ("--live as the group member: exit %d: %s%s", status, out, err);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (err, ==, "");
  root = dc_test_json_parse (out);
  clone = json_object_get_object_member (json_node_get_object (root), "clone");
  g_assert_cmpstr (json_object_get_string_member (clone, "live"), ==, "crash-consistent");
  assert_full_clone (f, name, 0, 0600);
  /* the job writes the source's holes as zeros, which only a process
   * that may open the file can punch out again (domclone(1), --live):
   * the member's clone of the sparse raw disk is allocated in full (a
   * running domain's images are QEMU's user's, never the member's) */
  raw = g_strdup_printf ("%s/data.raw", f->dir);
  c_raw = g_strdup_printf ("%s/%s-vdb.raw", f->dir, name);
  g_test_message ("allocated: source %" G_GUINT64_FORMAT ", clone %" G_GUINT64_FORMAT,
                  live_allocated_bytes (raw), live_allocated_bytes (c_raw));
  g_assert_cmpint (virDomainGetState (dom, &state, NULL, 0), ==, 0);
  g_assert_cmpint (state, ==, VIR_DOMAIN_PAUSED);
  g_assert_cmpint (virDomainDestroy (dom), ==, 0);
}

/* The member's --reset-identity of the fixture's source: exit 1, one
 * line on stderr (returned) saying the run was rolled back, the daemon
 * as it was before; its stdout in *@out. */
static char *
member_reset_fails_cleanly (const GroupFixture *f, char **out)
{
  const char *args[] = { "--reset-identity", f->src, NULL };
  g_autofree char *before = live_snapshot ();
  g_autofree char *after = NULL;
  char *err = NULL;
  int status;

  status = member_domclone (f, out, &err, args);
  g_test_message ("exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 1);
  g_assert_cmpuint (dc_test_count_of (err, "\n"), ==, 1);
  dc_assert_contains (err, "everything this run created was removed");
  after = live_snapshot ();
  g_assert_cmpstr (after, ==, before);
  return err;
}

/* --reset-identity, as the member, on root's 0600 images: libguestfs
 * opens the clone's disks from this process, which may not (libvirt
 * copied them for it). One line that says so and what to do; the clone
 * is rolled back, the daemon as it was. */
static void
test_group_reset_refused (GroupFixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  if (f->src == NULL)
    return;
  err = member_reset_fails_cleanly (f, &out);
  g_assert_cmpstr (out, ==, "");
  g_assert_true (g_str_has_prefix (err, "domclone: "));
  dc_assert_contains (err, "cannot open disk 'vda'");
  dc_assert_contains (err, "Permission denied");
  dc_assert_contains (err, "run domclone --reset-identity as a user who can read and write them");
}

/* --reset-identity, as the member, of its own read-only images (0444,
 * in root's 0711 directory): the clone's volumes are its own too, and
 * domclone proves their directory is the daemon's (a scratch volume it
 * may read) and hands them to libguestfs, which looks inside: these
 * disks hold no system, so the clone is rolled back naming the disk. */
static void
test_group_reset_own (GroupFixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  if (f->src == NULL)
    return;
  err = member_reset_fails_cleanly (f, &out);
  dc_assert_contains (err, "libguestfs finds no operating system on disk");
}

/* The second daemon's socket where the member can reach it: through
 * /proc/PID/root of a root process it cannot (nor can a bind mount
 * cross into that mount namespace), so socat, as root, relays @socket
 * (root's, the group's, 0770, as the daemons' own) to it. Returns the
 * relay; *@uri is the URI for the member. */
static GSubprocess *
other_relay_for_member (const char *socket, char **uri)
{
  g_autofree char *there = live_other_path ("/run/libvirt/libvirt-sock");
  g_autofree char *listen = g_strdup_printf ("UNIX-LISTEN:%s,fork,unlink-early,mode=0770,group=%s", socket,
                                             g_getenv ("DOMCLONE_TEST_GROUP"));
  g_autofree char *connect = g_strdup_printf ("UNIX-CONNECT:%s", there);
  g_autofree char *socat = g_find_program_in_path ("socat");
  g_autoptr (GError) error = NULL;
  GSubprocess *relay;

  if (socat == NULL)
    {
      g_test_skip ("no socat (scripts/install-deps.sh installs it)");
      return NULL;
    }
  relay = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, socat, listen, connect, NULL);
  g_assert_no_error (error);
  for (int i = 0; i < 100 && !g_file_test (socket, G_FILE_TEST_EXISTS); i++)
    g_usleep (G_USEC_PER_SEC / 20);
  g_assert_true (g_file_test (socket, G_FILE_TEST_EXISTS));
  *uri = g_strdup_printf ("qemu+unix:///system?socket=%s", socket);
  return relay;
}

/* --to, as the member, from this daemon to a second one (both root's,
 * both giving the group their socket): the disks and the NVRAM, which
 * the member can read on neither side, go across through libvirt's
 * streams; the clone there holds the source's bytes. */
static void
test_group_to (GroupFixture *f, gconstpointer data)
{
  g_autofree char *socket = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *name = NULL;
  g_autofree char *there = NULL;
  g_autofree char *qcow2 = NULL;
  g_autofree char *raw = NULL;
  g_autofree char *c_qcow2 = NULL;
  g_autofree char *c_raw = NULL;
  g_autofree char *c_nvram = NULL;
  g_autofree char *sum = NULL;
  g_autofree char *c_sum = NULL;
  g_autoptr (DcDomain) clone = NULL;
  const char *args[] = { "--to", NULL, NULL, NULL };
  g_autoptr (GSubprocess) relay = NULL;

  if (f->src == NULL || !live_other_start ())
    return;
  there = g_strdup_printf ("/var/lib/libvirt/images/%s-there", f->pool);
  live_other_pool (f->pool, there);
  socket = g_strdup_printf ("/run/domclone-other-%s.sock", f->src);
  relay = other_relay_for_member (socket, &uri);
  if (relay == NULL)
    return;
  args[1] = uri;
  args[2] = f->src;
  name = g_strdup_printf ("%s-clone1", f->src);
  member_domclone_ok (f, args, NULL);
  g_subprocess_force_exit (relay);
  g_subprocess_wait (relay, NULL, NULL);
  g_unlink (socket);

  clone = virDomainLookupByName (live_other_conn, name);
  g_assert_nonnull (clone);
  qcow2 = g_strdup_printf ("%s/%s.qcow2", f->dir, f->src);
  raw = g_strdup_printf ("%s/data.raw", f->dir);
  {
    g_autofree char *q = g_strdup_printf ("%s/%s.qcow2", there, name);
    g_autofree char *r = g_strdup_printf ("%s/%s-vdb.raw", there, name);
    g_autofree char *n = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, name);

    c_qcow2 = live_other_path (q);
    c_raw = live_other_path (r);
    c_nvram = live_other_path (n);
  }
  assert_same_content (qcow2, c_qcow2, "qcow2", "qcow2");
  sum = live_sha256_file (raw);
  c_sum = live_sha256_file (c_raw);
  g_assert_cmpstr (c_sum, ==, sum);
  g_clear_pointer (&sum, g_free);
  g_clear_pointer (&c_sum, g_free);
  sum = live_sha256_file (f->nvram);
  c_sum = live_sha256_file (c_nvram);
  g_assert_cmpstr (c_sum, ==, sum);
  g_assert_false (live_domain_exists (name));
}

#define GROUP_TEST(path, func, data)                                                                         \
  g_test_add ((path), GroupFixture, (data), group_setup, (func), group_teardown)

int
main (int argc, char **argv)
{
  int ret;

  /* libguestfs's appliance as test-live-reset runs it (TCG) */
  g_setenv ("LIBGUESTFS_BACKEND", "direct", FALSE);
  g_setenv ("LIBGUESTFS_BACKEND_SETTINGS", "force_tcg", FALSE);
  live_init (&argc, &argv);

  GROUP_TEST ("/group/clone/full", test_group_full, NULL);
  GROUP_TEST ("/group/clone/json", test_group_json, NULL);
  GROUP_TEST ("/group/clone/print-xml", test_group_print_xml, NULL);
  GROUP_TEST ("/group/clone/linked", test_group_linked, NULL);
  GROUP_TEST ("/group/clone/seed", test_group_seed, NULL);
  GROUP_TEST ("/group/clone/readable", test_group_readable, "group");
  GROUP_TEST ("/group/readonly/full", test_group_readonly_source, "readonly");
  GROUP_TEST ("/group/readonly/linked", test_group_linked, "readonly");
  GROUP_TEST ("/group/live/paused", test_group_live, NULL);
  GROUP_TEST ("/group/reset/refused", test_group_reset_refused, NULL);
  GROUP_TEST ("/group/reset/own", test_group_reset_own, "readonly");
  GROUP_TEST ("/group/to/full", test_group_to, NULL);
  ret = live_run ();
  live_other_stop ();
  return ret;
}
