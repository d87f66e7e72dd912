/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-backup.h: the disks of a running domain as they were at one
 * instant, through libvirt's backup API: one more way for the copy step
 * (dc-run.c) to move bytes.
 */
#pragma once

#include "dc-plan.h"
#include "dc-result.h"
#include "dc-util.h"

G_BEGIN_DECLS

/* One disk of a backup job and the new volume it is copied into */
typedef struct
{
  char *disk;    /* the disk's target ("vda") */
  char *path;    /* the new volume's file (or block device); in pull mode
                 * (dc_backup_pull_begin()), the name it is exported under */
  char *format;  /* its format: raw, qcow2, ... */
  char *scratch; /* pull mode: the scratch file the job creates on the
                  * source's host, beside its disk */
} DcBackupTarget;

/* how the UNIX socket of a pull-mode job's exports is called
 * (dc_backup_socket()) */
#define DC_BACKUP_SOCKET_PREFIX "domclone-nbd-"

/* what a staging volume's name adds to its new volume's */
#define DC_BACKUP_STAGING_SUFFIX ".domclone-staging"

DcBackupTarget *dc_backup_target_new (const char *disk, const char *path, const char *format);
void dc_backup_target_free (DcBackupTarget *t);

gboolean dc_backup_supported (virDomainPtr dom, const char *name, GError **error);
gboolean dc_backup_check_live (virDomainPtr dom, const char *name, const char *inactive_xml,
                               const GPtrArray *copies, gboolean quiesce, GError **error);
char *dc_backup_staging_name (const char *name);
char *dc_backup_socket (virConnectPtr conn, virDomainPtr dom, const char *name, GError **error);
gboolean dc_backup_check_pull (virConnectPtr conn, virDomainPtr dom, const char *name,
                               const GPtrArray *copies, GError **error);
gboolean dc_backup_check_space (virConnectPtr conn, const GPtrArray *copies, GError **error);
gboolean dc_backup_run (virDomainPtr dom, const char *name, const GPtrArray *targets, gboolean quiesce,
                        gsize *done, DcLive *live, GError **error);
gboolean dc_backup_pull_begin (virDomainPtr dom, const char *name, const GPtrArray *targets,
                               const char *socket, const char *host, gboolean quiesce, guint *port, int *was,
                               DcLive *live, GError **error);
void dc_backup_pull_end (virDomainPtr dom, const char *name, const char *socket, int was);
gboolean dc_backup_end (virConnectPtr conn, const char *source, const char *const *paths, GError **error);
gboolean dc_backup_sparsify (const char *path, GError **error);

G_END_DECLS
