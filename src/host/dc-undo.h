/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-undo.h: the run's one undo stack, and the rollback that unwinds it.
 */
#pragma once

#include "dc-rbdsrc.h"
#include "dc-run-priv.h"

G_BEGIN_DECLS

/* The undo stack: one entry for each thing this run created. */
typedef enum
{
  DC_UNDO_DOMAIN,
  DC_UNDO_VOLUME,
  DC_UNDO_BACKUP, /* a backup job on the source (--live, dc-backup.c) */
  DC_UNDO_DIR,    /* a directory the run made (NVRAM, TPM state) */
} DcUndoKind;

typedef struct
{
  DcUndoKind kind;
  char *name;       /* domain or volume name; the source's for a backup; a directory's path */
  char *pool;       /* DC_UNDO_VOLUME: its pool ... */
  char *open_dir;   /* ... a temporary one over this directory, if set */
  DcRbdSource *rbd; /* ... or a Ceph RBD image @name beside this one */
  GStrv paths;      /* DC_UNDO_BACKUP: the files it writes, or (pull
                     * mode, --to) the names it exports the disks under */
} DcUndo;

void dc_undo_free (DcUndo *undo);
void dc_undo_push (DcRun *run, DcUndoKind kind, const char *name, const char *pool, const char *open_dir,
                   const DcRbdSource *rbd);
void dc_undo_push_backup (DcRun *run, const char *source, char **paths);
gboolean dc_undo_make_dir (DcRun *run, const char *dir, const char *owner, const char *group, char **name,
                           GError **error);
void dc_undo_forget_volume (DcRun *run, const char *pool, const char *name);
void dc_undo_rollback (DcRun *run, GError *error);

G_END_DECLS
