/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "dc-metadata.h"
#include "dc-util.h"

G_BEGIN_DECLS

/* A defined, shut-off domain carrying domclone's <building> marker: a
 * clone still being made, or left unfinished by a killed run. */
typedef struct
{
  char *name;
  DcMetadata *md;
} DcMarked;

/* What one pass over the host's domains found: every question a run
 * asks about the other domains is answered from it. */
typedef struct
{
  GHashTable *macs;  /* MAC addresses (lower case) of every domain */
  GPtrArray *marked; /* DcMarked */
  GPtrArray *linked; /* DcMarked: linked clones, running or not (their
                      * origin is the template whose disks they read) */
  guint domains;     /* how many domains were read */
  GPtrArray *names;  /* every domain's name, as listed */
} DcHostScan;

/* dc_host_scan() in a thread of its own, while the caller goes on */
typedef struct _DcScanTask DcScanTask;

DcHostScan *dc_host_scan (virConnectPtr conn, GError **error);
DcScanTask *dc_host_scan_start (virConnectPtr conn);
DcHostScan *dc_host_scan_finish (DcScanTask *task, gboolean want, GError **error);
void dc_host_scan_forget (DcHostScan *scan, const char *name);
guint64 dc_host_scan_highest_clone (const DcHostScan *scan, const char *source);
gboolean dc_scan_quick (const char *xml, GPtrArray *macs, gboolean *running);
void dc_host_scan_free (DcHostScan *scan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcHostScan, dc_host_scan_free)

G_END_DECLS
