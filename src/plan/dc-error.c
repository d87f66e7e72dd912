/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "dc-error.h"

/* Not G_DEFINE_QUARK: it stringifies its argument, and clang-format
 * spaces out the dashes of an unquoted "domclone-error-quark". */
GQuark
dc_error_quark (void)
{
  return g_quark_from_static_string ("domclone-error-quark");
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
  if (error->domain == G_OPTION_ERROR)
    return 2;
  if (error->domain == DC_ERROR && (error->code == DC_ERROR_USAGE || error->code == DC_ERROR_INVALID_NAME))
    return 2;
  return 1;
}
