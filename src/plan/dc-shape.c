/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-shape.c: a clone shaped on the way. The command line's values
 * (--memory, --vcpus, --resize, --disk, --format) read into a DcShape,
 * and the rules the planner applies with it to the clone's XML: pure,
 * text in, text out. What libvirt would refuse is refused here, as a
 * usage error (exit 2), before anything is made.
 */
#include "config.h"

#include "dc-shape.h"

#include <string.h>

/* libvirt's ceiling for a memory size, in KiB
 * (VIR_DOMAIN_MEMORY_PARAM_UNLIMITED) */
#define DC_SHAPE_MAX_MEMORY_KIB G_GUINT64_CONSTANT (9007199254740991)

/* @bytes for a message, in ASCII whatever the locale (GLib's
 * g_format_size puts a no-break space in): "32 MiB", "1.5 GiB" */
static char *
dc_shape_size_text (guint64 bytes)
{
  static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
  int u = -1;

  for (int i = 0; i < (int) G_N_ELEMENTS (units); i++)
    if (bytes >= (G_GUINT64_CONSTANT (1024) << (10 * i)))
      u = i;
  if (u < 0)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " bytes", bytes);
  if (bytes % (G_GUINT64_CONSTANT (1024) << (10 * u)) == 0)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " %s", bytes >> (10 * (u + 1)), units[u]);
  return g_strdup_printf ("%.1f %s", (double) bytes / (double) (G_GUINT64_CONSTANT (1024) << (10 * u)),
                          units[u]);
}

static void
dc_shape_disk_free (DcShapeDisk *disk)
{
  g_free (disk->target);
  g_free (disk);
}

void
dc_shape_free (DcShape *shape)
{
  if (shape == NULL)
    return;
  g_free (shape->format);
  g_clear_pointer (&shape->disks, g_ptr_array_unref);
  g_free (shape);
}

/* The multiplier of unit @unit as libvirt reads it (virScaleInteger):
 * b/bytes, K/KiB/k 1024, KB 1000, and so on up to E; 0 if unknown. */
static guint64
dc_shape_unit_scale (const char *unit)
{
  static const char letters[] = "KMGTPE";
  const char *at;
  guint64 scale = 1;
  guint64 base;

  if (unit == NULL || unit[0] == '\0')
    return 1024; /* libvirt's default is KiB */
  if (g_ascii_strcasecmp (unit, "b") == 0 || g_ascii_strcasecmp (unit, "bytes") == 0)
    return 1;
  at = strchr (letters, g_ascii_toupper (unit[0]));
  if (at == NULL || unit[0] == '\0')
    return 0;
  if (unit[1] == '\0' || g_ascii_strcasecmp (unit + 1, "iB") == 0)
    base = 1024;
  else if (g_ascii_strcasecmp (unit + 1, "B") == 0)
    base = 1000;
  else
    return 0;
  for (const char *l = letters; l <= at; l++)
    scale *= base;
  return scale;
}

/**
 * dc_shape_libvirt_size:
 * @value: a number as libvirt's XML holds it (<memory>, <cell memory>)
 * @unit: (nullable): its unit attribute, KiB when %NULL
 * @bytes: (out): the size in bytes
 *
 * Returns: %FALSE if @value or @unit is not one libvirt reads, or the
 * size overflows
 */
gboolean
dc_shape_libvirt_size (const char *value, const char *unit, guint64 *bytes)
{
  guint64 n;
  guint64 scale = dc_shape_unit_scale (unit);

  if (value == NULL || scale == 0 || !g_ascii_string_to_unsigned (value, 10, 0, G_MAXUINT64, &n, NULL))
    return FALSE;
  if (n > G_MAXUINT64 / scale)
    return FALSE;
  *bytes = n * scale;
  return TRUE;
}

/**
 * dc_shape_parse_size:
 * @text: what the user gave: a whole number with an optional unit K, M,
 *   G or T (KiB ... TiB, powers of 1024); a bare number is MiB, as
 *   virt-install reads it; "+" in front if @relative_ok
 * @option: the option, for the message ("--memory")
 * @relative_ok: whether "+SIZE" is allowed
 * @bytes: (out): the size in bytes, never 0
 * @relative: (out) (optional): whether it began with "+"
 * @error: DC_ERROR_USAGE
 *
 * Returns: %TRUE if @text is a size
 */
