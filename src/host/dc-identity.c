/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-identity.c: a new identity inside a clone's own disks, through the
 * libguestfs C API (libguestfs-dev): one appliance per clone, all its
 * disks in it, each with the format its domain XML names (never a
 * probe). The guest is inspected; every Linux root gets an empty
 * machine-id, no SSH host keys (and a systemd unit that makes new ones
 * at first boot), no DHCP leases, no persistent net rules, no hardware
 * addresses in its interface files, and the clone's host name. Logs,
 * users and everything else stay: a clone, not a template wipe.
 *
 * The C API rather than virt-sysprep: one process and one launch whose
 * every step reports its own error (which disk, which file), inspection
 * results at hand to refuse a Windows guest by name, the format passed
 * in rather than probed, exactly these changes and nothing else, and no
 * dependency on libguestfs-tools (perl, the customize machinery).
 */
#include "config.h"

#include "dc-identity.h"
#include "dc-lazy.h"

#include <guestfs.h>
#include <string.h>
#include <sys/random.h>

typedef guestfs_h DcGuestfs;
static void
dc_guestfs_close (DcGuestfs *g)
{
  guestfs_close (g);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcGuestfs, dc_guestfs_close)

/* NULL-terminated string lists libguestfs returns */
static void
dc_guestfs_strv_free (char **list)
{
  for (char **p = list; p != NULL && *p != NULL; p++)
    free (*p);
  free (list);
}
typedef char *DcGuestfsStrv;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcGuestfsStrv, dc_guestfs_strv_free)

/* One clone's appliance while it is reset */
typedef struct
{
  guestfs_h *g;
  DcReset *reset;
  const char *clone;
} DcGuest;

/* Sets @error to "@what: libguestfs's last error"; returns FALSE */
static gboolean
dc_guest_error (const DcGuest *guest, GError **error, const char *what)
{
  const char *why = guestfs_last_error (guest->g);

  g_set_error (error, DC_ERROR, DC_ERROR_IDENTITY, "cannot reset the identity of '%s': %s: %s", guest->clone,
               what, why ? why : "libguestfs gives no reason");
  return FALSE;
}

/* "disk 'vda' ('/path')", or every disk when @index is out of range */
static char *
dc_guest_disks_named (const DcGuest *guest, int index)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < guest->reset->disks->len; i++)
    {
      const DcResetDisk *d = guest->reset->disks->pdata[i];

      if (index >= 0 && (guint) index < guest->reset->disks->len && (guint) index != i)
        continue;
      if (out->len > 0)
        g_string_append (out, ", ");
      g_string_append_printf (out, "disk '%s' ('%s')", d->target, d->path);
    }
  return g_string_free (out, FALSE);
}

/* The disk (index in the reset's list) that holds file system @dev, -1
 * when libguestfs cannot say (a volume group over several) */
static int
dc_guest_disk_index (const DcGuest *guest, const char *dev)
{
  g_autofree char *whole = NULL;
  char *parent = guestfs_part_to_dev (guest->g, dev);

  whole = parent ? g_strdup (parent) : g_strdup (dev);
  free (parent);
  return guestfs_device_index (guest->g, whole);
}

static gboolean
dc_guest_launch (DcGuest *guest, GError **error)
{
  for (guint i = 0; i < guest->reset->disks->len; i++)
    {
      const DcResetDisk *d = guest->reset->disks->pdata[i];

      if (guestfs_add_drive_opts (guest->g, d->path, GUESTFS_ADD_DRIVE_OPTS_FORMAT, d->format, -1) < 0)
        {
          g_autofree char *what = g_strdup_printf ("cannot open disk '%s' ('%s')", d->target, d->path);
          return dc_guest_error (guest, error, what);
        }
    }
  g_info ("%s: starting the libguestfs appliance for --reset-identity", guest->clone);
  if (guestfs_launch (guest->g) < 0)
    return dc_guest_error (guest, error, "libguestfs cannot start its appliance");
  return TRUE;
}

static int
dc_mountpoint_cmp (gconstpointer a, gconstpointer b)
{
  return (int) strlen (*(char *const *) a) - (int) strlen (*(char *const *) b);
}

/* Mounts the file systems of @root where the guest mounts them, the
 * shortest mount point (/) first */
