/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-error.h: domclone's error domain. Nothing here knows libvirt: the
 * planner library (libdomclone-plan.la) is built on it.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define DC_ERROR (dc_error_quark ())
GQuark dc_error_quark (void);

/* Which exit status an error maps to is decided by its code: the
 * "usage" codes are the caller's fault and change nothing (exit 2). */
typedef enum
{
  DC_ERROR_FAILED,       /* generic failure, exit 1 */
  DC_ERROR_USAGE,        /* bad command line, exit 2 */
  DC_ERROR_INVALID_NAME, /* a name breaks the rules, exit 2 */
  DC_ERROR_NAME_TAKEN,   /* the name belongs to another domain */
  DC_ERROR_NOT_FOUND,    /* a volume, file or pool missing */
  DC_ERROR_STATE,        /* source not shut off, or transient */
  DC_ERROR_UNSUPPORTED,  /* a disk or device we cannot clone safely */
  DC_ERROR_XML,          /* malformed domain XML */
  DC_ERROR_LIBVIRT,      /* a libvirt call failed */
  DC_ERROR_CANCELLED,    /* interrupted by a signal */
  /* new codes go last: --json names each one (dc-error.c) */
  DC_ERROR_SOURCE_NOT_FOUND, /* no source domain of that name */
  DC_ERROR_VOLUME_EXISTS,    /* a volume is in the way of a planned one */
  DC_ERROR_CONNECT,          /* no connection to libvirt */
  DC_ERROR_POOL_NOT_FOUND,   /* --pool names no pool */
  DC_ERROR_POOL_INACTIVE,    /* --pool names a pool that is not running */
  DC_ERROR_IN_PROGRESS,      /* --exist-ok: a live run still builds the clone */
  DC_ERROR_NOT_TEMPLATE,     /* --linked of a domain that is no template */
  DC_ERROR_LINKED_CLONES,    /* --unmake-template while linked clones live */
  DC_ERROR_NO_SPACE,         /* a copy ran out of space (ENOSPC), whichever
                              * way made it */
  DC_ERROR_NO_AGENT,         /* --quiesce: no guest agent froze the guest */
  DC_ERROR_NO_BACKUP,        /* --live: libvirt or QEMU cannot back up */
  DC_ERROR_IDENTITY,         /* --reset-identity cannot reset the guest */
} DcError;

/* What a DcError means outside domclone: one row of dc-error.c's table */
typedef struct
{
  const char *code; /* --json's stable name of the failure */
  int exit_status;  /* 1, or 2 for the caller's fault */
} DcErrorKind;

const DcErrorKind *dc_error_kind (const GError *error);
int dc_error_exit_status (const GError *error);

G_END_DECLS
