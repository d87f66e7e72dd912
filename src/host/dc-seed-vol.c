/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-seed-vol.c: the bytes of a clone's cloud-init seed, made through
 * libvirt: the source's image is downloaded into memory (seeds are
 * small) and rewritten (dc-seed.c); the run's copy step uploads them
 * into the new volume. Streams work over any connection, so a remote
 * clone gets its seed too.
 */
#include "config.h"

#include "dc-seed-vol.h"
#include "dc-vol-io.h"
#include "dc-seed.h"
#include "dc-xml.h"

/* The planned volume XML with the new image's size. */
static char *
dc_seed_vol_xml (const char *planned, gsize size)
{
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autoptr (xmlDoc) doc = dc_xml_parse (planned, "volume", "the seed's volume XML", &ctxt, NULL);
  g_autofree char *bytes = g_strdup_printf ("%zu", size);
  xmlNode *capacity = doc ? dc_xml_node (ctxt, NULL, "/volume/capacity") : NULL;
  xmlNode *allocation = doc ? dc_xml_node (ctxt, NULL, "/volume/allocation") : NULL;

  if (capacity == NULL)
    return g_strdup (planned); /* the planner made it: not reached */
  dc_xml_set_text (capacity, bytes);
  if (allocation != NULL)
    dc_xml_set_text (allocation, bytes);
  return dc_xml_format (xmlDocGetRootElement (doc), TRUE);
}

/**
 * dc_seed_vol_bytes:
 * @conn: connection
 * @plan: the clone's plan
 * @seed: one of its seeds
 * @xml: (out): the new volume's XML, as big as the new image
 * @error: return location
 *
 * Reads the source's seed and rewrites it for the clone: the bytes the
 * run's copy step (dc-copy-step.c) uploads into the seed's new volume. The
 * source's volume is only read.
 *
 * Returns: (transfer full): the clone's seed image, or %NULL with
 * @error set
 */
GBytes *
dc_seed_vol_bytes (virConnectPtr conn, const DcPlan *plan, const DcSeed *seed, char **xml, GError **error)
{
  const DcCopy *c = seed->vol;
  g_autoptr (DcPool) pool = NULL;
  g_autoptr (DcVol) src = NULL;
  g_autoptr (GBytes) image = NULL;
  g_autoptr (GBytes) fresh = NULL;
  DcCloudinitRewrite rw = {
    .source_name = plan->source_name,
    .clone_name = plan->name,
    .clone_uuid = plan->uuid,
    .hostname = seed->hostname,
    .macs_from = (const char *const *) seed->macs_from,
    .macs_to = (const char *const *) seed->macs_to,
  };

  pool = virStoragePoolLookupByName (conn, c->pool);
  src = pool ? virStorageVolLookupByName (pool, c->src_name) : NULL;
  if (src == NULL)
    {
      dc_set_libvirt_error (error, "cannot clone %s: cannot find '%s' in pool '%s'", c->what, c->src_name,
                            c->pool);
      return NULL;
    }
  image = dc_vol_io_download (conn, src, 0, 0, error);
  if (image != NULL)
    fresh = dc_seed_rewrite (image, &rw, error);
  if (fresh == NULL)
    {
      g_prefix_error (error, "cannot clone %s: ", c->what);
      return NULL;
    }
  *xml = dc_seed_vol_xml (c->xml, g_bytes_get_size (fresh));
  return g_steal_pointer (&fresh);
}
