/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-exist.c: --exist-ok, a rerun that finds its clone already made.
 *
 * Every clone records where it came from in its domclone metadata: the
 * source's name and UUID. A domain called --name whose recorded origin
 * is the source's UUID and which carries no <building> marker is the
 * clone an earlier run made: there is nothing to do, whatever state the
 * source or the clone is in now (both may have run since). A marker
 * means a run is not finished: a live one is building the clone now,
 * which is an error (its outcome is not known yet); a dead one left it,
 * and the run goes on, removing it as any run removes the leftovers of
 * its source (dc_cleanup()) and making the clone afresh. Any other
 * domain of that name is not ours to report as done.
 */
#include "config.h"

#include "dc-exist.h"
#include "dc-cleanup.h"
#include "dc-pool.h"
#include "dc-xml.h"

/* The volume @v of the clone's <volumes>, as the result lists it, with
 * its size read from libvirt now (-1 where it cannot be read: the
 * volume was removed since, say). */
static gpointer
dc_exist_volume (virConnectPtr conn, const DcOwnedVolume *v)
{
  DcResultVolume *r = g_new0 (DcResultVolume, 1);
  g_autofree char *opened = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (DcPool) pool = NULL;
  g_autoptr (DcVol) vol = NULL;
  virStorageVolInfo info;

  r->disk = g_strdup (v->disk);
  /* a temporary pool is gone once the run ends, as in a run's result */
  r->pool = v->open_dir != NULL ? NULL : g_strdup (v->pool);
  r->name = g_strdup (v->name);
  r->path = g_strdup (v->path);
  r->format = g_strdup (v->format);
  r->backing = g_strdup (v->backing);
  r->capacity = -1;
  r->allocation = -1;
  if (v->open_dir != NULL && !dc_pool_open_dir (conn, v->open_dir, &opened, &local))
    {
      g_debug ("cannot read volume '%s' back: %s", v->name, local->message);
      return r;
    }
  pool = virStoragePoolLookupByName (conn, opened != NULL ? opened : v->pool);
  vol = pool ? virStorageVolLookupByName (pool, v->name) : NULL;
  if (vol != NULL && virStorageVolGetInfo (vol, &info) == 0)
    {
      r->capacity = (gint64) info.capacity;
      r->allocation = (gint64) info.allocation;
    }
  else
    g_debug ("cannot read volume '%s' back: %s", v->name, virGetLastErrorMessage ());
  return r;
}

/* Fills @result with what is known of the existing clone @dom: its
 * name and UUID, from its definition its MACs and NVRAM file, from its
 * metadata @clone_md the volumes its run made (with their sizes now);
 * and the source's counter. */
static DcCloneResult *
dc_exist_result (virDomainPtr src, const char *source, const char *source_uuid, virDomainPtr dom,
                 const char *name, const DcMetadata *clone_md, GError **error)
{
  g_autoptr (DcCloneResult) result = g_new0 (DcCloneResult, 1);
  char uuid[VIR_UUID_STRING_BUFLEN];
  g_autofree char *xml = NULL;
  g_autoptr (DcMetadata) md = NULL;
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autoptr (xmlDoc) doc = NULL;

  if (virDomainGetUUIDString (dom, uuid) < 0)
    {
      dc_set_libvirt_error (error, "cannot read the UUID of domain '%s'", name);
      return NULL;
    }
  xml = virDomainGetXMLDesc (dom, VIR_DOMAIN_XML_INACTIVE);
  if (xml == NULL)
    {
      dc_set_libvirt_error (error, "cannot read the XML of domain '%s'", name);
      return NULL;
    }
  doc = dc_xml_parse (xml, "domain", "the existing clone's XML", &ctxt, error);
  if (doc == NULL)
    return NULL;
  md = dc_domain_metadata (src, source, error);
  if (md == NULL)
    return NULL;

  result->existed = TRUE;
  result->source = g_strdup (source);
  result->source_uuid = g_strdup (source_uuid);
  result->name = g_strdup (name);
  result->uuid = g_strdup (uuid);
  result->counter = md->counter;
  result->macs = g_ptr_array_new_with_free_func (g_free);
  result->linked = clone_md->origin_linked;
  result->volumes = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_result_volume_free);
  for (guint i = 0; i < clone_md->volumes->len; i++)
    g_ptr_array_add (result->volumes,
                     dc_exist_volume (virDomainGetConnect (dom), clone_md->volumes->pdata[i]));
  if (clone_md->volumes->len > 0)
    dc_pool_close_dirs (virDomainGetConnect (dom));
  dc_result_read_macs (result, ctxt);
  dc_result_read_size (result, ctxt);
  for (guint i = 0; i < clone_md->disks->len; i++)
    {
      const DcMetadataDisk *d = clone_md->disks->pdata[i];

      dc_result_add_disk (result, d->target, d->action);
    }
  /* libvirt fills in the path it names itself when it defines the
   * domain */
  result->nvram = dc_result_nvram_named (ctxt);
  return g_steal_pointer (&result);
}

