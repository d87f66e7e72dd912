/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-plan.c: the plan, what the planner decides about a clone (DcPlan):
 * freeing it, its warnings, describing it, its volumes in the order the
 * copy step makes them.
 *
 * The planner that builds it is dc-planner.c; the parts it decides are
 * in dc-plan-identity.c, dc-plan-volumes.c, dc-plan-disks.c,
 * dc-plan-seed.c, dc-plan-devices.c and dc-plan-host-claims.c. No
 * libvirt call is made in any of them, which keeps the whole rewrite
 * testable without a daemon and makes a dry run free.
 */
#include "config.h"

#include "dc-plan.h"
#include "dc-plan-priv.h"
#include "dc-metadata.h"

void
dc_copy_free (DcCopy *copy)
{
  g_free (copy->what);
  g_free (copy->disk);
  g_free (copy->pool);
  g_free (copy->src_name);
  g_free (copy->src_path);
  g_free (copy->dst_pool);
  g_free (copy->dst_open_dir);
  g_free (copy->dst_owner);
  g_free (copy->dst_group);
  g_free (copy->dst_name);
  g_free (copy->dst_path);
  g_free (copy->xml);
  g_free (copy->open_dir);
  g_free (copy->src_format);
  dc_rbd_source_free (copy->rbd);
  g_free (copy);
}

void
dc_plan_disk_free (DcPlanDisk *disk)
{
  g_free (disk->target);
  g_free (disk);
}

void
dc_seed_free (DcSeed *seed)
{
  dc_copy_free (seed->vol);
  g_free (seed->hostname);
  g_strfreev (seed->macs_from);
  g_strfreev (seed->macs_to);
  g_free (seed);
}

void
dc_plan_free (DcPlan *plan)
{
  if (plan == NULL)
    return;
  g_free (plan->source_name);
  g_free (plan->source_uuid);
  g_free (plan->name);
  g_free (plan->uuid);
  g_free (plan->xml);
  g_free (plan->metadata);
  g_clear_pointer (&plan->copies, g_ptr_array_unref);
  g_clear_pointer (&plan->shared, g_ptr_array_unref);
  g_clear_pointer (&plan->seeds, g_ptr_array_unref);
  g_clear_pointer (&plan->disks, g_ptr_array_unref);
  g_clear_pointer (&plan->warnings, g_ptr_array_unref);
  g_free (plan);
}

/* Adds a warning, one sentence, to the plan (DcPlan.warnings). */
void
dc_planner_warn (DcPlanner *p, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_ptr_array_add (p->plan->warnings, g_strdup_vprintf (format, args));
  va_end (args);
}

/**
 * dc_plan_describe:
 * @plan: a plan
 *
 * Returns: (transfer full): one line per volume copied or shared, for
 * verbose output and the tests' expected files
 */
char *
dc_plan_describe (const DcPlan *plan)
{
  GString *out = g_string_new (NULL);

  g_string_append_printf (out, "clone %s (%s) of %s\n", plan->name, plan->uuid, plan->source_name);
  for (guint i = 0; i < plan->copies->len; i++)
    {
      const DcCopy *c = plan->copies->pdata[i];

      g_autofree char *grow =
        c->grow_to ? g_strdup_printf (", grown to %" G_GUINT64_FORMAT " bytes", c->grow_to) : g_strdup ("");

      g_string_append_printf (out, "%s %s: %s/%s -> %s/%s (%s)%s%s%s%s\n",
                              c->kind == DC_COPY_KIND_OVERLAY ? "overlay" : "copy", c->what,
                              c->pool  ? c->pool
                              : c->rbd ? "(rbd)"
                                       : "-",
                              c->src_name, c->dst_pool, c->dst_name, c->dst_path ? c->dst_path : "-",
                              c->bytes_only ? ", its bytes as they are" : "", c->convert ? ", converted" : "",
                              grow, c->shared ? ", shared there by later clones" : "");
    }
  for (guint i = 0; i < plan->seeds->len; i++)
    {
      const DcCopy *c = ((const DcSeed *) plan->seeds->pdata[i])->vol;

      g_string_append_printf (out, "seed %s: %s/%s -> %s/%s (%s)\n", c->what, c->pool, c->src_name,
                              c->dst_pool, c->dst_name, c->dst_path ? c->dst_path : "-");
    }
  for (guint i = 0; i < plan->shared->len; i++)
    g_string_append_printf (out, "share %s\n", (const char *) plan->shared->pdata[i]);
  for (guint i = 0; i < plan->disks->len; i++)
    if (g_str_equal (((const DcPlanDisk *) plan->disks->pdata[i])->action, "skip"))
      g_string_append_printf (out, "skip disk '%s'\n", ((const DcPlanDisk *) plan->disks->pdata[i])->target);
  for (guint i = 0; i < plan->warnings->len; i++)
    g_string_append_printf (out, "warning %s\n", (const char *) plan->warnings->pdata[i]);
  return g_string_free (out, FALSE);
}

/**
 * dc_plan_volumes:
 * @plan: a plan
 *
 * Returns: (transfer container) (element-type DcCopy): every volume
 * @plan makes, in the order it makes them: the copies, then the seeds'
 */
GPtrArray *
dc_plan_volumes (const DcPlan *plan)
{
  GPtrArray *all = g_ptr_array_sized_new (plan->copies->len + plan->seeds->len);

  for (guint i = 0; i < plan->copies->len; i++)
    g_ptr_array_add (all, plan->copies->pdata[i]);
  for (guint i = 0; i < plan->seeds->len; i++)
    g_ptr_array_add (all, ((DcSeed *) plan->seeds->pdata[i])->vol);
  return all;
}

/**
 * dc_plan_seed_of:
 * @plan: a plan
 * @vol: one of its volumes of kind %DC_COPY_KIND_SEED
 *
 * Returns: (transfer none) (nullable): the seed @vol is the volume of
 */
const DcSeed *
dc_plan_seed_of (const DcPlan *plan, const DcCopy *vol)
{
  for (guint i = 0; i < plan->seeds->len; i++)
    if (((const DcSeed *) plan->seeds->pdata[i])->vol == vol)
      return plan->seeds->pdata[i];
  return NULL;
}
