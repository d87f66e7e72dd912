/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-batch.c: what the clones of one call share while several are made
 * at once: the proofs of sameness (dc-sameness.c), and a gate between
 * creating empty volumes and refreshing their pool, so that the one
 * does not make libvirt refuse the other, and a refresh that began after
 * a clone's volumes were written serves that clone too.
 */
#include "config.h"

#include "dc-batch.h"

#include <string.h>

void
dc_batch_init (DcBatch *batch)
{
  memset (batch, 0, sizeof (*batch));
  g_mutex_init (&batch->prove_lock);
  batch->same = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_mutex_init (&batch->gate_lock);
  g_cond_init (&batch->gate_cond);
  batch->refreshes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

void
dc_batch_clear (DcBatch *batch)
{
  g_clear_pointer (&batch->same, g_hash_table_unref);
  g_clear_pointer (&batch->refreshes, g_hash_table_unref);
  g_mutex_clear (&batch->prove_lock);
  g_mutex_clear (&batch->gate_lock);
  g_cond_clear (&batch->gate_cond);
}

/* Before an empty volume is created: waits while a pool is refreshed
 * or a refresh waits. @batch may be %NULL (no batch: no gate). */
void
dc_batch_create_begin (DcBatch *batch)
{
  if (batch == NULL)
    return;
  g_mutex_lock (&batch->gate_lock);
  while (batch->refreshing || batch->waiting > 0)
    g_cond_wait (&batch->gate_cond, &batch->gate_lock);
  batch->creating++;
  g_mutex_unlock (&batch->gate_lock);
}

void
dc_batch_create_end (DcBatch *batch)
{
  if (batch == NULL)
    return;
  g_mutex_lock (&batch->gate_lock);
  batch->creating--;
  g_cond_broadcast (&batch->gate_cond);
  g_mutex_unlock (&batch->gate_lock);
}

/* How many refreshes of @pool began so far: asked once a clone's
 * volumes there are written. */
guint
dc_batch_refreshes (DcBatch *batch, const char *pool)
{
  guint n;

  if (batch == NULL)
    return 0;
  g_mutex_lock (&batch->gate_lock);
  n = GPOINTER_TO_UINT (g_hash_table_lookup (batch->refreshes, pool));
  g_mutex_unlock (&batch->gate_lock);
  return n;
}

/* Waits until no volume is being created and no other refresh runs.
 * Returns %FALSE when a refresh of @pool began after dc_batch_refreshes()
 * said @seen, so after the caller's volumes were written, and has ended:
 * libvirt read them, no refresh is needed. Else the caller refreshes
 * @pool, then calls dc_batch_refresh_end(). @batch may be %NULL (no
 * batch: the caller refreshes). */
gboolean
dc_batch_refresh_begin (DcBatch *batch, const char *pool, guint seen)
{
  guint n;

  if (batch == NULL)
    return TRUE;
  g_mutex_lock (&batch->gate_lock);
  batch->waiting++;
  while (batch->creating > 0 || batch->refreshing)
    g_cond_wait (&batch->gate_cond, &batch->gate_lock);
  batch->waiting--;
  n = GPOINTER_TO_UINT (g_hash_table_lookup (batch->refreshes, pool));
  if (n > seen)
    {
      g_cond_broadcast (&batch->gate_cond);
      g_mutex_unlock (&batch->gate_lock);
      return FALSE;
    }
  g_hash_table_insert (batch->refreshes, g_strdup (pool), GUINT_TO_POINTER (n + 1));
  batch->refreshing = TRUE;
  g_mutex_unlock (&batch->gate_lock);
  return TRUE;
}

/* After the refresh dc_batch_refresh_begin() let the caller make:
 * @refreshed says whether libvirt did refresh @pool. One that failed
 * is not counted: it read no volume, so it serves no other clone. */
void
dc_batch_refresh_end (DcBatch *batch, const char *pool, gboolean refreshed)
{
  if (batch == NULL)
    return;
  g_mutex_lock (&batch->gate_lock);
  if (!refreshed)
    {
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (batch->refreshes, pool));

      g_hash_table_insert (batch->refreshes, g_strdup (pool), GUINT_TO_POINTER (n > 0 ? n - 1 : 0));
    }
  batch->refreshing = FALSE;
  g_cond_broadcast (&batch->gate_cond);
  g_mutex_unlock (&batch->gate_lock);
}