static gboolean
dc_guest_mount (DcGuest *guest, const char *root, GError **error)
{
  g_autoptr (DcGuestfsStrv) pairs = guestfs_inspect_get_mountpoints (guest->g, root);
  g_autoptr (GPtrArray) points = g_ptr_array_new ();

  if (pairs == NULL)
    return dc_guest_error (guest, error, "cannot read the guest's mount points");
  for (char **p = pairs; p[0] != NULL && p[1] != NULL; p += 2)
    g_ptr_array_add (points, p);
  g_ptr_array_sort (points, dc_mountpoint_cmp);
  for (guint i = 0; i < points->len; i++)
    {
      char **pair = points->pdata[i];

      if (guestfs_mount (guest->g, pair[1], pair[0]) == 0)
        continue;
      if (g_str_equal (pair[0], "/"))
        return dc_guest_error (guest, error, "cannot mount the guest's root file system");
      g_debug ("%s: cannot mount '%s' on '%s': %s", guest->clone, pair[1], pair[0],
               guestfs_last_error (guest->g));
    }
  return TRUE;
}

/* Whether @path is a regular file in the guest (a symbolic link is not) */
static gboolean
dc_guest_is_file (const DcGuest *guest, const char *path)
{
  return guestfs_is_file_opts (guest->g, path, GUESTFS_IS_FILE_OPTS_FOLLOWSYMLINKS, 0, -1) == 1;
}

/* Removes (or with @empty, empties) every regular file @pattern
 * matches, each listed in the report */
static gboolean
dc_guest_clear_glob (DcGuest *guest, const char *pattern, gboolean empty, GError **error)
{
  g_autoptr (DcGuestfsStrv) files = guestfs_glob_expand (guest->g, pattern);

  if (files == NULL)
    return dc_guest_error (guest, error, "cannot list the guest's files");
  for (char **f = files; *f != NULL; f++)
    {
      if (!dc_guest_is_file (guest, *f))
        continue;
      if ((empty ? guestfs_truncate (guest->g, *f) : guestfs_rm (guest->g, *f)) < 0)
        {
          g_autofree char *what = g_strdup_printf ("cannot %s '%s'", empty ? "empty" : "remove", *f);
          return dc_guest_error (guest, error, what);
        }
      g_ptr_array_add (empty ? guest->reset->emptied : guest->reset->removed, g_strdup (*f));
    }
  return TRUE;
}

static gboolean
dc_guest_remove_glob (DcGuest *guest, const char *pattern, GError **error)
{
  return dc_guest_clear_glob (guest, pattern, FALSE, error);
}

static gboolean
dc_guest_empty_glob (DcGuest *guest, const char *pattern, GError **error)
{
  return dc_guest_clear_glob (guest, pattern, TRUE, error);
}

/* Writes @len bytes of @content to @path (an existing file keeps its
 * owner and mode), listed in the report */
static gboolean
dc_guest_write (DcGuest *guest, const char *path, const char *content, size_t len, GError **error)
{
  if (guestfs_write (guest->g, path, content, len) < 0)
    {
      g_autofree char *what = g_strdup_printf ("cannot write '%s'", path);
      return dc_guest_error (guest, error, what);
    }
  g_ptr_array_add (guest->reset->written, g_strdup (path));
  return TRUE;
}

/* Client state is removed; a DHCP server's lease files are emptied
 * (ISC dhcpd will not start without its file). systemd-networkd keeps
 * its leases in /run, which no disk holds. */
static const char *const dc_client_leases[] = {
  "/var/lib/dhcp/dhclient*",
  "/var/lib/dhclient/*",
  "/var/lib/dhcp3/dhclient*",
  "/var/lib/dhcpcd/*.lease*",
  "/var/lib/dhcpcd5/*.lease*",
  "/var/lib/NetworkManager/*.lease",
  "/var/lib/NetworkManager/dhclient-*",
};
static const char *const dc_server_leases[] = {
  "/var/lib/dhcp/dhcpd*.leases*",
  "/var/lib/dhcpd/dhcpd*.leases*",
  "/var/lib/misc/dnsmasq*.leases",
};

static gboolean
dc_guest_reset_leases (DcGuest *guest, GError **error)
{
  for (size_t i = 0; i < G_N_ELEMENTS (dc_client_leases); i++)
    if (!dc_guest_remove_glob (guest, dc_client_leases[i], error))
      return FALSE;
  for (size_t i = 0; i < G_N_ELEMENTS (dc_server_leases); i++)
    if (!dc_guest_empty_glob (guest, dc_server_leases[i], error))
      return FALSE;
  return dc_guest_remove_glob (guest, "/etc/udev/rules.d/70-persistent-net.rules", error);
}

/* Interface files and the key (first word, or text before '=') of the
 * lines that pin a hardware address there */
