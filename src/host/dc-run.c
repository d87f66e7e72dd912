/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-run.c: carry out a clone plan.
 *
 * The orchestration: open and check the source, plan and define the
 * clone, run the copy step (dc-copy-step.c), mark the clone complete,
 * count it (dc-counter.c); on failure roll back through the one undo
 * stack (dc-undo.c). The source is only read, except for the counter
 * in its metadata, which is written last.
 */
#include "config.h"

#include "dc-run-priv.h"
#include "dc-undo.h"
#include "dc-counter.h"
#include "dc-copy-step.h"
#include "dc-backup.h"
#include "dc-cleanup.h"
#include "dc-progress.h"
#include "dc-env.h"
#include "dc-pool.h"
#include "dc-exist.h"
#include "dc-identity.h"
#include "dc-sameness.h"
#include "dc-metadata.h"
#include "dc-name.h"
#include "dc-rbd.h"
#include "dc-xml.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* How often a generated name can be lost to a concurrent domclone (or
 * anyone defining domains) before we give up. */
#define DC_RUN_MAX_DEFINE_RACES 100

/* Frees what the batch's part of a run holds (the model every clone's
 * run is copied from); on every way out of it (g_auto). */
static void
dc_run_clear (DcRun *run)
{
  g_clear_pointer (&run->env, dc_env_live_free);
  g_clear_pointer (&run->src, virDomainFree);
  g_clear_pointer (&run->src_host, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (DcRun, dc_run_clear)

/* The run of one clone: @base's part of the batch, its own undo stack */
static DcRun *
dc_run_new_clone (const DcRun *base)
{
  DcRun *run = g_new (DcRun, 1);

  *run = *base;
  run->progress = NULL;
  run->made = base->opts->read_back ? g_hash_table_new_full (NULL, NULL, NULL, g_free) : NULL;
  g_mutex_init (&run->undo_lock);
  run->undo = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_undo_free);
  run->building = NULL;
  run->plan = NULL;
  run->consistency = DC_LIVE_NO;
  run->here = NULL;
  run->scratch = NULL;
  return run;
}

/* Frees the run of one clone (not the batch's part, @base's). */
static void
dc_run_free_clone (DcRun *run)
{
  if (run == NULL)
    return;
  g_clear_pointer (&run->undo, g_ptr_array_unref);
  g_clear_pointer (&run->made, g_hash_table_unref);
  g_clear_pointer (&run->scratch, g_hash_table_unref);
  g_mutex_clear (&run->undo_lock);
  g_free (run);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcRun, dc_run_free_clone)

/* One clone of a batch (a --count call, or the one clone). Its number
 * (so its name) is decided before any clone of the batch starts, in
 * order; its plan when it starts; its run (and undo stack) is kept once
 * it is complete, until the batch knows which clones stay. */
typedef struct
{
  guint number; /* N of <source>-cloneN; 0: --name */
  DcPlan *plan;
  DcRun *run;            /* once complete */
  DcCloneResult *result; /* once complete */
  GError *error;         /* why it failed */
} DcSlot;

/* The clones of one call, made by up to DC_RUN_CLONES_AT_ONCE threads
 * (this one included). */
typedef struct
{
  DcRun *base;         /* the batch's part of every clone's run */
  DcHostScan *scan;    /* whose MACs the plans claim (under plan_lock) */
  DcPlanOptions popts; /* the planner's options, but first_number */
  GMutex plan_lock;    /* the planner, its env and @popts.rand */
  guint next_number;   /* under plan_lock: above every slot's number */
  DcSlot *slots;
  guint count;  /* clones asked for */
  gint next;    /* the next slot to start (atomic) */
  gint stop_at; /* the lowest slot that failed, else @count
                           * (atomic): none above it starts */
} DcClones;

static const char *
dc_state_name (int state)
{
  switch (state)
    {
    case VIR_DOMAIN_RUNNING:
      return "running";
    case VIR_DOMAIN_BLOCKED:
      return "blocked";
    case VIR_DOMAIN_PAUSED:
      return "paused";
    case VIR_DOMAIN_SHUTDOWN:
      return "shutting down";
    case VIR_DOMAIN_CRASHED:
      return "crashed";
    case VIR_DOMAIN_PMSUSPENDED:
      return "pmsuspended";
    case VIR_DOMAIN_SHUTOFF:
      return "shut off";
    default:
      return "in an unknown state";
    }
}

/* A source in @state, as read of @dom: shut off, and not suspended to
 * disk (a managed save would be lost to the clone) */
static gboolean
dc_run_shut_off (virDomainPtr dom, const char *name, int state, GError **error)
{
  if (state != VIR_DOMAIN_SHUTOFF)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_STATE,
                   "domain '%s' is %s; shut it down first (virsh shutdown '%s')", name, dc_state_name (state),
                   name);
      return FALSE;
    }
  if (virDomainHasManagedSaveImage (dom, 0) == 1)
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_STATE,
        "domain '%s' is suspended to disk (managed save); start and shut it down, or remove the image with 'virsh managedsave-remove %s'",
        name, name);
      return FALSE;
    }
  return TRUE;
}

/* Only a persistent, shut-off domain without a saved memory image has
 * disks that are consistent and not being written; with @live, a
 * running (or paused) one too, whose disks a backup job copies at one
 * instant: *@running says which it is. @running is given by a clone
 * only (--live cannot make a template), whose refusal of a running
 * source then names --live. */
