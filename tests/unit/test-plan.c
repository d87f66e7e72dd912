/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The clone plan, without a daemon: each tests/data/clone/<case>.in.xml
 * is planned against the fake connection in tests/data/inventory.ini and
 * compared with <case>.out.xml (the clone's XML) and <case>.plan (the
 * volumes copied and shared, and their XML). UUIDs and MACs come from a
 * fixed seed, so the output is exact.
 *
 * DOMCLONE_TEST_REGENERATE=1 rewrites the expected files instead; review
 * the diff before committing it.
 */
#include "config.h"

#include "dc-test-assert.h"
#include "dc-fake-env.h"
#include "dc-plan.h"
#include "dc-xml.h"

#include <string.h>

typedef struct
{
  const char *name;       /* file stem under tests/data/clone/ */
  const char *dest;       /* --name, or NULL */
  guint first_number;     /* counter + 1 */
  int error_code;         /* expected DcError, or -1 for success */
  const char *error_text; /* a part of the expected message */
} PlanCase;

static const PlanCase plan_cases[] = {
  { "plain-qcow2", NULL, 1, -1, NULL },
  { "multi-disk", NULL, 1, -1, NULL },
  { "uefi-nvram", NULL, 1, -1, NULL },
  { "nvram-probe-lies", NULL, 1, -1, NULL },
  { "uefi-implicit", NULL, 1, -1, NULL },
  { "volume-disks", NULL, 1, -1, NULL },
  { "nocloud-serial", NULL, 1, -1, NULL },
  { "graphics-fixed-port", NULL, 1, -1, NULL },
  { "unix-channels", NULL, 1, -1, NULL },
  { "serial-log", NULL, 1, -1, NULL },
  { "metadata-inherited", NULL, 8, -1, NULL },
  { "amp-name", "amp-copy", 1, -1, NULL },
  { "backing-chain", NULL, 1, -1, NULL },
  { "tpm-state", NULL, 1, -1, NULL },
  { "err-network-disk", NULL, 1, DC_ERROR_UNSUPPORTED,
    "cannot clone disk 'vda': it is a writable 'network' disk (protocol 'iscsi')" },
  { "rbd-network", NULL, 1, -1, NULL },
  { "err-rbd-taken", NULL, 1, DC_ERROR_VOLUME_EXISTS,
    "cannot clone disk 'vda': RBD image 'pool/rbdtaken-clone1-vda' already exists" },
  { "outside-pool", NULL, 1, -1, NULL },
  { "err-outside-missing", NULL, 1, DC_ERROR_NOT_FOUND,
    "cannot clone disk 'vda': '/srv/stray/ghost.qcow2' does not exist" },
  { "err-outside-block", NULL, 1, DC_ERROR_UNSUPPORTED,
    "cannot clone disk 'vdb': its source '/dev/stray/scratch' is not in any active storage pool; if it is an LVM logical volume, define its volume group as a storage pool (virsh pool-define-as stray logical --source-name stray --target /dev/stray, then virsh pool-start stray)" },
  { "err-missing-source", NULL, 1, DC_ERROR_NOT_FOUND,
    "'/var/lib/libvirt/images/ghost.qcow2' does not exist" },
  { "dotted-name", NULL, 1, -1, NULL },
  { "floppies", NULL, 1, -1, NULL },
  { "floppy-empty", NULL, 1, -1, NULL },
  { "err-dir-floppy", NULL, 1, DC_ERROR_UNSUPPORTED,
    "cannot clone disk 'fda': it is a writable 'dir' disk, which domclone cannot copy; make it <readonly/> or <shareable/>" },
  { "bound-sockets", NULL, 1, -1, NULL },
  /* identity that must not be shared (domclone(1), IDENTITY) */
  { "virtualport", NULL, 1, -1, NULL },
  { "seclabel-static", NULL, 1, -1, NULL },
  { "seclabel-apparmor", NULL, 1, -1, NULL },
  { "kept-ports", NULL, 1, -1, NULL },
  { "socket-dir", NULL, 1, -1, NULL },
  { "err-socket-too-long", NULL, 1, DC_ERROR_UNSUPPORTED,
    "cannot clone channel 0: its socket '/run/user/1000/some/rather/deeply/nested/folder/for/the/sockets/of/virtual/machines/qemu/agent.sock' would become '/run/user/1000/some/rather/deeply/nested/folder/for/the/sockets/of/virtual/machines/qemu/web-clone1-agent.sock', 110 bytes, more than the 107 a unix socket path can hold" },
  { "nvram-block", NULL, 1, -1, NULL },
  { "err-nvram-block-outside", NULL, 1, DC_ERROR_UNSUPPORTED,
    "cannot clone the NVRAM: its block device '/dev/sdz' is not in any active storage pool" },
  { "err-nvram-network", NULL, 1, DC_ERROR_UNSUPPORTED,
    "cannot clone the NVRAM: it is a 'network' volume ('iqn.2013-07.com.example:nvram/0'), which domclone cannot copy" },
  { "tpm-custom-dir", NULL, 1, -1, NULL },
  { "tpm-custom-file", NULL, 1, -1, NULL },
  { "tpm-custom-new", NULL, 1, -1, NULL },
  { "nvdimm", NULL, 1, -1, NULL },
  { "err-nvdimm-dev", NULL, 1, DC_ERROR_UNSUPPORTED,
    "cannot clone the NVDIMM '/dev/dax0.0': it is a device, which domclone cannot copy" },
  /* --pool (see pool_options) */
  { "pool-volume-disks", NULL, 1, -1, NULL },
  { "pool-uefi", NULL, 1, -1, NULL },
  { "pool-outside", NULL, 1, -1, NULL },
  { "pool-own", NULL, 1, -1, NULL },
  { "err-pool-missing", NULL, 1, DC_ERROR_POOL_NOT_FOUND, "storage pool 'nope' not found" },
  { "err-pool-inactive", NULL, 1, DC_ERROR_POOL_INACTIVE,
    "storage pool 'parked' is not active; start it with 'virsh pool-start parked'" },
  { "err-pool-logical", NULL, 1, DC_ERROR_UNSUPPORTED,
    "cannot clone into storage pool 'vg0': it is a 'logical' pool; --pool takes a pool that holds files" },
  { "err-pool-clash", "db-copy", 1, DC_ERROR_VOLUME_EXISTS,
    "cannot clone disk 'vda': volume 'db-copy-root.qcow2' already exists in pool 'backup'" },
  { "seed-cdrom", NULL, 1, -1, NULL },
  { "pool-seed", NULL, 1, -1, NULL },
  { "err-seed-too-big", NULL, 1, DC_ERROR_UNSUPPORTED,
    "cannot clone the cloud-init seed of disk 'sda': '/var/lib/libvirt/images/big-seed.iso' is 20971520 bytes, more than the 16 MiB domclone rewrites" },
  /* cases called linked-* are planned with --linked */
  { "linked-template", NULL, 3, -1, NULL },
  { "template-full", NULL, 3, -1, NULL },
  { "linked-err-plain", NULL, 1, DC_ERROR_NOT_TEMPLATE,
    "domain 'natty-nilgai' is not a template, and a linked clone needs one; run 'domclone --make-template natty-nilgai' first" },
  { "linked-err-vmdk", NULL, 1, DC_ERROR_UNSUPPORTED,
    "cannot make a linked clone of disk 'vda': its volume '/var/lib/libvirt/images/vgold.vmdk' is in format 'vmdk', and only a raw or qcow2 volume can back a qcow2 overlay" },
  { "linked-err-writable", NULL, 1, DC_ERROR_UNSUPPORTED,
    "cannot make a linked clone of disk 'vdb': template 'wgold' can write to it" },
  /* the format is the domain XML's, never the pool's probe */
  { "probe-lies", NULL, 1, -1, NULL },
  { "linked-liar", NULL, 1, -1, NULL },
  { "err-no-format", NULL, 1, DC_ERROR_UNSUPPORTED,
    "cannot clone disk 'vdb': its <driver> names no format, and domclone never trusts a format probed from the guest's bytes; name it with 'virsh edit nofmt' (<driver name='qemu' type='raw'/>" },
  { "err-no-driver", NULL, 1, DC_ERROR_UNSUPPORTED, "cannot clone disk 'vdc': its <driver> names no format" },
  /* encrypted disks are refused, never copied in plaintext */
  { "err-luks", NULL, 1, DC_ERROR_UNSUPPORTED,
    "cannot clone disk 'vda': it is encrypted, and domclone cannot give a copy a secret of its own" },
  { "err-luks-volume", NULL, 1, DC_ERROR_UNSUPPORTED, "cannot clone disk 'vda': it is encrypted" },
  /* LVM: a block disk stays one in its pool, becomes a file in --pool */
  { "lvm-block", NULL, 1, -1, NULL },
  { "pool-lvm-block", NULL, 1, -1, NULL },
  { "err-lvm-qcow2", NULL, 1, DC_ERROR_UNSUPPORTED,
    "cannot clone disk 'vda': its volume '/dev/vg0/lvm-root' is an LVM logical volume of format 'qcow2', and domclone copies only raw ones" },
};

