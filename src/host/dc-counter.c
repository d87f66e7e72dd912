/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-counter.c: counting a clone on its source's counter, the only
 * change a run makes to the source, written last.
 */
#include "config.h"

#include "dc-counter.h"
#include "dc-metadata.h"
#include "dc-scan.h"

#include <string.h>

static gboolean
dc_write_metadata (virDomainPtr dom, const char *name, const DcMetadata *md, GError **error)
{
  g_autofree char *xml = dc_metadata_format (md);

  if (virDomainSetMetadata (dom, VIR_DOMAIN_METADATA_ELEMENT, xml, DC_METADATA_PREFIX, DC_METADATA_URI,
                            VIR_DOMAIN_AFFECT_CONFIG)
      < 0)
    return dc_set_libvirt_error (error, "cannot update the clone counter of '%s'", name);
  return TRUE;
}

/* The highest N of any existing domain called <source>-cloneN. */
static gboolean
dc_highest_clone_number (virConnectPtr conn, const char *source, guint64 *highest, GError **error)
{
  g_autofree char *prefix = g_strdup_printf ("%s-clone", source);
  g_auto (DcDomainList) doms = { NULL, 0 };

  doms.n = virConnectListAllDomains (conn, &doms.list, 0);
  if (doms.n < 0)
    return dc_set_libvirt_error (error, "cannot list domains");
  *highest = 0;
  for (int i = 0; i < doms.n; i++)
    {
      const char *name = virDomainGetName (doms.list[i]);
      guint64 number;

      if (g_str_has_prefix (name, prefix)
          && g_ascii_string_to_unsigned (name + strlen (prefix), 10, 1, G_MAXUINT32, &number, NULL))
        *highest = MAX (*highest, number);
    }
  return TRUE;
}

/*
 * Counts the clones of one call on the source's counter, once they are
 * all complete: @number is the highest N of a <source>-cloneN among
 * them, 0 for one clone named with --name (counted as one more). libvirt has no atomic
 * update of metadata, so concurrent domclones may overwrite each other's
 * counter with an older value. Each one therefore writes, then reads the
 * counter back and scans the domains again, until the counter is at
 * least its own target and the highest <source>-cloneN that exists. The
 * last write of all is followed by such a scan, which sees every clone
 * defined before it: the counter ends past every number handed out, and
 * no lock (local or remote) is needed. The first round, whose answer is
 * always checked by a second, takes the domains the run's host scan
 * listed (on a host with a thousand domains a listing costs more than
 * the rest of this).
 */
gboolean
dc_counter_count (DcRun *run, const char *source_name, guint64 number, guint64 *counter, GError **error)
{
  guint64 target = number;

  for (int round = 0; round < 20; round++)
    {
      g_autoptr (DcMetadata) md = dc_domain_metadata (run->src, source_name, error);
      guint64 highest = 0;
      guint64 was;

      if (md == NULL)
        return FALSE;
      if (round == 0 && run->scan != NULL && !run->across)
        highest = dc_host_scan_highest_clone (run->scan, source_name);
      else if (!dc_highest_clone_number (run->src_conn, source_name, &highest, error))
        return FALSE;
      if (target == 0) /* --name: one more than the counter we saw first */
        target = md->counter + 1;
      if (md->counter >= MAX (target, highest))
        {
          *counter = md->counter;
          return TRUE;
        }
      was = md->counter;
      md->counter = MAX (target, highest);
      if (!dc_write_metadata (run->src, source_name, md, error))
        {
          /* libvirt changes its definition in memory before it saves
           * it: when the save fails, the new counter stays in memory.
           * Writing the old one back puts that right (the save may fail
           * again, which is the error already reported). */
          md->counter = was;
          dc_write_metadata (run->src, source_name, md, NULL);
          return FALSE;
        }
      g_debug ("counter of '%s' set to %" G_GUINT64_FORMAT, source_name, md->counter);
    }
  g_set_error (error, DC_ERROR, DC_ERROR_FAILED, "cannot settle the clone counter of '%s': it keeps changing",
               source_name);
  return FALSE;
}