gboolean
dc_run_check_source (virDomainPtr dom, const char *name, gboolean live, gboolean *running, GError **error)
{
  int state = VIR_DOMAIN_NOSTATE;
  gboolean active;
  int persistent = virDomainIsPersistent (dom);

  if (persistent < 0)
    return dc_set_libvirt_error (error, "cannot read domain '%s'", name);
  if (persistent == 0)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_STATE,
                   "domain '%s' is transient; only a defined (persistent), shut-off domain can be cloned",
                   name);
      return FALSE;
    }
  if (virDomainGetState (dom, &state, NULL, 0) < 0)
    return dc_set_libvirt_error (error, "cannot read the state of domain '%s'", name);
  active = state == VIR_DOMAIN_RUNNING || state == VIR_DOMAIN_PAUSED || state == VIR_DOMAIN_BLOCKED;
  if (running != NULL)
    *running = live && active;
  if (live && active)
    return TRUE;
  if (active)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_STATE,
                   "domain '%s' is %s; shut it down first (virsh shutdown '%s')%s", name,
                   dc_state_name (state), name, running ? ", or clone it as it runs with --live" : "");
      return FALSE;
    }
  return dc_run_shut_off (dom, name, state, error);
}

/* After the copies: the source, persistent and shut off when they
 * began, is so still, and was not suspended to disk meanwhile. It
 * cannot have become transient but by being undefined while it ran,
 * which its state tells (or libvirt no longer finds it), so its
 * persistence is not asked again. */
static gboolean
dc_run_recheck_source (virDomainPtr dom, const char *name, GError **error)
{
  int state = VIR_DOMAIN_NOSTATE;

  if (virDomainGetState (dom, &state, NULL, 0) < 0)
    return dc_set_libvirt_error (error, "cannot read the state of domain '%s'", name);
  return dc_run_shut_off (dom, name, state, error);
}

static char *
dc_now (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();

  return g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
}

/* --live: what must hold before anything is made for a running source
 * (dc-backup.c): its disks are the ones its definition names, with
 * --quiesce its agent answers, and there is room for the job's
 * targets; onto another host (--to), where the disks are streamed
 * across as they are read, each disk is a file (the job keeps its
 * scratch file beside it). */
static gboolean
dc_run_live_check (DcRun *run, const DcPlan *plan, GError **error)
{
  if (!dc_backup_check_live (run->src, plan->source_name, run->source_xml, plan->copies, run->opts->quiesce,
                             error))
    return FALSE;
  if (run->across)
    return dc_backup_check_pull (run->src_conn, run->src, plan->source_name, plan->copies, error);
  return dc_backup_check_space (run->conn, plan->copies, error);
}

/* The MACs of the clone XML @xml go into @macs, where the plans that
 * follow see them in use. */
static void
dc_run_claim_macs (GHashTable *macs, const char *xml)
{
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autoptr (xmlDoc) doc = dc_xml_parse (xml, "domain", "the clone's XML", &ctxt, NULL);
  g_autoptr (GPtrArray) nodes =
    doc ? dc_xml_nodes (ctxt, NULL, "/domain/devices/interface/mac/@address") : NULL;

  for (guint i = 0; nodes != NULL && i < nodes->len; i++)
    {
      g_autoptr (DcXmlChar) mac = xmlNodeGetContent (nodes->pdata[i]);

      if (mac != NULL)
        g_hash_table_add (macs, g_ascii_strdown ((const char *) mac, -1));
    }
}

/* The plan of @slot, named after its number or, @again (its name was
 * taken meanwhile), after the first number above every slot's. Planned
 * one at a time: the planner's env and random numbers are not shared
 * between threads, and each plan claims its MACs for the plans after
 * it. */
static gboolean
dc_clones_plan (DcClones *c, DcSlot *slot, gboolean again, GError **error)
{
  DcPlanOptions popts = c->popts;

  g_mutex_lock (&c->plan_lock);
  if (again)
    {
      c->next_number =
        MAX (c->next_number, slot->plan->number < G_MAXUINT ? slot->plan->number + 1 : G_MAXUINT);
      slot->number = c->next_number;
    }
  g_clear_pointer (&slot->plan, dc_plan_free);
  popts.first_number = MAX (slot->number, 1);
  slot->plan = dc_plan_new (c->base->env, &popts, error);
  if (slot->plan != NULL)
    {
      g_autofree char *summary = dc_plan_describe (slot->plan);

      g_info ("plan:\n%s", summary);
      g_debug ("clone XML:\n%s", slot->plan->xml);
      if (slot->plan->number >= c->next_number)
        c->next_number = slot->plan->number < G_MAXUINT ? slot->plan->number + 1 : G_MAXUINT;
      dc_run_claim_macs (c->scan->macs, slot->plan->xml);
    }
  g_mutex_unlock (&c->plan_lock);
  return slot->plan != NULL;
}

static char *dc_run_xml_with_metadata (const char *xml, const char *metadata, GError **error);

/* The XML @plan's clone is defined with: its <building> marker names,
 * beside the new volumes, the scratch volumes of the proofs the copies
 * may make (dc_sameness_name_scratch()), so that a proof writes no
 * marker of its own. */
static char *
dc_run_define_xml (DcRun *run, const DcPlan *plan, GError **error)
{
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autoptr (xmlDoc) doc = dc_xml_parse (plan->xml, "domain", "the clone's XML", &ctxt, error);
  g_autoptr (DcMetadata) md = doc ? dc_metadata_of_domain (ctxt, error) : NULL;
  g_autoptr (GPtrArray) volumes = dc_plan_volumes (plan);
  g_autofree char *metadata = NULL;

  if (md == NULL)
    return NULL;
  if (md->building == NULL)
    return g_strdup (plan->xml);
  dc_sameness_name_scratch (run, volumes, md->building);
  if (g_hash_table_size (run->scratch) == 0)
    return g_strdup (plan->xml);
  metadata = dc_metadata_format (md);
  return dc_run_xml_with_metadata (plan->xml, metadata, error);
}