/* The --pool cases: the pool given, and the input they share with
 * another case. */
static const struct
{
  const char *name;
  const char *pool;
  const char *input;
} pool_options[] = {
  { "pool-volume-disks", "backup", "volume-disks" }, { "pool-uefi", "backup", "uefi-nvram" },
  { "pool-outside", "backup", "outside-pool" },      { "pool-own", "default", "plain-qcow2" },
  { "err-pool-missing", "nope", "plain-qcow2" },     { "err-pool-inactive", "parked", "plain-qcow2" },
  { "err-pool-logical", "vg0", "plain-qcow2" },      { "err-pool-clash", "backup", "volume-disks" },
  { "pool-seed", "backup", "seed-cdrom" },           { "pool-lvm-block", "backup", "lvm-block" },
};

/* The stem of @c's input file, and its --pool */
static const char *
case_input (const PlanCase *c, const char **pool)
{
  for (size_t i = 0; i < G_N_ELEMENTS (pool_options); i++)
    if (g_str_equal (pool_options[i].name, c->name))
      {
        if (pool != NULL)
          *pool = pool_options[i].pool;
        return pool_options[i].input;
      }
  if (pool != NULL)
    *pool = NULL;
  return c->name;
}

/* The case called @name: the golden tests pick theirs by name, not by
 * their place in the table. */