/**
 * dc_exist_check:
 * @conn: connection
 * @source: the source domain's name
 * @name: --name; only acts with one
 * @existing: (out): the existing clone, or %NULL when the run must go on
 * @error: return location: DC_ERROR_NAME_TAKEN when the domain is not a
 *   clone of the source, DC_ERROR_IN_PROGRESS when a run still builds it
 *
 * Looks for a clone of @source called @name that an earlier
 * run made. Without one (no such domain, or the leftover of a killed
 * run, which the run removes), *@existing is %NULL and the run goes on;
 * it also goes on, to say what is wrong, when the source is missing.
 *
 * Returns: %FALSE with @error set if the clone cannot be made nor found
 */
gboolean
dc_exist_check (virConnectPtr conn, const char *source, const char *name, DcCloneResult **existing,
                GError **error)
{
  g_autoptr (DcDomain) src = NULL;
  g_autoptr (DcDomain) dom = NULL;
  g_autofree char *xml = NULL;
  g_autoptr (DcMetadata) md = NULL;
  char src_uuid[VIR_UUID_STRING_BUFLEN];

  *existing = NULL;
  if (name == NULL || g_str_equal (name, source))
    return TRUE; /* the planner refuses the source's own name */
  src = virDomainLookupByName (conn, source);
  if (src == NULL)
    return TRUE; /* the run says why */
  if (virDomainGetUUIDString (src, src_uuid) < 0)
    return dc_set_libvirt_error (error, "cannot read the UUID of domain '%s'", source);
  dom = virDomainLookupByName (conn, name);
  if (dom == NULL)
    {
      if (dc_last_libvirt_code () == VIR_ERR_NO_DOMAIN)
        return TRUE;
      return dc_set_libvirt_error (error, "cannot look up domain '%s'", name);
    }

  /* a transient domain has no saved definition, and no metadata in it */
  xml = virDomainGetMetadata (dom, VIR_DOMAIN_METADATA_ELEMENT, DC_METADATA_URI, VIR_DOMAIN_AFFECT_CONFIG);
  if (xml == NULL && dc_last_libvirt_code () != VIR_ERR_NO_DOMAIN_METADATA
      && dc_last_libvirt_code () != VIR_ERR_OPERATION_INVALID)
    return dc_set_libvirt_error (error, "cannot read the domclone metadata of '%s'", name);
  md = dc_metadata_parse (xml, NULL); /* unreadable: no origin */
  if (md == NULL || md->origin_uuid == NULL || g_ascii_strcasecmp (md->origin_uuid, src_uuid) != 0)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_NAME_TAKEN,
                   "domain '%s' already exists and is not a clone of '%s'; choose another --name", name,
                   source);
      return FALSE;
    }
  if (md->building != NULL)
    switch (dc_cleanup_builder_state (md->building))
      {
      case DC_BUILDER_DEAD:
        g_info ("'%s' was left unfinished by a killed run: it is removed and made again", name);
        return TRUE;
      case DC_BUILDER_ALIVE:
        g_set_error (
          error, DC_ERROR, DC_ERROR_IN_PROGRESS,
          "domain '%s' is being cloned from '%s' by another domclone run (process %" G_GUINT64_FORMAT
          "); retry once it has ended",
          name, source, md->building->pid);
        return FALSE;
      case DC_BUILDER_UNKNOWN:
        g_set_error (
          error, DC_ERROR, DC_ERROR_IN_PROGRESS,
          "domain '%s' is being cloned from '%s' by a domclone run on host '%s'; retry once it has ended (if it was killed, 'domclone --cleanup %s' on that host removes it)",
          name, source, md->building->host, source);
        return FALSE;
      }
  *existing = dc_exist_result (src, source, src_uuid, dom, name, md, error);
  return *existing != NULL;
}
