/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "dc-util.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
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
          if (err->int1 == ENOSPC)
            code = DC_ERROR_NO_SPACE;
          break;
        default:
          break;
        }
      /* qemu-img's own words come back in an internal error: the C
       * locale's strerror (ENOSPC), as libvirtd runs its helpers */
      if (code == DC_ERROR_LIBVIRT && err->message != NULL
          && strstr (err->message, "No space left on device"))
        code = DC_ERROR_NO_SPACE;
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

/* --- opening a connection ------------------------------------------------ */

/* One line from the terminal @fd, without its newline; NULL at its end
 * or on an error. Without echo (a passphrase) when @secret. */
static char *
dc_auth_read_line (int fd, gboolean secret)
{
  g_autoptr (GString) line = g_string_new (NULL);
  struct termios was;
  gboolean restore = FALSE;
  gboolean ended = FALSE;

  if (secret && tcgetattr (fd, &was) == 0)
    {
      struct termios quiet = was;

      quiet.c_lflag &= ~(tcflag_t) ECHO;
      restore = tcsetattr (fd, TCSANOW, &quiet) == 0;
    }
  for (;;)
    {
      char c;
      ssize_t n = read (fd, &c, 1);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      if (c == '\n')
        {
          ended = TRUE;
          break;
        }
      g_string_append_c (line, c);
    }
  if (restore)
    {
      tcsetattr (fd, TCSANOW, &was);
      if (write (fd, "\n", 1) < 0)
        g_debug ("cannot end the prompt's line: %s", g_strerror (errno));
    }
  if (!ended && line->len == 0)
    return NULL;
  if (line->len > 0 && line->str[line->len - 1] == '\r')
    g_string_truncate (line, line->len - 1);
  return g_string_free (g_steal_pointer (&line), FALSE);
}

/* Asks for @cred on the terminal @fd and fills in its result; %FALSE
 * when it cannot be answered. */
static gboolean
dc_auth_ask_one (int fd, virConnectCredentialPtr cred)
{
  gboolean secret = FALSE;
  g_autofree char *prompt = NULL;
  g_autofree char *answer = NULL;
  const char *value;

  switch (cred->type)
    {
    case VIR_CRED_EXTERNAL:
      /* PolicyKit asks by itself (or the user already said yes):
       * nothing to give; anything else we cannot answer */
      return g_strcmp0 (cred->challenge, "PolicyKit") == 0;
    case VIR_CRED_PASSPHRASE:
    case VIR_CRED_NOECHOPROMPT:
      secret = TRUE;
      break;
    case VIR_CRED_USERNAME:
    case VIR_CRED_AUTHNAME:
    case VIR_CRED_LANGUAGE:
    case VIR_CRED_CNONCE:
    case VIR_CRED_ECHOPROMPT:
    case VIR_CRED_REALM:
      break;
    default:
      return FALSE;
    }
  if (cred->defresult != NULL && !secret)
    prompt = g_strdup_printf ("%s [%s]: ", cred->prompt ? cred->prompt : "", cred->defresult);
  else
    prompt = g_strdup_printf ("%s: ", cred->prompt ? cred->prompt : "");
  if (write (fd, prompt, strlen (prompt)) < 0)
    return FALSE;
  answer = dc_auth_read_line (fd, secret);
  if (answer == NULL)
    return FALSE;
  value = answer[0] == '\0' && cred->defresult != NULL ? cred->defresult : answer;
  /* libvirt frees the result with free() */
  cred->result = strdup (value);
  if (cred->result == NULL)
    return FALSE;
  cred->resultlen = (unsigned int) strlen (cred->result);
  return TRUE;
}

/**
 * dc_connect_auth_cb:
 * @cred: the credentials libvirt asks for
 * @ncred: how many
 * @cbdata: unused
 *
 * Asks for @cred on the controlling terminal, never on standard output
 * (which --json keeps for its object alone) nor on standard input.
 * libvirt's own callback (virConnectAuthPtrDefault) prompts on stdout.
 * Without a terminal nothing is asked and the authentication fails.
 *
 * Returns: 0 when every credential was filled in, -1 otherwise
 */
