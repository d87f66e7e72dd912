/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "dc-cloudinit.h"
#include "dc-env-iface.h"
#include "dc-error.h"
#include "dc-metadata.h"
#include "dc-rbdsrc.h"
#include "dc-shape.h"
#include "dc-volinfo.h"

G_BEGIN_DECLS

/* What a new volume holds. */
typedef enum
{
  DC_COPY_KIND_FULL,    /* the source's data, copied */
  DC_COPY_KIND_OVERLAY, /* nothing: an empty qcow2 whose backing file is
                         * the source (a linked clone's disk) */
  DC_COPY_KIND_SEED,    /* the source's cloud-init seed rewritten for the
                         * clone (DcSeed): bytes made in memory, uploaded */
} DcCopyKind;

/* One volume to create as a copy of another: by libvirt
 * (virStorageVolCreateXMLFrom), or created by libvirt and filled by a
 * local copy (dc-copy.c); or, DC_COPY_KIND_OVERLAY, created by libvirt
 * (virStorageVolCreateXML) on top of the source. Either way it is made,
 * undone and cleaned up as one volume. */
typedef struct
{
  DcCopyKind kind;
  char *what;     /* "disk 'vda'", "NVRAM", for messages */
  char *disk;     /* the target of the disk a full copy backs ("vda");
                   * NULL for NVRAM, TPM state, NVDIMMs, seeds,
                   * overlays */
  char *pool;     /* pool of the source volume */
  char *open_dir; /* see DcVolInfo */
  char *src_name;
  char *src_path;
  char *src_format;       /* raw, qcow2, ...; NULL if the pool has none */
  guint64 src_allocation; /* bytes the source takes on disk */
  char *dst_pool;         /* pool of the new volume: mostly the source's */
  char *dst_open_dir;     /* a temporary pool over this directory, made if
                       * missing (TPM state lives in a per-UUID one) */
  char *dst_owner;        /* owner and group of that directory if made */
  char *dst_group;
  char *dst_name;
  char *dst_path;
  char *xml;           /* the new volume's XML */
  gboolean bytes_only; /* the pool probed another format than the domain
                        * XML names (or a backing file in a raw disk):
                        * its bytes are copied as they are, never through
                        * libvirt's copy, which converts from the probe */
  gboolean shared;     /* --to: read-only media the destination lacked,
                        * copied there once under its own name and shared
                        * by later clones: never the clone's own volume */
  DcRbdSource *rbd;    /* a Ceph RBD image: the source's place; the new
                        * image, @dst_name, goes beside it, made by
                        * librbd (dc-rbd.c): a deep copy (FULL) or a
                        * copy-on-write clone of the template's
                        * snapshot (OVERLAY). @pool is its libvirt pool,
                        * NULL for a network disk, whose @dst_pool is the
                        * Ceph pool */
  gboolean convert;    /* --format: the new volume's format is not the
                        * source's, so libvirt's copy converts it */
  guint64 grow_to;     /* --resize: the capacity the new volume is grown
                        * to once filled; 0: as made */
} DcCopy;

/* What the clone does with one disk of its source's: "copy",
 * "overlay", "seed", "share", "skip" or "empty" (a drive with no
 * medium) */
typedef struct
{
  char *target;
  const char *action;
} DcPlanDisk;

/* A cloud-init NoCloud seed of the source, made anew for the clone
 * (dc-seed.c): @vol says where the source's is and where the clone's
 * goes; its XML gets the new image's size when that is known. */
typedef struct
{
  DcCopy *vol;
  char *hostname;  /* the clone's host name */
  GStrv macs_from; /* MAC of the source's interface i ... */
  GStrv macs_to;   /* ... and of the clone's */
} DcSeed;

typedef struct
{
  char *source_name;
  char *source_uuid;
  char *name; /* the clone's name */
  char *uuid;
  guint number;      /* N of <source>-cloneN, 0 when named with --name */
  char *xml;         /* the clone's domain XML, ready to define */
  char *metadata;    /* our element for the finished clone (no marker) */
  GPtrArray *copies; /* DcCopy */
  GPtrArray *shared; /* char *: disks the clone shares with its source */
  GPtrArray *seeds;  /* DcSeed: cloud-init seeds made anew */
  GPtrArray *disks;  /* DcPlanDisk: every disk of the source, in order */
  /* char *: identity the clone keeps and cannot run beside its source
   * with (fixed ports, passed-through devices), one sentence each; the
   * tool prints them */
  GPtrArray *warnings;
} DcPlan;

void dc_plan_free (DcPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcPlan, dc_plan_free)

typedef struct
{
  const char *source_xml;     /* inactive, secure XML of the source */
  const char *name;           /* --name, or NULL for <source>-cloneN */
  guint first_number;         /* lowest N to try for <source>-cloneN */
  const char *now;            /* ISO 8601 time recorded in the clone */
  GRand *rand;                /* randomness for UUID and MACs */
  const DcBuilding *building; /* if set, the clone is defined marked as
                               * being built by this process, owning the
                               * volumes of the plan */
  const char *pool;           /* --pool: the pool the disks' new volumes
                               * go into; NULL: each source volume's own */
  gboolean linked;            /* --linked: the source is a template, its
                               * protected disks get overlays */
  const DcShape *shape;       /* --memory, --vcpus, --resize, --disk,
                               * --format; NULL: none */
  /* --to: the clone goes onto another host (the env answers for both,
   * see DcEnv.dst_has); each new volume goes into the destination's
   * pool of its source pool's name (or --pool), a file outside pools
   * into the same directory there */
  gboolean across;
  const char *source_uri;  /* --to: the source's URI as given, and its */
  const char *source_host; /* host's name, for the clone's <origin> */
} DcPlanOptions;

DcPlan *dc_plan_new (DcEnv *env, const DcPlanOptions *opts, GError **error);
char *dc_plan_dir_pool_name (const char *dir);
char *dc_plan_describe (const DcPlan *plan);
GPtrArray *dc_plan_volumes (const DcPlan *plan);
const DcSeed *dc_plan_seed_of (const DcPlan *plan, const DcCopy *vol);

G_END_DECLS
