/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-scan.c: one pass over the host's domains.
 *
 * A run needs to know the MAC addresses every domain uses (so the
 * clone's are new) and which domains are unfinished clones (leftovers of
 * killed runs). Both are in a domain's XML: one virDomainGetXMLDesc per
 * domain answers both, and the calls are made from several threads at
 * once, so a host with a thousand domains costs a thousand round trips
 * in parallel instead of three thousand one after another.
 *
 * A running domain is read twice: its live definition (the interfaces
 * it has now, hot-plugged ones included) and its saved one (interfaces
 * added for its next boot). It is never a leftover: a clone being built
 * is not started.
 */
#include "config.h"

#include "dc-scan.h"
#include "dc-xml.h"

/* calls to the daemon at once: libvirtd serves 20 by default */
#define DC_SCAN_THREADS 8

typedef struct
{
  virDomainPtr *list; /* the domains to read (not owned) */
  int n;
  gint next; /* atomic */
  gint read; /* atomic */
  GMutex lock;
  DcHostScan *scan;
} DcScanJob;

static void
dc_marked_free (DcMarked *m)
{
  g_free (m->name);
  dc_metadata_free (m->md);
  g_free (m);
}

void
dc_host_scan_free (DcHostScan *scan)
{
  if (scan == NULL)
    return;
  g_hash_table_unref (scan->macs);
  g_ptr_array_unref (scan->marked);
  g_ptr_array_unref (scan->linked);
  g_free (scan);
}

/* The MACs of @xml and, for a domain called @name (NULL: MACs only),
 * its domclone metadata when that holds a <building> marker (and it is
 * shut off) or says it is a linked clone. Returns whether the domain
 * runs. */
static gboolean
dc_scan_one (DcScanJob *job, const char *name, const char *xml)
{
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autoptr (xmlDoc) doc = dc_xml_parse (xml, "domain", "domain XML", &ctxt, NULL);
  g_autoptr (GPtrArray) macs = NULL;
  g_autoptr (DcMetadata) md = NULL;
  g_autoptr (DcMetadata) linked = NULL;
  g_autofree char *id = NULL;
  xmlNode *ours;

  if (doc == NULL)
    return FALSE;
  macs = dc_xml_nodes (ctxt, NULL, "/domain/devices/interface/mac/@address");
  id = dc_xml_string (ctxt, NULL, "/domain/@id"); /* only a running domain has one */
  ours = dc_xml_node (ctxt, NULL, "/domain/metadata/*[namespace-uri()='" DC_METADATA_URI "']");
  if (ours != NULL && name != NULL)
    {
      g_autofree char *text = dc_xml_format (ours, FALSE);

      md = dc_metadata_parse (text, NULL);
      if (md != NULL && md->origin_linked && md->origin_uuid != NULL)
        linked = dc_metadata_parse (text, NULL);
      if (md != NULL && (md->building == NULL || id != NULL))
        g_clear_pointer (&md, dc_metadata_free);
    }

  g_mutex_lock (&job->lock);
  for (guint i = 0; i < macs->len; i++)
    {
      g_autoptr (DcXmlChar) mac = xmlNodeGetContent (macs->pdata[i]);

      if (mac != NULL)
        g_hash_table_add (job->scan->macs, g_ascii_strdown ((const char *) mac, -1));
    }
  if (md != NULL)
    {
      DcMarked *m = g_new0 (DcMarked, 1);

      m->name = g_strdup (name);
      m->md = g_steal_pointer (&md);
      g_ptr_array_add (job->scan->marked, m);
    }
  if (linked != NULL)
    {
      DcMarked *m = g_new0 (DcMarked, 1);

      m->name = g_strdup (name);
      m->md = g_steal_pointer (&linked);
      g_ptr_array_add (job->scan->linked, m);
    }
  g_mutex_unlock (&job->lock);
  return id != NULL;
}

static gpointer
dc_scan_worker (gpointer data)
{
  DcScanJob *job = data;

  for (;;)
    {
      int i = g_atomic_int_add (&job->next, 1);
      g_autofree char *xml = NULL;

      if (i >= job->n)
        return NULL;
      /* a domain undefined meanwhile has nothing left to say */
      xml = virDomainGetXMLDesc (job->list[i], VIR_DOMAIN_XML_SECURE);
      if (xml == NULL)
        continue;
      if (dc_scan_one (job, virDomainGetName (job->list[i]), xml))
        {
          g_autofree char *saved = virDomainGetXMLDesc (job->list[i], VIR_DOMAIN_XML_INACTIVE);

          if (saved != NULL)
            dc_scan_one (job, NULL, saved); /* its MACs only */
        }
      g_atomic_int_inc (&job->read);
    }
}

/**
 * dc_host_scan:
 * @conn: connection
 * @error: return location
 *
 * Reads every domain on @conn once, several at a time.
 *
 * Returns: (transfer full): what was found, or %NULL with @error set
 *   when the domains cannot be listed
 */
DcHostScan *
dc_host_scan (virConnectPtr conn, GError **error)
{
  g_autoptr (DcHostScan) scan = g_new0 (DcHostScan, 1);
  g_autoptr (GPtrArray) threads = g_ptr_array_new ();
  g_auto (DcDomainList) doms = { NULL, 0 };
  DcScanJob job = { 0 };

  doms.n = virConnectListAllDomains (conn, &doms.list, 0);
  if (doms.n < 0)
    {
      dc_set_libvirt_error (error, "cannot list the domains");
      return NULL;
    }
  job.list = doms.list;
  job.n = doms.n;
  scan->macs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  scan->marked = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_marked_free);
  scan->linked = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_marked_free);
  job.scan = scan;
  g_mutex_init (&job.lock);
  for (int i = 1; i < MIN (job.n, DC_SCAN_THREADS); i++)
    {
      GThread *t = g_thread_try_new ("scan", dc_scan_worker, &job, NULL);

      if (t == NULL)
        break;
      g_ptr_array_add (threads, t);
    }
  dc_scan_worker (&job);
  for (guint i = 0; i < threads->len; i++)
    g_thread_join (threads->pdata[i]);
  g_mutex_clear (&job.lock);
  scan->domains = (guint) job.read;
  g_debug ("read %u domains: %u MAC addresses, %u marked as being built", scan->domains,
           g_hash_table_size (scan->macs), scan->marked->len);
  return g_steal_pointer (&scan);
}
