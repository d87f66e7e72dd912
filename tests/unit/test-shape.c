/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of a shaped clone, no daemon: the size parser, the
 * command line's values (dc_shape_new), the rules for memory and vCPUs
 * in the clone's XML, and the planner's decisions per disk (copy, share,
 * skip, resize, format) against the fake connection
 * (tests/data/inventory.ini). Links the planner library alone.
 */
#include "config.h"

#include "dc-fake-env.h"
#include "dc-metadata.h"
#include "dc-plan.h"
#include "dc-shape.h"
#include "dc-test-assert.h"
#include "dc-xml.h"

#include <string.h>

#define GiB (G_GUINT64_CONSTANT (1) << 30)
#define MiB (G_GUINT64_CONSTANT (1) << 20)

typedef struct
{
  const char *text;
  gboolean relative_ok;
  guint64 bytes; /* 0: refused */
  gboolean relative;
} SizeCase;

static void
test_shape_size (void)
{
  static const SizeCase cases[] = {
    { "512", FALSE, 512 * MiB, FALSE },
    { "512M", FALSE, 512 * MiB, FALSE },
    { "512MiB", FALSE, 512 * MiB, FALSE },
    { "2G", FALSE, 2 * GiB, FALSE },
    { "2g", FALSE, 2 * GiB, FALSE },
    { "1T", FALSE, 1024 * GiB, FALSE },
    { "4096K", FALSE, 4 * MiB, FALSE },
    { "+10G", TRUE, 10 * GiB, TRUE },
    { "10G", TRUE, 10 * GiB, FALSE },
    { "+10G", FALSE, 0, FALSE },
    { "0", FALSE, 0, FALSE },
    { "+0G", TRUE, 0, FALSE },
    { "", FALSE, 0, FALSE },
    { "G", FALSE, 0, FALSE },
    { "1.5G", FALSE, 0, FALSE },
    { "-1G", TRUE, 0, FALSE },
    { " 1G", FALSE, 0, FALSE },
    { "1G ", FALSE, 0, FALSE },
    { "1GB", FALSE, 0, FALSE },
    { "1P", FALSE, 0, FALSE },
    { "++1G", TRUE, 0, FALSE },
    { "18446744073709551615", FALSE, 0, FALSE },
    { "17179869184T", FALSE, 0, FALSE },
  };

  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const SizeCase *c = &cases[i];
      g_autoptr (GError) error = NULL;
      guint64 bytes = 0;
      gboolean relative = FALSE;
      gboolean ok = dc_shape_parse_size (c->text, "--memory", c->relative_ok, &bytes, &relative, &error);

      g_test_message ("'%s': %s", c->text, ok ? "ok" : error->message);
      if (c->bytes == 0)
        {
          g_assert_false (ok);
          g_assert_error (error, DC_ERROR, DC_ERROR_USAGE);
          dc_assert_contains (error->message, "invalid --memory");
          continue;
        }
      g_assert_no_error (error);
      g_assert_true (ok);
      g_assert_cmpuint (bytes, ==, c->bytes);
      g_assert_cmpint (relative, ==, c->relative);
    }
}

