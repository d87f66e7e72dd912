/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-planner.c: decide everything about a clone without changing
 * anything.
 *
 * Given the source's XML, the options and answers from a DcEnv about what
 * exists on the connection, build the clone's XML and the list of volumes
 * to copy. This file is the top level: the source, the order in which
 * the parts are decided (dc-plan-*.c), the clone's metadata, and the
 * retry when a name is taken.
 */
#include "config.h"

#include "dc-plan.h"
#include "dc-plan-priv.h"
#include "dc-metadata.h"

/* While the run goes on, the clone's metadata names who builds it and
 * every volume it makes (copies, then seeds), so `--cleanup` can find
 * them after a kill. */
static DcBuilding *
dc_planner_building (DcPlanner *p)
{
  const DcBuilding *who = p->opts->building;
  DcBuilding *b = dc_building_new ();

  b->host = g_strdup (who->host);
  b->boot = g_strdup (who->boot);
  b->pid = who->pid;
  b->start = who->start;
  for (guint i = 0; i < p->plan->copies->len; i++)
    {
      const DcCopy *c = p->plan->copies->pdata[i];
      dc_building_add_volume (b, c->dst_pool, c->dst_name, c->dst_open_dir);
      if (c->rbd != NULL)
        ((DcOwnedVolume *) b->volumes->pdata[i])->rbd = dc_rbd_source_copy (c->rbd, c->dst_name);
    }
  for (guint i = 0; i < p->plan->seeds->len; i++)
    {
      const DcCopy *c = ((const DcSeed *) p->plan->seeds->pdata[i])->vol;
      dc_building_add_volume (b, c->dst_pool, c->dst_name, c->dst_open_dir);
    }
  return b;
}

static gboolean
dc_planner_metadata (DcPlanner *p, GError **error)
{
  xmlNode *root = xmlDocGetRootElement (p->doc);
  xmlNode *metadata = dc_xml_child (root, "metadata", TRUE);
  g_autoptr (DcMetadata) md = dc_metadata_new ();
  g_autofree char *text = NULL;
  g_autoptr (xmlDoc) mddoc = NULL;
  xmlNode *copy;

  /* The source's counter must not be inherited. */
  for (xmlNode *n = metadata->children, *next; n != NULL; n = next)
    {
      next = n->next;
      if (n->type == XML_ELEMENT_NODE && n->ns != NULL && xmlStrEqual (n->ns->href, BAD_CAST DC_METADATA_URI))
        dc_xml_remove (n);
    }

  md->origin_name = g_strdup (p->plan->source_name);
  md->origin_uuid = g_strdup (p->plan->source_uuid);
  md->origin_time = g_strdup (p->opts->now);
  md->origin_linked = p->opts->linked;
  if (p->opts->across)
    {
      md->origin_uri = g_strdup (p->opts->source_uri);
      md->origin_host = g_strdup (p->opts->source_host);
    }
  p->plan->metadata = dc_metadata_format (md);

  if (p->opts->building != NULL)
    md->building = dc_planner_building (p);
  text = dc_metadata_format (md);
  /* names come from outside: one that XML cannot carry (a control
   * character in a source name, say) ends here, not in a crash */
  mddoc = dc_xml_parse (text, "domclone", "the clone's domclone metadata", NULL, error);
  if (mddoc == NULL)
    return FALSE;

  /* The element keeps its default namespace declaration: libvirt finds
   * it by namespace URI, prefixed or not. */
  copy = xmlDocCopyNode (xmlDocGetRootElement (mddoc), p->doc, 1);
  xmlAddChild (metadata, copy);
  return TRUE;
}

/* The source's name, UUID and domclone metadata; a linked clone's
 * source must be a template. */
static DcMetadata *
dc_planner_source (DcPlanner *p, GError **error)
{
  DcPlan *plan = p->plan;
  g_autoptr (DcMetadata) source_md = NULL;

  plan->source_name = dc_xml_string (p->ctxt, NULL, "/domain/name");
  plan->source_uuid = dc_xml_string (p->ctxt, NULL, "/domain/uuid");
  if (plan->source_name == NULL)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_XML, "the source domain's XML has no <name>");
      return NULL;
    }
  source_md = dc_metadata_of_domain (p->ctxt, error);
  if (source_md == NULL)
    return NULL;
  if (p->opts->linked && !source_md->template)
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_NOT_TEMPLATE,
        "domain '%s' is not a template, and a linked clone needs one; run 'domclone --make-template %s' first (its disks become read-only), or clone without --linked",
        plan->source_name, plan->source_name);
      return NULL;
    }
  p->source_md = source_md;
  return g_steal_pointer (&source_md);
}

