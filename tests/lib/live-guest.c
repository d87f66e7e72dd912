/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live tests that boot: a source domain the guest of scripts/guest-kit.sh
 * boots from, and helpers that start domains, wait for them to power off
 * and read what the guest reported on its serial console.
 *
 * The source (per test): direct kernel boot under TCG (machine 'pc', 192
 * MiB, one vCPU, ACPI for poweroff); a sparse raw data disk in a pool of its own (vda); a
 * cloud-init NoCloud seed on a virtio-scsi CD-ROM; a virtio NIC with user
 * networking (nothing but a MAC is needed); an SMBIOS serial that carries
 * cloud-init's NoCloud identity; its serial console in a file, which a
 * clone gets a copy of its own of.
 */
#include "config.h"

#include "live-guest.h"

#include "dc-xml.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#define SECTOR 512
/* lines of the console shown when a boot goes wrong */
#define TAIL_LINES 30

static const char domain_template[] =
  "<domain type='qemu'>\n"
  "  <name>%s</name>\n"
  "  <memory unit='MiB'>192</memory>\n"
  "  <vcpu>1</vcpu>\n"
  "  <sysinfo type='smbios'>\n"
  "    <system><entry name='serial'>ds=nocloud;i=%s-iid;h=%s</entry></system>\n"
  "  </sysinfo>\n"
  "  <os>\n"
  "    <type arch='x86_64' machine='pc'>hvm</type>\n"
  "    <kernel>%s</kernel>\n"
  "    <initrd>%s</initrd>\n"
  "    <cmdline>console=ttyS0 quiet panic=-1 scsi_mod.scan=sync</cmdline>\n"
  "    <smbios mode='sysinfo'/>\n"
  "  </os>\n"
  "  <features><acpi/></features>\n"
  "  <on_poweroff>destroy</on_poweroff>\n"
  "  <on_reboot>destroy</on_reboot>\n"
  "  <on_crash>destroy</on_crash>\n"
  "  <devices>\n"
  "    <disk type='volume' device='disk'>\n"
  "      <driver name='qemu' type='raw'/>\n"
  "      <source pool='%s' volume='%s-data.raw'/>\n"
  "      <target dev='vda' bus='virtio'/>\n"
  "    </disk>\n"
  "    <controller type='scsi' model='virtio-scsi'/>\n"
  "    <disk type='file' device='cdrom'>\n"
  "      <driver name='qemu' type='raw'/>\n"
  "      <source file='%s'/>\n"
  "      <target dev='sda' bus='scsi'/>\n"
  "      <readonly/>\n"
  "    </disk>\n"
  "    <interface type='user'>\n"
  "      <mac address='%s'/>\n"
  "      <model type='virtio'/>\n"
  "      <rom enabled='no'/>\n"
  "    </interface>\n"
  "    <serial type='file'><source path='%s/%s-console.log'/></serial>\n"
  "    <memballoon model='none'/>\n"
  "  </devices>\n"
  "</domain>\n";

/* --- the kit ------------------------------------------------------------ */

static char *kit_kernel;
static char *kit_initrd;
static char *kit_missing;

/* Builds the initramfs once per program (scripts/guest-kit.sh build);
 * FALSE, with kit_missing saying why, when there is no kit to build it
 * from. */
static gboolean
guest_kit (void)
{
  static gboolean tried;

  if (!tried)
    {
      g_autofree char *script = g_test_build_filename (G_TEST_DIST, "..", "scripts", "guest-kit.sh", NULL);
      g_autofree char *out_dir = g_build_filename (live_state_dir, "guest-kit", NULL);
      const char *argv[] = { "bash", script, "build", out_dir, NULL };
      g_autofree char *err = NULL;
      int status;

      tried = TRUE;
      status = dc_test_run (argv, NULL, &err);
      if (status == 77)
        kit_missing = g_strdup (g_strstrip (err));
      else if (status != 0)
        g_error ("guest-kit.sh build failed (%d): %s", status, err);
      else
        {
          kit_kernel = g_build_filename (out_dir, "kernel", NULL);
          kit_initrd = g_build_filename (out_dir, "initrd.gz", NULL);
        }
    }
  return kit_kernel != NULL;
}