/* What dc_shape_new refuses, each with a part of its message */
static void
test_shape_options_refused (void)
{
  static const struct
  {
    const char *memory;
    const char *vcpus;
    const char *resize[3];
    const char *disk[3];
    const char *format;
    const char *message;
  } cases[] = {
    { "1.5G", NULL, { NULL }, { NULL }, NULL, "invalid --memory '1.5G'" },
    { "+1G", NULL, { NULL }, { NULL }, NULL, "invalid --memory '+1G'" },
    { NULL, "0", { NULL }, { NULL }, NULL, "invalid --vcpus '0'" },
    { NULL, "4097", { NULL }, { NULL }, NULL, "invalid --vcpus '4097'" },
    { NULL, "-1", { NULL }, { NULL }, NULL, "invalid --vcpus '-1'" },
    { NULL, "2x", { NULL }, { NULL }, NULL, "invalid --vcpus '2x'" },
    { NULL, NULL, { NULL }, { NULL }, "vmdk", "invalid --format 'vmdk': give raw or qcow2" },
    { NULL, NULL, { NULL }, { "vda" }, NULL, "invalid --disk 'vda'" },
    { NULL, NULL, { NULL }, { "=skip" }, NULL, "invalid --disk '=skip'" },
    { NULL, NULL, { NULL }, { "vd/a=skip" }, NULL, "invalid --disk 'vd/a=skip'" },
    { NULL, NULL, { NULL }, { "vda=drop" }, NULL, "invalid --disk vda='drop'" },
    { NULL, NULL, { NULL }, { "vda=skip", "vda=share" }, NULL, "--disk names disk 'vda' twice" },
    { NULL, NULL, { "vda=+1G", "vda=2G" }, { NULL }, NULL, "--resize names disk 'vda' twice" },
    { NULL, NULL, { "vda=0" }, { NULL }, NULL, "invalid --resize vda '0'" },
    { NULL, NULL, { "vda" }, { NULL }, NULL, "invalid --resize 'vda'" },
    { NULL,
      NULL,
      { "vda=+1G" },
      { "vda=skip" },
      NULL,
      "--resize vda and --disk vda=skip do not go together" },
    { NULL,
      NULL,
      { "vdb=2G" },
      { "vdb=share" },
      NULL,
      "--resize vdb and --disk vdb=share do not go together" },
  };

  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (DcShape) shape =
        dc_shape_new (cases[i].memory, cases[i].vcpus, cases[i].resize[0] ? cases[i].resize : NULL,
                      cases[i].disk[0] ? cases[i].disk : NULL, cases[i].format, &error);

      g_assert_null (shape);
      g_assert_error (error, DC_ERROR, DC_ERROR_USAGE);
      g_test_message ("%s", error->message);
      dc_assert_contains (error->message, cases[i].message);
    }
}

