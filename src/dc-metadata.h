/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "dc-util.h"

G_BEGIN_DECLS

/* Our one element in a domain's <metadata> (libvirt keeps one top-level
 * element per namespace). Documented in domclone(1). */
#define DC_METADATA_URI "http://domclone.org/xmlns/domclone/1.0"
#define DC_METADATA_PREFIX "domclone"

typedef struct
{
  guint64 counter;     /* clones made from this domain so far */
  char *origin_name;   /* on a clone: the source's name ... */
  char *origin_uuid;   /* ... and UUID ... */
  char *origin_time;   /* ... and when it was cloned (ISO 8601, UTC) */
} DcMetadata;

DcMetadata *dc_metadata_new (void);
void dc_metadata_free (DcMetadata *md);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcMetadata, dc_metadata_free)

DcMetadata *dc_metadata_parse (const char *xml, GError **error);
char *dc_metadata_format (const DcMetadata *md);
xmlDoc *dc_template_load (const char *name);

G_END_DECLS