static const struct
{
  const char *pattern;
  const char *key;
} dc_hwaddr_lines[] = {
  { "/etc/network/interfaces", "hwaddress" },
  { "/etc/network/interfaces.d/*", "hwaddress" },
  { "/etc/sysconfig/network-scripts/ifcfg-*", "HWADDR" },
  { "/etc/NetworkManager/system-connections/*", "mac-address" },
};

/* Whether @line sets @key: "  hwaddress ether ...", "HWADDR=..." */
static gboolean
dc_line_sets (const char *line, const char *key)
{
  size_t n = strlen (key);

  while (*line == ' ' || *line == '\t')
    line++;
  return strncmp (line, key, n) == 0 && (line[n] == ' ' || line[n] == '\t' || line[n] == '=');
}

/* @path without the lines that set @key, written back if it changed */
static gboolean
dc_guest_drop_lines (DcGuest *guest, const char *path, const char *key, GError **error)
{
  size_t len = 0;
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  gboolean dropped = FALSE;
  char *raw = guestfs_read_file (guest->g, path, &len);

  if (raw == NULL)
    {
      g_autofree char *what = g_strdup_printf ("cannot read '%s'", path);
      return dc_guest_error (guest, error, what);
    }
  text = g_strndup (raw, len);
  free (raw);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (dc_line_sets (lines[i], key))
        {
          dropped = TRUE;
          continue;
        }
      g_string_append (out, lines[i]);
      if (lines[i + 1] != NULL)
        g_string_append_c (out, '\n');
    }
  return !dropped || dc_guest_write (guest, path, out->str, out->len, error);
}

static gboolean
dc_guest_reset_hwaddr (DcGuest *guest, GError **error)
{
  for (size_t i = 0; i < G_N_ELEMENTS (dc_hwaddr_lines); i++)
    {
      g_autoptr (DcGuestfsStrv) files = guestfs_glob_expand (guest->g, dc_hwaddr_lines[i].pattern);

      if (files == NULL)
        return dc_guest_error (guest, error, "cannot list the guest's files");
      for (char **f = files; *f != NULL; f++)
        if (dc_guest_is_file (guest, *f) && !dc_guest_drop_lines (guest, *f, dc_hwaddr_lines[i].key, error))
          return FALSE;
    }
  return TRUE;
}

/* @line of /etc/hosts with each word @old (or @old.DOMAIN) made @new;
 * spaces and comments kept as they are */
static void
dc_hosts_line (GString *out, const char *line, const char *old, const char *new)
{
  size_t n = strlen (old);
  const char *p = line;
  gboolean address = TRUE; /* the first word */

  while (*p != '\0')
    {
      size_t word;

      if (*p == '#')
        {
          g_string_append (out, p);
          return;
        }
      if (*p == ' ' || *p == '\t')
        {
          g_string_append_c (out, *p++);
          continue;
        }
      word = strcspn (p, " \t#");
      if (!address && word >= n && strncmp (p, old, n) == 0 && (word == n || p[n] == '.'))
        {
          g_string_append (out, new);
          g_string_append_len (out, p + n, (gssize) (word - n));
        }
      else
        g_string_append_len (out, p, (gssize) word);
      p += word;
      address = FALSE;
    }
}

/* /etc/hostname says @new; /etc/hosts names @new where it named @old */
static gboolean
dc_guest_reset_hostname (DcGuest *guest, const char *old, GError **error)
{
  const char *new = guest->reset->hostname;
  g_autofree char *line = g_strdup_printf ("%s\n", new);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  size_t len = 0;
  char *raw;

  if (!dc_guest_write (guest, "/etc/hostname", line, strlen (line), error))
    return FALSE;
  if (old == NULL || g_str_equal (old, "unknown") || g_str_equal (old, new)
      || !dc_guest_is_file (guest, "/etc/hosts"))
    return TRUE;
  raw = guestfs_read_file (guest->g, "/etc/hosts", &len);
  if (raw == NULL)
    return dc_guest_error (guest, error, "cannot read '/etc/hosts'");
  text = g_strndup (raw, len);
  free (raw);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      dc_hosts_line (out, lines[i], old, new);
      if (lines[i + 1] != NULL)
        g_string_append_c (out, '\n');
    }
  if (g_str_equal (out->str, text))
    return TRUE;
  return dc_guest_write (guest, "/etc/hosts", out->str, out->len, error);
}

/* The unit that makes the SSH host keys at the clone's first boot: it
 * runs while none is there, before sshd (plain or socket-activated) */
static const char dc_keys_unit[] =
  "[Unit]\n"
  "Description=New SSH host keys for this clone (domclone --reset-identity)\n"
  "ConditionPathExistsGlob=!/etc/ssh/ssh_host_*_key\n"
  "Before=ssh.service sshd.service ssh.socket sshd.socket\n"
  "\n"
  "[Service]\n"
  "Type=oneshot\n"
  "ExecStart=%s -A\n"
  "StandardOutput=journal+console\n"
  "\n"
  "[Install]\n"
  "WantedBy=multi-user.target\n";

