/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-result.h: what a run reports of its clone.
 */
#pragma once

#include "dc-plan.h"
#include "dc-reset.h"
#include "dc-xml.h"

G_BEGIN_DECLS

/* A volume the clone got (or would get, from dc_run_print_xml()) */
typedef struct
{
  char *disk; /* the target of the disk it backs; NULL for the
                      * NVRAM and the TPM state */
  char *pool; /* NULL when made through a temporary pool */
  char *name;
  char *path;        /* NULL if its pool names no paths */
  char *format;      /* NULL if its pool has none */
  gint64 capacity;   /* bytes, -1 unknown */
  gint64 allocation; /* bytes, -1 unknown (dc_run_print_xml()) */
  char *backing;     /* an overlay's backing file (the template's
                      * volume), NULL for a copy */
} DcResultVolume;

/* How the disks of a clone were read */
typedef enum
{
  DC_LIVE_NO = 0,           /* from a shut-off source */
  DC_LIVE_CRASH_CONSISTENT, /* from a running one at one instant, its
                             * file systems not frozen (no guest agent):
                             * as after a power cut */
  DC_LIVE_QUIESCED,         /* ... frozen by its guest agent */
} DcLive;
/* What the clone does with one disk of its source's (DcPlanDisk) */
typedef struct
{
  char *disk;
  char *action; /* copy, overlay, seed, share, skip, empty */
} DcResultDisk;

typedef struct
{
  char *source;
  char *source_uuid;
  char *name;
  char *uuid;
  guint64 counter;    /* the source's counter after the clone */
  char *xml;          /* dc_run_print_xml(): the XML it would define */
  GPtrArray *macs;    /* char *: the clone's MAC addresses */
  GPtrArray *volumes; /* DcResultVolume, in the order they were copied */
  char *nvram;        /* the clone's NVRAM file, NULL if it has none */
  gboolean existed;   /* --exist-ok found it made: nothing was done (no
                       * volumes listed) */
  gboolean linked;    /* its disks are overlays on a template's */
  DcLive live;        /* --live: the source ran, its disks were backed up */
  gint64 memory;      /* bytes, from its XML; 0: unknown */
  gint64 vcpus;       /* from its XML; 0: unknown */
  GPtrArray *disks;   /* DcResultDisk; NULL: unknown (--exist-ok, on a
                       * clone whose metadata does not say) */
  /* char *: what the clone keeps of its source's identity
   * (DcPlan.warnings); NULL: none */
  GPtrArray *warnings;
  DcReset *identity; /* --reset-identity: what was (or would be) reset;
                      * NULL without it */
} DcCloneResult;

void dc_result_free (DcCloneResult *result);
void dc_result_volume_free (DcResultVolume *v);
void dc_result_disk_free (DcResultDisk *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcCloneResult, dc_result_free)

void dc_result_fill (DcCloneResult *result, const DcPlan *plan, DcEnv *env);
void dc_result_read_macs (DcCloneResult *result, xmlXPathContext *ctxt);
void dc_result_read_size (DcCloneResult *result, xmlXPathContext *ctxt);
void dc_result_add_disk (DcCloneResult *result, const char *disk, const char *action);
char *dc_result_nvram_named (xmlXPathContext *ctxt);

G_END_DECLS