/* --- files -------------------------------------------------------------- */

/**
 * live_guest_write_line:
 * @path: a raw disk image
 * @offset: where, a multiple of 512
 * @line: one line of text, shorter than 512 bytes
 *
 * Writes @line and a newline at @offset, the rest of the sector zeros.
 */
void
live_guest_write_line (const char *path, gsize offset, const char *line)
{
  guint8 sector[SECTOR] = { 0 };
  gsize len = strlen (line);
  int fd = open (path, O_WRONLY);

  g_assert_cmpuint (len, <, SECTOR);
  g_assert_cmpint (fd, >=, 0);
  memcpy (sector, line, len);
  sector[len] = '\n';
  g_assert_cmpint (pwrite (fd, sector, SECTOR, offset), ==, SECTOR);
  g_assert_cmpint (close (fd), ==, 0);
}

/**
 * live_guest_read_line:
 * @path: a raw disk image
 * @offset: where
 *
 * Returns: (transfer full): the text in the sector at @offset, up to its
 * first newline or NUL ("" for an unwritten sector)
 */
char *
live_guest_read_line (const char *path, gsize offset)
{
  char sector[SECTOR + 1] = { 0 };
  int fd = open (path, O_RDONLY);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (pread (fd, sector, SECTOR, offset), ==, SECTOR);
  g_assert_cmpint (close (fd), ==, 0);
  return g_strndup (sector, strcspn (sector, "\n"));
}

/* A cloud-init NoCloud seed: an ISO 9660 image labelled "cidata". */
static void
make_seed (const LiveGuest *g, const char *work)
{
  g_autofree char *meta = g_strdup_printf ("instance-id: iid-%s\nlocal-hostname: %s\n", g->src, g->src);
  g_autofree char *net = g_strdup_printf ("version: 2\nethernets:\n  nic0:\n    match:\n"
                                          "      macaddress: '%s'\n    dhcp4: true\n",
                                          g->mac);
  g_autofree char *meta_path = g_build_filename (work, "meta-data", NULL);
  g_autofree char *user_path = g_build_filename (work, "user-data", NULL);
  g_autofree char *net_path = g_build_filename (work, "network-config", NULL);
  const char *argv[] = { "xorriso", "-as", "mkisofs", "-quiet",     "-V", "cidata",
                         "-J",      "-r",  "-o",      g->seed_path, work, NULL };

  g_assert_cmpint (g_mkdir_with_parents (work, 0755), ==, 0);
  g_assert_true (g_file_set_contents (meta_path, meta, -1, NULL));
  g_assert_true (g_file_set_contents (user_path, "#cloud-config\n", -1, NULL));
  g_assert_true (g_file_set_contents (net_path, net, -1, NULL));
  dc_test_run_ok (argv);
}

/* --- fixture ------------------------------------------------------------ */

/**
 * live_guest_setup:
 * @g: the fixture
 * @data: unused
 *
 * Makes a pool and a bootable source domain, shut off, whose data disk
 * holds @g->data at LIVE_GUEST_DATA_OFFSET and LIVE_GUEST_FIRST_MARK at
 * LIVE_GUEST_MARK_OFFSET. Skips the test (leaving @g->src %NULL) without
 * a daemon, a guest kit or xorriso.
 */