static void
test_shape_options (void)
{
  const char *resize[] = { "vda=+10G", "vdb=64G", NULL };
  const char *disk[] = { "vdc=skip", "vda=copy", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (DcShape) none = dc_shape_new (NULL, NULL, NULL, NULL, NULL, &error);
  g_autoptr (DcShape) shape = NULL;
  const DcShapeDisk *d;

  g_assert_no_error (error);
  g_assert_null (none);
  shape = dc_shape_new ("1536", "3", resize, disk, "qcow2", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (shape->memory, ==, 1536 * MiB);
  g_assert_cmpuint (shape->vcpus, ==, 3);
  g_assert_cmpstr (shape->format, ==, "qcow2");
  d = dc_shape_disk (shape, "vda");
  g_assert_cmpint (d->action, ==, DC_DISK_COPY);
  g_assert_cmpuint (d->resize, ==, 10 * GiB);
  g_assert_true (d->relative);
  d = dc_shape_disk (shape, "vdb");
  g_assert_cmpint (d->action, ==, DC_DISK_DEFAULT);
  g_assert_cmpuint (d->resize, ==, 64 * GiB);
  g_assert_false (d->relative);
  g_assert_cmpint (dc_shape_disk (shape, "vdc")->action, ==, DC_DISK_SKIP);
  g_assert_null (dc_shape_disk (shape, "sda"));
}

/* dc_shape_capacity: grows, never shrinks, and says the size */
static void
test_shape_capacity (void)
{
  DcShapeDisk grow = { (char *) "vda", DC_DISK_DEFAULT, 10 * GiB, TRUE };
  DcShapeDisk to = { (char *) "vda", DC_DISK_DEFAULT, 16 * MiB, FALSE };
  g_autoptr (GError) error = NULL;
  guint64 capacity = 0;

  g_assert_true (dc_shape_capacity (NULL, "disk 'vda'", 20 * GiB, &capacity, &error));
  g_assert_cmpuint (capacity, ==, 20 * GiB);
  g_assert_true (dc_shape_capacity (&grow, "disk 'vda'", 20 * GiB, &capacity, &error));
  g_assert_cmpuint (capacity, ==, 30 * GiB);
  g_assert_true (dc_shape_capacity (&to, "disk 'vda'", 16 * MiB, &capacity, &error));
  g_assert_cmpuint (capacity, ==, 16 * MiB);
  g_assert_false (dc_shape_capacity (&to, "disk 'vda'", 32 * MiB, &capacity, &error));
  g_assert_error (error, DC_ERROR, DC_ERROR_USAGE);
  dc_assert_contains (
    error->message,
    "--resize vda would shrink disk 'vda' to 16 MiB (16777216 bytes): its capacity is 32 MiB (33554432 bytes)");
}

/* A domain XML for the memory and vCPU rules: @inner inside <domain> */
typedef struct
{
  const char *label;
  const char *inner;
  const char *memory;
  const char *vcpus;
  guint max_vcpus;
  const char *expect[3]; /* parts of the result; or, first, "!" and a part of the error */
} DomainCase;

static const DomainCase domain_cases[] = {
  { "memory and current memory",
    "<memory unit='KiB'>1048576</memory><currentMemory unit='KiB'>524288</currentMemory>",
    "2G",
    NULL,
    0,
    { "<memory unit=\"KiB\">2097152</memory>", "<currentMemory unit=\"KiB\">2097152</currentMemory>" } },
  { "memory in GiB",
    "<memory unit='GiB'>1</memory>",
    "512M",
    NULL,
    0,
    { "<memory unit=\"KiB\">524288</memory>" } },
  { "one NUMA cell follows",
    "<memory>1048576</memory><cpu><numa><cell id='0' cpus='0' memory='1' unit='GiB'/></numa></cpu>",
    "2G",
    NULL,
    0,
    { "memory=\"2097152\" unit=\"KiB\"" } },
  { "two NUMA cells that add up",
    "<memory>2097152</memory><cpu><numa><cell id='0' cpus='0' memory='1048576'/><cell id='1' cpus='1' memory='1' unit='GiB'/></numa></cpu>",
    "2G",
    NULL,
    0,
    { "<memory unit=\"KiB\">2097152</memory>" } },
  { "two NUMA cells that do not",
    "<memory>2097152</memory><cpu><numa><cell id='0' cpus='0' memory='1048576'/><cell id='1' cpus='1' memory='1048576'/></numa></cpu>",
    "4G",
    NULL,
    0,
    { "!", "2 NUMA cells" } },
  { "above maxMemory",
    "<maxMemory slots='16' unit='GiB'>4</maxMemory><memory>1048576</memory>",
    "8G",
    NULL,
    0,
    { "!", "<maxMemory> of 4194304 KiB" } },
  { "DIMMs",
    "<memory>1048576</memory><devices><memory model='dimm'><target><size unit='MiB'>512</size><node>0</node></target></memory></devices>",
    "2G",
    NULL,
    0,
    { "!", "memory devices (DIMMs)" } },
  { "vcpus, current dropped",
    "<vcpu placement='static' current='1'>2</vcpu>",
    NULL,
    "4",
    0,
    { "<vcpu placement=\"static\">4</vcpu>" } },
  { "machine type ceiling",
    "<vcpu>1</vcpu><os><type machine='pc-i440fx-7.2'>hvm</type></os>",
    NULL,
    "300",
    255,
    { "!", "machine type 'pc-i440fx-7.2' takes at most 255 vCPUs" } },
  { "topology: sockets follow",
    "<vcpu>4</vcpu><cpu><topology sockets='1' dies='1' cores='2' threads='2'/></cpu>",
    NULL,
    "8",
    0,
    { "sockets=\"2\"", "cores=\"2\"", ">8</vcpu>" } },
  { "topology: no whole number of sockets",
    "<vcpu>4</vcpu><cpu><topology sockets='1' cores='4' threads='1'/></cpu>",
    NULL,
    "6",
    0,
    { "!", "4 vCPUs per socket" } },
  { "one NUMA cell gets them all",
    "<vcpu>1</vcpu><cpu><numa><cell id='0' cpus='0' memory='1048576'/></numa></cpu>",
    NULL,
    "3",
    0,
    { "cpus=\"0-2\"" } },
  { "two NUMA cells that cover",
    "<vcpu>2</vcpu><cpu><numa><cell id='0' cpus='0-1' memory='1'/><cell id='1' cpus='2-3,^5' memory='1'/></numa></cpu>",
    NULL,
    "4",
    0,
    { ">4</vcpu>" } },
  { "two NUMA cells that do not",
    "<vcpu>4</vcpu><cpu><numa><cell id='0' cpus='0-1' memory='1'/><cell id='1' cpus='2-3' memory='1'/></numa></cpu>",
    NULL,
    "2",
    0,
    { "!", "do not hold vCPUs 0 to 1" } },
  { "a pin for a vCPU the clone lacks",
    "<vcpu>4</vcpu><cputune><vcpupin vcpu='3' cpuset='1'/></cputune>",
    NULL,
    "2",
    0,
    { "!", "rule for vCPUs '3'" } },
  { "a scheduler rule within",
    "<vcpu>4</vcpu><cputune><vcpusched vcpus='0-1' scheduler='fifo' priority='1'/></cputune>",
    NULL,
    "2",
    0,
    { ">2</vcpu>" } },
  { "vCPUs one by one",
    "<vcpu>2</vcpu><vcpus><vcpu id='0' enabled='yes'/><vcpu id='1' enabled='no'/></vcpus>",
    NULL,
    "4",
    0,
    { "!", "one by one" } },
};
/* The memory and vCPU rules, one case of domain_cases each */
static void
test_shape_domain (void)
{
  const DomainCase *cases = domain_cases;

  for (size_t i = 0; i < G_N_ELEMENTS (domain_cases); i++)
    {
      const DomainCase *c = &cases[i];
      g_autofree char *xml = g_strdup_printf ("<domain><name>x</name>%s</domain>", c->inner);
      g_autoptr (xmlXPathContext) ctxt = NULL;
      g_autoptr (xmlDoc) doc = dc_xml_parse (xml, "domain", "test XML", &ctxt, NULL);
      g_autoptr (GError) error = NULL;
      g_autoptr (DcShape) shape = dc_shape_new (c->memory, c->vcpus, NULL, NULL, NULL, &error);
      g_autofree char *out = NULL;
      gboolean ok;

      g_test_message ("%s", c->label);
      g_assert_no_error (error);
      g_assert_nonnull (doc);
      ok = dc_shape_domain (shape, ctxt, c->max_vcpus, &error);
      if (g_strcmp0 (c->expect[0], "!") == 0)
        {
          g_assert_false (ok);
          g_assert_error (error, DC_ERROR, DC_ERROR_USAGE);
          g_test_message ("%s", error->message);
          dc_assert_contains (error->message, c->expect[1]);
          continue;
        }
      g_assert_no_error (error);
      out = dc_xml_format (xmlDocGetRootElement (doc), FALSE);
      for (size_t j = 0; j < G_N_ELEMENTS (c->expect) && c->expect[j] != NULL; j++)
        dc_assert_contains (out, c->expect[j]);
    }
}

/* Plans @input (tests/data/clone) as "web2" with @shape */
static DcPlan *
plan_shaped (const char *input, const DcShape *shape, gboolean linked, GError **error)
{
  g_autofree char *file = g_strconcat (input, ".in.xml", NULL);
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "clone", file, NULL);
  g_autofree char *inventory = g_test_build_filename (G_TEST_DIST, "data", "inventory.ini", NULL);
  g_autofree char *xml = NULL;
  g_autoptr (GRand) rand = g_rand_new_with_seed (17);
  DcPlanOptions opts = {
    .name = "web2",
    .first_number = 1,
    .now = "2026-12-06T12:00:00Z",
    .rand = rand,
    .linked = linked,
    .shape = shape,
  };
  DcEnv *env = dc_fake_env_new (inventory);
  DcPlan *plan;

  g_assert_true (g_file_get_contents (path, &xml, NULL, NULL));
  opts.source_xml = xml;
  plan = dc_plan_new (env, &opts, error);
  dc_fake_env_free (env);
  return plan;
}

static DcShape *
shape_of (const char *const *resize, const char *const *disk, const char *format)
{
  g_autoptr (GError) error = NULL;
  DcShape *shape = dc_shape_new (NULL, NULL, resize, disk, format, &error);

  g_assert_no_error (error);
  return shape;
}

/* "vda=copy vdb=skip ..." of @plan */
static char *
plan_actions (const DcPlan *plan)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < plan->disks->len; i++)
    {
      const DcPlanDisk *d = plan->disks->pdata[i];

      g_string_append_printf (out, "%s%s=%s", i ? " " : "", d->target, d->action);
    }
  return g_string_free (out, FALSE);
}