static const PlanCase *
find_case (const char *name)
{
  const PlanCase *found = NULL;

  for (size_t i = 0; i < G_N_ELEMENTS (plan_cases) && found == NULL; i++)
    if (g_str_equal (plan_cases[i].name, name))
      found = &plan_cases[i];
  if (found == NULL)
    g_test_message ("no plan case called '%s'", name);
  g_assert_nonnull (found);
  return found;
}

static char *
data_path (const char *name, const char *suffix)
{
  g_autofree char *file = g_strconcat (name, suffix, NULL);

  return g_test_build_filename (G_TEST_DIST, "data", "clone", file, NULL);
}

static char *
read_file (const char *path)
{
  g_autoptr (GError) error = NULL;
  char *text = NULL;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return text;
}

static void
compare_or_regenerate (const char *path, const char *actual)
{
  g_autofree char *expected = NULL;

  if (g_strcmp0 (g_getenv ("DOMCLONE_TEST_REGENERATE"), "1") == 0)
    {
      g_autoptr (GError) error = NULL;

      g_file_set_contents (path, actual, -1, &error);
      g_assert_no_error (error);
      return;
    }
  expected = read_file (path);
  g_assert_cmpstr (actual, ==, expected);
}

static DcPlan *
plan_case (const PlanCase *c, const char *dest, guint first_number, GError **error)
{
  const char *pool = NULL;
  g_autofree char *in = data_path (case_input (c, &pool), ".in.xml");
  g_autofree char *xml = read_file (in);
  g_autofree char *inventory = g_test_build_filename (G_TEST_DIST, "data", "inventory.ini", NULL);
  g_autoptr (GRand) rand = g_rand_new_with_seed (20261127);
  DcPlanOptions opts = {
    .source_xml = xml,
    .name = dest,
    .first_number = first_number,
    .now = "2026-11-27T12:00:00Z",
    .rand = rand,
    .pool = pool,
    .linked = g_str_has_prefix (c->name, "linked-"),
  };
  DcEnv *env = dc_fake_env_new (inventory);
  DcPlan *plan = dc_plan_new (env, &opts, error);

  dc_fake_env_free (env);
  return plan;
}

static void
test_plan_case (gconstpointer data)
{
  const PlanCase *c = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (DcPlan) plan = plan_case (c, c->dest, c->first_number, &error);
  g_autoptr (GString) summary = NULL;
  g_autofree char *described = NULL;
  g_autofree char *out = NULL;
  g_autofree char *plan_file = NULL;

  if (c->error_code >= 0)
    {
      g_assert_null (plan);
      g_assert_error (error, DC_ERROR, c->error_code);
      g_test_message ("%s", error->message);
      dc_assert_contains (error->message, c->error_text);
      g_assert_null (strchr (error->message, '\n'));
      return;
    }

  g_assert_no_error (error);
  g_assert_nonnull (plan);

  described = dc_plan_describe (plan);
  summary = g_string_new (described);
  for (guint i = 0; i < plan->copies->len; i++)
    {
      const DcCopy *copy = plan->copies->pdata[i];
      g_string_append_printf (summary, "\n%s volume XML:\n%s", copy->what, copy->xml);
    }
  for (guint i = 0; i < plan->seeds->len; i++)
    {
      const DcSeed *seed = plan->seeds->pdata[i];
      g_autofree char *from = g_strjoinv (" ", seed->macs_from);
      g_autofree char *to = g_strjoinv (" ", seed->macs_to);

      g_string_append_printf (summary, "\n%s: host name %s, MACs %s -> %s, volume XML:\n%s", seed->vol->what,
                              seed->hostname, from, to, seed->vol->xml);
    }

  out = data_path (c->name, ".out.xml");
  plan_file = data_path (c->name, ".plan");
  compare_or_regenerate (out, plan->xml);
  compare_or_regenerate (plan_file, summary->str);
}

/* What identifies the source's network interfaces in @c's input XML:
 * their MAC addresses (at least one, or the identity test would check
 * nothing) and the host-side device names (<target dev>) libvirt gave
 * them. */
static GPtrArray *
interface_identity (const PlanCase *c, guint *n_macs)
{
  g_autofree char *in = data_path (case_input (c, NULL), ".in.xml");
  g_autofree char *xml = read_file (in);
  g_autoptr (GError) error = NULL;
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autoptr (xmlDoc) doc = dc_xml_parse (xml, "domain", "source XML", &ctxt, &error);
  g_autoptr (GPtrArray) macs = NULL;
  g_autoptr (GPtrArray) targets = NULL;
  GPtrArray *found = g_ptr_array_new_with_free_func (g_free);

  g_assert_no_error (error);
  macs = dc_xml_nodes (ctxt, NULL, "devices/interface/mac");
  /* a tap made outside libvirt (managed='no') is kept, with a warning */
  targets = dc_xml_nodes (ctxt, NULL, "devices/interface/target[not(@managed='no')]");
  for (guint i = 0; i < macs->len; i++)
    {
      char *address = dc_xml_prop (macs->pdata[i], "address");

      g_assert_nonnull (address);
      g_ptr_array_add (found, address);
    }
  *n_macs = found->len;
  g_assert_cmpuint (*n_macs, >, 0);
  for (guint i = 0; i < targets->len; i++)
    {
      char *dev = dc_xml_prop (targets->pdata[i], "dev");

      g_assert_nonnull (dev);
      g_ptr_array_add (found, dev);
    }
  return found;
}