void
live_guest_setup (LiveGuest *g, gconstpointer data)
{
  static guint serial;
  guint id;
  g_autofree char *consoles = NULL;
  g_autofree char *seed_work = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *name = NULL;
  g_autoptr (DcDomain) dom = NULL;
  int fd;

  memset (g, 0, sizeof *g);
  if (live_conn == NULL)
    {
      g_test_skip ("no private libvirt daemon (run through tests/with-libvirtd.sh)");
      return;
    }
  if (!guest_kit ())
    {
      g_test_skip (kit_missing);
      return;
    }
  {
    g_autofree char *xorriso = g_find_program_in_path ("xorriso");
    if (xorriso == NULL)
      {
        g_test_skip ("no xorriso to make the guest's cloud-init seed (scripts/install-deps.sh)");
        return;
      }
  }

  id = ++serial;
  name = g_strdup_printf ("guest%u", id);
  g->pool = g_strdup_printf ("guestpool%u", id);
  g->dir = g_strdup_printf ("%s/guestpool%u", live_state_dir, id);
  consoles = g_strdup_printf ("%s/consoles%u", live_state_dir, id);
  seed_work = g_strdup_printf ("%s/seed%u", live_state_dir, id);
  g_assert_cmpint (g_mkdir_with_parents (g->dir, 0755), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (consoles, 0755), ==, 0);
  g->mac = g_strdup_printf ("52:54:00:d0:%02x:%02x", (id >> 8) & 0xff, id & 0xff);
  g->data = g_strdup_printf ("DOMCLONE-DATA %s %08x", name, g_random_int ());
  g->data_path = g_strdup_printf ("%s/%s-data.raw", g->dir, name);
  g->seed_path = g_strdup_printf ("%s/%s-seed.iso", g->dir, name);
  g->src = g_steal_pointer (&name);

  /* the data disk: 16 MiB, sparse, two lines of text */
  fd = open (g->data_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, 16 * MiB), ==, 0);
  g_assert_cmpint (close (fd), ==, 0);
  live_guest_write_line (g->data_path, LIVE_GUEST_DATA_OFFSET, g->data);
  live_guest_write_line (g->data_path, LIVE_GUEST_MARK_OFFSET, LIVE_GUEST_FIRST_MARK);
  make_seed (g, seed_work);

  live_define_pool (g->pool, g->dir);
  xml = g_strdup_printf (domain_template, g->src, g->src, g->src, kit_kernel, kit_initrd, g->pool, g->src,
                         g->seed_path, g->mac, consoles, g->src);
  dom = virDomainDefineXML (live_conn, xml);
  if (dom == NULL)
    g_error ("cannot define the guest: %s", virGetLastErrorMessage ());
}

/* Whether @name is the source @src or one made from it ("@src-..."). */
static gboolean
is_of_test (const char *name, const char *src)
{
  return g_str_has_prefix (name, src) && (name[strlen (src)] == '\0' || name[strlen (src)] == '-');
}

void
live_guest_teardown (LiveGuest *g, gconstpointer data)
{
  g_auto (DcDomainList) doms = { NULL, 0 };

  if (g->src != NULL)
    {
      doms.n = virConnectListAllDomains (live_conn, &doms.list, 0);
      for (int i = 0; i < doms.n; i++)
        if (is_of_test (virDomainGetName (doms.list[i]), g->src))
          {
            if (virDomainIsActive (doms.list[i]) == 1)
              virDomainDestroy (doms.list[i]);
            virDomainUndefineFlags (doms.list[i], VIR_DOMAIN_UNDEFINE_NVRAM);
          }
      {
        g_autoptr (DcPool) pool = virStoragePoolLookupByName (live_conn, g->pool);
        if (pool != NULL)
          {
            virStoragePoolDestroy (pool);
            virStoragePoolUndefine (pool);
          }
      }
    }
  g_free (g->src);
  g_free (g->pool);
  g_free (g->dir);
  g_free (g->data_path);
  g_free (g->data);
  g_free (g->seed_path);
  g_free (g->mac);
}

/* --- the daemon's view -------------------------------------------------- */

/**
 * live_guest_xml_string:
 * @name: a domain
 * @xpath: an expression on its inactive XML (what virsh dumpxml
 *   --inactive prints)
 *
 * Returns: (transfer full) (nullable): string(@xpath), %NULL if empty
 */