/* --disk: skip leaves the disk out and makes nothing; share keeps the
 * source's file in the clone's XML */
static void
test_shape_plan_disks (void)
{
  const char *disk[] = { "vdb=skip", "vda=share", NULL };
  g_autoptr (DcShape) shape = shape_of (NULL, disk, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (DcPlan) plain = plan_shaped ("multi-disk", NULL, FALSE, &error);
  g_autoptr (DcPlan) plan = plan_shaped ("multi-disk", shape, FALSE, &error);
  g_autofree char *plain_actions = NULL;
  g_autofree char *actions = NULL;
  g_autofree char *described = NULL;

  g_assert_no_error (error);
  plain_actions = plan_actions (plain);
  g_assert_cmpstr (plain_actions, ==, "vda=copy vdb=copy vdc=share sda=share");
  g_assert_cmpuint (plain->copies->len, ==, 2);
  actions = plan_actions (plan);
  g_assert_cmpstr (actions, ==, "vda=share vdb=skip vdc=share sda=share");
  g_assert_cmpuint (plan->copies->len, ==, 0);
  dc_assert_not_contains (plan->xml, "data.raw");
  dc_assert_not_contains (plan->xml, "dev='vdb'");
  dc_assert_not_contains (plan->xml, "dev=\"vdb\"");
  dc_assert_contains (plan->xml, "<source file=\"/var/lib/libvirt/images/web1.qcow2\"/>");
  described = dc_plan_describe (plan);
  dc_assert_contains (described, "share disk 'vda' (disk, --disk share)");
  dc_assert_contains (described, "skip disk 'vdb'");
  dc_assert_contains (described, "warning 'web2' shares writable disk 'vda' with 'web1' (--disk share)");
  g_assert_cmpuint (plain->warnings->len, ==, 0);
}

/* --resize and --format: the new volume's XML and the <driver type> */
static void
test_shape_plan_volumes (void)
{
  const char *resize[] = { "vda=+10G", "vdb=64G", NULL };
  g_autoptr (DcShape) shape = shape_of (resize, NULL, "raw");
  g_autoptr (GError) error = NULL;
  g_autoptr (DcPlan) plan = plan_shaped ("multi-disk", shape, FALSE, &error);
  const DcCopy *vda, *vdb;

  g_assert_no_error (error);
  g_assert_cmpuint (plan->copies->len, ==, 2);
  vda = plan->copies->pdata[0];
  vdb = plan->copies->pdata[1];
  /* vda: qcow2 -> raw, 20 GiB + 10 GiB, named for its format */
  g_assert_cmpstr (vda->dst_name, ==, "web2.raw");
  g_assert_cmpstr (vda->src_format, ==, "qcow2");
  g_assert_true (vda->convert);
  g_assert_cmpuint (vda->grow_to, ==, 30 * GiB);
  dc_assert_contains (vda->xml, "bytes\">32212254720</capacity>");
  dc_assert_contains (vda->xml, "<format type=\"raw\"/>");
  dc_assert_not_contains (vda->xml, "compat");
  dc_assert_contains (
    plan->xml,
    "<driver name=\"qemu\" type=\"raw\" discard=\"unmap\"/>\n      <source file=\"/var/lib/libvirt/images/web2.raw\"/>");
  /* vdb: raw already, 50 GiB -> 64 GiB */
  g_assert_false (vdb->convert);
  g_assert_cmpuint (vdb->grow_to, ==, 64 * GiB);
  dc_assert_contains (vdb->xml, "bytes\">68719476736</capacity>");
}

static void
test_shape_plan_qcow2 (void)
{
  g_autoptr (DcShape) shape = shape_of (NULL, NULL, "qcow2");
  g_autoptr (GError) error = NULL;
  g_autoptr (DcPlan) plan = plan_shaped ("multi-disk", shape, FALSE, &error);
  const DcCopy *vda, *vdb;

  g_assert_no_error (error);
  vda = plan->copies->pdata[0];
  vdb = plan->copies->pdata[1];
  g_assert_false (vda->convert);
  g_assert_cmpuint (vda->grow_to, ==, 0);
  g_assert_true (vdb->convert);
  g_assert_cmpstr (vdb->dst_name, ==, "web2-vdb.qcow2");
  dc_assert_contains (vdb->xml, "<format type=\"qcow2\"/>");
  dc_assert_contains (vdb->xml, "<compat>1.1</compat>");
  /* the shared disks keep theirs */
  dc_assert_contains (plan->xml, "<driver name=\"qemu\" type=\"raw\" cache=\"none\"/>");
}

/* A linked clone's overlay is made as large as --resize says */
static void
test_shape_plan_linked (void)
{
  const char *resize[] = { "vda=+1G", NULL };
  const char *disk[] = { "vdb=copy", NULL };
  g_autoptr (DcShape) shape = shape_of (resize, disk, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (DcPlan) plain = plan_shaped ("linked-template", NULL, TRUE, &error);
  g_autoptr (DcPlan) plan = plan_shaped ("linked-template", shape, TRUE, &error);
  g_autoptr (DcVolInfo) before = NULL;
  g_autoptr (DcVolInfo) after = NULL;
  g_autofree char *actions = NULL;

  g_assert_no_error (error);
  before = dc_vol_info_from_xml (((const DcCopy *) plain->copies->pdata[0])->xml, "default", NULL, &error);
  after = dc_vol_info_from_xml (((const DcCopy *) plan->copies->pdata[0])->xml, "default", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (after->capacity, ==, before->capacity + GiB);
  dc_assert_contains (((const DcCopy *) plan->copies->pdata[0])->xml, "<backingStore>");
  /* vdb=copy: a full copy of the template's disk, not an overlay */
  actions = plan_actions (plan);
  dc_assert_contains (actions, "vda=overlay vdb=copy");
  g_assert_cmpint (((const DcCopy *) plan->copies->pdata[1])->kind, ==, DC_COPY_KIND_FULL);
}

/* Refused by the planner, exit 2 (DC_ERROR_USAGE), before anything */
static void
test_shape_plan_refused (void)
{
  static const struct
  {
    const char *resize;
    const char *disk;
    const char *message;
  } cases[] = {
    { "vdz=1G", NULL, "--resize vdz: the source has no disk 'vdz' (its disks: 'vda', 'vdb', 'vdc', 'sda')" },
    { NULL, "vdz=skip", "--disk vdz: the source has no disk 'vdz'" },
    { "vda=10G", NULL, "its capacity is 20 GiB (21474836480 bytes)" },
    { "sda=+1G", NULL, "--resize sda: the clone does not copy disk 'sda' (share)" },
    { "vdc=+1G", NULL, "--resize vdc: the clone does not copy disk 'vdc' (share)" },
    { NULL, "sda=copy", "--disk sda=copy: disk 'sda' is a CD-ROM" },
  };

  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const char *resize[] = { cases[i].resize, NULL };
      const char *disk[] = { cases[i].disk, NULL };
      g_autoptr (DcShape) shape =
        shape_of (cases[i].resize ? resize : NULL, cases[i].disk ? disk : NULL, NULL);
      g_autoptr (GError) error = NULL;
      g_autoptr (DcPlan) plan = plan_shaped ("multi-disk", shape, FALSE, &error);

      g_assert_null (plan);
      g_assert_error (error, DC_ERROR, DC_ERROR_USAGE);
      g_test_message ("%s", error->message);
      dc_assert_contains (error->message, cases[i].message);
    }
}

/* --disk vdc=copy: a shareable disk made the clone's own */
static void
test_shape_plan_copy_shareable (void)
{
  const char *disk[] = { "vdc=copy", NULL };
  g_autoptr (DcShape) shape = shape_of (NULL, disk, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (DcPlan) plan = plan_shaped ("multi-disk", shape, FALSE, &error);
  g_autofree char *actions = NULL;

  g_assert_no_error (error);
  actions = plan_actions (plan);
  g_assert_cmpstr (actions, ==, "vda=copy vdb=copy vdc=copy sda=share");
  g_assert_cmpuint (plan->copies->len, ==, 3);
  g_assert_cmpstr (((const DcCopy *) plan->copies->pdata[2])->dst_name, ==, "web2-vdc.raw");
}

/* <disks> in a clone's metadata: what an --exist-ok rerun reports */
static void
test_shape_metadata_disks (void)
{
  g_autoptr (DcMetadata) md = dc_metadata_new ();
  g_autoptr (DcMetadata) back = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *xml = NULL;

  g_assert_true (dc_metadata_is_empty (md));
  dc_metadata_add_disk (md, "vda", "copy");
  dc_metadata_add_disk (md, "vdb", "skip");
  g_assert_false (dc_metadata_is_empty (md));
  xml = dc_metadata_format (md);
  dc_assert_contains (
    xml, "<disks><disk target=\"vda\" action=\"copy\"/><disk target=\"vdb\" action=\"skip\"/></disks>");
  back = dc_metadata_parse (xml, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (back->disks->len, ==, 2);
  g_assert_cmpstr (((DcMetadataDisk *) back->disks->pdata[1])->target, ==, "vdb");
  g_assert_cmpstr (((DcMetadataDisk *) back->disks->pdata[1])->action, ==, "skip");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_add_func ("/shape/size", test_shape_size);
  g_test_add_func ("/shape/options", test_shape_options);
  g_test_add_func ("/shape/options/refused", test_shape_options_refused);
  g_test_add_func ("/shape/capacity", test_shape_capacity);
  g_test_add_func ("/shape/domain", test_shape_domain);
  g_test_add_func ("/shape/plan/disks", test_shape_plan_disks);
  g_test_add_func ("/shape/plan/volumes", test_shape_plan_volumes);
  g_test_add_func ("/shape/plan/qcow2", test_shape_plan_qcow2);
  g_test_add_func ("/shape/plan/linked", test_shape_plan_linked);
  g_test_add_func ("/shape/plan/copy-shareable", test_shape_plan_copy_shareable);
  g_test_add_func ("/shape/plan/refused", test_shape_plan_refused);
  g_test_add_func ("/shape/metadata/disks", test_shape_metadata_disks);
  return g_test_run ();
}
