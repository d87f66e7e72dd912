/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "dc-plan.h"
#include "dc-reset.h"
#include "dc-result.h"
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
  gboolean live;      /* --live: a running source's disks are copied
                       * as they were at one instant (dc-backup.c) */
  gboolean quiesce;   /* --quiesce: ... its file systems frozen by its
                       * guest agent, or no clone */
  /* --reset-identity[=try] */
  DcResetMode reset_identity;

  const DcShape *shape;   /* --memory, --vcpus, --resize, --disk, --format;
                           * NULL: none */
  virConnectPtr to;       /* --to: the clone is made on this connection, the
                           * source read on the one a run is given; NULL:
                           * on that one */
  const char *source_uri; /* --to: the source's URI as given (-c), which
                           * the clone's <origin> records */
} DcCloneOptions;

/* how long a run that lost its connection tries to reconnect */
#define DC_RECONNECT_SECONDS 30

gboolean dc_run_check_source (virDomainPtr dom, const char *name, gboolean live, gboolean *running,
                              GError **error);
virDomainPtr dc_run_source_open (virConnectPtr conn, const char *name, gboolean live, gboolean *running,
                                 char **xml, GError **error);
DcCloneResult *dc_run_clone (virConnectPtr conn, const DcCloneOptions *opts, GError **error);
gboolean dc_run_clone_count (virConnectPtr conn, const DcCloneOptions *opts, guint count, GPtrArray *made,
                             GError **error);
DcCloneResult *dc_run_print_xml (virConnectPtr conn, const DcCloneOptions *opts, GError **error);

G_END_DECLS
