/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The plan of a clone onto another host (--to), without a daemon: the
 * fake connection (tests/data/inventory.ini) answers for the source's
 * host, a small table here for the destination's (DcEnv.dst_has and the
 * questions about what is free and where volumes go).
 */
#include "config.h"

#include "dc-fake-env.h"
#include "dc-plan.h"
#include "dc-test-assert.h"

#include <string.h>

/* The destination: its pools, domains, volumes and files */
typedef struct
{
  DcEnv parent;
  DcEnv *src;
  gboolean no_pools;       /* it has no pool at all */
  const char *const *has;  /* paths and "pool/volume" names it has */
  const char *const *doms; /* its domains */
  const char *mac;         /* a MAC address in use there */
} ToEnv;

static gboolean
to_listed (const char *const *list, const char *item)
{
  return list != NULL && item != NULL && g_strv_contains (list, item);
}

static gboolean
to_domain_exists (DcEnv *base, const char *name, gboolean *exists, GError **error)
{
  *exists = to_listed (((ToEnv *) base)->doms, name);
  return TRUE;
}

static gboolean
to_mac_in_use (DcEnv *base, const char *mac, gboolean *in_use, GError **error)
{
  *in_use = g_strcmp0 (((ToEnv *) base)->mac, mac) == 0;
  return TRUE;
}

static gboolean
to_vol_exists (DcEnv *base, const char *pool, const char *open_dir, const char *name, gboolean *exists,
               GError **error)
{
  g_autofree char *key = g_strdup_printf ("%s/%s", pool, name);

  *exists = to_listed (((ToEnv *) base)->has, key);
  return TRUE;
}

static DcPoolInfo *
to_pool_info (DcEnv *base, const char *name, GError **error)
{
  if (((ToEnv *) base)->no_pools || !g_str_equal (name, "default"))
    {
      g_set_error (error, DC_ERROR, DC_ERROR_NOT_FOUND, "no pool '%s'", name);
      return NULL;
    }
  return dc_pool_info_new ("default", "dir", "/srv/there/images", TRUE);
}

static gboolean
to_dst_has (DcEnv *base, const char *path, const char *pool, const char *name, gboolean *has, GError **error)
{
  g_autofree char *key = path ? g_strdup (path) : g_strdup_printf ("%s/%s", pool, name);

  *has = to_listed (((ToEnv *) base)->has, key);
  return TRUE;
}

/* The source's questions go to the fake connection */
static DcVolInfo *
to_vol_by_path (DcEnv *base, const char *path, GError **error)
{
  DcEnv *src = ((ToEnv *) base)->src;

  return src->vol_by_path (src, path, error);
}

static DcVolInfo *
to_vol_by_name (DcEnv *base, const char *pool, const char *name, GError **error)
{
  DcEnv *src = ((ToEnv *) base)->src;

  return src->vol_by_name (src, pool, name, error);
}

static DcVolInfo *
to_file (DcEnv *base, const char *path, GError **error)
{
  DcEnv *src = ((ToEnv *) base)->src;

  return src->file (src, path, error);
}

static char *
to_nvram_dir (DcEnv *base)
{
  DcEnv *src = ((ToEnv *) base)->src;

  return src->nvram_dir (src);
}

static char *
to_swtpm_dir (DcEnv *base)
{
  DcEnv *src = ((ToEnv *) base)->src;

  return src->swtpm_dir (src);
}

/* Plans case @name of tests/data/clone across hosts, onto a destination
 * with the pool "default" (at /srv/there/images) unless @no_pools, that
 * has @has and the domains @doms */
static DcPlan *
plan_to_mac (const char *name, const char *dest, gboolean no_pools, const char *const *has,
             const char *const *doms, const char *mac, GError **error)
{
  g_autofree char *file = g_strdup_printf ("%s.in.xml", name);
  g_autofree char *in = g_test_build_filename (G_TEST_DIST, "data", "clone", file, NULL);
  g_autofree char *inventory = g_test_build_filename (G_TEST_DIST, "data", "inventory.ini", NULL);
  g_autofree char *xml = NULL;
  g_autoptr (GRand) rand = g_rand_new_with_seed (20261127);
  ToEnv env = {
    .parent = {
      .domain_exists = to_domain_exists,
      .mac_in_use = to_mac_in_use,
      .vol_by_path = to_vol_by_path,
      .vol_by_name = to_vol_by_name,
      .vol_exists = to_vol_exists,
      .file = to_file,
      .nvram_dir = to_nvram_dir,
      .swtpm_dir = to_swtpm_dir,
      .pool_info = to_pool_info,
      .dst_has = to_dst_has,
    },
    .src = dc_fake_env_new (inventory),
    .no_pools = no_pools,
    .has = has,
    .doms = doms,
    .mac = mac,
  };
  DcPlanOptions opts = {
    .name = dest,
    .first_number = 1,
    .now = "2026-11-27T12:00:00Z",
    .rand = rand,
    .across = TRUE,
    .source_uri = "qemu+ssh://kvm1/system",
    .source_host = "kvm1.example",
  };
  DcPlan *plan;

  g_assert_true (g_file_get_contents (in, &xml, NULL, NULL));
  opts.source_xml = xml;
  plan = dc_plan_new (&env.parent, &opts, error);
  dc_fake_env_free (env.src);
  return plan;
}

static DcPlan *
plan_to (const char *name, const char *dest, gboolean no_pools, const char *const *has,
         const char *const *doms, GError **error)
{
  return plan_to_mac (name, dest, no_pools, has, doms, NULL, error);
}

static const DcCopy *
copy_of (const DcPlan *plan, const char *what)
{
  for (guint i = 0; i < plan->copies->len; i++)
    if (g_str_equal (((const DcCopy *) plan->copies->pdata[i])->what, what))
      return plan->copies->pdata[i];
  g_error ("the plan copies no %s", what);
}