char *
live_guest_xml_string (const char *name, const char *xpath)
{
  g_autofree char *xml = live_domain_xml (name);
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (xmlDoc) doc = dc_xml_parse (xml, "domain", "domain XML", &ctxt, &error);

  g_assert_no_error (error);
  return dc_xml_string (ctxt, NULL, xpath);
}

/* Returns: (transfer full): the MAC address of @name's first interface */
char *
live_guest_mac_of (const char *name)
{
  char *mac = live_guest_xml_string (name, "/domain/devices/interface[1]/mac/@address");

  g_assert_nonnull (mac);
  return mac;
}

/* Returns: (transfer full): @name's UUID */
char *
live_guest_uuid_of (const char *name)
{
  g_autoptr (DcDomain) dom = virDomainLookupByName (live_conn, name);
  char uuid[VIR_UUID_STRING_BUFLEN];

  g_assert_nonnull (dom);
  g_assert_cmpint (virDomainGetUUIDString (dom, uuid), ==, 0);
  return g_strdup (uuid);
}

/* Returns: (transfer full) (nullable): the file or volume of @name's
 * CD-ROM, its cloud-init seed */
char *
live_guest_seed_of (const char *name)
{
  return live_guest_xml_string (name, "/domain/devices/disk[@device='cdrom']/source/@*"
                                      "[name()='file' or name()='volume']");
}

static char *
console_path (const char *name)
{
  char *path = live_guest_xml_string (name, "/domain/devices/serial[@type='file']/source/@path");

  g_assert_nonnull (path);
  return path;
}

/* The last TAIL_LINES lines of @text, without carriage returns. */
static char *
tail_of (const char *text)
{
  g_auto (GStrv) lines = g_strsplit (text != NULL ? text : "", "\n", -1);
  guint n = g_strv_length (lines);
  GString *out = g_string_new (NULL);

  for (guint i = n > TAIL_LINES ? n - TAIL_LINES : 0; i < n; i++)
    {
      g_strdelimit (lines[i], "\r", ' ');
      g_string_append_printf (out, "  | %s\n", lines[i]);
    }
  return g_string_free (out, FALSE);
}

/* --- booting ------------------------------------------------------------ */

/* When each domain was started: name to gint64 *, for the messages. */
static GHashTable *boot_starts;

static void
note_start (const char *name)
{
  gint64 *now = g_new (gint64, 1);

  if (boot_starts == NULL)
    boot_starts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  *now = g_get_monotonic_time ();
  g_hash_table_insert (boot_starts, g_strdup (name), now);
}

/* Seconds since @name was started. */
static double
seconds_since_start (const char *name)
{
  gint64 *start = g_hash_table_lookup (boot_starts, name);

  g_assert_nonnull (start);
  return (g_get_monotonic_time () - *start) / (double) G_USEC_PER_SEC;
}

/**
 * live_guest_start:
 * @name: a shut-off domain made from a LiveGuest source
 *
 * Removes its old console log and starts it.
 */
void
live_guest_start (const char *name)
{
  g_autofree char *log = console_path (name);

  live_guest_start_on (live_conn, name, log);
}

/**
 * live_guest_start_on:
 * @conn: the daemon @name is defined on
 * @name: a shut-off domain made from a LiveGuest source (or a clone of
 *   one on another daemon)
 * @log: its console log, as this process reaches it
 *
 * live_guest_start() on any daemon.
 */
void
live_guest_start_on (virConnectPtr conn, const char *name, const char *log)
{
  g_autoptr (DcDomain) dom = virDomainLookupByName (conn, name);

  g_assert_nonnull (dom);
  if (g_unlink (log) != 0)
    g_assert_cmpint (errno, ==, ENOENT);
  if (virDomainCreate (dom) != 0)
    g_error ("cannot start '%s': %s", name, virGetLastErrorMessage ());
  note_start (name);
}

