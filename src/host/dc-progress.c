/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-progress.c: progress of the copies on a terminal.
 *
 * One line per volume and a total: the bytes of data copied (holes are
 * not counted, nor copied), of how many, and the rate. A local copy
 * counts what it writes; libvirt's copy is watched from here, by the
 * allocation of the volume it is filling. At most five redraws a
 * second, each line cleared and written anew (\r, ESC [K), the cursor
 * moved back up over the block; a final redraw when all is done.
 */
#include "config.h"

#include "dc-progress.h"

#include <stdio.h>
#include <unistd.h>

#define DC_PROGRESS_INTERVAL (G_USEC_PER_SEC / 5)

struct _DcProgressItem
{
  DcProgress *progress;
  char *what;
  guint64 total;  /* data to copy, bytes (the source's allocation) */
  gsize done;     /* data copied so far, atomic */
  gint64 started; /* monotonic time */
  gint64 ended;   /* 0 while it runs */
  char *pool;     /* set when libvirt copies: the volume it fills */
  char *name;
};

struct _DcProgress
{
  virConnectPtr conn;
  FILE *out;
  GMutex lock; /* the items and the lines drawn */
  GCond wake;
  GPtrArray *items;
  guint lines; /* lines drawn last time */
  gboolean stop;
  GThread *thread;
};

static void
dc_progress_item_free (DcProgressItem *item)
{
  g_free (item->what);
  g_free (item->pool);
  g_free (item->name);
  g_free (item);
}

/* libvirt fills this volume: what it has allocated so far is what it
 * copied (the copy starts from an empty, sparse volume) */
static void
dc_progress_poll (DcProgress *progress, DcProgressItem *item)
{
  g_autoptr (DcPool) pool = virStoragePoolLookupByName (progress->conn, item->pool);
  g_autoptr (DcVol) vol = pool ? virStorageVolLookupByName (pool, item->name) : NULL;
  virStorageVolInfo info;

  if (vol != NULL && virStorageVolGetInfo (vol, &info) == 0)
    g_atomic_pointer_set (&item->done, (gsize) info.allocation);
}

static void
dc_progress_line (GString *out, const char *what, guint64 done, guint64 total, gint64 usec)
{
  g_autofree char *d = g_format_size (done);
  g_autofree char *t = g_format_size (MAX (total, done));
  g_autofree char *rate = usec > 0 ? g_format_size ((guint64) ((double) done * G_USEC_PER_SEC / usec)) : NULL;

  g_string_append_printf (out, "\r\033[K%-16s %10s of %-10s %s%s\n", what, d, t, rate ? rate : "",
                          rate ? "/s" : "");
}

/* Redraws the block; with @lock held. */
static void
dc_progress_draw (DcProgress *progress)
{
  g_autoptr (GString) out = g_string_new (NULL);
  gint64 now = g_get_monotonic_time ();
  gint64 first = G_MAXINT64, last = 0;
  guint64 done_all = 0, total_all = 0;

  if (progress->lines > 0)
    g_string_append_printf (out, "\033[%uA", progress->lines);
  for (guint i = 0; i < progress->items->len; i++)
    {
      DcProgressItem *item = progress->items->pdata[i];
      guint64 done = g_atomic_pointer_get (&item->done);
      gint64 end = item->ended ? item->ended : now;

      dc_progress_line (out, item->what, done, item->total, end - item->started);
      done_all += done;
      total_all += MAX (item->total, done);
      first = MIN (first, item->started);
      last = MAX (last, end);
    }
  if (progress->items->len > 1)
    dc_progress_line (out, "total", done_all, total_all, last - first);
  progress->lines = progress->items->len + (progress->items->len > 1 ? 1 : 0);
  fputs (out->str, progress->out);
  fflush (progress->out);
}

static gpointer
dc_progress_thread (gpointer data)
{
  DcProgress *progress = data;

  g_mutex_lock (&progress->lock);
  while (!progress->stop)
    {
      gint64 until = g_get_monotonic_time () + DC_PROGRESS_INTERVAL;
      g_autoptr (GPtrArray) watched = g_ptr_array_new ();

      for (guint i = 0; i < progress->items->len; i++)
        {
          DcProgressItem *item = progress->items->pdata[i];

          if (item->pool != NULL && item->ended == 0)
            g_ptr_array_add (watched, item);
        }
      /* libvirt is asked without the lock: the copies go on meanwhile */
      g_mutex_unlock (&progress->lock);
      for (guint i = 0; i < watched->len; i++)
        dc_progress_poll (progress, watched->pdata[i]);
      g_mutex_lock (&progress->lock);
      if (progress->items->len > 0)
        dc_progress_draw (progress);
      g_cond_wait_until (&progress->wake, &progress->lock, until);
    }
  g_mutex_unlock (&progress->lock);
  return NULL;
}

/**
 * dc_progress_new:
 * @conn: the connection libvirt's copies run on, to watch them
 * @fd: where to draw (2); must be a terminal
 *
 * Returns: (transfer full): the progress display, drawing until freed
 */
DcProgress *
dc_progress_new (virConnectPtr conn, int fd)
{
  DcProgress *progress = g_new0 (DcProgress, 1);

  progress->conn = conn;
  progress->out = fd == STDERR_FILENO ? stderr : stdout;
  progress->items = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_progress_item_free);
  g_mutex_init (&progress->lock);
  g_cond_init (&progress->wake);
  progress->thread = g_thread_new ("progress", dc_progress_thread, progress);
  return progress;
}

