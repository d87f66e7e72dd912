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
#include "dc-batch.h"

G_BEGIN_DECLS

/* One clone run: what it works on, and what it made so far. The first
 * part is the batch's, the same in every clone of one call: set before
 * the first clone starts and only read while they run. */
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
  DcEnv *env; /* the planner's questions; asked by one thread at a time
               * (the batch plans under its lock), but for
               * domain_exists, nvram_dir and dc_env_live_rbd(),
               * which any may ask */
  const DcCloneOptions *opts;
  const char *source_xml; /* inactive, secure XML of the source */
  guint jobs;             /* copies at once */
  gboolean local_conn;    /* the daemon runs on this host */
  gboolean local_copies;  /* ... and this process may fill its volumes */
  gboolean several;       /* --count: the undo stack holds one clone of
                           * several, which a rollback names */
  gboolean show_progress; /* draw the copies' progress (not while
                           * several clones are made at once) */
  gboolean live;          /* --live, and the source runs: its disks are
                           * copied by a backup job (dc-backup.c) */
  DcBatch *batch;         /* what the clones share and change; NULL for
                           * --print-xml, which makes nothing */

  /* this clone's own */
  DcProgress *progress;  /* while the copies run, on a terminal */
  GHashTable *made;      /* DcCopy -> virStorageVolInfo of its new volume
                         * as libvirt saw it when done (under undo_lock),
                         * when the result wants it (--json) */
  GMutex undo_lock;      /* copies may record volumes from several threads */
  GPtrArray *undo;       /* DcUndo, newest last */
  virDomainPtr building; /* the clone being built (not owned), whose
                          * marker the proofs' scratch volumes join */
  const DcPlan *plan;    /* its plan (not owned), while the copies run */
  DcLive consistency;    /* --live: how its disks were copied, once they are */
  GPtrArray *here;       /* the overlays written here, which libvirt
                          * must read back (under undo_lock, while the
                          * copies run; dc-overlay-vol.c) */
  GHashTable *scratch;   /* directory -> DcOwnedVolume: the scratch
                          * volume of its proof, named in the clone's
                          * <building> marker when it was defined
                          * (dc-sameness.c) */
} DcRun;

G_END_DECLS