/**
 * live_guest_wait:
 * @name: a domain started by live_guest_start()
 *
 * Waits, LIVE_GUEST_BOOT_TIMEOUT_S at most (or the seconds in
 * $LIVE_GUEST_BOOT_TIMEOUT, for a guest slower than the busybox one;
 * from now: the guests started together share the CPUs), for @name to
 * power off, and
 * reads its console. Fails the test, showing the console's last lines,
 * if it does not power off in time or did not report DOMCLONE-DONE.
 *
 * Returns: (transfer full): its facts (live_guest_fact())
 */
GHashTable *
live_guest_wait (const char *name)
{
  g_autofree char *log = console_path (name);

  return live_guest_wait_on (live_conn, name, log);
}

/**
 * live_guest_wait_on:
 * @conn: the daemon @name runs on
 * @name: a domain started by live_guest_start_on()
 * @log: its console log, as this process reaches it
 *
 * live_guest_wait() on any daemon.
 *
 * Returns: (transfer full): its facts (live_guest_fact())
 */
GHashTable *
live_guest_wait_on (virConnectPtr conn, const char *name, const char *log)
{
  g_autoptr (DcDomain) dom = virDomainLookupByName (conn, name);
  g_autofree char *console = NULL;
  g_autoptr (GError) error = NULL;
  const char *given = g_getenv ("LIVE_GUEST_BOOT_TIMEOUT");
  gint64 timeout = given ? g_ascii_strtoll (given, NULL, 10) : LIVE_GUEST_BOOT_TIMEOUT_S;
  gint64 deadline = g_get_monotonic_time () + timeout * G_USEC_PER_SEC;
  GHashTable *facts;

  g_assert_nonnull (dom);
  for (;;)
    {
      int state = 0;
      int reason = 0;

      g_assert_cmpint (virDomainGetState (dom, &state, &reason, 0), ==, 0);
      if (state == VIR_DOMAIN_SHUTOFF)
        break;
      if (g_get_monotonic_time () > deadline)
        {
          g_autofree char *tail = NULL;

          virDomainDestroy (dom);
          g_file_get_contents (log, &console, NULL, NULL);
          tail = tail_of (console);
          g_error ("'%s' did not power off within %" G_GINT64_FORMAT " s; its console (%s) ends with:\n%s",
                   name, timeout, log, tail);
        }
      g_usleep (G_USEC_PER_SEC / 5);
    }
  if (!g_file_get_contents (log, &console, NULL, &error))
    g_error ("'%s' left no console log: %s", name, error->message);
  facts = live_guest_parse_facts (console, &error);
  if (facts == NULL)
    {
      g_autofree char *tail = tail_of (console);
      g_error ("'%s': %s; its console (%s) ends with:\n%s", name, error->message, log, tail);
    }
  g_test_message ("'%s' booted and powered off in %.1f s", name, seconds_since_start (name));
  /* for live_guest_fact()'s message */
  g_hash_table_insert (facts, g_strdup (" console"), tail_of (console));
  return facts;
}

/**
 * live_guest_boot:
 * @name: a shut-off domain made from a LiveGuest source
 *
 * Boots @name to the end (live_guest_start(), live_guest_wait()).
 *
 * Returns: (transfer full): its facts
 */
GHashTable *
live_guest_boot (const char *name)
{
  live_guest_start (name);
  return live_guest_wait (name);
}

/**
 * live_guest_boot_together:
 * @names: domains, %NULL-terminated
 *
 * Starts all of @names, then waits for each: they run side by side (and
 * QEMU's image locks refuse two of them writing one file).
 *
 * Returns: (transfer full): their facts, in the order of @names
 */