/* The guest's ssh-keygen, if it has systemd to run it at first boot */
static const char *
dc_guest_keygen (const DcGuest *guest)
{
  static const char *const keygens[] = { "/usr/bin/ssh-keygen", "/bin/ssh-keygen" };

  if (guestfs_is_dir (guest->g, "/etc/systemd/system") != 1)
    return NULL;
  for (size_t i = 0; i < G_N_ELEMENTS (keygens); i++)
    if (guestfs_is_file_opts (guest->g, keygens[i], GUESTFS_IS_FILE_OPTS_FOLLOWSYMLINKS, 1, -1) == 1)
      return keygens[i];
  return NULL;
}

/* The SSH host keys go; the unit that makes new ones comes, enabled */
static gboolean
dc_guest_reset_keys (DcGuest *guest, const char *keygen, GError **error)
{
  const char *unit = "/etc/systemd/system/" DC_IDENTITY_KEYS_UNIT;
  const char *wants = "/etc/systemd/system/multi-user.target.wants";
  g_autofree char *link = g_build_filename (wants, DC_IDENTITY_KEYS_UNIT, NULL);
  g_autofree char *text = NULL;
  guint before = guest->reset->removed->len;

  if (!dc_guest_remove_glob (guest, "/etc/ssh/ssh_host_*", error))
    return FALSE;
  if (guest->reset->removed->len == before)
    return TRUE; /* no keys: sshd is not set up, nothing to make */
  text = g_strdup_printf (dc_keys_unit, keygen);
  if (!dc_guest_write (guest, unit, text, strlen (text), error))
    return FALSE;
  if (guestfs_chmod (guest->g, 0644, unit) < 0 || guestfs_mkdir_p (guest->g, wants) < 0
      || guestfs_ln_sf (guest->g, unit, link) < 0)
    return dc_guest_error (guest, error, "cannot enable the unit that makes new SSH host keys");
  g_ptr_array_add (guest->reset->written, g_steal_pointer (&link));
  return TRUE;
}

/* An empty /etc/machine-id: systemd makes a new one at first boot (and
 * D-Bus's own copy, where it is a file and not a link to it, goes) */
static gboolean
dc_guest_reset_machine_id (DcGuest *guest, GError **error)
{
  return dc_guest_empty_glob (guest, "/etc/machine-id", error)
         && dc_guest_remove_glob (guest, "/var/lib/dbus/machine-id", error);
}

/* systemd's random seed, shared, would start both guests' entropy pools
 * alike: new random bytes */
static gboolean
dc_guest_reset_random_seed (DcGuest *guest, GError **error)
{
  const char *path = "/var/lib/systemd/random-seed";
  guint8 seed[512];

  if (!dc_guest_is_file (guest, path))
    return TRUE;
  if (getrandom (seed, sizeof (seed), 0) != (ssize_t) sizeof (seed))
    for (gsize i = 0; i < sizeof (seed); i++)
      seed[i] = (guint8) g_random_int_range (0, 256);
  return dc_guest_write (guest, path, (const char *) seed, sizeof (seed), error);
}

/* Refuses a root that is not Linux, naming its disk, before anything of
 * it is mounted */
static gboolean
dc_guest_check_linux (DcGuest *guest, const char *root, GError **error)
{
  g_autofree char *type = guestfs_inspect_get_type (guest->g, root);
  g_autofree char *disks = NULL;

  if (type != NULL && g_str_equal (type, "linux"))
    return TRUE;
  disks = dc_guest_disks_named (guest, dc_guest_disk_index (guest, root));
  g_set_error (
    error, DC_ERROR, DC_ERROR_IDENTITY,
    "cannot reset the identity of '%s': %s holds a %s system; --reset-identity knows Linux guests only",
    guest->clone, disks, type ? type : "unknown");
  return FALSE;
}

/* Refuses a mounted root whose SSH host keys could not be made anew at
 * first boot, naming its disk; *@keygen is the guest's */
static gboolean
dc_guest_check_root (DcGuest *guest, const char *root, const char **keygen, GError **error)
{
  g_autofree char *disks = dc_guest_disks_named (guest, dc_guest_disk_index (guest, root));
  g_autoptr (DcGuestfsStrv) keys = NULL;

  *keygen = dc_guest_keygen (guest);
  keys = guestfs_glob_expand (guest->g, "/etc/ssh/ssh_host_*_key");
  if (*keygen == NULL && keys != NULL && keys[0] != NULL)
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_IDENTITY,
        "cannot reset the identity of '%s': the Linux system on %s has SSH host keys but no systemd and ssh-keygen to make new ones at first boot",
        guest->clone, disks);
      return FALSE;
    }
  return TRUE;
}