gboolean
dc_shape_parse_size (const char *text, const char *option, gboolean relative_ok, guint64 *bytes,
                     gboolean *relative, GError **error)
{
  static const char *const units[] = { "K", "M", "G", "T" };
  const char *p = text;
  const char *end;
  g_autofree char *digits = NULL;
  guint64 n, scale = 0;
  gboolean plus = FALSE;

  if (relative_ok && *p == '+')
    plus = TRUE, p++;
  for (end = p; g_ascii_isdigit (*end); end++)
    ;
  digits = g_strndup (p, end - p);
  if (*end == '\0')
    scale = 1024 * 1024;
  for (size_t i = 0; i < G_N_ELEMENTS (units) && scale == 0; i++)
    if (g_ascii_toupper (*end) == units[i][0]
        && (end[1] == '\0' || g_str_equal (end + 1, "iB") || g_str_equal (end + 1, "ib")))
      scale = G_GUINT64_CONSTANT (1024) << (10 * i);
  if (scale == 0 || digits[0] == '\0' || !g_ascii_string_to_unsigned (digits, 10, 1, G_MAXUINT64, &n, NULL)
      || n > G_MAXUINT64 / scale)
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_USAGE,
        "invalid %s '%s': give a whole number above 0 with an optional unit K, M, G or T (a bare number is MiB)%s",
        option, text, relative_ok ? ", or +SIZE to add to the current size" : "");
      return FALSE;
    }
  *bytes = n * scale;
  if (relative != NULL)
    *relative = plus;
  return TRUE;
}

const char *
dc_shape_action_name (DcDiskAction action)
{
  switch (action)
    {
    case DC_DISK_COPY:
      return "copy";
    case DC_DISK_SHARE:
      return "share";
    case DC_DISK_SKIP:
      return "skip";
    case DC_DISK_DEFAULT:
    default:
      return "default";
    }
}

/* The entry for @target, made if @shape has none */
static DcShapeDisk *
dc_shape_disk_get (DcShape *shape, const char *target)
{
  DcShapeDisk *disk = (DcShapeDisk *) dc_shape_disk (shape, target);

  if (disk != NULL)
    return disk;
  disk = g_new0 (DcShapeDisk, 1);
  disk->target = g_strdup (target);
  g_ptr_array_add (shape->disks, disk);
  return disk;
}

/* Splits "TARGET=VALUE" of @option; a target is what libvirt takes in
 * <target dev> (vda, sdb, hdc, fda, nvme0n1) */
static gboolean
dc_shape_split (const char *arg, const char *option, const char *form, char **target, const char **value,
                GError **error)
{
  const char *eq = strchr (arg, '=');

  if (eq != NULL && eq != arg)
    {
      gboolean ok = TRUE;

      for (const char *c = arg; c < eq; c++)
        ok = ok && (g_ascii_isalnum (*c) || *c == '_' || *c == '-' || *c == '.');
      if (ok)
        *target = g_strndup (arg, eq - arg);
    }
  if (eq == NULL || eq == arg || *target == NULL)
    {
      g_autofree char *shown = g_strescape (arg, NULL);

      g_set_error (error, DC_ERROR, DC_ERROR_USAGE, "invalid %s '%s': give %s, e.g. vdb=%s", option, shown,
                   form, g_str_equal (option, "--disk") ? "skip" : "20G");
      return FALSE;
    }
  *value = eq + 1;
  return TRUE;
}