/* Plans the clone of @slot and defines it, which claims its name:
 * defining is an atomic test-and-set on the name in libvirt, so two
 * domclones never end up with the same clone, on this host or over a
 * remote connection. A name lost to another run meanwhile is planned
 * again with the first number above this batch's. */
static gboolean
dc_run_define (DcClones *c, DcRun *run, DcSlot *slot, virDomainPtr *clone, GError **error)
{
  for (int races = 0;; races++)
    {
      const DcPlan *plan;
      g_autoptr (GError) local = NULL;
      g_autofree char *xml = NULL;
      gboolean taken = FALSE;

      if (!dc_check_cancelled (error) || !dc_clones_plan (c, slot, races > 0, error))
        return FALSE;
      plan = slot->plan;
      if (!dc_check_cancelled (error) || (run->live && !dc_run_live_check (run, plan, error)))
        return FALSE;
      xml = dc_run_define_xml (run, plan, error);
      if (xml == NULL)
        return FALSE;

      *clone = virDomainDefineXML (run->conn, xml);
      if (*clone != NULL)
        {
          dc_undo_push (run, DC_UNDO_DOMAIN, plan->name, NULL, NULL, NULL);
          return TRUE;
        }
      dc_set_libvirt_error (&local, "cannot define domain '%s'", plan->name);
      if (!run->env->domain_exists (run->env, plan->name, &taken, NULL) || !taken)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      if (plan->number == 0 || races >= DC_RUN_MAX_DEFINE_RACES)
        {
          /* another run (or anyone) defined the name between our plan
           * and our define: the name is taken, as if the plan had seen
           * it (dc_run_clone() asks --exist-ok's question again) */
          g_set_error (
            error, DC_ERROR, DC_ERROR_NAME_TAKEN,
            "domain '%s' was defined by someone else while this run prepared it; choose another --name",
            plan->name);
          return FALSE;
        }
      g_info ("'%s' was taken meanwhile, trying the next free number", plan->name);
    }
}

/* The clone's domclone metadata once complete: the plan's, without the
 * <building> marker, with <volumes> naming the volumes @result lists. */
static char *
dc_run_final_metadata (const DcPlan *plan, const DcCloneResult *result, GError **error)
{
  g_autoptr (DcMetadata) md = dc_metadata_parse (plan->metadata, error);

  if (md == NULL)
    return NULL;
  for (guint i = 0; i < result->volumes->len; i++)
    {
      const DcResultVolume *r = result->volumes->pdata[i];
      const DcCopy *c = i < plan->copies->len
                          ? plan->copies->pdata[i]
                          : ((const DcSeed *) plan->seeds->pdata[i - plan->copies->len])->vol;
      DcOwnedVolume *v;

      if (c->shared)
        continue; /* --to: media shared there by later clones too */
      v = dc_owned_volume_new (c->dst_pool, c->dst_name, c->dst_open_dir);

      v->disk = g_strdup (r->disk);
      v->path = g_strdup (r->path);
      v->format = g_strdup (r->format);
      v->backing = g_strdup (r->backing);
      v->rbd = c->rbd ? dc_rbd_source_copy (c->rbd, c->dst_name) : NULL;
      g_ptr_array_add (md->volumes, v);
    }
  /* what became of each disk, for an --exist-ok rerun's result */
  for (guint i = 0; result->disks != NULL && i < result->disks->len; i++)
    {
      const DcResultDisk *d = result->disks->pdata[i];

      dc_metadata_add_disk (md, d->disk, d->action);
    }
  return dc_metadata_format (md);
}

/* @xml, a clone's XML, with @metadata as its domclone element: what
 * --print-xml shows is what a run leaves once complete. */
static char *
dc_run_xml_with_metadata (const char *xml, const char *metadata, GError **error)
{
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autoptr (xmlDoc) doc = dc_xml_parse (xml, "domain", "the clone's XML", &ctxt, error);
  g_autoptr (xmlDoc) mddoc = NULL;
  xmlNode *old;

  if (doc == NULL)
    return NULL;
  mddoc = dc_xml_parse (metadata, "domclone", "the clone's domclone metadata", NULL, error);
  if (mddoc == NULL)
    return NULL;
  old = dc_metadata_node (ctxt);
  if (old == NULL)
    return g_strdup (xml);
  xmlReplaceNode (old, xmlDocCopyNode (xmlDocGetRootElement (mddoc), doc, 1));
  xmlFreeNode (old);
  return dc_xml_format (xmlDocGetRootElement (doc), TRUE);
}

/* The sizes of the new @volumes as libvirt saw them once made, into
 * @result's (which lists them in the same order), when it wants them. */
static void
dc_run_read_back (DcRun *run, GPtrArray *volumes, DcCloneResult *result)
{
  for (guint i = 0; run->made != NULL && i < volumes->len; i++)
    {
      const virStorageVolInfo *info = g_hash_table_lookup (run->made, volumes->pdata[i]);
      DcResultVolume *v = result->volumes->pdata[i];

      if (info != NULL)
        {
          v->capacity = (gint64) info->capacity;
          v->allocation = (gint64) info->allocation;
        }
    }
}

/* What the planner is asked, from the command line's options and what
 * the run found: the one place a new clone option is passed on. */
static DcPlanOptions
dc_run_plan_options (const DcRun *run, guint64 counter, GRand *rand, const char *now)
{
  DcPlanOptions popts = {
    .source_xml = run->source_xml,
    .name = run->opts->name,
    .first_number = (guint) MIN (counter + 1, G_MAXUINT),
    .now = now,
    .rand = rand,
    .pool = run->opts->pool,
    .linked = run->opts->linked,
    .shape = run->opts->shape,
    .across = run->across,
    .source_uri = run->opts->source_uri,
    .source_host = run->src_host,
  };

  return popts;
}