/* Resets the identity of the Linux system whose root is @root */
static gboolean
dc_guest_reset_root (DcGuest *guest, const char *root, GError **error)
{
  g_autofree char *old = NULL;
  g_autofree char *product = NULL;
  g_autofree char *distro = NULL;
  const char *keygen = NULL;

  if (!dc_guest_check_linux (guest, root, error) || !dc_guest_mount (guest, root, error)
      || !dc_guest_check_root (guest, root, &keygen, error))
    return FALSE;
  old = guestfs_inspect_get_hostname (guest->g, root);
  distro = guestfs_inspect_get_distro (guest->g, root);
  product = guestfs_inspect_get_product_name (guest->g, root);
  /* "debian 12.5": Debian's product name is its version alone */
  if (guest->reset->os == NULL)
    guest->reset->os = g_strdup_printf ("%s %s", distro ? distro : "linux", product ? product : "");
  g_strchomp (guest->reset->os);
  g_info ("%s: resetting the identity of %s (root '%s', host name '%s')", guest->clone,
          product ? product : "a Linux system", root, old ? old : "unknown");
  if (!dc_guest_reset_machine_id (guest, error) || !dc_guest_reset_keys (guest, keygen, error)
      || !dc_guest_reset_leases (guest, error) || !dc_guest_reset_hwaddr (guest, error)
      || !dc_guest_reset_hostname (guest, old, error) || !dc_guest_reset_random_seed (guest, error))
    return FALSE;
  if (guestfs_umount_all (guest->g) < 0)
    return dc_guest_error (guest, error, "cannot unmount the guest's file systems");
  return TRUE;
}

/* Inspects the launched appliance: every root it finds is reset */
static gboolean
dc_guest_reset_all (DcGuest *guest, GError **error)
{
  g_autoptr (DcGuestfsStrv) roots = guestfs_inspect_os (guest->g);

  if (roots == NULL)
    return dc_guest_error (guest, error, "libguestfs cannot inspect its disks");
  if (roots[0] == NULL)
    {
      g_autofree char *disks = dc_guest_disks_named (guest, -1);

      g_set_error (error, DC_ERROR, DC_ERROR_IDENTITY,
                   "cannot reset the identity of '%s': libguestfs finds no operating system on %s",
                   guest->clone, disks);
      return FALSE;
    }
  for (char **r = roots; *r != NULL; r++)
    if (!dc_guest_reset_root (guest, *r, error))
      return FALSE;
  return TRUE;
}

/**
 * dc_identity_reset:
 * @reset: the disks to reset (dc_reset_plan()); what was done is added
 *   to its lists, and @done set when all of it was
 * @clone: the clone's name, for messages
 * @error: return location (DC_ERROR_IDENTITY naming the disk)
 *
 * Gives the Linux systems on the clone's disks a new identity inside,
 * through one libguestfs appliance (LIBGUESTFS_BACKEND and the like
 * choose how it runs). The disks must be files this process may open.
 *
 * Returns: %FALSE with @error set when the disks could not be reset
 * (some of them may then be changed: the caller removes or keeps them)
 */
gboolean
dc_identity_reset (DcReset *reset, const char *clone, GError **error)
{
  g_autoptr (DcGuestfs) g = NULL;
  DcGuest guest = { .reset = reset, .clone = clone };
  gint64 start = g_get_monotonic_time ();

  if (!dc_lazy_load (DC_LAZY_GUESTFS, error))
    {
      g_prefix_error (error, "cannot reset the identity of '%s': ", clone);
      return FALSE;
    }
  g = guestfs_create ();
  guest.g = g;
  if (g == NULL)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_IDENTITY,
                   "cannot reset the identity of '%s': cannot create a libguestfs handle", clone);
      return FALSE;
    }
  guestfs_set_error_handler (g, NULL, NULL);
  guestfs_set_identifier (g, clone);
  if (!dc_guest_launch (&guest, error) || !dc_guest_reset_all (&guest, error))
    return FALSE;
  /* the writes reach the disks when the appliance ends cleanly */
  if (guestfs_shutdown (g) < 0)
    return dc_guest_error (&guest, error, "libguestfs cannot write the changes to the disks");
  reset->done = TRUE;
  g_info ("%s: identity reset in %.1f s", clone, (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC);
  return TRUE;
}
