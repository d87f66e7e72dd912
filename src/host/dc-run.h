/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "dc-plan.h"
#include "dc-util.h"

G_BEGIN_DECLS

typedef struct
{
  const char *source; /* source domain name */
  const char *name;   /* --name, or NULL */
  const char *pool;   /* --pool, or NULL */
  gboolean exist_ok;  /* --exist-ok: a clone of the source called @name
                       * that an earlier run made is the result */
  guint jobs;         /* volumes copied at once; 0: one per CPU */
  gboolean progress;  /* draw the copies' progress on stderr */
  gboolean read_back; /* read the new volumes' sizes back into the result */
  GRand *rand;        /* NULL: seeded from the system */
  gboolean linked;    /* --linked: overlays on a template's disks */
} DcCloneOptions;

/* A volume the clone got (or would get, from dc_clone_print_xml()) */
typedef struct
{
  char *disk; /* the target of the disk it backs; NULL for the
                      * NVRAM and the TPM state */
  char *pool; /* NULL when made through a temporary pool */
  char *name;
  char *path;        /* NULL if its pool names no paths */
  char *format;      /* NULL if its pool has none */
  gint64 capacity;   /* bytes, -1 unknown */
  gint64 allocation; /* bytes, -1 unknown (dc_clone_print_xml()) */
  char *backing;     /* an overlay's backing file (the template's
                      * volume), NULL for a copy */
} DcResultVolume;

typedef struct
{
  char *source;
  char *source_uuid;
  char *name;
  char *uuid;
  guint64 counter;    /* the source's counter after the clone */
  char *xml;          /* dc_clone_print_xml(): the XML it would define */
  GPtrArray *macs;    /* char *: the clone's MAC addresses */
  GPtrArray *volumes; /* DcResultVolume, in the order they were copied */
  char *nvram;        /* the clone's NVRAM file, NULL if it has none */
  gboolean existed;   /* --exist-ok found it made: nothing was done (no
                       * volumes listed) */
  gboolean linked;    /* its disks are overlays on a template's */
  /* char *: what the clone keeps of its source's identity
   * (DcPlan.warnings); NULL: none */
  GPtrArray *warnings;
} DcCloneResult;

void dc_clone_result_free (DcCloneResult *result);
void dc_result_volume_free (DcResultVolume *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcCloneResult, dc_clone_result_free)

/* how long a run that lost its connection tries to reconnect */
#define DC_RECONNECT_SECONDS 30

gboolean dc_check_source (virDomainPtr dom, const char *name, GError **error);
virDomainPtr dc_source_open (virConnectPtr conn, const char *name, char **xml, GError **error);
DcCloneResult *dc_clone (virConnectPtr conn, const DcCloneOptions *opts, GError **error);
gboolean dc_clone_count (virConnectPtr conn, const DcCloneOptions *opts, guint count, GPtrArray *made,
                         GError **error);
DcCloneResult *dc_clone_print_xml (virConnectPtr conn, const DcCloneOptions *opts, GError **error);

G_END_DECLS
