/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-reset.h: --reset-identity as the planner sees it: which of the
 * clone's disks get a new identity inside, the host name they get, and
 * the report of what was done (filled by src/host/dc-identity.c).
 */
#pragma once

#include "dc-plan.h"

G_BEGIN_DECLS

typedef enum
{
  DC_RESET_NONE,   /* no --reset-identity */
  DC_RESET_STRICT, /* --reset-identity: a guest it cannot reset fails the clone */
  DC_RESET_TRY,    /* --reset-identity=try: ... is kept, with a warning */
} DcResetMode;

/* One of the clone's own disks: a copy or a linked clone's overlay,
 * never the source's or a shared one. */
typedef struct
{
  char *target; /* "vda" */
  char *path;   /* the clone's new volume */
  char *format; /* its <driver type> in the clone's XML: never probed */
} DcResetDisk;

/* What --reset-identity does (planned) and did (a run). The lists hold
 * paths inside the guest, in the order they were changed. */
typedef struct
{
  DcResetMode mode;
  char *hostname;     /* the clone's host name (dc_name_to_hostname) */
  GPtrArray *disks;   /* DcResetDisk */
  gboolean done;      /* the disks were changed (a run that succeeded) */
  char *os;           /* what libguestfs found: "debian 12.5", or NULL */
  GPtrArray *emptied; /* char *: files made empty (/etc/machine-id) */
  GPtrArray *removed; /* char *: files removed (host keys, leases) */
  GPtrArray *written; /* char *: files written or edited */
  char *failure;      /* =try: why it was not done (also a warning) */
} DcReset;

void dc_reset_free (DcReset *reset);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcReset, dc_reset_free)

DcReset *dc_reset_new (DcResetMode mode, const char *hostname);
void dc_reset_add_disk (DcReset *reset, const char *target, const char *path, const char *format);
DcReset *dc_reset_plan (const DcPlan *plan, DcResetMode mode, GError **error);

G_END_DECLS