static gboolean
dc_shape_add_disk (DcShape *shape, const char *arg, GError **error)
{
  static const char *const names[] = { "copy", "share", "skip" };
  static const DcDiskAction actions[] = { DC_DISK_COPY, DC_DISK_SHARE, DC_DISK_SKIP };
  g_autofree char *target = NULL;
  const char *value;
  DcShapeDisk *disk;

  if (!dc_shape_split (arg, "--disk", "TARGET=copy|share|skip", &target, &value, error))
    return FALSE;
  disk = dc_shape_disk_get (shape, target);
  if (disk->action != DC_DISK_DEFAULT)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_USAGE, "--disk names disk '%s' twice: give it once", target);
      return FALSE;
    }
  for (size_t i = 0; i < G_N_ELEMENTS (names); i++)
    if (g_str_equal (value, names[i]))
      disk->action = actions[i];
  if (disk->action == DC_DISK_DEFAULT)
    {
      g_autofree char *shown = g_strescape (value, NULL);

      g_set_error (error, DC_ERROR, DC_ERROR_USAGE, "invalid --disk %s='%s': give copy, share or skip",
                   target, shown);
      return FALSE;
    }
  return TRUE;
}

static gboolean
dc_shape_add_resize (DcShape *shape, const char *arg, GError **error)
{
  g_autofree char *target = NULL;
  g_autofree char *option = NULL;
  const char *value;
  DcShapeDisk *disk;

  if (!dc_shape_split (arg, "--resize", "TARGET=SIZE or TARGET=+SIZE", &target, &value, error))
    return FALSE;
  disk = dc_shape_disk_get (shape, target);
  if (disk->resize != 0)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_USAGE, "--resize names disk '%s' twice: give it once", target);
      return FALSE;
    }
  option = g_strdup_printf ("--resize %s", target);
  return dc_shape_parse_size (value, option, TRUE, &disk->resize, &disk->relative, error);
}

/* Every resized disk is copied: one --disk leaves out or shares is not */
static gboolean
dc_shape_check_disks (const DcShape *shape, GError **error)
{
  for (guint i = 0; i < shape->disks->len; i++)
    {
      const DcShapeDisk *d = shape->disks->pdata[i];

      if (d->resize != 0 && (d->action == DC_DISK_SHARE || d->action == DC_DISK_SKIP))
        {
          g_set_error (error, DC_ERROR, DC_ERROR_USAGE,
                       "--resize %s and --disk %s=%s do not go together: only a copied disk is resized",
                       d->target, d->target, dc_shape_action_name (d->action));
          return FALSE;
        }
    }
  return TRUE;
}

/**
 * dc_shape_new:
 * @memory: (nullable): --memory
 * @vcpus: (nullable): --vcpus
 * @resize: (nullable): the --resize values, TARGET=SIZE
 * @disk: (nullable): the --disk values, TARGET=copy|share|skip
 * @format: (nullable): --format
 * @error: DC_ERROR_USAGE
 *
 * Returns: (transfer full) (nullable): the shape; %NULL with @error set
 * for a bad value, %NULL without when nothing was given
 */
DcShape *
dc_shape_new (const char *memory, const char *vcpus, const char *const *resize, const char *const *disk,
              const char *format, GError **error)
{
  g_autoptr (DcShape) shape = NULL;

  guint64 n = 0;

  if (memory == NULL && vcpus == NULL && resize == NULL && disk == NULL && format == NULL)
    return NULL;
  shape = g_new0 (DcShape, 1);
  shape->disks = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_shape_disk_free);
  if (memory != NULL && !dc_shape_parse_size (memory, "--memory", FALSE, &shape->memory, NULL, error))
    return NULL;
  if (shape->memory / 1024 > DC_SHAPE_MAX_MEMORY_KIB)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_USAGE,
                   "invalid --memory '%s': libvirt takes at most %" G_GUINT64_FORMAT " KiB", memory,
                   DC_SHAPE_MAX_MEMORY_KIB);
      return NULL;
    }
  if (vcpus != NULL && !g_ascii_string_to_unsigned (vcpus, 10, 1, DC_SHAPE_MAX_VCPUS, &n, NULL))
    {
      g_autofree char *shown = g_strescape (vcpus, NULL);

      g_set_error (error, DC_ERROR, DC_ERROR_USAGE, "invalid --vcpus '%s': give a number from 1 to %d", shown,
                   DC_SHAPE_MAX_VCPUS);
      return NULL;
    }
  shape->vcpus = (guint) n;
  if (format != NULL && !g_str_equal (format, "raw") && !g_str_equal (format, "qcow2"))
    {
      g_autofree char *shown = g_strescape (format, NULL);

      g_set_error (error, DC_ERROR, DC_ERROR_USAGE, "invalid --format '%s': give raw or qcow2", shown);
      return NULL;
    }
  shape->format = g_strdup (format);
  for (guint i = 0; disk != NULL && disk[i] != NULL; i++)
    if (!dc_shape_add_disk (shape, disk[i], error))
      return NULL;
  for (guint i = 0; resize != NULL && resize[i] != NULL; i++)
    if (!dc_shape_add_resize (shape, resize[i], error))
      return NULL;
  if (!dc_shape_check_disks (shape, error))
    return NULL;
  return g_steal_pointer (&shape);
}

