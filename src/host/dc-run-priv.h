/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-run-priv.h: the state of one clone run, shared by the files that
 * carry it out (dc-run.c, dc-undo.c, dc-counter.c, dc-sameness.c,
 * dc-copy-step.c). Not for use outside src/host/dc-*.c of the run.
 */
#pragma once

#include "dc-run.h"
#include "dc-env.h"
#include "dc-result.h"
#include "dc-progress.h"

G_BEGIN_DECLS

/* One clone run: what it works on, and what it made so far. */
typedef struct
{
  virConnectPtr conn;     /* where the clone is made */
  virConnectPtr src_conn; /* where the source is: @conn, or another
                           * host's (--to, @across) */
  gboolean across;
  /* the pass over the host's domains (not owned) */
  const DcHostScan *scan;
  char *src_host; /* --to: the source's host name, for <origin> */
  virDomainPtr src;
  DcEnv *env;
  const DcCloneOptions *opts;
  GRand *rand;
  const char *source_xml; /* inactive, secure XML of the source */
  guint64 counter;        /* the source's counter when the run began */
  guint jobs;             /* copies at once */
  gboolean local_conn;    /* the daemon runs on this host */
  gboolean local_copies;  /* ... and this process may fill its volumes */
  DcProgress *progress;   /* while the copies run, on a terminal */
  GHashTable *made;       /* DcCopy -> virStorageVolInfo of its new volume
                           * as libvirt saw it when done (under undo_lock),
                           * when the result wants it (--json) */
  GMutex undo_lock;       /* copies may record volumes from several threads */
  GPtrArray *undo;        /* DcUndo, newest last */
  gboolean several;       /* --count: the undo stack holds one clone of
                           * several, which a rollback names */
  GMutex prove_lock;      /* one proof at a time, so each is made once */
  GHashTable *same;       /* directory -> DcSame: whether this process
                           * sees there what the daemon sees (under
                           * prove_lock) */
  virDomainPtr building;  /* the clone being built (not owned), whose
                           * marker the proofs' scratch volumes join */
  const DcPlan *plan;     /* its plan (not owned), while the copies run */
  gboolean live;          /* --live, and the source runs: its disks are
                           * copied by a backup job (dc-backup.c) */
  DcLive consistency;     /* how, once they are */
  GPtrArray *here;        /* DcCopy of the overlays written here, which
                           * libvirt must read back (under undo_lock,
                           * while the copies run) */
} DcRun;

G_END_DECLS
