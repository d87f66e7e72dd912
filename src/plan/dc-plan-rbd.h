/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-plan-rbd.h: the plan of a Ceph RBD disk's new image (no libvirt or
 * librbd call here).
 */
#pragma once

#include "dc-env-iface.h"
#include "dc-plan.h"

G_BEGIN_DECLS

/* The disk an RBD image is planned for. */
typedef struct
{
  const char *what;         /* "disk 'vda'" */
  const char *target;       /* "vda" */
  const char *format;       /* its <driver type> */
  const char *source_name;  /* the source domain */
  const char *clone_name;   /* the clone */
  const char *libvirt_pool; /* the rbd storage pool of a volume disk,
                             * NULL for a network disk */
  gboolean linked;          /* a copy-on-write clone of the template's
                             * snapshot, not a deep copy */
} DcRbdDisk;

DcCopy *dc_plan_rbd_copy (DcEnv *env, const DcRbdSource *src, const DcRbdDisk *disk, GHashTable *vol_names,
                          GError **error);
void dc_plan_rbd_point (xmlNode *disk, const DcCopy *copy);

G_END_DECLS