/* Every device, in the order the plan decides them. */
static gboolean
dc_planner_devices (DcPlanner *p, GError **error)
{
  g_autoptr (GPtrArray) disks = NULL;

  dc_planner_sysinfo (p);
  if (!dc_planner_interfaces (p, error))
    return FALSE;
  dc_planner_ports (p);
  if (!dc_planner_chardevs (p, error) || !dc_planner_graphics_sockets (p, error)
      || !dc_planner_vhostuser (p, error))
    return FALSE;
  dc_planner_hostdevs (p);
  dc_planner_seclabels (p);

  disks = dc_xml_nodes (p->ctxt, NULL, "/domain/devices/disk");
  for (guint i = 0; i < disks->len; i++)
    if (!dc_planner_disk (p, disks->pdata[i], error))
      return FALSE;
  return dc_planner_nvram (p, error) && dc_planner_tpm (p, error) && dc_planner_memory_devices (p, error);
}

static DcPlan *
dc_plan_build (DcEnv *env, const DcPlanOptions *opts, char **chosen, guint *number, GError **error)
{
  g_autoptr (DcPlan) plan = g_new0 (DcPlan, 1);
  g_autoptr (xmlDoc) doc = NULL;
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autoptr (GHashTable) macs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GHashTable) vol_names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GPtrArray) macs_from = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) macs_to = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (DcPoolInfo) into = NULL;
  g_autoptr (DcMetadata) source_md = NULL;
  g_autoptr (GHashTable) dst_pools =
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) dc_pool_info_free);
  DcPlanner p = { env, opts, plan, NULL, NULL, macs, vol_names, NULL, macs_from, macs_to, NULL, dst_pools };
  xmlNode *root;

  plan->copies = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_copy_free);
  plan->shared = g_ptr_array_new_with_free_func (g_free);
  plan->seeds = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_seed_free);
  plan->disks = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_plan_disk_free);
  plan->warnings = g_ptr_array_new_with_free_func (g_free);

  doc = dc_xml_parse (opts->source_xml, "domain", "the source domain's XML", &ctxt, error);
  if (doc == NULL)
    return NULL;
  p.doc = doc;
  p.ctxt = ctxt;
  root = xmlDocGetRootElement (doc);

  source_md = dc_planner_source (&p, error);
  if (source_md == NULL || !dc_shape_check_targets (opts->shape, ctxt, error))
    return NULL;

  if (opts->pool != NULL)
    {
      gboolean ok = dc_planner_resolve_pool (&p, error);

      into = p.into; /* freed with the plan's other parts */
      if (!ok)
        return NULL;
    }
  if (!dc_planner_choose_name (&p, error))
    return NULL;
  *chosen = g_strdup (plan->name);
  *number = plan->number;
  plan->uuid = dc_random_uuid (opts->rand);

  dc_planner_identity (&p, root);
  if (!dc_planner_shape_domain (&p, error) || !dc_planner_devices (&p, error)
      || !dc_planner_metadata (&p, error))
    return NULL;
  plan->xml = dc_xml_format (root, TRUE);
  return g_steal_pointer (&plan);
}

/**
 * dc_plan_new:
 * @env: answers about the connection
 * @opts: the source XML and what the user asked for
 * @error: return location
 *
 * Returns: (transfer full): the plan, or %NULL with @error set
 */
DcPlan *
dc_plan_new (DcEnv *env, const DcPlanOptions *opts, GError **error)
{
  DcPlanOptions retry = *opts;

  for (;;)
    {
      g_autofree char *chosen = NULL;
      g_autoptr (GError) local = NULL;
      guint number = 0;
      gboolean exists = FALSE;
      DcPlan *plan = dc_plan_build (env, &retry, &chosen, &number, &local);

      if (plan != NULL)
        return plan;
      /* A volume named after a generated name appeared: if its domain
       * exists now, a concurrent domclone took the number; take the next.
       * Without the domain it is a leftover, never to be overwritten. */
      if (number > 0 && number < G_MAXUINT && g_error_matches (local, DC_ERROR, DC_ERROR_VOLUME_EXISTS)
          && env->domain_exists (env, chosen, &exists, NULL) && exists)
        {
          retry.first_number = number + 1;
          continue;
        }
      g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
}