/* Whether this process may open every disk of @reset: each file is
 * readable and writable here (libguestfs opens it from this process, with
 * any backend: a member of the libvirt group cannot open root's 0600
 * images, which libvirt copied for it), and its directory is proven to
 * be the daemon's (dc-sameness.c) */
static gboolean
dc_run_reset_reachable (DcRun *run, const DcPlan *plan, const DcReset *reset, GError **error)
{
  for (guint i = 0; i < reset->disks->len; i++)
    {
      const DcResetDisk *d = reset->disks->pdata[i];
      g_autofree char *dir = g_path_get_dirname (d->path);

      if (access (d->path, R_OK | W_OK) != 0)
        {
          int e = errno;

          g_set_error (
            error, DC_ERROR, DC_ERROR_IDENTITY,
            "cannot reset the identity of '%s': this process (user '%s') cannot open disk '%s' ('%s'): %s; libguestfs opens the clone's disks from here, so run domclone --reset-identity as a user who can read and write them (root on qemu:///system), or clone without it and reset the copy as root (virt-sysprep)",
            plan->name, g_get_user_name (), d->target, d->path, g_strerror (e));
          return FALSE;
        }

      for (guint j = 0; j < plan->copies->len; j++)
        {
          const DcCopy *c = plan->copies->pdata[j];

          if (g_strcmp0 (c->dst_path, d->path) != 0
              || dc_sameness_of_dir (run, c->dst_pool, c->dst_open_dir, dir) == DC_SAME_PROVEN)
            continue;
          g_set_error (
            error, DC_ERROR, DC_ERROR_IDENTITY,
            "cannot reset the identity of '%s': disk '%s' ('%s') is not reachable from this host as libvirt sees it",
            plan->name, d->target, d->path);
          return FALSE;
        }
    }
  return TRUE;
}

/* --reset-identity, once the clone's disks are copied: their identity
 * inside is reset (dc-identity.c). With =try, a failure is a warning
 * and the clone is kept as copied. */
static gboolean
dc_run_reset_identity (DcRun *run, const DcPlan *plan, DcCloneResult *result, GError **error)
{
  g_autoptr (DcReset) reset = NULL;
  g_autoptr (GError) local = NULL;

  if (run->opts->reset_identity == DC_RESET_NONE)
    return TRUE;
  reset = dc_reset_plan (plan, run->opts->reset_identity, error);
  if (reset == NULL)
    return FALSE;
  if (!dc_run_reset_reachable (run, plan, reset, &local) || !dc_identity_reset (reset, plan->name, &local))
    {
      if (reset->mode != DC_RESET_TRY)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return FALSE;
        }
      reset->failure = g_strdup (local->message);
      g_ptr_array_add (
        result->warnings,
        g_strdup_printf ("%s; the clone is kept as it is (--reset-identity=try)", local->message));
    }
  result->identity = g_steal_pointer (&reset);
  return TRUE;
}

/* --reset-identity opens the clone's disks from this host: a remote
 * connection is refused before anything is made (DC_ERROR_USAGE). */
static gboolean
dc_run_check_reset (virConnectPtr conn, const DcCloneOptions *opts, GError **error)
{
  g_autofree char *uri = NULL;

  if (opts->reset_identity == DC_RESET_NONE || dc_connection_is_local (conn))
    return TRUE;
  uri = virConnectGetURI (conn);
  g_set_error (
    error, DC_ERROR, DC_ERROR_USAGE,
    "--reset-identity changes the clone's disks from this host, but '%s' is a remote connection whose disks are not reachable here; clone without it, or run domclone on that host",
    uri ? uri : "the connection");
  return FALSE;
}

/* The part of a clone that makes changes, from its plan in @slot on:
 * define, copy, mark complete (the batch counts it once all are); on
 * failure the caller rolls back what the undo stack holds. */
static gboolean
dc_run_steps (DcClones *c, DcRun *run, DcSlot *slot, DcCloneResult *result, GError **error)
{
  g_autoptr (DcDomain) clone = NULL;
  g_autofree char *final = NULL;
  g_autoptr (GPtrArray) volumes = NULL;
  const DcPlan *plan;
  gboolean ok;

  if (!dc_run_define (c, run, slot, &clone, error))
    return FALSE;
  plan = slot->plan;
  run->building = clone;

  volumes = dc_plan_volumes (plan);
  if (run->show_progress && volumes->len > 0)
    run->progress = dc_progress_new (run->conn, STDERR_FILENO);
  run->plan = plan;
  ok = dc_copy_step_run (run, volumes, error);
  run->plan = NULL;
  g_clear_pointer (&run->progress, dc_progress_free);
  if (!ok)
    return FALSE;

  /* Nothing must have started the source while its disks were read
   * (a running one's were read at one instant). */
  if (!dc_check_cancelled (error)
      || (!run->live && !dc_run_recheck_source (run->src, plan->source_name, error)))
    return FALSE;
  result->live = run->live ? run->consistency : DC_LIVE_NO;
  /* The clone is complete: drop the marker that would let a clean-up
   * take it for the leftover of a killed run, and say which volumes
   * are its own (an --exist-ok rerun lists them). */
  dc_result_fill (result, plan, run->env);
  if (!dc_run_reset_identity (run, plan, result, error) || !dc_check_cancelled (error))
    return FALSE;
  final = dc_run_final_metadata (plan, result, error);
  if (final == NULL)
    return FALSE;
  if (virDomainSetMetadata (clone, VIR_DOMAIN_METADATA_ELEMENT, final, DC_METADATA_PREFIX, DC_METADATA_URI,
                            VIR_DOMAIN_AFFECT_CONFIG)
      < 0)
    return dc_set_libvirt_error (error, "cannot mark clone '%s' as complete", plan->name);

  dc_run_read_back (run, volumes, result);
  return TRUE;
}

