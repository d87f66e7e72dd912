/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-volinfo.h: what the planner knows of a volume, read from the volume
 * XML libvirt gives (no libvirt call here).
 */
#pragma once

#include "dc-error.h"

G_BEGIN_DECLS

/* Where a volume lives and what a faithful copy must keep. */
typedef struct
{
  char *pool;      /* name of the pool that holds it */
  char *pool_path; /* that pool's target directory */
  char *name;      /* volume name */
  char *path;      /* volume path */
  char *type;      /* file, block, dir, ...; NULL if unknown */
  char *format;    /* raw, qcow2, ...; NULL if the pool has none */
  guint64 capacity;
  guint64 allocation;
  guint64 physical; /* the file's own size (<physical>), 0 if unknown:
                     * a raw disk's size, whatever a probed header says */
  char *mode;       /* permissions, NULL when unknown */
  char *owner;
  char *group;
  char *compat;             /* qcow2 compat level ("1.1"), NULL if none */
  char *cluster_size;       /* qcow2 cluster size in bytes, NULL if none */
  GStrv features;           /* qcow2 feature elements (lazy_refcounts, ...),
                      * NULL if none */
  char *open_dir;           /* set when @pool is a temporary pool over this
                      * directory, to be opened around each use */
  char *pool_type;          /* <pool type> of @pool (dir, logical, iscsi, ...),
                      * NULL if unknown */
  char *backing;            /* the backing file the pool found in the file's
                      * header (<backingStore><path>), NULL if none; a
                      * probe, never trusted for the copy */
  char *encryption;         /* <encryption format> the pool reports ("luks",
                      * "default" when it names none), NULL if none */
  gboolean probe_overruled; /* set by the planner: the format the pool
                             * probed was not the file's, so a copy moves
                             * its bytes as they are */
} DcVolInfo;

DcVolInfo *dc_vol_info_new (void);
void dc_vol_info_free (DcVolInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcVolInfo, dc_vol_info_free)

DcVolInfo *dc_vol_info_from_xml (const char *xml, const char *pool, const char *pool_path, GError **error);

G_END_DECLS
