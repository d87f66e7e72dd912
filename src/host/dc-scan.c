/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-scan.c: one pass over the host's domains.
 *
 * A run needs to know the MAC addresses every domain uses (so the
 * clone's are new) and which domains are unfinished clones (leftovers of
 * killed runs). Both are in a domain's XML: one virDomainGetXMLDesc per
 * domain answers both, and the calls are made from several threads at
 * once, so a host with a thousand domains costs a thousand round trips
 * in parallel instead of three thousand one after another. A run starts
 * the pass in a thread of its own as soon as it is connected
 * (dc_host_scan_start()), and opens and reads its source meanwhile.
 *
 * A running domain is read twice: its live definition (the interfaces
 * it has now, hot-plugged ones included) and its saved one (interfaces
 * added for its next boot). It is never a leftover: a clone being built
 * is not started.
 */
#include "config.h"

#include "dc-scan.h"
#include "dc-xml.h"

#include <string.h>

/* calls to the daemon at once: libvirtd serves 20 by default */
#define DC_SCAN_THREADS 8

typedef struct
{
  virDomainPtr *list; /* the domains to read (not owned) */
  int n;
  gint next;  /* atomic */
  gint read;  /* atomic */
  gint *stop; /* (nullable) atomic: no domain more is read once set */
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
  g_ptr_array_unref (scan->names);
  g_free (scan);
}

/**
 * dc_scan_quick:
 * @xml: a domain's XML, as libvirt formats it
 * @macs: (out caller-allocates): where its MAC addresses go (lower case)
 * @running: (out): whether it runs (its root carries an id)
 *
 * Reads the MAC addresses of a domain without parsing its XML: a host
 * with a thousand domains spends more on a thousand parses than on
 * anything else in a clone. libvirt writes each interface's address as
 * <mac address='XX:XX:XX:XX:XX:XX'/>, so the text holds them; this
 * takes every such address (more than the interfaces' would do no
 * harm: they are only avoided). It gives up, for the parse to decide,
 * where the text holds domclone's metadata (a marker or a linked
 * clone's origin), or fewer addresses than <interface elements.
 *
 * Returns: whether @macs and @running hold the answer
 */
gboolean
dc_scan_quick (const char *xml, GPtrArray *macs, gboolean *running)
{
  static const char tag[] = "<mac address='";
  const char *end = strchr (xml, '>');
  guint interfaces = 0;

  if (!g_str_has_prefix (xml, "<domain ") || end == NULL || strstr (xml, DC_METADATA_URI) != NULL)
    return FALSE;
  for (const char *p = strstr (xml, "<interface "); p != NULL; p = strstr (p + 1, "<interface "))
    interfaces++;
  for (const char *p = strstr (xml, tag); p != NULL; p = strstr (p + 1, tag))
    {
      const char *mac = p + strlen (tag);
      const char *close = strchr (mac, '\'');

      if (close == NULL || close - mac != 17)
        return FALSE;
      g_ptr_array_add (macs, g_ascii_strdown (mac, 17));
    }
  if (macs->len < interfaces)
    return FALSE;
  *running = g_strstr_len (xml, end - xml, " id='") != NULL;
  return TRUE;
}

/* dc_scan_one(), for a domain dc_scan_quick() can read */
static gboolean
dc_scan_one_quick (DcScanJob *job, const char *xml, gboolean *running)
{
  g_autoptr (GPtrArray) macs = g_ptr_array_new_with_free_func (g_free);

  if (!dc_scan_quick (xml, macs, running))
    return FALSE;
  g_mutex_lock (&job->lock);
  for (guint i = 0; i < macs->len; i++)
    g_hash_table_add (job->scan->macs, g_steal_pointer (&macs->pdata[i]));
  g_mutex_unlock (&job->lock);
  return TRUE;
}

/* The MACs of @xml and, for a domain called @name (NULL: MACs only),
 * its domclone metadata when that holds a <building> marker (and it is
 * shut off) or says it is a linked clone. Returns whether the domain
 * runs. */
static gboolean
dc_scan_one (DcScanJob *job, const char *name, const char *xml)
{
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autoptr (xmlDoc) doc = NULL;
  g_autoptr (GPtrArray) macs = NULL;
  g_autoptr (DcMetadata) md = NULL;
  g_autoptr (DcMetadata) linked = NULL;
  g_autofree char *id = NULL;
  xmlNode *ours;
  gboolean running;

  if (dc_scan_one_quick (job, xml, &running))
    return running;
  doc = dc_xml_parse (xml, "domain", "domain XML", &ctxt, NULL);
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

      if (i >= job->n || (job->stop != NULL && g_atomic_int_get (job->stop)))
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

/* dc_host_scan(), which stops reading when *@stop is set */
static DcHostScan *
dc_host_scan_until (virConnectPtr conn, gint *stop, GError **error)
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
  job.stop = stop;
  scan->macs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  scan->marked = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_marked_free);
  scan->linked = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_marked_free);
  scan->names = g_ptr_array_new_full (doms.n, g_free);
  for (int i = 0; i < doms.n; i++)
    g_ptr_array_add (scan->names, g_strdup (virDomainGetName (doms.list[i])));
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
  return dc_host_scan_until (conn, NULL, error);
}