/**
 * dc_progress_free:
 * @progress: (nullable): a progress display
 *
 * Draws the final state and stops.
 */
void
dc_progress_free (DcProgress *progress)
{
  if (progress == NULL)
    return;
  g_mutex_lock (&progress->lock);
  progress->stop = TRUE;
  g_cond_signal (&progress->wake);
  g_mutex_unlock (&progress->lock);
  g_thread_join (progress->thread);
  if (progress->items->len > 0)
    dc_progress_draw (progress);
  g_ptr_array_unref (progress->items);
  g_mutex_clear (&progress->lock);
  g_cond_clear (&progress->wake);
  g_free (progress);
}

/**
 * dc_progress_add:
 * @progress: (nullable): a progress display, or %NULL for none
 * @what: the volume, as messages name it ("disk 'vda'")
 * @total: bytes of data it holds
 *
 * Returns: (transfer none) (nullable): its line, or %NULL without a
 * display
 */
DcProgressItem *
dc_progress_add (DcProgress *progress, const char *what, guint64 total)
{
  DcProgressItem *item;

  if (progress == NULL)
    return NULL;
  item = g_new0 (DcProgressItem, 1);
  item->progress = progress;
  item->what = g_strdup (what);
  item->total = total;
  item->started = g_get_monotonic_time ();
  g_mutex_lock (&progress->lock);
  g_ptr_array_add (progress->items, item);
  g_mutex_unlock (&progress->lock);
  return item;
}

/**
 * dc_progress_counter:
 * @item: (nullable): a line
 *
 * Returns: (nullable): the counter a local copy adds what it copied to
 */
gsize *
dc_progress_counter (DcProgressItem *item)
{
  return item ? &item->done : NULL;
}

/**
 * dc_progress_watch_volume:
 * @item: (nullable): a line
 * @pool: the pool of the volume libvirt is filling
 * @name: its name
 *
 * Counts libvirt's copy by what the volume has allocated so far.
 */
void
dc_progress_watch_volume (DcProgressItem *item, const char *pool, const char *name)
{
  if (item == NULL)
    return;
  g_mutex_lock (&item->progress->lock);
  item->pool = g_strdup (pool);
  item->name = g_strdup (name);
  g_mutex_unlock (&item->progress->lock);
}

/**
 * dc_progress_done:
 * @item: (nullable): a line whose copy ended, well or not
 */
void
dc_progress_done (DcProgressItem *item)
{
  if (item == NULL)
    return;
  if (item->pool != NULL)
    dc_progress_poll (item->progress, item);
  g_mutex_lock (&item->progress->lock);
  item->ended = g_get_monotonic_time ();
  g_mutex_unlock (&item->progress->lock);
}
