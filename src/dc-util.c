/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "dc-util.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

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

/* libvirt's last error of this thread, as dc_libvirt_error_save() found
 * it, for the dc_libvirt_error_set() that follows */
static GPrivate dc_saved_error = G_PRIVATE_INIT ((GDestroyNotify) virFreeError);

/**
 * dc_libvirt_error_save:
 *
 * Keeps a copy of libvirt's last error of this thread for
 * dc_libvirt_error_set(). Use dc_set_libvirt_error(), which calls both.
 */
void
dc_libvirt_error_save (void)
{
  g_private_replace (&dc_saved_error, virSaveLastError ());
}

/**
 * dc_libvirt_error_set:
 * @error: return location
 * @fmt: what was being attempted, printf-style
 *
 * Sets @error to @fmt followed by the error dc_libvirt_error_save()
 * kept; the code says whether something was not found.
 *
 * Returns: %FALSE
 */
gboolean
dc_libvirt_error_set (GError **error, const char *fmt, ...)
{
  g_autoptr (virError) err = g_private_get (&dc_saved_error);
  g_autofree char *what = NULL;
  int code = DC_ERROR_LIBVIRT;
  va_list ap;

  g_private_set (&dc_saved_error, NULL);
  va_start (ap, fmt);
  what = g_strdup_vprintf (fmt, ap);
  va_end (ap);

  if (err != NULL && err->code == VIR_ERR_OK)
    g_clear_pointer (&err, virFreeError);
  if (err != NULL)
    {
      switch (err->code)
        {
        case VIR_ERR_NO_DOMAIN:
        case VIR_ERR_NO_STORAGE_VOL:
        case VIR_ERR_NO_STORAGE_POOL:
          code = DC_ERROR_NOT_FOUND;
          break;
        case VIR_ERR_SYSTEM_ERROR: /* int1 is the errno */
          if (err->int1 == ENOENT)
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

static volatile sig_atomic_t dc_cancelled_by = 0;

static void
dc_on_signal (int sig)
{
  static const char notice[] =
    "domclone: interrupted; stopping once the step in progress ends (libvirt's copies cannot be cut short)\n";

  if (dc_cancelled_by == 0)
    {
      /* write(2) is async-signal-safe; stdio is not */
      ssize_t unused = write (STDERR_FILENO, notice, sizeof (notice) - 1);
      (void) unused;
    }
  dc_cancelled_by = sig;
}

/**
 * dc_cancel_on_signals:
 *
 * Makes SIGINT, SIGTERM and SIGHUP stop the clone at the next step and
 * roll back, instead of killing the process with half a clone made.
 * A libvirt copy in progress cannot be interrupted: it is waited for.
 */
void
dc_cancel_on_signals (void)
{
  struct sigaction sa;

  memset (&sa, 0, sizeof (sa));
  sa.sa_handler = dc_on_signal;
  sigemptyset (&sa.sa_mask);
  sigaction (SIGINT, &sa, NULL);
  sigaction (SIGTERM, &sa, NULL);
  sigaction (SIGHUP, &sa, NULL);
  /* a daemon that dies under us must be an error we can roll back
   * from, not a SIGPIPE that kills us half-way (as virsh does) */
  signal (SIGPIPE, SIG_IGN);
}

/**
 * dc_check_cancelled:
 * @error: return location
 *
 * Returns: %FALSE with @error set (DC_ERROR_CANCELLED) once SIGINT,
 * SIGTERM or SIGHUP arrived, so the run stops at the next step
 */
gboolean
dc_check_cancelled (GError **error)
{
  int sig = dc_cancelled_by;

  if (sig == 0)
    return TRUE;
  g_set_error (error, DC_ERROR, DC_ERROR_CANCELLED, "interrupted by %s", g_strsignal (sig));
  return FALSE;
}
