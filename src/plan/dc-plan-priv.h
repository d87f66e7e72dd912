/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-plan-priv.h: the planner's state while it builds one plan, shared
 * by the files of the planner (dc-plan.c, dc-planner.c, dc-plan-*.c).
 * Not for use outside them.
 */
#pragma once

#include "dc-plan.h"
#include "dc-plan-to.h"
#include "dc-xml.h"

G_BEGIN_DECLS

/* The planner while it builds one plan: what it was given, the
 * source's XML it rewrites into the clone's, and what it handed out. */
typedef struct
{
  DcEnv *env;
  const DcPlanOptions *opts;
  DcPlan *plan;
  xmlDoc *doc;
  xmlXPathContext *ctxt;
  GHashTable *macs;      /* MACs handed out by this plan */
  GHashTable *vol_names; /* "pool/name" of volumes this plan creates */
  DcPoolInfo *into;      /* --pool: where the disks' volumes go, or NULL */
  GPtrArray *macs_from;  /* MAC of the source's interface i ... */
  GPtrArray *macs_to;    /* ... and of the clone's (for seeds) */
  DcMetadata *source_md; /* the source's domclone metadata */
  GHashTable *dst_pools; /* --to: the destination's pools asked for, by
                          * name (DcPoolInfo) */
} DcPlanner;

/* dc-plan.c */
void dc_copy_free (DcCopy *copy);
void dc_seed_free (DcSeed *seed);
void dc_plan_disk_free (DcPlanDisk *disk);
void dc_planner_warn (DcPlanner *p, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* dc-plan-identity.c */
char *dc_random_uuid (GRand *rand);
void dc_planner_sysinfo (DcPlanner *p);
char *dc_pci_address (xmlNode *addr);
gboolean dc_planner_interfaces (DcPlanner *p, GError **error);
void dc_planner_seclabels (DcPlanner *p);
gboolean dc_planner_choose_name (DcPlanner *p, GError **error);
void dc_planner_identity (DcPlanner *p, xmlNode *root);

/* dc-plan-volumes.c */
const DcCopy *dc_planner_add_copy (DcPlanner *p, const char *what, const DcVolInfo *src, const char *dst_name,
                                   GError **error);
gboolean dc_planner_resolve_pool (DcPlanner *p, GError **error);
DcCopy *dc_planner_new_copy (DcPlanner *p, const char *what, const DcVolInfo *src, const char *dst_dir,
                             const DcPoolInfo *into, const char *dst_name, GError **error);
const DcCopy *dc_planner_add_copy_to (DcPlanner *p, const char *what, const DcVolInfo *src,
                                      const char *dst_dir, const DcPoolInfo *into, const char *dst_name,
                                      GError **error);
const DcCopy *dc_planner_add_overlay (DcPlanner *p, const char *what, const char *target,
                                      const DcVolInfo *src, GError **error);

/* dc-plan-disks.c */
gboolean dc_planner_disk (DcPlanner *p, xmlNode *disk, GError **error);

/* dc-plan-shape.c */
void dc_planner_disk_did (DcPlanner *p, const char *target, const char *action);
gboolean dc_planner_disk_asked (DcPlanner *p, xmlNode *disk, const char *device, const char *target,
                                gboolean empty, DcDiskAction action, gboolean *done, GError **error);
DcCopy *dc_planner_disk_volume (DcPlanner *p, xmlNode *disk, const char *what, const char *target,
                                const DcShapeDisk *shaped, DcVolInfo *info, gboolean bytes_only,
                                GError **error);
gboolean dc_planner_shape_domain (DcPlanner *p, GError **error);

/* dc-plan-seed.c */
gboolean dc_planner_seed (DcPlanner *p, xmlNode *disk, const char *type, xmlNode *source, const char *what,
                          const char *target, gboolean *seeded, GError **error);

/* dc-plan-devices.c */
gboolean dc_planner_tpm (DcPlanner *p, GError **error);
gboolean dc_planner_memory_devices (DcPlanner *p, GError **error);
gboolean dc_planner_nvram (DcPlanner *p, GError **error);

/* dc-plan-host-claims.c */
void dc_planner_ports (DcPlanner *p);
gboolean dc_planner_graphics_sockets (DcPlanner *p, GError **error);
gboolean dc_planner_chardevs (DcPlanner *p, GError **error);
gboolean dc_planner_vhostuser (DcPlanner *p, GError **error);
void dc_planner_hostdevs (DcPlanner *p);

G_END_DECLS
