/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: arbitrary bytes as the source domain's XML (and as
 * our metadata element and a volume's XML) into the clone planner, with
 * no daemon. The
 * connection it plans against says yes to everything: every disk is a
 * volume of one pool, no name or MAC is taken, so the rewrite runs as
 * deep as the input allows; a second pass plans it shaped (--memory,
 * --vcpus, --resize, --disk, --format), a third as a linked clone.
 * Built with ./configure --enable-fuzzing
 * (clang); scripts/fuzz.sh runs it.
 */
#include "config.h"

#include "dc-metadata.h"
#include "dc-plan.h"
#include "dc-protect.h"

#include <libxml/parser.h>
#include <string.h>

static gboolean
fz_domain_exists (DcEnv *env, const char *name, gboolean *exists, GError **error)
{
  *exists = FALSE;
  return TRUE;
}

static gboolean
fz_mac_in_use (DcEnv *env, const char *mac, gboolean *in_use, GError **error)
{
  *in_use = FALSE;
  return TRUE;
}

static DcVolInfo *
fz_vol (const char *pool, const char *name)
{
  DcVolInfo *info = dc_vol_info_new ();

  info->pool = g_strdup (pool);
  info->pool_path = g_strdup ("/pool");
  info->name = g_strdup (name);
  info->path = g_build_filename ("/pool", name, NULL);
  info->format = g_strdup ("qcow2");
  info->capacity = 1 << 30;
  info->allocation = 1 << 20;
  info->mode = g_strdup ("0600");
  return info;
}

static DcVolInfo *
fz_vol_by_path (DcEnv *env, const char *path, GError **error)
{
  g_autofree char *name = g_path_get_basename (path);

  return fz_vol ("pool", name);
}

static DcVolInfo *
fz_vol_by_name (DcEnv *env, const char *pool, const char *name, GError **error)
{
  return fz_vol (pool, name);
}

static gboolean
fz_vol_exists (DcEnv *env, const char *pool, const char *open_dir, const char *name, gboolean *exists,
               GError **error)
{
  *exists = FALSE;
  return TRUE;
}

static char *
fz_nvram_dir (DcEnv *env)
{
  return g_strdup ("/nvram");
}

static char *
fz_swtpm_dir (DcEnv *env)
{
  return g_strdup ("/swtpm");
}

static guint
fz_max_vcpus (DcEnv *env, const char *virt_type, const char *arch, const char *machine, const char *emulator)
{
  return 8;
}

static DcEnv fz_env = {
  .domain_exists = fz_domain_exists,
  .mac_in_use = fz_mac_in_use,
  .vol_by_path = fz_vol_by_path,
  .vol_by_name = fz_vol_by_name,
  .vol_exists = fz_vol_exists,
  .file = fz_vol_by_path,
  .nvram_dir = fz_nvram_dir,
  .swtpm_dir = fz_swtpm_dir,
  .max_vcpus = fz_max_vcpus,
};

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autofree char *xml = g_strndup ((const char *) data, size);
  g_autoptr (GRand) rand = g_rand_new_with_seed (1);
  g_autoptr (DcBuilding) me = dc_building_new ();
  DcPlanOptions opts = {
    .source_xml = xml,
    .name = NULL,
    .first_number = 1,
    .now = "2026-01-01T00:00:00Z",
    .rand = rand,
    .building = me,
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (DcPlan) plan = NULL;
  g_autoptr (DcMetadata) md = NULL;
  g_autoptr (DcVolInfo) vol = NULL;

  me->host = g_strdup ("fuzz");
  me->boot = g_strdup ("boot");
  me->pid = 1;
  plan = dc_plan_new (&fz_env, &opts, &error);
  if (plan != NULL)
    {
      g_autofree char *described = dc_plan_describe (plan);
      g_assert (plan->xml != NULL && described != NULL);
    }
  g_clear_error (&error);

  /* shaped: memory and vCPUs against its NUMA cells, topology and
   * cputune; its usual disk targets resized, shared, skipped, converted */
  {
    static const char *const resize[] = { "vda=+1G", "hda=4G", NULL };
    static const char *const disk[] = { "vdb=skip", "vdc=share", "sdb=copy", "fda=copy", NULL };
    g_autoptr (DcShape) shape = dc_shape_new ("3G", "6", resize, disk, "raw", NULL);
    g_autoptr (DcPlan) shaped = NULL;

    opts.shape = shape;
    shaped = dc_plan_new (&fz_env, &opts, &error);
    g_clear_error (&error);
    opts.shape = NULL;
  }

  /* the same XML as a template: linked clone, template rewrite and back */
  {
    g_autoptr (DcPlan) linked = NULL;
    g_autoptr (GPtrArray) disks = g_ptr_array_new_with_free_func (g_free);
    g_autofree char *made = NULL;
    g_autofree char *back = NULL;

    opts.linked = TRUE;
    linked = dc_plan_new (&fz_env, &opts, &error);
    g_clear_error (&error);
    if (dc_protect_xml (xml, &made, disks, &error) && made != NULL)
      dc_unprotect_xml (made, &back, disks, NULL);
    g_clear_error (&error);
  }

  vol = dc_vol_info_from_xml (xml, "pool", "/pool", &error);
  g_clear_error (&error);

  md = dc_metadata_parse (xml, &error);
  if (md != NULL)
    {
      g_autofree char *again = dc_metadata_format (md);
      g_assert (again != NULL);
    }
  return 0;
}