/**
 * dc_run_source_open:
 * @conn: connection
 * @name: the domain to clone (or to make or unmake a template)
 * @xml: (out): its inactive XML, secure
 * @error: return location
 *
 * Looks @name up and checks that it is shut off and persistent, as a
 * source must be (with @live, running or paused will do; *@running,
 * given by a clone only, says whether it is).
 *
 * Returns: (transfer full): the domain, or %NULL with @error set
 */
virDomainPtr
dc_run_source_open (virConnectPtr conn, const char *name, gboolean live, gboolean *running, char **xml,
                    GError **error)
{
  g_autoptr (DcDomain) dom = virDomainLookupByName (conn, name);

  if (dom == NULL)
    {
      g_autofree char *shown = g_strescape (name, NULL);

      if (dc_last_libvirt_code () == VIR_ERR_NO_DOMAIN)
        g_set_error (error, DC_ERROR, DC_ERROR_SOURCE_NOT_FOUND,
                     "domain '%s' not found; 'virsh list --all' shows the domains", shown);
      else
        dc_set_libvirt_error (error, "cannot look up domain '%s'", shown);
      return NULL;
    }
  if (!dc_run_check_source (dom, name, live, running, error))
    return NULL;
  *xml = virDomainGetXMLDesc (dom, VIR_DOMAIN_XML_SECURE | VIR_DOMAIN_XML_INACTIVE);
  if (*xml == NULL)
    {
      dc_set_libvirt_error (error, "cannot read the XML of domain '%s'", name);
      return NULL;
    }
  return g_steal_pointer (&dom);
}

/* Looks the source up and checks it can be cloned (into @run); reads
 * its XML and its counter. */
static gboolean
dc_run_open_source (DcRun *run, char **xml, guint64 *counter, GError **error)
{
  const char *name = run->opts->source;
  g_autoptr (DcMetadata) md = NULL;

  run->src = dc_run_source_open (run->src_conn, name, run->opts->live, &run->live, xml, error);
  if (run->src == NULL || (run->live && !dc_backup_supported (run->src, name, error)))
    return FALSE;
  md = dc_domain_metadata (run->src, name, error);
  if (md == NULL)
    return FALSE;
  *counter = md->counter;
  return TRUE;
}

/* What every run starts with: the source, checked, with its XML and
 * *@counter; and one pass over the host's domains, which answers for the
 * MAC addresses in use, the names taken and the leftovers of killed
 * runs. The pass is started first, in a thread of its own: on a host
 * with a thousand domains it is most of a small clone's time, and the
 * source is opened and read meanwhile (nothing the pass finds is
 * needed before the leftovers are removed). */
static DcHostScan *
dc_run_begin (DcRun *run, char **xml, guint64 *counter, GError **error)
{
  DcScanTask *task = dc_host_scan_start (run->conn);
  DcHostScan *scan = NULL;
  gboolean ok = dc_run_open_source (run, xml, counter, error);

  /* --to: the clone's <origin> names the source's host */
  if (ok && run->across)
    {
      run->src_host = virConnectGetHostname (run->src_conn);
      if (run->src_host == NULL)
        ok = dc_set_libvirt_error (error, "cannot read the host name of the source's host");
    }
  scan = dc_host_scan_finish (task, ok, error);
  if (scan == NULL)
    g_clear_pointer (&run->src, virDomainFree);
  return scan;
}

/* The planner's questions, answered by the clone's host (and, --to, by
 * the source's for its files) */
static DcEnv *
dc_run_env (DcRun *run, const DcHostScan *scan, gboolean read_only)
{
  if (run->across)
    return dc_env_live_new_to (run->src_conn, run->conn, scan, read_only);
  return read_only ? dc_env_live_new_read_only (run->conn, scan) : dc_env_live_new (run->conn, scan);
}

/* Leftovers of killed runs against this source go first: they hold
 * names and space. One still being copied by libvirt is left for later,
 * with a warning. The names of those removed are taken off @scan's:
 * they are free again. */
static void
dc_run_remove_leftovers (DcRun *run, DcHostScan *scan)
{
  g_autoptr (GPtrArray) removed = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;

  if (!dc_cleanup (run->conn, scan, run->src_conn, run->opts->source, FALSE, removed, &error))
    g_warning ("cannot remove the leftovers of an earlier run: %s", error->message);
  for (guint i = 0; i < removed->len; i++)
    {
      g_message ("removed '%s', left unfinished by a killed run", (const char *) removed->pdata[i]);
      dc_host_scan_forget (scan, removed->pdata[i]);
    }
}

/* "A", "A and B", "A, B and C" */
static char *
dc_run_name_list (const GPtrArray *made)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < made->len; i++)
    {
      if (i > 0)
        g_string_append (out, i + 1 == made->len ? " and " : ", ");
      g_string_append (out, ((const DcCloneResult *) made->pdata[i])->name);
    }
  return g_string_free (out, FALSE);
}

/* How many clones of one --count batch are made at once: each is about
 * sixty calls to the daemon one after another, mostly waiting for its
 * answers, so a few at once keep both the daemon and this process busy
 * (more add little on two cores, and libvirtd serves five calls of one
 * connection at once). */
#define DC_RUN_CLONES_AT_ONCE 4

/* Decides the numbers of @c's clones, in order, before any starts:
 * consecutive from @first, skipping a name some domain had when the
 * host was scanned, the leftovers removed since aside (listing the
 * domains again would cost as much as the rest of the numbering on a
 * host with a thousand; the planner checks each name again when its
 * clone is planned, and defining it is the final test: a name taken
 * meanwhile moves that clone above all of them). */