/* Invariants that hold for every successful case, whatever the golden
 * files say: nothing of the source's identity survives.
 *
 * Longer than 60 lines: one input and every check of what it becomes,
 * side by side.
 */
static void
test_plan_identity (gconstpointer data)
{
  const PlanCase *c = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (DcPlan) plan = plan_case (c, c->dest, c->first_number, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (plan->name, !=, plan->source_name);
  g_assert_cmpstr (plan->uuid, !=, plan->source_uuid);
  {
    g_autofree char *uuid_elem = g_strdup_printf ("<uuid>%s</uuid>", plan->source_uuid);
    g_autofree char *uuid_entry = g_strdup_printf (">%s</entry>", plan->source_uuid);
    g_autofree char *origin = g_strdup_printf ("uuid=\"%s\"", plan->source_uuid);

    dc_assert_not_contains (plan->xml, uuid_elem);
    dc_assert_not_contains (plan->xml, uuid_entry);
    /* the source's UUID is only recorded as the origin */
    dc_assert_contains (plan->xml, origin);
  }
  /* no MAC address nor host-side device name of the source's
   * interfaces, in any case (MACs are hexadecimal) */
  {
    guint n_macs = 0;
    g_autoptr (GPtrArray) identity = interface_identity (c, &n_macs);
    g_autofree char *xml_lower = g_ascii_strdown (plan->xml, -1);

    for (guint i = 0; i < identity->len; i++)
      {
        g_autofree char *lower = g_ascii_strdown (identity->pdata[i], -1);

        g_test_message ("%s '%s' must not be in the clone", i < n_macs ? "MAC" : "device", lower);
        dc_assert_not_contains (xml_lower, lower);
      }
  }
  for (guint i = 0; i < plan->copies->len; i++)
    {
      const DcCopy *copy = plan->copies->pdata[i];

      /* never onto itself */
      g_assert_false (g_strcmp0 (copy->pool, copy->dst_pool) == 0
                      && g_str_equal (copy->src_name, copy->dst_name));
      /* nor onto its RBD image (a network disk's has no libvirt pool) */
      g_assert_false (copy->rbd != NULL && g_str_equal (copy->src_path, copy->dst_path));
      /* TPM state goes to the clone's UUID's folder, not into the XML;
       * or where the XML says, into a folder or file named after the
       * clone */
      if (g_str_equal (copy->what, "the TPM state"))
        {
          g_autofree char *dir = g_strdup_printf ("path=\"%s\"", copy->dst_open_dir);

          g_assert_true (strstr (copy->dst_path, plan->uuid) != NULL || strstr (plan->xml, dir) != NULL
                         || strstr (plan->xml, copy->dst_path) != NULL);
          continue;
        }
      dc_assert_not_contains (copy->dst_name, "clone-clone");
      /* an implicit NVRAM (firmware='efi') is found by its name alone */
      if (g_str_equal (copy->what, "the NVRAM") && strstr (plan->xml, "<nvram") == NULL)
        {
          g_autofree char *implicit = g_strdup_printf ("%s_VARS.fd", plan->name);
          g_assert_cmpstr (copy->dst_name, ==, implicit);
          continue;
        }
      {
        g_autofree char *as_volume = g_strdup_printf ("volume=\"%s\"", copy->dst_name);

        /* a file disk names the new path, a volume disk the new volume */
        g_assert_true ((copy->dst_path != NULL && strstr (plan->xml, copy->dst_path) != NULL)
                       || strstr (plan->xml, as_volume) != NULL);
      }
    }
}

static void
test_plan_taken_name_skipped (void)
{
  /* desk-clone2 exists in the inventory */
  g_autoptr (GError) error = NULL;
  g_autoptr (DcPlan) plan = plan_case (find_case ("graphics-fixed-port"), NULL, 2, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (plan->name, ==, "desk-clone3");
  g_assert_cmpuint (plan->number, ==, 3);
}

static void
test_plan_leftover_volume (void)
{
  /* no domain natty-nilgai-clone3, but a volume left by one: refuse,
   * never write over it */
  g_autoptr (GError) error = NULL;
  g_autoptr (DcPlan) plan = plan_case (find_case ("plain-qcow2"), NULL, 2, &error);

  g_assert_null (plan);
  g_assert_error (error, DC_ERROR, DC_ERROR_VOLUME_EXISTS);
  dc_assert_contains (error->message, "volume 'natty-nilgai-clone3.qcow2' already exists in pool 'default'");
}

/* The same for a disk outside any pool: the file is there, its domain
 * is not */
static void
test_plan_outside_leftover (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DcPlan) plan = plan_case (find_case ("outside-pool"), NULL, 2, &error);

  g_assert_null (plan);
  g_assert_error (error, DC_ERROR, DC_ERROR_VOLUME_EXISTS);
  dc_assert_contains (error->message,
                      "cannot clone disk 'vda': '/srv/stray/stray-clone2.qcow2' already exists");
}

static void
test_plan_name_rules (void)
{
  static const struct
  {
    const char *dest;
    int code;
  } cases[] = {
    { "natty-nilgai", DC_ERROR_INVALID_NAME },
    { "other-vm", DC_ERROR_NAME_TAKEN },
    { "bad name", DC_ERROR_INVALID_NAME },
    { "9lives", DC_ERROR_INVALID_NAME },
  };

  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (DcPlan) plan = plan_case (find_case ("plain-qcow2"), cases[i].dest, 1, &error);

      g_assert_null (plan);
      g_assert_error (error, DC_ERROR, cases[i].code);
    }
}

