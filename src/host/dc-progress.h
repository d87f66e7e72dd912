/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "dc-util.h"

G_BEGIN_DECLS

typedef struct _DcProgress DcProgress;
typedef struct _DcProgressItem DcProgressItem;

DcProgress *dc_progress_new (virConnectPtr conn, int fd);
void dc_progress_free (DcProgress *progress);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcProgress, dc_progress_free)

DcProgressItem *dc_progress_add (DcProgress *progress, const char *what, guint64 total);
gsize *dc_progress_counter (DcProgressItem *item);
void dc_progress_watch_volume (DcProgressItem *item, const char *pool, const char *name);
void dc_progress_done (DcProgressItem *item);

G_END_DECLS