static void
dc_clones_number (DcClones *c, guint first)
{
  g_autoptr (GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);
  guint n = MAX (first, 1);

  for (guint i = 0; i < c->scan->names->len; i++)
    g_hash_table_add (names, c->scan->names->pdata[i]);
  for (guint i = 0; i < c->count; i++, n = n < G_MAXUINT ? n + 1 : n)
    {
      for (guint tries = 0; tries < c->count; tries++, n = n < G_MAXUINT ? n + 1 : n)
        {
          g_autofree char *name = dc_name_auto (c->base->opts->source, n, NULL);

          if (name == NULL || !g_hash_table_contains (names, name))
            break;
        }
      c->slots[i].number = n;
    }
  c->next_number = n;
}

/* Clone @i of @c failed with @error (rolled back already): no clone
 * above it starts, and the batch keeps the clones below the lowest
 * that failed. */
static void
dc_clones_failed (DcClones *c, guint i, GError *error)
{
  gint stop;

  c->slots[i].error = error;
  do
    stop = g_atomic_int_get (&c->stop_at);
  while ((gint) i < stop && !g_atomic_int_compare_and_exchange (&c->stop_at, stop, (gint) i));
}

/* Makes clone @i of @c: its run of the steps, rolled back through its
 * own undo stack if they fail; kept with its undo stack if they do
 * not. */
static void
dc_clones_make (DcClones *c, guint i)
{
  DcSlot *slot = &c->slots[i];
  g_autoptr (DcRun) run = dc_run_new_clone (c->base);
  g_autoptr (DcCloneResult) result = g_new0 (DcCloneResult, 1);
  GError *local = NULL;

  if (!dc_run_steps (c, run, slot, result, &local))
    {
      run->building = NULL; /* freed with the steps' own reference */
      if (run->undo->len > 0)
        dc_undo_rollback (run, local);
      dc_clones_failed (c, i, local);
      return;
    }
  run->building = NULL;
  slot->run = g_steal_pointer (&run);
  slot->result = g_steal_pointer (&result);
}

static gpointer
dc_clones_worker (gpointer data)
{
  DcClones *c = data;

  for (;;)
    {
      gint i = g_atomic_int_add (&c->next, 1);

      if ((guint) i >= c->count || i > g_atomic_int_get (&c->stop_at))
        return NULL;
      dc_clones_make (c, (guint) i);
    }
}

/* Runs the clones of @c on up to @at_once threads, this one included. */
static void
dc_clones_run (DcClones *c, guint at_once)
{
  g_autoptr (GPtrArray) threads = g_ptr_array_new ();
  guint n = MIN (at_once, c->count);

  if (n > 1)
    g_info ("making %u clones, %u at a time", c->count, n);
  for (guint i = 1; i < n; i++)
    {
      g_autofree char *name = g_strdup_printf ("clone%u", i);
      g_autoptr (GError) local = NULL;
      GThread *t = g_thread_try_new (name, dc_clones_worker, c, &local);

      if (t == NULL)
        {
          g_debug ("one clone thread fewer: %s", local->message);
          break;
        }
      g_ptr_array_add (threads, t);
    }
  dc_clones_worker (c);
  for (guint i = 0; i < threads->len; i++)
    g_thread_join (threads->pdata[i]);
}

/* Rolls back the complete clone of @slot: the batch does not keep it,
 * for @why. */
static void
dc_clones_unmake (DcSlot *slot, const char *why)
{
  g_autoptr (GError) local = g_error_new (DC_ERROR, DC_ERROR_FAILED, "%s", why);

  dc_undo_rollback (slot->run, local);
  g_info ("clone '%s' was complete but is not kept: %s", slot->plan->name, local->message);
  g_clear_pointer (&slot->result, dc_result_free);
}

/* The count of the complete clones @kept failed with @error: they are
 * rolled back, and @error says so. */
static void
dc_clones_uncount (GPtrArray *kept, GError *error)
{
  g_autoptr (GString) others = g_string_new (NULL);
  DcSlot *last = kept->pdata[kept->len - 1];

  for (guint i = 0; i + 1 < kept->len; i++)
    {
      DcSlot *slot = kept->pdata[i];

      dc_clones_unmake (slot, error->message);
      g_string_append_printf (others, "%s'%s'",
                              i == 0               ? ""
                              : i + 2 == kept->len ? " and "
                                                   : ", ",
                              slot->plan->name);
    }
  dc_undo_rollback (last->run, error);
  if (others->len > 0)
    {
      g_autofree char *cause = g_steal_pointer (&error->message);

      error->message = g_strdup_printf ("%s, and so was everything made for %s", cause, others->str);
    }
}

static gint
dc_clones_by_number (gconstpointer a, gconstpointer b)
{
  const DcSlot *x = *(const DcSlot *const *) a;
  const DcSlot *y = *(const DcSlot *const *) b;

  return x->plan->number < y->plan->number ? -1 : x->plan->number > y->plan->number;
}

/* Once every clone of @c has ended: the clones below the lowest that
 * failed are kept and counted (the counter written once, for all of
 * them) and go to @made in name order; the complete ones above it are
 * rolled back. Returns the number kept (0 if counting failed: then
 * none is kept, and @error says why). */
static guint
dc_clones_settle (DcClones *c, GPtrArray *made, GError **error)
{
  guint stop = (guint) g_atomic_int_get (&c->stop_at);
  g_autoptr (GPtrArray) kept = g_ptr_array_new ();
  guint64 top = 0;
  guint64 counter = 0;

  for (guint i = stop + 1; i < c->count; i++)
    {
      if (c->slots[i].run != NULL)
        dc_clones_unmake (
          &c->slots[i],
          "a clone numbered before it failed, and a batch keeps its clones up to the first failure");
      else if (c->slots[i].error != NULL)
        g_info ("clone %u of %u failed too: %s", i + 1, c->count, c->slots[i].error->message);
    }
  for (guint i = 0; i < stop && i < c->count; i++)
    {
      g_ptr_array_add (kept, &c->slots[i]);
      top = MAX (top, c->slots[i].plan->number);
    }
  if (kept->len == 0)
    return 0;
  if (!dc_counter_count (c->base, c->base->opts->source, top, &counter, error))
    {
      dc_clones_uncount (kept, *error);
      return 0;
    }
  g_ptr_array_sort (kept, dc_clones_by_number);
  for (guint i = 0; i < kept->len; i++)
    {
      DcSlot *slot = kept->pdata[i];

      slot->result->counter = counter;
      g_ptr_array_add (made, g_steal_pointer (&slot->result));
    }
  return kept->len;
}

