/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-reset.c: which disks --reset-identity changes. Only the clone's own:
 * a disk whose new volume the plan copies or overlays. A disk the clone
 * shares with its source (read-only, shareable, a CD-ROM) is never
 * written, and a linked clone's template is reached only through its
 * overlay, which qemu opens with the template read-only.
 */
#include "config.h"

#include "dc-reset.h"
#include "dc-name.h"
#include "dc-xml.h"

static void
dc_reset_disk_free (DcResetDisk *d)
{
  g_free (d->target);
  g_free (d->path);
  g_free (d->format);
  g_free (d);
}

void
dc_reset_free (DcReset *reset)
{
  if (reset == NULL)
    return;
  g_free (reset->hostname);
  g_clear_pointer (&reset->disks, g_ptr_array_unref);
  g_free (reset->os);
  g_clear_pointer (&reset->emptied, g_ptr_array_unref);
  g_clear_pointer (&reset->removed, g_ptr_array_unref);
  g_clear_pointer (&reset->written, g_ptr_array_unref);
  g_free (reset->failure);
  g_free (reset);
}

/**
 * dc_reset_new:
 * @mode: DC_RESET_STRICT or DC_RESET_TRY
 * @hostname: the host name it sets
 *
 * Returns: (transfer full): a report with no disks and nothing done
 */
DcReset *
dc_reset_new (DcResetMode mode, const char *hostname)
{
  DcReset *reset = g_new0 (DcReset, 1);

  reset->mode = mode;
  reset->hostname = g_strdup (hostname);
  reset->disks = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_reset_disk_free);
  reset->emptied = g_ptr_array_new_with_free_func (g_free);
  reset->removed = g_ptr_array_new_with_free_func (g_free);
  reset->written = g_ptr_array_new_with_free_func (g_free);
  return reset;
}

/* Adds disk @target, the volume @path in @format, to @reset */
void
dc_reset_add_disk (DcReset *reset, const char *target, const char *path, const char *format)
{
  DcResetDisk *d = g_new0 (DcResetDisk, 1);

  d->target = g_strdup (target);
  d->path = g_strdup (path);
  d->format = g_strdup (format);
  g_ptr_array_add (reset->disks, d);
}

/* The copy of @plan that makes the volume @source (a disk's <source>)
 * names, if it is a disk's copy or overlay */
static const DcCopy *
dc_reset_copy_of (const DcPlan *plan, xmlNode *source)
{
  g_autofree char *file = dc_xml_prop (source, "file");
  g_autofree char *dev = dc_xml_prop (source, "dev");
  g_autofree char *pool = dc_xml_prop (source, "pool");
  g_autofree char *volume = dc_xml_prop (source, "volume");

  for (guint i = 0; i < plan->copies->len; i++)
    {
      const DcCopy *c = plan->copies->pdata[i];

      if (c->kind != DC_COPY_KIND_FULL && c->kind != DC_COPY_KIND_OVERLAY)
        continue;
      if ((c->dst_path != NULL && (g_strcmp0 (file, c->dst_path) == 0 || g_strcmp0 (dev, c->dst_path) == 0))
          || (volume != NULL && g_strcmp0 (pool, c->dst_pool) == 0 && g_strcmp0 (volume, c->dst_name) == 0))
        return c;
    }
  return NULL;
}

/**
 * dc_reset_plan:
 * @plan: the clone's plan
 * @mode: DC_RESET_STRICT or DC_RESET_TRY
 * @error: return location
 *
 * Returns: (transfer full): the disks whose identity --reset-identity
 * resets (the clone's own hard disks, in the order of its XML) and the
 * host name it sets; %NULL with @error set (DC_ERROR_UNSUPPORTED) when
 * the clone has no disk of its own, or one whose volume has no path
 */
DcReset *
dc_reset_plan (const DcPlan *plan, DcResetMode mode, GError **error)
{
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autoptr (xmlDoc) doc = dc_xml_parse (plan->xml, "domain", "the clone's XML", &ctxt, error);
  g_autofree char *hostname = dc_name_to_hostname (plan->name);
  g_autoptr (DcReset) reset = dc_reset_new (mode, hostname);
  g_autoptr (GPtrArray) disks = NULL;

  if (doc == NULL)
    return NULL;
  disks = dc_xml_nodes (ctxt, NULL, "/domain/devices/disk[source][not(@device) or @device='disk']");
  for (guint i = 0; i < disks->len; i++)
    {
      const DcCopy *c = dc_reset_copy_of (plan, dc_xml_child (disks->pdata[i], "source", FALSE));
      g_autofree char *target = NULL;
      g_autofree char *format = NULL;

      if (c == NULL)
        continue; /* shared with the source, or not a volume the clone owns */
      target = dc_xml_string (ctxt, disks->pdata[i], "./target/@dev");
      format = dc_xml_string (ctxt, disks->pdata[i], "./driver/@type");
      /* libvirt's default: never let anyone probe */
      dc_reset_add_disk (reset, target, c->dst_path, format ? format : "raw");
      if (c->dst_path == NULL)
        {
          g_set_error (
            error, DC_ERROR, DC_ERROR_UNSUPPORTED,
            "--reset-identity cannot reach disk '%s' of '%s': pool '%s' gives its volumes no file path",
            target, plan->name, c->dst_pool);
          return NULL;
        }
    }
  if (reset->disks->len == 0)
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_UNSUPPORTED,
        "--reset-identity has nothing to reset: clone '%s' gets no disk of its own (only shared ones)",
        plan->name);
      return NULL;
    }
  return g_steal_pointer (&reset);
}