GPtrArray *
live_guest_boot_together (const char *const *names)
{
  GPtrArray *all = g_ptr_array_new_with_free_func ((GDestroyNotify) g_hash_table_unref);

  for (guint i = 0; names[i] != NULL; i++)
    live_guest_start (names[i]);
  for (guint i = 0; names[i] != NULL; i++)
    g_ptr_array_add (all, live_guest_wait (names[i]));
  return all;
}

/* --- writer mode -------------------------------------------------------- */

/**
 * live_guest_read_records:
 * @path: a data disk of the writer guest (raw)
 *
 * Returns: (transfer full): LIVE_GUEST_SLOTS numbers: the record in each
 * slot, 0 for a slot never written (fails the test on anything else)
 */
guint64 *
live_guest_read_records (const char *path)
{
  g_autofree char *bytes = g_malloc (LIVE_GUEST_SLOTS * SECTOR);
  guint64 *slots = g_new0 (guint64, LIVE_GUEST_SLOTS);
  int fd = open (path, O_RDONLY);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (pread (fd, bytes, LIVE_GUEST_SLOTS * SECTOR, LIVE_GUEST_RECORDS_OFFSET), ==,
                   LIVE_GUEST_SLOTS * SECTOR);
  g_assert_cmpint (close (fd), ==, 0);
  for (guint s = 0; s < LIVE_GUEST_SLOTS; s++)
    {
      const char *sector = bytes + (gsize) s * SECTOR;
      static const char prefix[] = "DOMCLONE-REC ";

      if (sector[0] == '\0')
        continue;
      if (strncmp (sector, prefix, strlen (prefix)) != 0)
        g_error ("slot %u of '%s' holds no record: '%.32s'", s, path, sector);
      slots[s] = g_ascii_strtoull (sector + strlen (prefix), NULL, 10);
    }
  return slots;
}

/* Returns: the newest record on @path's data disk, 0 for none */
guint64
live_guest_last_record (const char *path)
{
  g_autofree guint64 *slots = live_guest_read_records (path);
  guint64 last = 0;

  for (guint s = 0; s < LIVE_GUEST_SLOTS; s++)
    last = MAX (last, slots[s]);
  return last;
}

/**
 * live_guest_records_are_cut:
 * @slots: from live_guest_read_records()
 * @last: (out): the newest record
 * @why: (out): what is wrong, when it is not a cut
 *
 * Whether @slots are the disk as it was at one instant of the writer's
 * sequence: right after record @last was written, each slot holds the
 * newest record up to @last that goes there (none if no record up to
 * @last does). A copy that caught one record but not an older one
 * (torn: a block copied before the guest wrote it, a later one after)
 * fails.
 *
 * Returns: whether they are
 */
gboolean
live_guest_records_are_cut (const guint64 *slots, guint64 *last, char **why)
{
  *last = 0;
  for (guint s = 0; s < LIVE_GUEST_SLOTS; s++)
    *last = MAX (*last, slots[s]);
  for (guint s = 0; s < LIVE_GUEST_SLOTS; s++)
    {
      /* the newest N <= last with (N - 1) % SLOTS == s */
      guint64 lap = (*last + LIVE_GUEST_SLOTS - 1 - s) % LIVE_GUEST_SLOTS;
      guint64 want = *last >= s + 1 ? *last - lap : 0;

      if (slots[s] != want)
        {
          *why = g_strdup_printf ("slot %u holds record %" G_GUINT64_FORMAT ", not %" G_GUINT64_FORMAT
                                  " as at the instant record %" G_GUINT64_FORMAT " was written",
                                  s, slots[s], want, *last);
          return FALSE;
        }
    }
  return TRUE;
}

/**
 * live_guest_start_writer:
 * @g: the fixture
 * @records: how many records to wait for
 *
 * Starts @g's source in writer mode and waits (LIVE_GUEST_BOOT_TIMEOUT_S
 * at most) until it has written @records records.
 */