/* Each disk's copy goes into the destination's pool of the source
 * pool's name, at its path there; a shareable disk the destination has
 * keeps its path; a CD-ROM it lacks is copied there once, under its own
 * name, and shared; <origin> names the source's URI and host */
static void
test_plan_to_pools (void)
{
  const char *const has[] = { "/var/lib/libvirt/images/shared.raw", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (DcPlan) plan = plan_to ("multi-disk", NULL, FALSE, has, NULL, &error);
  const DcCopy *vda, *vdb, *sda;

  g_assert_no_error (error);
  g_assert_cmpstr (plan->name, ==, "web1-clone1");
  vda = copy_of (plan, "disk 'vda'");
  vdb = copy_of (plan, "disk 'vdb'");
  sda = copy_of (plan, "disk 'sda'");
  g_assert_cmpstr (vda->dst_pool, ==, "default");
  g_assert_cmpstr (vda->dst_path, ==, "/srv/there/images/web1-clone1.qcow2");
  g_assert_cmpstr (vdb->dst_path, ==, "/srv/there/images/web1-clone1-vdb.raw");
  g_assert_false (vda->shared);
  g_assert_cmpstr (sda->dst_name, ==, "debian-12.iso");
  g_assert_cmpstr (sda->dst_path, ==, "/srv/there/images/debian-12.iso");
  g_assert_true (sda->shared);
  g_assert_cmpuint (plan->copies->len, ==, 3);
  dc_assert_contains (plan->xml, "<source file=\"/srv/there/images/web1-clone1.qcow2\"/>");
  dc_assert_contains (plan->xml, "<source file=\"/srv/there/images/debian-12.iso\"/>");
  dc_assert_contains (plan->xml, "<source file=\"/var/lib/libvirt/images/shared.raw\"/>");
  dc_assert_contains (plan->metadata, "uri=\"qemu+ssh://kvm1/system\"");
  dc_assert_contains (plan->metadata, "host=\"kvm1.example\"");
}

/* A CD-ROM copied there by an earlier clone is shared, not copied */
static void
test_plan_to_media_there (void)
{
  const char *const has[] = { "/var/lib/libvirt/images/shared.raw", "default/debian-12.iso", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (DcPlan) plan = plan_to ("multi-disk", NULL, FALSE, has, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (plan->copies->len, ==, 2);
  dc_assert_contains (plan->xml, "<source file=\"/srv/there/images/debian-12.iso\"/>");
}

static void
test_plan_to_pool_missing (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DcPlan) plan = plan_to ("plain-qcow2", NULL, TRUE, NULL, NULL, &error);

  g_assert_null (plan);
  g_assert_error (error, DC_ERROR, DC_ERROR_POOL_NOT_FOUND);
  dc_assert_contains (error->message, "storage pool 'default' not found on the destination");
}

/* A qcow2 with a backing file: refused, naming it (on one host, the
 * copy flattens it) */
static void
test_plan_to_backing (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DcPlan) plan = plan_to ("backing-chain", NULL, FALSE, NULL, NULL, &error);

  g_assert_null (plan);
  g_assert_error (error, DC_ERROR, DC_ERROR_UNSUPPORTED);
  dc_assert_contains (error->message, "disk 'vda'");
  dc_assert_contains (error->message, "has the backing file '/var/lib/libvirt/images/");
}

/* Names are the destination's: the source's own name and one taken on
 * the source's host are free there; one taken there is not */
static void
test_plan_to_names (void)
{
  const char *const doms[] = { "taken-there", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (DcPlan) same = plan_to ("plain-qcow2", "natty-nilgai", FALSE, NULL, doms, &error);
  g_autoptr (DcPlan) desk = NULL;
  g_autoptr (DcPlan) taken = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (same->name, ==, "natty-nilgai");
  g_assert_cmpstr (copy_of (same, "disk 'vda'")->dst_name, ==, "natty-nilgai.qcow2");
  desk = plan_to ("plain-qcow2", "desk", FALSE, NULL, doms, &error);
  g_assert_no_error (error);
  taken = plan_to ("plain-qcow2", "taken-there", FALSE, NULL, doms, &error);
  g_assert_null (taken);
  g_assert_error (error, DC_ERROR, DC_ERROR_NAME_TAKEN);
}

/* The clone's MAC address is free on the destination: the one a plan
 * picks, once in use there, is not picked again */
static void
test_plan_to_macs (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DcPlan) first = plan_to ("plain-qcow2", NULL, FALSE, NULL, NULL, &error);
  g_autoptr (DcPlan) again = NULL;
  g_autoptr (GRegex) re = g_regex_new ("<mac address=\"([0-9a-f:]+)\"", 0, 0, NULL);
  g_autoptr (GMatchInfo) m = NULL;
  g_autofree char *mac = NULL;

  g_assert_no_error (error);
  g_assert_true (g_regex_match (re, first->xml, 0, &m));
  mac = g_match_info_fetch (m, 1);
  again = plan_to_mac ("plain-qcow2", NULL, FALSE, NULL, NULL, mac, &error);
  g_assert_no_error (error);
  dc_assert_not_contains (again->xml, mac);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/plan/to/pools", test_plan_to_pools);
  g_test_add_func ("/plan/to/media-there", test_plan_to_media_there);
  g_test_add_func ("/plan/to/pool-missing", test_plan_to_pool_missing);
  g_test_add_func ("/plan/to/backing", test_plan_to_backing);
  g_test_add_func ("/plan/to/names", test_plan_to_names);
  g_test_add_func ("/plan/to/macs", test_plan_to_macs);
  return g_test_run ();
}
