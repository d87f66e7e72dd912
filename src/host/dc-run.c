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
#include "dc-rbd.h"
#include "dc-xml.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* How often a generated name can be lost to a concurrent domclone (or
 * anyone defining domains) before we give up. */
#define DC_RUN_MAX_DEFINE_RACES 100

/* Frees what the run holds; on every way out of it (g_auto). */
static void
dc_run_clear (DcRun *run)
{
  g_clear_pointer (&run->env, dc_env_live_free);
  g_clear_pointer (&run->undo, g_ptr_array_unref);
  g_clear_pointer (&run->made, g_hash_table_unref);
  g_clear_pointer (&run->same, g_hash_table_unref);
  g_clear_pointer (&run->src, virDomainFree);
  g_clear_pointer (&run->src_host, g_free);
  g_mutex_clear (&run->undo_lock);
  g_mutex_clear (&run->prove_lock);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (DcRun, dc_run_clear)

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
 * across as they are read, their new volumes are raw. */
static gboolean
dc_run_live_check (DcRun *run, const DcPlan *plan, GError **error)
{
  if (!dc_backup_check_live (run->src, plan->source_name, run->source_xml, plan->copies, run->opts->quiesce,
                             error))
    return FALSE;
  if (run->across)
    return dc_backup_check_pull (plan->source_name, plan->copies, error);
  return dc_backup_check_space (run->conn, plan->copies, error);
}

/* Plans the clone and defines it, which claims its name: defining is an
 * atomic test-and-set on the name in libvirt, so two domclones never end
 * up with the same clone, on this host or over a remote connection. */
static DcPlan *
dc_run_define (DcRun *run, const DcPlanOptions *base, virDomainPtr *clone, GError **error)
{
  DcPlanOptions popts = *base;

  for (int races = 0;; races++)
    {
      g_autoptr (DcPlan) plan = dc_plan_new (run->env, &popts, error);
      g_autoptr (GError) local = NULL;
      gboolean taken = FALSE;

      if (plan == NULL)
        return NULL;
      {
        g_autofree char *summary = dc_plan_describe (plan);
        g_info ("plan:\n%s", summary);
        g_debug ("clone XML:\n%s", plan->xml);
      }
      if (!dc_check_cancelled (error) || (run->live && !dc_run_live_check (run, plan, error)))
        return NULL;

      *clone = virDomainDefineXML (run->conn, plan->xml);
      if (*clone != NULL)
        {
          dc_undo_push (run, DC_UNDO_DOMAIN, plan->name, NULL, NULL, NULL);
          return g_steal_pointer (&plan);
        }
      dc_set_libvirt_error (&local, "cannot define domain '%s'", plan->name);
      if (!run->env->domain_exists (run->env, plan->name, &taken, NULL) || !taken)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
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
          return NULL;
        }
      g_info ("'%s' was taken meanwhile, trying the next number", plan->name);
      popts.first_number = plan->number + 1;
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
dc_run_plan_options (const DcRun *run, const char *now)
{
  DcPlanOptions popts = {
    .source_xml = run->source_xml,
    .name = run->opts->name,
    .first_number = (guint) MIN (run->counter + 1, G_MAXUINT),
    .now = now,
    .rand = run->rand,
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

/* The part of dc_run_clone that makes changes; on failure the caller rolls
 * back what the undo stack holds. */
static gboolean
dc_run_steps (DcRun *run, DcCloneResult *result, GError **error)
{
  g_autofree char *now = dc_now ();
  g_autoptr (DcBuilding) me = dc_cleanup_building_self ();
  DcPlanOptions popts = dc_run_plan_options (run, now);
  g_autoptr (DcPlan) plan = NULL;
  g_autoptr (DcDomain) clone = NULL;
  g_autofree char *final = NULL;
  g_autoptr (GPtrArray) volumes = NULL;
  gboolean ok;

  popts.building = me;
  plan = dc_run_define (run, &popts, &clone, error);
  if (plan == NULL)
    return FALSE;
  run->building = clone;

  volumes = dc_plan_volumes (plan);
  if (run->opts->progress && volumes->len > 0)
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
      || (!run->live && !dc_run_check_source (run->src, plan->source_name, FALSE, NULL, error)))
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
  if (!dc_counter_count_clone (run, plan, &result->counter, error))
    return FALSE;

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

/* Looks the source up and checks it can be cloned; reads its XML and
 * its counter into @run. */
static gboolean
dc_run_open_source (DcRun *run, char **xml, GError **error)
{
  const char *name = run->opts->source;
  g_autoptr (DcMetadata) md = NULL;

  run->src = dc_run_source_open (run->src_conn, name, run->opts->live, &run->live, xml, error);
  if (run->src == NULL || (run->live && !dc_backup_supported (run->src, name, error)))
    return FALSE;
  md = dc_domain_metadata (run->src, name, error);
  if (md == NULL)
    return FALSE;
  run->counter = md->counter;
  return TRUE;
}

/* What every run starts with: the source, checked, with its XML and
 * counter; and one pass over the host's domains, which answers for the
 * MAC addresses in use and the leftovers of killed runs. */
static DcHostScan *
dc_run_begin (DcRun *run, char **xml, GError **error)
{
  DcHostScan *scan = NULL;
  gboolean ok = dc_run_open_source (run, xml, error);

  /* --to: the clone's <origin> names the source's host */
  if (ok && run->across)
    {
      run->src_host = virConnectGetHostname (run->src_conn);
      if (run->src_host == NULL)
        ok = dc_set_libvirt_error (error, "cannot read the host name of the source's host");
    }
  if (ok)
    scan = dc_host_scan (run->conn, error);
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
 * with a warning. */
static void
dc_run_remove_leftovers (DcRun *run, const DcHostScan *scan)
{
  g_autoptr (GPtrArray) removed = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;

  if (!dc_cleanup (run->conn, scan, run->src_conn, run->opts->source, FALSE, removed, &error))
    g_warning ("cannot remove the leftovers of an earlier run: %s", error->message);
  for (guint i = 0; i < removed->len; i++)
    g_message ("removed '%s', left unfinished by a killed run", (const char *) removed->pdata[i]);
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

/* Makes @count clones, one run of the steps each, on @run's one look
 * at the source and @scan; stops at the first failure, after rolling
 * back the clone it hit. */
static gboolean
dc_run_clones (DcRun *run, DcHostScan *scan, guint count, GPtrArray *made, GError **error)
{
  for (guint i = 0; i < count; i++)
    {
      g_autoptr (DcCloneResult) result = g_new0 (DcCloneResult, 1);
      GError *local = NULL;

      if (!dc_run_steps (run, result, &local))
        {
          run->building = NULL; /* freed with the steps' own reference */
          if (run->undo->len > 0)
            dc_undo_rollback (run, local);
          g_propagate_error (error, local);
          return FALSE;
        }
      run->building = NULL;
      /* complete: no longer this run's to undo */
      g_ptr_array_set_size (run->undo, 0);
      if (run->made != NULL)
        g_hash_table_remove_all (run->made);
      /* the next clone takes the next number and other MACs: the
       * planner asks the scan, which has not seen this one */
      run->counter = result->counter;
      for (guint j = 0; j < result->macs->len; j++)
        g_hash_table_add (scan->macs, g_ascii_strdown (result->macs->pdata[j], -1));
      g_ptr_array_add (made, g_steal_pointer (&result));
    }
  return TRUE;
}

/* Makes @count clones of the source, one after another, from one look
 * at the source and the host; each is one run of the steps with an undo
 * stack of its own. A failure rolls back the clone it hit and stops;
 * the clones made before it stay, complete, in @made. With @several,
 * the error says which clones were made. */
static gboolean
dc_clone_run (virConnectPtr conn, const DcCloneOptions *opts, guint count, gboolean several, GPtrArray *made,
              GError **error)
{
  g_autoptr (GRand) own_rand = opts->rand ? NULL : g_rand_new ();
  g_autoptr (GError) local = NULL;
  g_autofree char *xml = NULL;
  g_autoptr (DcHostScan) scan = NULL;
  g_auto (DcRun) run = {
    .conn = opts->to ? opts->to : conn,
    .src_conn = conn,
    .across = opts->to != NULL,
    .opts = opts,
    .rand = opts->rand ? opts->rand : own_rand,
    .several = several,
  };
  gboolean ok = FALSE;

  g_mutex_init (&run.undo_lock);
  g_mutex_init (&run.prove_lock);
  if (dc_run_check_reset (conn, opts, &local))
    scan = dc_run_begin (&run, &xml, &local);
  if (scan != NULL)
    {
      dc_run_remove_leftovers (&run, scan);
      run.source_xml = xml;
      run.jobs = opts->jobs > 0 ? opts->jobs : (guint) g_get_num_processors ();
      run.local_conn = dc_connection_is_local (run.conn);
      run.local_copies = run.local_conn && g_strcmp0 (g_getenv ("DOMCLONE_LOCAL_COPY"), "0") != 0;
      run.env = dc_run_env (&run, scan, FALSE);
      run.scan = scan;
      run.undo = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_undo_free);
      if (opts->read_back)
        run.made = g_hash_table_new_full (NULL, NULL, NULL, g_free);
      run.same = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      ok = dc_run_clones (&run, scan, count, made, &local);
      if (virConnectIsAlive (run.conn) == 1)
        dc_pool_close_dirs_on (run.conn, run.across && virConnectIsAlive (conn) == 1 ? conn : NULL);
    }
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
    .rand = opts->rand ? opts->rand : own_rand,
  };
  DcPlanOptions popts;

  g_mutex_init (&run.undo_lock);
  g_mutex_init (&run.prove_lock);
  if (opts->exist_ok)
    {
      DcCloneResult *existing = NULL;

      if (!dc_run_exist_prelude (conn, opts, &existing, error) || existing != NULL)
        return existing;
    }
  if (!dc_run_check_reset (conn, opts, error))
    return NULL;
  scan = dc_run_begin (&run, &xml, error);
  g_clear_pointer (&run.src, virDomainFree);
  if (scan == NULL)
    return NULL;

  run.source_xml = xml;
  popts = dc_run_plan_options (&run, now);
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
