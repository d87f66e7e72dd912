/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "dc-rbdsrc.h"
#include "dc-xml.h"

G_BEGIN_DECLS

/* Our one element in a domain's <metadata> (libvirt keeps one top-level
 * element per namespace). Documented in domclone(1). */
#define DC_METADATA_URI "http://domclone.org/xmlns/domclone/1.0"
#define DC_METADATA_PREFIX "domclone"

/* A volume a clone owns: in <building> while it is made, and in
 * <volumes> once it is complete, where the rest is filled in too. */
typedef struct
{
  char *pool;
  char *name;
  char *open_dir; /* the pool is a temporary one over this directory */
  char *disk;     /* <volumes>: the target of the disk it backs, or NULL */
  char *path;     /* ... its path, its format and an overlay's backing */
  char *format;   /* file, each NULL if unknown */
  char *backing;
  DcRbdSource *rbd; /* a Ceph RBD image (@pool its libvirt pool, or its
                     * Ceph pool for a network disk's): how to reach it */
} DcOwnedVolume;

/* What a clone's run did with one disk of its source's (<disks>): copy,
 * overlay, seed, share, skip or empty (DcPlanDisk) */
typedef struct
{
  char *target;
  char *action;
} DcMetadataDisk;

/* Who is building a clone: enough to tell, on the same host, whether
 * that process still runs (pid and start time, within one boot). */
typedef struct
{
  char *host;
  char *boot; /* /proc/sys/kernel/random/boot_id */
  guint64 pid;
  guint64 start;      /* process start time, clock ticks after boot */
  GPtrArray *volumes; /* DcOwnedVolume */
} DcBuilding;

typedef struct
{
  guint64 counter;           /* clones made from this domain so far */
  char *origin_name;         /* on a clone: the source's name ... */
  char *origin_uuid;         /* ... and UUID ... */
  char *origin_time;         /* ... and when it was cloned (ISO 8601, UTC) */
  gboolean origin_linked;    /* ... as a linked clone: its disks are
                           * overlays on the source's volumes */
  char *origin_uri;          /* ... from another host (--to): the source's
                              * URI as given, NULL on the same host ... */
  char *origin_host;         /* ... and that host's name */
  gboolean template;         /* made a template by --make-template */
  GPtrArray *template_disks; /* char *: targets of the disks
                              * --make-template made read-only */
  DcBuilding *building;      /* on a clone still being made */
  GPtrArray *volumes;        /* DcOwnedVolume: on a complete clone, the
                              * volumes its run made for it */
  GPtrArray *disks;          /* DcMetadataDisk: on a complete clone, what
                              * its run did with each disk */
} DcMetadata;

DcBuilding *dc_building_new (void);
void dc_building_free (DcBuilding *b);
void dc_metadata_add_disk (DcMetadata *md, const char *target, const char *action);
void dc_building_add_volume (DcBuilding *b, const char *pool, const char *name, const char *open_dir);
DcOwnedVolume *dc_owned_volume_new (const char *pool, const char *name, const char *open_dir);
void dc_owned_volume_free (DcOwnedVolume *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcBuilding, dc_building_free)

DcMetadata *dc_metadata_new (void);
void dc_metadata_free (DcMetadata *md);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcMetadata, dc_metadata_free)

DcMetadata *dc_metadata_parse (const char *xml, GError **error);
char *dc_metadata_format (const DcMetadata *md);
DcMetadata *dc_metadata_of_domain (xmlXPathContext *ctxt, GError **error);
xmlNode *dc_metadata_node (xmlXPathContext *ctxt);
gboolean dc_metadata_is_empty (const DcMetadata *md);
xmlDoc *dc_metadata_xml_template (const char *name);

G_END_DECLS