static void
test_plan_name_with_amp_escaped (void)
{
  /* the source is called "a&b": its volume is renamed and the XML stays
   * well-formed */
  g_autoptr (GError) error = NULL;
  g_autoptr (DcPlan) plan = plan_case (find_case ("amp-name"), "amp-copy", 1, &error);
  const DcCopy *copy;

  g_assert_no_error (error);
  g_assert_cmpstr (plan->source_name, ==, "a&b");
  g_assert_cmpuint (plan->copies->len, ==, 1);
  copy = plan->copies->pdata[0];
  g_assert_cmpstr (copy->dst_name, ==, "amp-copy.qcow2");
  dc_assert_contains (plan->xml, "name=\"a&amp;b\"");
}

/* A question the connection cannot answer fails the plan: a MAC address
 * or a volume name is never taken for free on a failed lookup. */
static void
test_plan_env_fails (void)
{
  static const char *const questions[] = { "mac_in_use", "vol_exists" };
  g_autofree char *inventory = g_test_build_filename (G_TEST_DIST, "data", "inventory.ini", NULL);
  g_autofree char *in = data_path ("plain-qcow2", ".in.xml");
  g_autofree char *xml = read_file (in);

  for (size_t i = 0; i < G_N_ELEMENTS (questions); i++)
    {
      g_autoptr (GRand) rand = g_rand_new_with_seed (20261127);
      g_autoptr (GError) error = NULL;
      g_autoptr (DcPlan) plan = NULL;
      g_autofree char *expected = g_strdup_printf ("fake failure of %s", questions[i]);
      DcPlanOptions opts = {
        .source_xml = xml,
        .first_number = 1,
        .now = "2026-11-27T12:00:00Z",
        .rand = rand,
      };
      DcEnv *env = dc_fake_env_new (inventory);

      dc_fake_env_fail (env, questions[i]);
      plan = dc_plan_new (env, &opts, &error);
      dc_fake_env_free (env);
      g_assert_null (plan);
      g_assert_error (error, DC_ERROR, DC_ERROR_LIBVIRT);
      dc_assert_contains (error->message, expected);
    }
}

/* Names as libvirt users write them: a source named after its OS clones
 * without --name; its guest's host name is a DNS label. */
static void
test_plan_name_dotted (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DcPlan) plan = plan_case (find_case ("dotted-name"), NULL, 1, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (plan->name, ==, "ubuntu22.04-clone1");
  dc_assert_contains (plan->xml, "ds=nocloud;i=ubuntu22.04-clone1;h=ubuntu22-04-clone1<");
  dc_assert_not_contains (plan->xml, "-clone-clone");
}

static void
test_plan_name_underscore (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DcPlan) plan = plan_case (find_case ("plain-qcow2"), "my_vm.copy", 1, &error);
  const DcCopy *copy;

  g_assert_no_error (error);
  g_assert_cmpstr (plan->name, ==, "my_vm.copy");
  g_assert_cmpuint (plan->copies->len, ==, 1);
  copy = plan->copies->pdata[0];
  g_assert_cmpstr (copy->dst_name, ==, "my_vm.copy.qcow2");
}

/* Every unix socket QEMU binds is the clone's own; the sockets it only
 * connects to belong to servers outside the domain and are kept. */
static void
test_plan_bound_sockets (void)
{
  static const char *const renamed[][2] = {
    /* a path that names the source */
    { "/run/vhost/router-net1.sock", "/run/vhost/router-clone1-net1.sock" },
    { "/run/vscard/router.sock", "/run/vscard/router-clone1.sock" },
    /* any other: the clone's name in front of the file name */
    { "/run/openvswitch/vhu0.sock", "/run/openvswitch/router-clone1-vhu0.sock" },
    { "/run/sockets/lpt.sock", "/run/sockets/router-clone1-lpt.sock" },
    { "/run/usbredir/hub.sock", "/run/usbredir/router-clone1-hub.sock" },
    { "/run/egd/entropy.sock", "/run/egd/router-clone1-entropy.sock" },
    { "/run/vnc/router.sock", "/run/vnc/router-clone1.sock" },
  };
  static const char *const kept[] = {
    "path=\"/run/openvswitch/dpdkvhostclient-router\" mode=\"client\"",
    "<source path=\"/run/router/console-hub.sock\"/>",
    "<source mode=\"connect\" path=\"/run/router/agent-proxy.sock\"/>",
    "<source mode=\"connect\" path=\"/run/usbredir/router-token.sock\"/>",
    "<server path=\"/run/ivshmem/router.sock\"/>",
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (DcPlan) plan = plan_case (find_case ("bound-sockets"), NULL, 1, &error);

  g_assert_no_error (error);
  for (size_t i = 0; i < G_N_ELEMENTS (renamed); i++)
    {
      g_autofree char *old = g_strdup_printf ("\"%s\"", renamed[i][0]);
      g_autofree char *new = g_strdup_printf ("\"%s\"", renamed[i][1]);

      dc_assert_not_contains (plan->xml, old);
      dc_assert_contains (plan->xml, new);
    }
  /* made by libvirt in the source's runtime directory: dropped */
  dc_assert_not_contains (plan->xml, "spice.sock");
  for (size_t i = 0; i < G_N_ELEMENTS (kept); i++)
    dc_assert_contains (plan->xml, kept[i]);
}

/* A socket under a directory named after the source: its file is
 * renamed, the directory stays (nobody makes one for the clone). */
static void
test_plan_socket_dir (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DcPlan) plan = plan_case (find_case ("socket-dir"), NULL, 1, &error);

  g_assert_no_error (error);
  dc_assert_not_contains (plan->xml, "/run/vms/web-clone1/");
  dc_assert_not_contains (plan->xml, "\"/run/vms/web/agent.sock\"");
  dc_assert_contains (plan->xml, "path=\"/run/vms/web/web-clone1-agent.sock\"");
  /* the path libvirt made for the source is dropped */
  dc_assert_not_contains (plan->xml, "domain-7-web");
  g_assert_cmpuint (plan->warnings->len, ==, 0);
}