/**
 * dc_shape_disk:
 * @shape: (nullable): a shape
 * @target: (nullable): a disk's target
 *
 * Returns: (transfer none) (nullable): what @shape says of @target
 */
const DcShapeDisk *
dc_shape_disk (const DcShape *shape, const char *target)
{
  for (guint i = 0; shape != NULL && target != NULL && i < shape->disks->len; i++)
    if (g_str_equal (((const DcShapeDisk *) shape->disks->pdata[i])->target, target))
      return shape->disks->pdata[i];
  return NULL;
}

/**
 * dc_shape_check_targets:
 * @shape: (nullable): a shape
 * @ctxt: the source's XML
 * @error: DC_ERROR_USAGE
 *
 * Returns: %TRUE if every disk @shape names is a disk of the source
 */
gboolean
dc_shape_check_targets (const DcShape *shape, xmlXPathContext *ctxt, GError **error)
{
  g_autoptr (GPtrArray) targets = dc_xml_nodes (ctxt, NULL, "/domain/devices/disk/target/@dev");
  g_autoptr (GString) known = g_string_new (NULL);

  for (guint i = 0; i < targets->len; i++)
    {
      g_autoptr (DcXmlChar) dev = xmlNodeGetContent (targets->pdata[i]);

      g_string_append_printf (known, "%s'%s'", i > 0 ? ", " : "", (const char *) dev);
    }
  for (guint i = 0; shape != NULL && i < shape->disks->len; i++)
    {
      const DcShapeDisk *d = shape->disks->pdata[i];
      gboolean found = FALSE;

      for (guint j = 0; j < targets->len && !found; j++)
        {
          g_autoptr (DcXmlChar) dev = xmlNodeGetContent (targets->pdata[j]);

          found = g_strcmp0 ((const char *) dev, d->target) == 0;
        }
      if (!found)
        {
          g_set_error (error, DC_ERROR, DC_ERROR_USAGE, "%s %s: the source has no disk '%s' (its disks: %s)",
                       d->action != DC_DISK_DEFAULT ? "--disk" : "--resize", d->target, d->target,
                       known->len > 0 ? known->str : "none");
          return FALSE;
        }
    }
  return TRUE;
}

/* The size of libvirt element @node (<memory>, <maxMemory>) in bytes */
static gboolean
dc_shape_node_size (xmlNode *node, const char *attr, guint64 *bytes)
{
  g_autofree char *unit = dc_xml_prop (node, "unit");
  g_autofree char *value = NULL;

  if (attr != NULL)
    value = dc_xml_prop (node, attr);
  else
    {
      g_autoptr (DcXmlChar) text = xmlNodeGetContent (node);

      value = g_strstrip (g_strdup ((const char *) text));
    }
  return dc_shape_libvirt_size (value, unit, bytes);
}

static void
dc_shape_set_kib (xmlNode *node, const char *attr, guint64 kib)
{
  g_autofree char *text = g_strdup_printf ("%" G_GUINT64_FORMAT, kib);

  if (attr != NULL)
    xmlSetProp (node, BAD_CAST attr, BAD_CAST text);
  else
    dc_xml_set_text (node, text);
  xmlSetProp (node, BAD_CAST "unit", BAD_CAST "KiB");
}

/*
 * --memory: <memory> and <currentMemory>. libvirt takes a guest's
 * memory from its NUMA cells when it has them, and counts memory devices
 * (DIMMs) in <memory>: one cell is set to the new size, several must
 * already add up to it, and memory devices are refused, as is a size
 * above <maxMemory>.
 */
