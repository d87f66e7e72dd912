/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The gate of dc-batch.c between the clones of one batch: a pool
 * refresh that began after a clone's volumes were written, and ended,
 * spares that clone its own; one that failed spares nobody.
 */
#include "config.h"

#include "dc-batch.h"

static void
test_batch_refresh_serves (void)
{
  DcBatch batch;
  guint seen;

  dc_batch_init (&batch);
  seen = dc_batch_refreshes (&batch, "p");
  g_assert_true (dc_batch_refresh_begin (&batch, "p", 0)); /* another clone's */
  dc_batch_refresh_end (&batch, "p", TRUE);
  g_assert_false (dc_batch_refresh_begin (&batch, "p", seen)); /* served */
  /* a refresh that began before: this clone's volumes may be newer */
  seen = dc_batch_refreshes (&batch, "p");
  g_assert_true (dc_batch_refresh_begin (&batch, "p", seen));
  dc_batch_refresh_end (&batch, "p", TRUE);
  /* another pool's refresh serves nobody here */
  seen = dc_batch_refreshes (&batch, "q");
  g_assert_true (dc_batch_refresh_begin (&batch, "p", dc_batch_refreshes (&batch, "p")));
  dc_batch_refresh_end (&batch, "p", TRUE);
  g_assert_true (dc_batch_refresh_begin (&batch, "q", seen));
  dc_batch_refresh_end (&batch, "q", TRUE);
  dc_batch_clear (&batch);
}

static void
test_batch_refresh_failed (void)
{
  DcBatch batch;
  guint seen;

  dc_batch_init (&batch);
  seen = dc_batch_refreshes (&batch, "p");
  g_assert_true (dc_batch_refresh_begin (&batch, "p", 0)); /* another clone's, which fails */
  dc_batch_refresh_end (&batch, "p", FALSE);
  g_assert_true (dc_batch_refresh_begin (&batch, "p", seen)); /* this clone refreshes itself */
  dc_batch_refresh_end (&batch, "p", TRUE);
  g_assert_cmpuint (dc_batch_refreshes (&batch, "p"), ==, 1);
  dc_batch_clear (&batch);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/batch/refresh/serves", test_batch_refresh_serves);
  g_test_add_func ("/batch/refresh/failed", test_batch_refresh_failed);
  return g_test_run ();
}