/* Nothing that names the source's switch port or its sVirt label
 * survives: libvirt makes new ones. */
static void
test_plan_unique_ids (void)
{
  static const char *const gone[] = {
    "0b0e3a4c-6f53-4d2e-9a2b-7e1c5d8f9a01", "0b0e3a4c-6f53-4d2e-9a2b-7e1c5d8f9a02",
    "09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f", "1c2d3e4f-5a6b-4c7d-8e9f-a0b1c2d3e4f5",
    "2d3e4f5a-6b7c-4d8e-9fa0-b1c2d3e4f5a6",
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (DcPlan) ports = plan_case (find_case ("virtualport"), NULL, 1, &error);
  g_autoptr (DcPlan) selinux = NULL;
  g_autoptr (DcPlan) apparmor = NULL;

  g_assert_no_error (error);
  for (size_t i = 0; i < G_N_ELEMENTS (gone); i++)
    dc_assert_not_contains (ports->xml, gone[i]);
  /* what kind of port it is stays */
  dc_assert_contains (ports->xml, "<parameters profileid=\"gold\"/>");
  dc_assert_contains (ports->xml, "managerid=\"11\"");

  selinux = plan_case (find_case ("seclabel-static"), NULL, 1, &error);
  g_assert_no_error (error);
  dc_assert_not_contains (selinux->xml, "c392,c662");
  dc_assert_contains (selinux->xml, "<seclabel type=\"dynamic\" model=\"selinux\" relabel=\"yes\">");
  /* a DAC label is the user QEMU runs as, no identity: kept */
  dc_assert_contains (selinux->xml, "<seclabel type=\"static\" model=\"dac\"");

  apparmor = plan_case (find_case ("seclabel-apparmor"), NULL, 1, &error);
  g_assert_no_error (error);
  dc_assert_not_contains (apparmor->xml, "libvirt-8e4f2b3c");
  dc_assert_contains (apparmor->xml, "type=\"dynamic\" model=\"apparmor\" relabel=\"yes\"");
}

/* Identity that cannot be made unique is kept and said out loud, one
 * warning per device and port, naming both; a port bound to any free
 * port, a connecting socket and a shareable SCSI device are no identity. */
static void
test_plan_kept_warnings (void)
{
  static const char *const parts[] = {
    "forward of host tcp port '2222'",
    "forward of host tcp port '8080-8090'",
    "forward of host udp port '5353'",
    "interface 1's fixed TCP port '5558'",
    "interface 3's fixed UDP port '5561'",
    "interface 4's host device '0000:03:10.2'",
    "interface 5's tap device 'mytap0' (managed='no')",
    "vnc display's fixed websocket port '5701'",
    "serial 0's fixed TCP port '4555'",
    "serial 2's fixed UDP port '4557'",
    "redirdev 0's fixed TCP port '4600'",
    "PCI device '0000:01:00.0'",
    "USB device '0x046d:0xc52b'",
    "USB device at bus '1' device '5'",
    "mediated device 'c2177883-f1bb-47f0-914d-32a22e3a8804'",
    "vhost-scsi target 'naa.50014057667280d8'",
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (DcPlan) plan = plan_case (find_case ("kept-ports"), NULL, 1, &error);
  g_autoptr (DcPlan) quiet = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (plan->warnings->len, ==, G_N_ELEMENTS (parts));
  for (size_t i = 0; i < G_N_ELEMENTS (parts); i++)
    {
      const char *w = plan->warnings->pdata[i];

      g_test_message ("%s", w);
      dc_assert_contains (w, parts[i]);
      g_assert_true (g_str_has_prefix (w, "'gate-clone1' keeps "));
      g_assert_null (strchr (w, '\n'));
    }
  /* kept as they are */
  dc_assert_contains (plan->xml, "service=\"4555\"");
  dc_assert_contains (plan->xml, "websocket=\"5701\"");
  dc_assert_contains (plan->xml, "<range start=\"2222\" to=\"22\"/>");

  quiet = plan_case (find_case ("plain-qcow2"), NULL, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (quiet->warnings->len, ==, 0);
}

/* A seed's instance-id is derived as the SMBIOS serial's is, so the two
 * agree; a plain ISO stays shared; a label that cannot be read fails
 * the plan instead of passing for "no seed". */
static void
test_plan_seed (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DcPlan) plan = plan_case (find_case ("seed-cdrom"), NULL, 1, &error);
  g_autofree char *iid = NULL;
  g_autofree char *serial = NULL;

  g_assert_no_error (error);
  /* sda and sdc hold one image: a seed each */
  g_assert_cmpuint (plan->seeds->len, ==, 3);
  g_assert_cmpstr (((const DcSeed *) plan->seeds->pdata[2])->vol->dst_name, ==, "seeded-clone1-sdc.iso");
  iid = dc_cloudinit_instance_id ("seeded-01", plan->source_name, plan->name, plan->uuid);
  serial = g_strdup_printf ("ds=nocloud;i=%s;h=seeded-clone1<", iid);
  dc_assert_contains (plan->xml, serial);
  g_assert_cmpstr (iid, ==, "seeded-clone1-01");
  /* no name of the source in it: the clone's UUID */
  g_clear_pointer (&iid, g_free);
  iid = dc_cloudinit_instance_id ("iid-local01", plan->source_name, plan->name, plan->uuid);
  g_assert_cmpstr (iid, ==, plan->uuid);
  g_assert_cmpuint (plan->shared->len, ==, 1);
  g_assert_cmpstr (plan->shared->pdata[0], ==, "disk 'sdb' (cdrom)");
  for (guint i = 0; i < plan->seeds->len; i++)
    {
      const DcSeed *seed = plan->seeds->pdata[i];

      g_assert_cmpuint (g_strv_length (seed->macs_from), ==, 2);
      g_assert_cmpstr (seed->macs_from[1], ==, "52:54:00:5e:ed:02");
      dc_assert_contains (plan->xml, seed->macs_to[1]);
      /* the source's seed is never the clone's */
      g_assert_cmpstr (seed->vol->src_name, !=, seed->vol->dst_name);
    }
  dc_assert_not_contains (plan->xml, "seeded-seed.iso\"");
  dc_assert_not_contains (plan->xml, "volume=\"cidata.iso\"");

  {
    g_autofree char *inventory = g_test_build_filename (G_TEST_DIST, "data", "inventory.ini", NULL);
    g_autofree char *in = data_path ("seed-cdrom", ".in.xml");
    g_autofree char *xml = read_file (in);
    g_autoptr (GRand) rand = g_rand_new_with_seed (20261127);
    g_autoptr (GError) failed = NULL;
    g_autoptr (DcPlan) none = NULL;
    DcPlanOptions opts = {
      .source_xml = xml,
      .first_number = 1,
      .now = "2026-11-27T12:00:00Z",
      .rand = rand,
    };
    DcEnv *env = dc_fake_env_new (inventory);

    dc_fake_env_fail (env, "iso_label");
    none = dc_plan_new (env, &opts, &failed);
    dc_fake_env_free (env);
    g_assert_null (none);
    g_assert_error (failed, DC_ERROR, DC_ERROR_LIBVIRT);
    dc_assert_contains (failed->message, "cannot tell whether disk 'sda' is a cloud-init seed");
  }
}

/* The <mode> of a new volume's XML */
static char *
planned_mode (const DcCopy *copy)
{
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autoptr (xmlDoc) doc = dc_xml_parse (copy->xml, "volume", "volume XML", &ctxt, NULL);

  g_assert_nonnull (doc);
  return dc_xml_string (ctxt, NULL, "/volume/target/permissions/mode");
}

/* A read-only base (0444, 0440, 0400) gives copies, overlays and NVRAM
 * copies their owner can write, so QEMU, running as that owner, can;
 * the other bits are the source's. */
static void
test_plan_mode_owner_writable (void)
{
  const struct
  {
    const char *name;
    const char *what;
    const char *mode;
  } expected[] = {
    { "readonly-base", "disk 'vda'", "0644" },   { "readonly-base", "disk 'vdb'", "0640" },
    { "readonly-base", "the NVRAM", "0600" },    { "linked-readonly", "disk 'vda'", "0644" },
    { "linked-readonly", "disk 'vdb'", "0644" }, { "linked-readonly", "the NVRAM", "0600" },
  };

  for (size_t i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      const PlanCase c = { expected[i].name, NULL, 1, -1, NULL };
      g_autoptr (GError) error = NULL;
      g_autoptr (DcPlan) plan = plan_case (&c, NULL, 1, &error);
      const DcCopy *found = NULL;
      g_autofree char *mode = NULL;

      g_assert_no_error (error);
      for (guint j = 0; j < plan->copies->len; j++)
        {
          const DcCopy *copy = plan->copies->pdata[j];

          if (g_str_equal (copy->what, expected[i].what))
            found = copy;
        }
      g_test_message ("%s: %s", expected[i].name, expected[i].what);
      g_assert_nonnull (found);
      g_assert_cmpint (found->kind, ==,
                       g_str_has_prefix (expected[i].name, "linked-")
                           && g_str_has_prefix (expected[i].what, "disk")
                         ? DC_COPY_KIND_OVERLAY
                         : DC_COPY_KIND_FULL);
      mode = planned_mode (found);
      g_assert_cmpstr (mode, ==, expected[i].mode);
    }
}

/* The pool types domclone cannot copy from: refused in the plan, with
 * or without --pool, naming the disk and the pool's type */
static void
test_plan_unsupported_pools (void)
{
  static const char *const pools[][2] = {
    { "san", "iscsi" }, { "tank", "zfs" }, { "gv0", "gluster" }, { "sdb", "disk" }
  };
  g_autofree char *inventory = g_test_build_filename (G_TEST_DIST, "data", "inventory.ini", NULL);

  for (size_t i = 0; i < G_N_ELEMENTS (pools); i++)
    for (int with_pool = 0; with_pool < 2; with_pool++)
      {
        g_autofree char *xml = g_strdup_printf (
          "<domain type='kvm'><name>san-vm</name><uuid>7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e50</uuid>"
          "<memory unit='KiB'>1048576</memory><os><type arch='x86_64'>hvm</type></os><devices>"
          "<disk type='volume' device='disk'><driver name='qemu' type='raw'/>"
          "<source pool='%s' volume='lun-0'/><target dev='vdb' bus='virtio'/></disk>"
          "</devices></domain>",
          pools[i][0]);
        g_autofree char *expected = g_strdup_printf (
          "cannot clone disk 'vdb': its volume '%s' is in storage pool '%s' of type '%s', whose volumes domclone cannot copy",
          g_str_equal (pools[i][1], "gluster") ? "//lun-0" : "", pools[i][0], pools[i][1]);
        g_autoptr (GRand) rand = g_rand_new_with_seed (1);
        DcPlanOptions opts = {
          .source_xml = xml,
          .now = "2026-11-27T12:00:00Z",
          .rand = rand,
          .first_number = 1,
          .pool = with_pool ? "backup" : NULL,
        };
        DcEnv *env = dc_fake_env_new (inventory);
        g_autoptr (GError) error = NULL;
        g_autoptr (DcPlan) plan = dc_plan_new (env, &opts, &error);

        dc_fake_env_free (env);
        g_test_message ("%s%s: %s", pools[i][1], with_pool ? " --pool backup" : "",
                        error ? error->message : "planned");
        g_assert_null (plan);
        g_assert_error (error, DC_ERROR, DC_ERROR_UNSUPPORTED);
        dc_assert_contains (error->message, pools[i][0]);
        dc_assert_contains (error->message, strstr (expected, "' is in storage pool"));
      }
}

/* A block device outside every pool is never advised a dir pool over
 * its directory (which lists device nodes, not volumes): for LVM, a
 * logical pool */
static void
test_plan_block_advice (void)
{
  const PlanCase *c = find_case ("err-outside-block");
  g_autoptr (GError) error = NULL;
  g_autoptr (DcPlan) plan = plan_case (c, NULL, 1, &error);

  g_assert_null (plan);
  g_assert_error (error, DC_ERROR, DC_ERROR_UNSUPPORTED);
  dc_assert_contains (error->message, "virsh pool-define-as stray logical");
  dc_assert_not_contains (error->message, " dir ");
  dc_assert_not_contains (error->message, "pool-create-as");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  for (size_t i = 0; i < G_N_ELEMENTS (plan_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/plan/xml/%s", plan_cases[i].name);
      g_test_add_data_func (path, &plan_cases[i], test_plan_case);
      if (plan_cases[i].error_code < 0)
        {
          g_autofree char *ipath = g_strdup_printf ("/plan/identity/%s", plan_cases[i].name);
          g_test_add_data_func (ipath, &plan_cases[i], test_plan_identity);
        }
    }
  g_test_add_func ("/plan/name/taken-skipped", test_plan_taken_name_skipped);
  g_test_add_func ("/plan/name/leftover-volume", test_plan_leftover_volume);
  g_test_add_func ("/plan/name/rules", test_plan_name_rules);
  g_test_add_func ("/plan/name/outside-leftover", test_plan_outside_leftover);
  g_test_add_func ("/plan/name/amp", test_plan_name_with_amp_escaped);
  g_test_add_func ("/plan/env/fails", test_plan_env_fails);
  g_test_add_func ("/plan/name/dotted", test_plan_name_dotted);
  g_test_add_func ("/plan/name/underscore", test_plan_name_underscore);
  g_test_add_func ("/plan/sockets/bound", test_plan_bound_sockets);
  g_test_add_func ("/plan/seed", test_plan_seed);
  g_test_add_func ("/plan/mode/owner-writable", test_plan_mode_owner_writable);
  g_test_add_func ("/plan/disk/unsupported-pools", test_plan_unsupported_pools);
  g_test_add_func ("/plan/disk/block-advice", test_plan_block_advice);
  g_test_add_func ("/plan/sockets/dir-stays", test_plan_socket_dir);
  g_test_add_func ("/plan/identity-unique/ids", test_plan_unique_ids);
  g_test_add_func ("/plan/identity-unique/kept-warnings", test_plan_kept_warnings);
  return g_test_run ();
}