static void
dc_clones_clear (DcClones *c)
{
  for (guint i = 0; c->slots != NULL && i < c->count; i++)
    {
      g_clear_pointer (&c->slots[i].plan, dc_plan_free);
      g_clear_pointer (&c->slots[i].run, dc_run_free_clone);
      g_clear_pointer (&c->slots[i].result, dc_result_free);
      g_clear_error (&c->slots[i].error);
    }
  g_clear_pointer (&c->slots, g_free);
  g_mutex_clear (&c->plan_lock);
}

/* Makes @count clones of the source on @base's look at it and @scan,
 * up to DC_RUN_CLONES_AT_ONCE at once (at most --jobs; one at a time
 * with --live: one backup job of a domain at once; and with
 * --reset-identity: a libguestfs appliance each), each one run of the steps with an undo
 * stack of its own. Names and numbers are decided first, in order. The
 * clones numbered below the first that fails stay, complete, in @made,
 * in name order, counted once; that one rolls itself back, those above
 * it stop starting and are rolled back, complete or not (see
 * domclone(1), --count). */
static gboolean
dc_run_clones (DcRun *base, DcHostScan *scan, guint64 counter, GRand *rand, guint count, GPtrArray *made,
               GError **error)
{
  g_autofree char *now = dc_now ();
  g_autoptr (DcBuilding) me = dc_cleanup_building_self ();
  DcClones c = {
    .base = base,
    .scan = scan,
    .popts = dc_run_plan_options (base, counter, rand, now),
    .slots = g_new0 (DcSlot, count),
    .count = count,
    .stop_at = (gint) count,
  };
  guint at_once = base->live || base->opts->reset_identity != DC_RESET_NONE ? 1 : DC_RUN_CLONES_AT_ONCE;
  guint stop;

  c.popts.building = me;
  g_mutex_init (&c.plan_lock);
  /* --jobs N: at most N copies at once in all, shared by the clones */
  if (base->opts->jobs > 0)
    {
      at_once = MIN (at_once, base->opts->jobs);
      base->jobs = MAX (1, base->opts->jobs / MIN (at_once, count));
    }
  base->show_progress = base->opts->progress && MIN (at_once, count) == 1;
  dc_clones_number (&c, c.popts.first_number);
  dc_clones_run (&c, at_once);
  if (dc_clones_settle (&c, made, error) == 0 && error != NULL && *error != NULL)
    {
      dc_clones_clear (&c);
      return FALSE;
    }
  stop = (guint) g_atomic_int_get (&c.stop_at);
  if (stop < count)
    g_propagate_error (error, g_steal_pointer (&c.slots[stop].error));
  dc_clones_clear (&c);
  return stop >= count;
}

/* Makes @count clones of the source from one look at the source and the
 * host (dc_run_clones()). With @several, the error says which clones
 * were made. */
static gboolean
dc_clone_run (virConnectPtr conn, const DcCloneOptions *opts, guint count, gboolean several, GPtrArray *made,
              GError **error)
{
  g_autoptr (GRand) own_rand = opts->rand ? NULL : g_rand_new ();
  g_autoptr (GError) local = NULL;
  g_autofree char *xml = NULL;
  g_autoptr (DcHostScan) scan = NULL;
  DcBatch batch;
  g_auto (DcRun) run = {
    .conn = opts->to ? opts->to : conn,
    .src_conn = conn,
    .across = opts->to != NULL,
    .opts = opts,
    .several = several,
    .batch = &batch,
  };
  guint64 counter = 0;
  gboolean ok = FALSE;

  dc_batch_init (&batch);
  if (dc_run_check_reset (conn, opts, &local))
    scan = dc_run_begin (&run, &xml, &counter, &local);
  if (scan != NULL)
    {
      dc_run_remove_leftovers (&run, scan);
      run.source_xml = xml;
      run.jobs = opts->jobs > 0 ? opts->jobs : (guint) g_get_num_processors ();
      run.local_conn = dc_connection_is_local (run.conn);
      run.local_copies = run.local_conn && g_strcmp0 (g_getenv ("DOMCLONE_LOCAL_COPY"), "0") != 0;
      run.env = dc_run_env (&run, scan, FALSE);
      run.scan = scan;
      ok = dc_run_clones (&run, scan, counter, opts->rand ? opts->rand : own_rand, count, made, &local);
      if (virConnectIsAlive (run.conn) == 1)
        dc_pool_close_dirs_on (run.conn, run.across && virConnectIsAlive (conn) == 1 ? conn : NULL);
    }
  dc_batch_clear (&batch);
  if (ok)
    return TRUE;
  if (several && made->len > 0)
    {
      g_autofree char *cause = g_steal_pointer (&local->message);
      g_autofree char *names = dc_run_name_list (made);

      local->message = g_strdup_printf ("%s; %s %s made and %s kept", cause, names,
                                        made->len == 1 ? "was" : "were", made->len == 1 ? "is" : "are");
    }
  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

/* --exist-ok, before a run and when it lost the race for its name:
 * *@existing is the clone an earlier run made, or %NULL to go on. */
static gboolean
dc_run_exist_prelude (virConnectPtr conn, const DcCloneOptions *opts, DcCloneResult **existing,
                      GError **error)
{
  return dc_exist_check (conn, opts->source, opts->name, existing, error);
}

/**
 * dc_run_clone:
 * @conn: libvirt connection
 * @opts: what to clone
 * @error: return location
 *
 * Clones a shut-off domain: defines the clone, copies its writable
 * volumes, NVRAM and TPM state, counts the clone on the source. On
 * failure nothing this call created remains. With @opts->exist_ok, a
 * clone of the source called @opts->name that an earlier run made is
 * the result, with @existed set, and nothing is done.
 *
 * Returns: (transfer full): the result, or %NULL with @error set
 */
DcCloneResult *
dc_run_clone (virConnectPtr conn, const DcCloneOptions *opts, GError **error)
{
  g_autoptr (GPtrArray) made = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_result_free);
  g_autoptr (GError) local = NULL;

  if (opts->exist_ok)
    {
      DcCloneResult *existing = NULL;

      if (!dc_run_exist_prelude (conn, opts, &existing, error) || existing != NULL)
        return existing;
    }
  if (!dc_clone_run (conn, opts, 1, FALSE, made, &local))
    {
      DcCloneResult *existing = NULL;

      /* --exist-ok lost the race for its name to another run: that
       * run's clone is the answer, or it is still being built */
      if (opts->exist_ok && g_error_matches (local, DC_ERROR, DC_ERROR_NAME_TAKEN)
          && dc_run_exist_prelude (conn, opts, &existing, error))
        {
          if (existing != NULL)
            return existing;
        }
      else
        g_propagate_error (error, g_steal_pointer (&local));
      if (error != NULL && *error == NULL)
        g_propagate_error (error, g_steal_pointer (&local));
      return NULL;
    }
  return g_ptr_array_steal_index (made, 0);
}