static gboolean
dc_shape_memory (const DcShape *shape, xmlXPathContext *ctxt, GError **error)
{
  xmlNode *root = xmlDocGetRootElement (ctxt->doc);
  xmlNode *max = dc_xml_node (ctxt, NULL, "/domain/maxMemory");
  xmlNode *current = dc_xml_node (ctxt, NULL, "/domain/currentMemory");
  g_autoptr (GPtrArray) cells = dc_xml_nodes (ctxt, NULL, "/domain/cpu/numa/cell");
  g_autofree char *size = dc_shape_size_text (shape->memory);
  guint64 limit = 0, sum = 0;

  if (dc_xml_node (ctxt, NULL, "/domain/devices/memory") != NULL)
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_USAGE,
        "--memory %s: the source has memory devices (DIMMs), which count in its memory size; clone without --memory, or remove them first",
        size);
      return FALSE;
    }
  if (max != NULL && dc_shape_node_size (max, NULL, &limit) && shape->memory > limit)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_USAGE,
                   "--memory %s is more than the source's <maxMemory> of %" G_GUINT64_FORMAT " KiB", size,
                   limit / 1024);
      return FALSE;
    }
  if (cells->len == 1)
    dc_shape_set_kib (cells->pdata[0], "memory", shape->memory / 1024);
  for (guint i = 0; cells->len > 1 && i < cells->len; i++)
    {
      guint64 bytes = 0;

      if (!dc_shape_node_size (cells->pdata[i], "memory", &bytes) || bytes > G_MAXUINT64 - sum)
        sum = G_MAXUINT64;
      else
        sum += bytes;
    }
  if (cells->len > 1 && sum != shape->memory)
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_USAGE,
        "--memory %s: the source has %u NUMA cells, whose memory libvirt adds up to the guest's, and they do not add up to %s; change them first (virsh edit), or clone without --memory",
        size, cells->len, size);
      return FALSE;
    }
  dc_shape_set_kib (dc_xml_child (root, "memory", TRUE), NULL, shape->memory / 1024);
  if (current != NULL)
    dc_shape_set_kib (current, NULL, shape->memory / 1024);
  return TRUE;
}

/* The highest vCPU id in libvirt's list @list ("0-3,^2,5"), -1 if it
 * names none; FALSE if it is not such a list. Ids above the --vcpus
 * ceiling are refused as they are read. */
static gboolean
dc_shape_cpu_list (const char *list, gint *highest, gboolean *seen, guint n_seen)
{
  g_auto (GStrv) parts = g_strsplit (list, ",", -1);

  *highest = -1;
  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_auto (GStrv) range = NULL;
      char *part = g_strstrip (parts[i]);
      guint64 lo, hi;

      if (part[0] == '^')
        continue; /* an exclusion only takes away */
      range = g_strsplit (part, "-", 2);
      if (!g_ascii_string_to_unsigned (range[0], 10, 0, DC_SHAPE_MAX_VCPUS, &lo, NULL))
        return FALSE;
      hi = lo;
      if (range[1] != NULL && !g_ascii_string_to_unsigned (range[1], 10, lo, DC_SHAPE_MAX_VCPUS, &hi, NULL))
        return FALSE;
      *highest = MAX (*highest, (gint) hi);
      for (guint64 id = lo; seen != NULL && id <= hi && id < n_seen; id++)
        seen[id] = TRUE;
    }
  return TRUE;
}

/* <cpu><topology>: the product of its counts is the vCPU count. The
 * sockets change; the rest of it is kept, so N must be a multiple. */
