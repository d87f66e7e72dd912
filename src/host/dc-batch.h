/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-batch.h: what the clones of one call (a --count batch, or the one
 * clone) share and change while several are made at once.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  GMutex prove_lock; /* one proof at a time, so each is made once */
  GHashTable *same;  /* directory -> DcSame: whether this process sees
                      * there what the daemon sees (under prove_lock) */

  /* libvirt refuses to refresh a pool while it creates a volume in it
   * ("asynchronous jobs running"): the clones' empty volumes are
   * created, and their pools refreshed, through this gate, which lets
   * a refresh that waits go first */
  GMutex gate_lock;
  GCond gate_cond;
  guint creating; /* volumes being created (under gate_lock) */
  guint waiting;  /* refreshes waiting for them to end */
  gboolean refreshing;
  GHashTable *refreshes; /* pool name -> refreshes begun (under gate_lock) */
} DcBatch;

void dc_batch_init (DcBatch *batch);
void dc_batch_clear (DcBatch *batch);
void dc_batch_create_begin (DcBatch *batch);
void dc_batch_create_end (DcBatch *batch);
guint dc_batch_refreshes (DcBatch *batch, const char *pool);
gboolean dc_batch_refresh_begin (DcBatch *batch, const char *pool, guint seen);
void dc_batch_refresh_end (DcBatch *batch, const char *pool, gboolean refreshed);

G_END_DECLS