/**
 * dc_run_clone_count:
 * @conn: libvirt connection
 * @opts: what to clone; @opts->name must be %NULL
 * @count: how many clones
 * @made: (element-type DcCloneResult): the clones made are appended,
 *   also when a later one failed
 * @error: return location
 *
 * Makes @count clones of the source (as dc_run_clone() would, called
 * @count times), looking at the source and the host once. A failure
 * rolls back the clone it hit, and stops; the clones made before stay,
 * and the error message names them.
 *
 * Returns: %FALSE with @error set if not all @count clones were made
 */
gboolean
dc_run_clone_count (virConnectPtr conn, const DcCloneOptions *opts, guint count, GPtrArray *made,
                    GError **error)
{
  g_return_val_if_fail (opts->name == NULL && !opts->exist_ok, FALSE);
  return dc_clone_run (conn, opts, count, TRUE, made, error);
}

/**
 * dc_run_print_xml:
 * @conn: libvirt connection
 * @opts: what to clone
 * @error: return location
 *
 * Plans the clone as dc_run_clone() would, with the same checks and
 * refusals, and changes nothing: no domain, volume or pool is made, the
 * counter is not moved, leftovers of killed runs are not removed. The
 * XML is the one the clone has once complete: without the <building>
 * marker, which a real run defines first and then drops. With
 * @opts->exist_ok, an existing clone is found as dc_run_clone() finds it,
 * and is the result (without @xml).
 *
 * Returns: (transfer full): the result, with @xml and without @counter,
 * or %NULL with @error set
 */
DcCloneResult *
dc_run_print_xml (virConnectPtr conn, const DcCloneOptions *opts, GError **error)
{
  g_autoptr (DcCloneResult) result = g_new0 (DcCloneResult, 1);
  g_autoptr (GRand) own_rand = opts->rand ? NULL : g_rand_new ();
  g_autofree char *xml = NULL;
  g_autofree char *now = dc_now ();
  g_autoptr (DcHostScan) scan = NULL;
  g_autoptr (DcPlan) plan = NULL;
  g_auto (DcRun) run = {
    .conn = opts->to ? opts->to : conn,
    .src_conn = conn,
    .across = opts->to != NULL,
    .opts = opts,
  };
  DcPlanOptions popts;
  guint64 counter = 0;

  if (opts->exist_ok)
    {
      DcCloneResult *existing = NULL;

      if (!dc_run_exist_prelude (conn, opts, &existing, error) || existing != NULL)
        return existing;
    }
  if (!dc_run_check_reset (conn, opts, error))
    return NULL;
  scan = dc_run_begin (&run, &xml, &counter, error);
  g_clear_pointer (&run.src, virDomainFree);
  if (scan == NULL)
    return NULL;

  run.source_xml = xml;
  popts = dc_run_plan_options (&run, counter, opts->rand ? opts->rand : own_rand, now);
  run.env = dc_run_env (&run, scan, TRUE);
  plan = dc_plan_new (run.env, &popts, error);
  if (plan != NULL)
    {
      g_autofree char *summary = dc_plan_describe (plan);

      g_autofree char *final = NULL;

      g_info ("plan:\n%s", summary);
      dc_result_fill (result, plan, run.env);
      if (opts->reset_identity != DC_RESET_NONE)
        result->identity = dc_reset_plan (plan, opts->reset_identity, error);
      for (guint i = 0; result->identity != NULL && i < result->identity->disks->len; i++)
        g_info ("would reset the identity inside disk '%s', host name '%s'",
                ((const DcResetDisk *) result->identity->disks->pdata[i])->target,
                result->identity->hostname);
      if (opts->reset_identity == DC_RESET_NONE || result->identity != NULL)
        final = dc_run_final_metadata (plan, result, error);
      if (final != NULL)
        result->xml = dc_run_xml_with_metadata (plan->xml, final, error);
    }
  if (plan == NULL || result->xml == NULL)
    return NULL;
  return g_steal_pointer (&result);
}