static gboolean
dc_shape_topology (guint n, xmlXPathContext *ctxt, GError **error)
{
  static const char *const inner[] = { "dies", "clusters", "cores", "threads" };
  xmlNode *topo = dc_xml_node (ctxt, NULL, "/domain/cpu/topology");
  guint64 per_socket = 1;
  g_autofree char *sockets = NULL;

  if (topo == NULL)
    return TRUE;
  for (size_t i = 0; i < G_N_ELEMENTS (inner); i++)
    {
      g_autofree char *value = dc_xml_prop (topo, inner[i]);
      guint64 count = 1;

      if (value != NULL && !g_ascii_string_to_unsigned (value, 10, 1, DC_SHAPE_MAX_VCPUS, &count, NULL))
        count = 0;
      per_socket *= count;
      if (per_socket > DC_SHAPE_MAX_VCPUS)
        per_socket = 0;
    }
  if (per_socket == 0 || n % per_socket != 0)
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_USAGE,
        "--vcpus %u: the source's CPU topology (<cpu><topology>) has %" G_GUINT64_FORMAT
        " vCPUs per socket, and domclone changes only the sockets; give a multiple of %" G_GUINT64_FORMAT
        ", or change the topology first",
        n, per_socket, per_socket ? per_socket : 1);
      return FALSE;
    }
  sockets = g_strdup_printf ("%" G_GUINT64_FORMAT, n / per_socket);
  xmlSetProp (topo, BAD_CAST "sockets", BAD_CAST sockets);
  return TRUE;
}

/* <cpu><numa>: the cells' vCPUs are the guest's. One cell gets them
 * all; several must already name each of 0..N-1 once. */
static gboolean
dc_shape_numa_cpus (guint n, xmlXPathContext *ctxt, GError **error)
{
  g_autoptr (GPtrArray) cells = dc_xml_nodes (ctxt, NULL, "/domain/cpu/numa/cell");
  g_autofree gboolean *seen = g_new0 (gboolean, n);
  gboolean ok = TRUE;

  if (cells->len == 1)
    {
      g_autofree char *all = n == 1 ? g_strdup ("0") : g_strdup_printf ("0-%u", n - 1);

      xmlSetProp (cells->pdata[0], BAD_CAST "cpus", BAD_CAST all);
      return TRUE;
    }
  for (guint i = 0; i < cells->len && ok; i++)
    {
      g_autofree char *cpus = dc_xml_prop (cells->pdata[i], "cpus");
      gint highest = -1;

      ok = cpus != NULL && dc_shape_cpu_list (cpus, &highest, seen, n) && highest < (gint) n;
    }
  for (guint id = 0; cells->len > 1 && id < n && ok; id++)
    ok = seen[id];
  if (!ok)
    g_set_error (
      error, DC_ERROR, DC_ERROR_USAGE,
      "--vcpus %u: the source's %u NUMA cells do not hold vCPUs 0 to %u between them; change their cpus first (virsh edit), or clone without --vcpus",
      n, cells->len, n - 1);
  return ok;
}

/* <cputune>: a pinning or scheduling rule for a vCPU the clone lacks is
 * refused by libvirt */
static gboolean
dc_shape_cputune (guint n, xmlXPathContext *ctxt, GError **error)
{
  static const char *const xpaths[] = { "/domain/cputune/vcpupin/@vcpu", "/domain/cputune/vcpusched/@vcpus",
                                        "/domain/cputune/cachetune/@vcpus",
                                        "/domain/cputune/memorytune/@vcpus" };

  for (size_t i = 0; i < G_N_ELEMENTS (xpaths); i++)
    {
      g_autoptr (GPtrArray) attrs = dc_xml_nodes (ctxt, NULL, xpaths[i]);

      for (guint j = 0; j < attrs->len; j++)
        {
          g_autoptr (DcXmlChar) list = xmlNodeGetContent (attrs->pdata[j]);
          gint highest = -1;

          if (!dc_shape_cpu_list ((const char *) list, &highest, NULL, 0) || highest >= (gint) n)
            {
              g_set_error (
                error, DC_ERROR, DC_ERROR_USAGE,
                "--vcpus %u: the source's <cputune> has a rule for vCPUs '%s', which the clone would not have; change it first (virsh edit), or clone without --vcpus",
                n, (const char *) list);
              return FALSE;
            }
        }
    }
  return TRUE;
}

/* --vcpus: <vcpu>, all online (no current=), within the machine
 * type's @max_vcpus (0: unknown), its topology, NUMA cells and
 * <cputune> to match. */