int
dc_connect_auth_cb (virConnectCredentialPtr cred, unsigned int ncred, void *cbdata)
{
  g_auto (DcFd) fd = open ("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);

  if (fd < 0)
    {
      g_debug ("libvirt asks for credentials and there is no terminal to ask on: %s", g_strerror (errno));
      return -1;
    }
  for (unsigned int i = 0; i < ncred; i++)
    if (!dc_auth_ask_one (fd, &cred[i]))
      return -1;
  return 0;
}

static int dc_connect_cred_types[] = {
  VIR_CRED_AUTHNAME,   VIR_CRED_ECHOPROMPT,   VIR_CRED_REALM,
  VIR_CRED_PASSPHRASE, VIR_CRED_NOECHOPROMPT, VIR_CRED_EXTERNAL,
};

static virConnectAuth dc_connect_auth_struct = {
  .credtype = dc_connect_cred_types,
  .ncredtype = G_N_ELEMENTS (dc_connect_cred_types),
  .cb = dc_connect_auth_cb,
  .cbdata = NULL,
};

/**
 * dc_connect_auth:
 *
 * Returns: (transfer none): how domclone answers libvirt's questions for
 * credentials: on the terminal (dc_connect_auth_cb()), as virsh does
 * but never on standard output
 */
virConnectAuthPtr
dc_connect_auth (void)
{
  return &dc_connect_auth_struct;
}

/**
 * dc_connect_uri:
 * @uri: (nullable): the URI asked for (--connect), %NULL for libvirt's
 *   default
 *
 * For a qemu+ssh:// URI (given, or in LIBVIRT_DEFAULT_URI) that names
 * no ssh command of its own, the same URI with command= naming
 * domclone-ssh, which runs ssh with SIGINT ignored: libvirt starts ssh
 * in domclone's process group, and Ctrl-C on the terminal must reach
 * domclone's rollback, not the transport it needs for it. The helper
 * is $DOMCLONE_SSH_HELPER if set (the tests), else the installed one;
 * without it the URI is left as it is.
 *
 * Returns: (transfer full) (nullable): the URI to open
 */
char *
dc_connect_uri (const char *uri)
{
  const char *given = uri != NULL ? uri : g_getenv ("LIBVIRT_DEFAULT_URI");
  const char *helper = g_getenv ("DOMCLONE_SSH_HELPER");
  g_autofree char *scheme = NULL;
  g_autofree char *escaped = NULL;
  const char *sep;
  const char *query;

  if (helper == NULL || helper[0] == '\0')
    helper = DC_SSH_HELPER;
  if (given == NULL || (sep = strstr (given, "://")) == NULL || strchr (given, '#') != NULL)
    return g_strdup (uri);
  scheme = g_strndup (given, (gsize) (sep - given));
  if (!g_str_has_suffix (scheme, "+ssh") || !g_file_test (helper, G_FILE_TEST_IS_EXECUTABLE))
    return g_strdup (uri);
  query = strchr (sep, '?');
  if (query != NULL && (strstr (query, "?command=") != NULL || strstr (query, "&command=") != NULL))
    return g_strdup (uri); /* the user's own ssh */
  escaped = g_uri_escape_string (helper, "/", FALSE);
  return g_strdup_printf ("%s%scommand=%s", given, query != NULL ? "&" : "?", escaped);
}

/**
 * dc_connection_is_local:
 * @conn: connection
 *
 * Returns: %TRUE when the daemon runs on this host (the URI names no
 * host), so the files of its volumes are ours to see
 */
gboolean
dc_connection_is_local (virConnectPtr conn)
{
  g_autofree char *uri = virConnectGetURI (conn);
  g_autoptr (GUri) parsed = uri ? g_uri_parse (uri, G_URI_FLAGS_NONE, NULL) : NULL;
  const char *host = parsed ? g_uri_get_host (parsed) : NULL;

  return parsed != NULL && (host == NULL || host[0] == '\0');
}

/**
 * dc_domain_metadata:
 * @dom: a domain
 * @name: its name, for messages
 * @error: return location
 *
 * Returns: (transfer full): the domclone metadata in @dom's saved
 * definition (empty when it has none), or %NULL with @error set
 */
DcMetadata *
dc_domain_metadata (virDomainPtr dom, const char *name, GError **error)
{
  g_autofree char *xml =
    virDomainGetMetadata (dom, VIR_DOMAIN_METADATA_ELEMENT, DC_METADATA_URI, VIR_DOMAIN_AFFECT_CONFIG);

  if (xml == NULL && dc_last_libvirt_code () != VIR_ERR_NO_DOMAIN_METADATA)
    {
      dc_set_libvirt_error (error, "cannot read the domclone metadata of '%s'", name);
      return NULL;
    }
  return dc_metadata_parse (xml, error);
}