/* A pass over the host's domains made by a thread of its own */
struct _DcScanTask
{
  virConnectPtr conn; /* a reference of its own */
  GThread *thread;
  gint stop; /* atomic */
  DcHostScan *scan;
  GError *error;
};

static gpointer
dc_scan_task_run (gpointer data)
{
  DcScanTask *task = data;

  task->scan = dc_host_scan_until (task->conn, &task->stop, &task->error);
  return NULL;
}

/**
 * dc_host_scan_start:
 * @conn: connection, used from another thread meanwhile (libvirt's
 *   connections are made for that)
 *
 * Starts dc_host_scan() on @conn in a thread of its own, so the caller
 * does other work meanwhile: on a host with a thousand domains the pass
 * takes longer than the rest of a small clone.
 *
 * Returns: (transfer full): the pass, which dc_host_scan_finish() ends
 */
DcScanTask *
dc_host_scan_start (virConnectPtr conn)
{
  DcScanTask *task = g_new0 (DcScanTask, 1);
  g_autoptr (GError) local = NULL;
  guint64 zero;

  /* Both threads parse XML and read numbers from the start, and what
   * libxml2 and GLib set up on first use is not safe to set up from two
   * threads at once: libxml2 wants xmlInitParser() first, and the C
   * locale GLib makes for g_ascii_strtoull() can leave errno set in the
   * thread that waited for it, which g_ascii_string_to_unsigned() then
   * takes for a bad number (a source's counter of '4' was refused). */
  xmlInitParser ();
  g_ascii_string_to_unsigned ("0", 10, 0, 1, &zero, NULL);
  virConnectRef (conn);
  task->conn = conn;
  task->thread = g_thread_try_new ("scan", dc_scan_task_run, task, &local);
  if (task->thread == NULL)
    {
      g_debug ("no thread for the host scan, which is made here: %s", local->message);
      dc_scan_task_run (task);
    }
  return task;
}

/**
 * dc_host_scan_finish:
 * @task: (transfer full): a pass dc_host_scan_start() started
 * @want: whether the caller still wants its answer: if not, the pass
 *   stops at the next domain, and %NULL is returned without an error
 * @error: return location
 *
 * Waits for @task to end, and frees it.
 *
 * Returns: (transfer full): what dc_host_scan() would have returned
 */
DcHostScan *
dc_host_scan_finish (DcScanTask *task, gboolean want, GError **error)
{
  DcHostScan *scan;

  if (!want)
    g_atomic_int_set (&task->stop, 1);
  if (task->thread != NULL)
    g_thread_join (task->thread);
  scan = g_steal_pointer (&task->scan);
  if (scan == NULL && want)
    g_propagate_error (error, g_steal_pointer (&task->error));
  g_clear_error (&task->error);
  if (!want)
    g_clear_pointer (&scan, dc_host_scan_free);
  virConnectClose (task->conn);
  g_free (task);
  return scan;
}

/**
 * dc_host_scan_forget:
 * @scan: a pass over the host's domains
 * @name: a domain's name
 *
 * Takes @name off @scan's names: the domain was undefined since.
 */
void
dc_host_scan_forget (DcHostScan *scan, const char *name)
{
  for (guint i = 0; i < scan->names->len; i++)
    if (g_str_equal (scan->names->pdata[i], name))
      {
        g_ptr_array_remove_index_fast (scan->names, i);
        return;
      }
}

/**
 * dc_host_scan_highest_clone:
 * @scan: a pass over the host's domains
 * @source: a source domain's name
 *
 * Returns: the highest N of a domain called <@source>-cloneN when @scan
 *   was made, 0 for none
 */
guint64
dc_host_scan_highest_clone (const DcHostScan *scan, const char *source)
{
  g_autofree char *prefix = g_strdup_printf ("%s-clone", source);
  gsize len = strlen (prefix);
  guint64 highest = 0;

  for (guint i = 0; i < scan->names->len; i++)
    {
      const char *name = scan->names->pdata[i];
      guint64 number;

      if (g_str_has_prefix (name, prefix)
          && g_ascii_string_to_unsigned (name + len, 10, 1, G_MAXUINT32, &number, NULL))
        highest = MAX (highest, number);
    }
  return highest;
}
