/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "dc-util.h"

G_DEFINE_QUARK (domclone-error-quark, dc_error)

static void
dc_libvirt_error_ignore (void *opaque, virErrorPtr err)
{
  /* libvirt would print every error to stderr; we report each one once,
   * as a GError, from the place that knows what was being attempted. */
}

/**
 * dc_libvirt_quiet:
 *
 * Stops libvirt from printing errors by itself.
 */
void
dc_libvirt_quiet (void)
{
  virSetErrorFunc (NULL, dc_libvirt_error_ignore);
}

/**
 * dc_last_libvirt_code:
 *
 * Returns: the code of the last libvirt error in this thread, or
 * VIR_ERR_OK when there is none.
 */
int
dc_last_libvirt_code (void)
{
  virErrorPtr err = virGetLastError ();

  return err ? err->code : VIR_ERR_OK;
}

/**
 * dc_set_libvirt_error:
 * @error: return location
 * @fmt: what was being attempted, printf-style
 *
 * Sets @error to @fmt followed by libvirt's last error message. Call it
 * right after the failing libvirt call: any other libvirt call resets
 * the last error.
 *
 * Returns: %FALSE, for `return dc_set_libvirt_error (...)`.
 */
gboolean
dc_set_libvirt_error (GError **error, const char *fmt, ...)
{
  virErrorPtr err = virGetLastError ();
  g_autofree char *what = NULL;
  int code = DC_ERROR_LIBVIRT;
  va_list ap;

  va_start (ap, fmt);
  what = g_strdup_vprintf (fmt, ap);
  va_end (ap);

  if (err != NULL)
    {
      switch (err->code)
        {
        case VIR_ERR_NO_DOMAIN:
        case VIR_ERR_NO_STORAGE_VOL:
        case VIR_ERR_NO_STORAGE_POOL:
          code = DC_ERROR_NOT_FOUND;
          break;
        default:
          break;
        }
    }

  if (err != NULL && err->message != NULL)
    g_set_error (error, DC_ERROR, code, "%s: %s", what, err->message);
  else
    g_set_error (error, DC_ERROR, code, "%s", what);
  return FALSE;
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
  if (error->domain == DC_ERROR
      && (error->code == DC_ERROR_USAGE || error->code == DC_ERROR_INVALID_NAME))
    return 2;
  return 1;
}
