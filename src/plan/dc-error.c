/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "dc-error.h"

#include <gio/gio.h>

/* Not G_DEFINE_QUARK: it stringifies its argument, and clang-format
 * spaces out the dashes of an unquoted "domclone-error-quark". */
GQuark
dc_error_quark (void)
{
  return g_quark_from_static_string ("domclone-error-quark");
}

/* What each DcError means outside: its --json "code" (an interface:
 * domclone(1) documents them, a new one is added, never renamed) and
 * the exit status. 2 is for errors in what the user asked for (nothing
 * was attempted), 1 for everything else. */
static const DcErrorKind dc_error_kinds[] = {
  [DC_ERROR_FAILED] = { "failed", 1 },
  [DC_ERROR_USAGE] = { "usage", 2 },
  [DC_ERROR_INVALID_NAME] = { "invalid-name", 2 },
  [DC_ERROR_NAME_TAKEN] = { "name-taken", 1 },
  [DC_ERROR_NOT_FOUND] = { "not-found", 1 },
  [DC_ERROR_STATE] = { "source-running", 1 },
  [DC_ERROR_UNSUPPORTED] = { "unsupported-disk", 1 },
  [DC_ERROR_XML] = { "invalid-xml", 1 },
  [DC_ERROR_LIBVIRT] = { "libvirt", 1 },
  [DC_ERROR_CANCELLED] = { "interrupted", 1 },
  [DC_ERROR_SOURCE_NOT_FOUND] = { "source-not-found", 1 },
  [DC_ERROR_VOLUME_EXISTS] = { "volume-exists", 1 },
  [DC_ERROR_CONNECT] = { "connect-failed", 1 },
  [DC_ERROR_POOL_NOT_FOUND] = { "pool-not-found", 1 },
  [DC_ERROR_POOL_INACTIVE] = { "pool-inactive", 1 },
  [DC_ERROR_IN_PROGRESS] = { "in-progress", 1 },
  [DC_ERROR_NOT_TEMPLATE] = { "not-a-template", 1 },
  [DC_ERROR_LINKED_CLONES] = { "has-linked-clones", 1 },
  [DC_ERROR_NO_SPACE] = { "no-space", 1 },
  [DC_ERROR_NO_AGENT] = { "no-guest-agent", 1 },
  [DC_ERROR_NO_BACKUP] = { "backup-unsupported", 1 },
  [DC_ERROR_IDENTITY] = { "identity-not-reset", 1 },
};
/* a new DcError code goes last, and here */
G_STATIC_ASSERT (G_N_ELEMENTS (dc_error_kinds) == DC_ERROR_IDENTITY + 1);

/**
 * dc_error_kind:
 * @error: the error that ended the run
 *
 * GLib's option errors are usage errors, and the local copy's ENOSPC
 * the same kind of failure as libvirt's; any other error from outside
 * domclone is "failed".
 *
 * Returns: (transfer none): the row of @error's kind in the error table
 */
const DcErrorKind *
dc_error_kind (const GError *error)
{
  DcError code = DC_ERROR_FAILED;

  if (error->domain == G_OPTION_ERROR)
    code = DC_ERROR_USAGE;
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE))
    code = DC_ERROR_NO_SPACE;
  else if (error->domain == DC_ERROR && error->code >= 0 && error->code < (int) G_N_ELEMENTS (dc_error_kinds))
    code = (DcError) error->code;
  return &dc_error_kinds[code];
}

/**
 * dc_error_exit_status:
 * @error: the error that ended the run
 *
 * Returns: 2 for errors in what the user asked for (nothing was
 * attempted), 1 for everything else.
 */
int
dc_error_exit_status (const GError *error)
{
  return dc_error_kind (error)->exit_status;
}
