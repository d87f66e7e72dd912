/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "dc-plan.h"
#include "dc-util.h"

G_BEGIN_DECLS

typedef struct
{
  const char *source; /* source domain name */
  const char *name;   /* --name, or NULL */
  guint jobs;         /* volumes copied at once; 0: one per CPU */
  gboolean progress;  /* draw the copies' progress on stderr */
  GRand *rand;        /* NULL: seeded from the system */
} DcCloneOptions;

typedef struct
{
  char *source;
  char *name;
  char *uuid;
  guint64 counter; /* the source's counter after the clone */
  char *xml;       /* dc_clone_print_xml(): the XML it would define */
} DcCloneResult;

void dc_clone_result_free (DcCloneResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcCloneResult, dc_clone_result_free)

/* how long a run that lost its connection tries to reconnect */
#define DC_RECONNECT_SECONDS 30

DcCloneResult *dc_clone (virConnectPtr conn, const DcCloneOptions *opts, GError **error);
DcCloneResult *dc_clone_print_xml (virConnectPtr conn, const DcCloneOptions *opts, GError **error);

G_END_DECLS