static gboolean
dc_shape_vcpus (const DcShape *shape, xmlXPathContext *ctxt, guint max_vcpus, GError **error)
{
  xmlNode *root = xmlDocGetRootElement (ctxt->doc);
  guint n = shape->vcpus;
  xmlNode *vcpu;
  g_autofree char *text = NULL;

  if (max_vcpus > 0 && n > max_vcpus)
    {
      g_autofree char *machine = dc_xml_string (ctxt, NULL, "/domain/os/type/@machine");

      g_set_error (error, DC_ERROR, DC_ERROR_USAGE,
                   "--vcpus %u: the source's machine type '%s' takes at most %u vCPUs here", n,
                   machine ? machine : "?", max_vcpus);
      return FALSE;
    }
  if (dc_xml_node (ctxt, NULL, "/domain/vcpus") != NULL)
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_USAGE,
        "--vcpus %u: the source lists its vCPUs one by one (<vcpus>); change that first (virsh edit), or clone without --vcpus",
        n);
      return FALSE;
    }
  if (!dc_shape_topology (n, ctxt, error) || !dc_shape_numa_cpus (n, ctxt, error)
      || !dc_shape_cputune (n, ctxt, error))
    return FALSE;
  vcpu = dc_xml_child (root, "vcpu", TRUE);
  text = g_strdup_printf ("%u", n);
  dc_xml_set_text (vcpu, text);
  xmlUnsetProp (vcpu, BAD_CAST "current");
  return TRUE;
}

/**
 * dc_shape_domain:
 * @shape: (nullable): a shape
 * @ctxt: the clone's XML, changed in place
 * @max_vcpus: the most vCPUs its machine type takes here, 0 if unknown
 * @error: DC_ERROR_USAGE for what libvirt would refuse
 *
 * Sets the clone's memory and vCPUs as @shape says.
 *
 * Returns: %TRUE on success
 */
gboolean
dc_shape_domain (const DcShape *shape, xmlXPathContext *ctxt, guint max_vcpus, GError **error)
{
  if (shape == NULL)
    return TRUE;
  if (shape->memory > 0 && !dc_shape_memory (shape, ctxt, error))
    return FALSE;
  if (shape->vcpus > 0 && !dc_shape_vcpus (shape, ctxt, max_vcpus, error))
    return FALSE;
  return TRUE;
}

/**
 * dc_shape_capacity:
 * @disk: (nullable): what the shape says of a disk
 * @what: "disk 'vda'", for the message
 * @current: its capacity in bytes
 * @capacity: (out): the clone's
 * @error: DC_ERROR_USAGE: it would shrink
 *
 * Returns: %TRUE unless --resize would shrink the disk
 */
gboolean
dc_shape_capacity (const DcShapeDisk *disk, const char *what, guint64 current, guint64 *capacity,
                   GError **error)
{
  guint64 wanted;

  *capacity = current;
  if (disk == NULL || disk->resize == 0)
    return TRUE;
  if (disk->relative && disk->resize > G_MAXUINT64 - current)
    wanted = G_MAXUINT64;
  else
    wanted = disk->relative ? current + disk->resize : disk->resize;
  if (wanted < current)
    {
      g_autofree char *now = dc_shape_size_text (current);
      g_autofree char *to = dc_shape_size_text (wanted);

      g_set_error (error, DC_ERROR, DC_ERROR_USAGE,
                   "--resize %s would shrink %s to %s (%" G_GUINT64_FORMAT
                   " bytes): its capacity is %s (%" G_GUINT64_FORMAT
                   " bytes), and --resize only grows a disk",
                   disk->target, what, to, wanted, now, current);
      return FALSE;
    }
  *capacity = wanted;
  return TRUE;
}

/**
 * dc_shape_vol_name:
 * @name: a new volume's name
 * @from: the format of its source
 * @to: the format of the new volume
 *
 * Returns: (transfer full): @name with an extension that names format
 * @from (vm.qcow2) changed to @to's (vm.raw)
 */
char *
dc_shape_vol_name (const char *name, const char *from, const char *to)
{
  g_autofree char *ext = g_strdup_printf (".%s", from ? from : "");

  if (from == NULL || to == NULL || g_str_equal (from, to) || !g_str_has_suffix (name, ext)
      || strlen (name) == strlen (ext))
    return g_strdup (name);
  return g_strdup_printf ("%.*s.%s", (int) (strlen (name) - strlen (ext)), name, to);
}