void
live_guest_start_writer (const LiveGuest *g, guint64 records)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) LIVE_GUEST_BOOT_TIMEOUT_S * G_USEC_PER_SEC;

  live_guest_write_line (g->data_path, LIVE_GUEST_WRITER_OFFSET, LIVE_GUEST_WRITER_ON);
  live_guest_start (g->src);
  while (live_guest_last_record (g->data_path) < records)
    {
      if (g_get_monotonic_time () > deadline)
        {
          g_autofree char *log = console_path (g->src);
          g_autofree char *console = NULL;
          g_autofree char *tail = NULL;

          g_file_get_contents (log, &console, NULL, NULL);
          tail = tail_of (console);
          g_error ("'%s' wrote no %" G_GUINT64_FORMAT " records within %d s; its console ends with:\n%s",
                   g->src, records, LIVE_GUEST_BOOT_TIMEOUT_S, tail);
        }
      g_usleep (G_USEC_PER_SEC / 5);
    }
  g_test_message ("'%s' writes records: %.1f s after its start", g->src, seconds_since_start (g->src));
}

/**
 * live_guest_assert_one_instant:
 * @path: a copy of the writer guest's data disk (raw)
 * @least: the fewest records it must hold
 *
 * Fails the test unless @path holds one cut of the records
 * (live_guest_records_are_cut()), at least @least of them.
 *
 * Returns: the newest record in it
 */
guint64
live_guest_assert_one_instant (const char *path, guint64 least)
{
  g_autofree guint64 *slots = live_guest_read_records (path);
  g_autofree char *why = NULL;
  guint64 last = 0;

  if (!live_guest_records_are_cut (slots, &last, &why))
    g_error ("'%s' is not the disk at one instant: %s", path, why);
  g_assert_cmpuint (last, >=, least);
  return last;
}

/**
 * live_guest_add_full_disk:
 * @g: the fixture
 * @target: the new disk's target ("vdb")
 * @mib: its size in MiB, all of it data (no holes: a copy reads every
 *   byte, which takes seconds)
 *
 * Gives @g's source (shut off) a raw disk @target in its pool.
 */
void
live_guest_add_full_disk (const LiveGuest *g, const char *target, guint mib)
{
  g_autofree char *path = g_strdup_printf ("%s/%s-%s.raw", g->dir, g->src, target);
  g_autofree char *chunk = g_malloc (MiB);
  g_autofree char *xml = g_strdup_printf ("<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
                                          "<source file='%s'/><target dev='%s' bus='virtio'/></disk>",
                                          path, target);
  g_autoptr (DcDomain) src = virDomainLookupByName (live_conn, g->src);
  g_autoptr (DcPool) pool = virStoragePoolLookupByName (live_conn, g->pool);
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

  g_assert_cmpint (fd, >=, 0);
  memset (chunk, 0x5a, MiB);
  for (guint i = 0; i < mib; i++)
    g_assert_cmpint (write (fd, chunk, MiB), ==, (gssize) MiB);
  g_assert_cmpint (fdatasync (fd), ==, 0);
  g_assert_cmpint (close (fd), ==, 0);
  g_assert_cmpint (virStoragePoolRefresh (pool, 0), ==, 0);
  g_assert_cmpint (virDomainAttachDeviceFlags (src, xml, VIR_DOMAIN_AFFECT_CONFIG), ==, 0);
}

/* --- state and jobs ------------------------------------------------------ */

/**
 * live_guest_assert_goes_on:
 * @g: the fixture, its source in writer mode
 * @seen: a record it wrote
 *
 * Fails the test unless the source still runs, no job runs on it, and
 * its guest goes on writing after record @seen (within a minute).
 */
void
live_guest_assert_goes_on (const LiveGuest *g, guint64 seen)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  g_assert_cmpint (live_guest_state (live_conn, g->src), ==, VIR_DOMAIN_RUNNING);
  g_assert_cmpint (live_guest_job_type (live_conn, g->src, FALSE), ==, VIR_DOMAIN_JOB_NONE);
  while (live_guest_last_record (g->data_path) < seen + 10)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("'%s' stopped writing after record %" G_GUINT64_FORMAT, g->src, seen);
      g_usleep (G_USEC_PER_SEC / 5);
    }
}

/* The state of domain @name on @conn */
int
live_guest_state (virConnectPtr conn, const char *name)
{
  g_autoptr (DcDomain) dom = virDomainLookupByName (conn, name);
  int state = VIR_DOMAIN_NOSTATE;

  g_assert_nonnull (dom);
  g_assert_cmpint (virDomainGetState (dom, &state, NULL, 0), ==, 0);
  return state;
}

/* The type of the job running on @name (on @conn) now, or (@completed)
 * of the one that ended last */
int
live_guest_job_type (virConnectPtr conn, const char *name, gboolean completed)
{
  g_autoptr (DcDomain) dom = virDomainLookupByName (conn, name);
  virTypedParameterPtr params = NULL;
  int n = 0;
  int type = VIR_DOMAIN_JOB_NONE;

  g_assert_nonnull (dom);
  if (virDomainGetJobStats (dom, &type, &params, &n,
                            completed ? VIR_DOMAIN_JOB_STATS_COMPLETED | VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED
                                      : 0)
      < 0)
    g_error ("cannot read the %sjob of '%s': %s", completed ? "last " : "", name, virGetLastErrorMessage ());
  virTypedParamsFree (params, n);
  return type;
}

/* --- facts -------------------------------------------------------------- */

/**
 * live_guest_parse_facts:
 * @console: what the guest wrote on its serial console
 * @error: return location
 *
 * Reads the "DOMCLONE-FACT key=value" lines before "DOMCLONE-DONE" (a
 * later value of a key wins; kernel messages in between are ignored).
 *
 * Returns: (transfer full): key to value, or %NULL with @error set if the
 * guest never reported DOMCLONE-DONE
 */
GHashTable *
live_guest_parse_facts (const char *console, GError **error)
{
  g_autoptr (GHashTable) facts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_auto (GStrv) lines = g_strsplit (console, "\n", -1);
  static const char fact[] = "DOMCLONE-FACT ";

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strchomp (g_strdelimit (lines[i], "\r", ' '));
      char *at = strstr (line, fact);
      char *eq;

      if (g_str_has_suffix (line, "DOMCLONE-DONE"))
        return g_steal_pointer (&facts);
      if (at == NULL)
        continue;
      at += strlen (fact);
      eq = strchr (at, '=');
      if (eq == NULL || eq == at)
        continue;
      g_hash_table_insert (facts, g_strndup (at, eq - at), g_strdup (eq + 1));
    }
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT, "the guest never reported DOMCLONE-DONE");
  return NULL;
}

/**
 * live_guest_fact:
 * @facts: from live_guest_wait()
 * @key: a fact the guest must have reported
 *
 * Returns: its value; fails the test, showing the console, without it
 */
const char *
live_guest_fact (GHashTable *facts, const char *key)
{
  const char *value = g_hash_table_lookup (facts, key);

  if (value == NULL)
    g_error ("the guest reported no '%s'; its console ends with:\n%s", key,
             (const char *) g_hash_table_lookup (facts, " console"));
  return value;
}

/* --- domclone ----------------------------------------------------------- */

/**
 * live_guest_domclone_has_option:
 * @option: a long option, "--linked"
 *
 * Returns: whether domclone --help lists @option (a test written before
 * its feature landed can skip until then)
 */
gboolean
live_guest_domclone_has_option (const char *option)
{
  g_autofree char *out = NULL;
  g_autofree char *escaped = g_regex_escape_string (option, -1);
  g_autofree char *pattern = g_strdup_printf ("\\s%s[\\s=]", escaped);
  int status = dc_test_domclone (&out, NULL, "--help", NULL);

  g_assert_cmpint (status, ==, 0);
  return g_regex_match_simple (pattern, out, 0, 0);
}
