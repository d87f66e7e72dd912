/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * main.c: command line, output and exit status of domclone.
 */
#include "config.h"

#include "dc-cli.h"
#include "dc-cleanup.h"
#include "dc-output.h"
#include "dc-run.h"
#include "dc-template.h"

#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int verbosity;

/* The first error writing stdout (an errno), for dc_close_stdout() */
static int stdout_errno;

/* Flushes stdout before a line on stderr (so 2>&1 keeps the order),
 * remembering a failure: the stream may forget it. */
static void
dc_flush_stdout (void)
{
  errno = 0;
  if (fflush (stdout) != 0 && stdout_errno == 0)
    stdout_errno = errno != 0 ? errno : EIO;
}

/* Writes @text on stdout, remembering a failure: a text longer than
 * stdio's buffer is written at once, and the stream keeps no errno for
 * dc_close_stdout() (a --help or --json on /dev/full says ENOSPC, not
 * EIO). */
static void
dc_put_stdout (const char *text)
{
  errno = 0;
  if (fputs (text, stdout) == EOF && stdout_errno == 0)
    stdout_errno = errno != 0 ? errno : EIO;
}

static void
dc_log_handler (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  const char *kind = NULL;

  switch (level & G_LOG_LEVEL_MASK)
    {
    case G_LOG_LEVEL_ERROR:
    case G_LOG_LEVEL_CRITICAL:
    case G_LOG_LEVEL_WARNING:
      kind = "warning: ";
      break;
    case G_LOG_LEVEL_MESSAGE: /* a notice everyone should see */
      kind = "";
      break;
    case G_LOG_LEVEL_INFO:
      if (verbosity < 1)
        return;
      kind = "";
      break;
    default:
      if (verbosity < 2)
        return;
      kind = "debug: ";
      break;
    }
  dc_flush_stdout ();
  fprintf (stderr, "domclone: %s%s\n", kind, message);
}

static DcOutputFormat format = DC_OUTPUT_TEXT;

/* --to: the destination's connection (the source's is the handlers'),
 * and the source's URI as the clone's <origin> records it */
static virConnectPtr to_conn;
static char *source_uri;

/* What a clone keeps of its source's identity, on stderr whatever the
 * format and -q: one "domclone: warning: " line each */
static void
dc_print_warnings (const DcCloneResult *result)
{
  g_autofree char *lines = dc_output_warning_lines (result);

  dc_flush_stdout ();
  fputs (lines, stderr);
}

/* --count: a failure's JSON object lists the clones made ("clones") */
static gboolean counting;

/* The error line on stderr, after what stdout had (so 2>&1 keeps the
 * order) */
static int
dc_fail_line (const GError *error)
{
  g_autofree char *line = dc_output_error_line (error);

  dc_flush_stdout ();
  fputs (line, stderr);
  return dc_error_exit_status (error);
}

/* A failed run: with --json its object on stdout, and the error line */
static int
dc_fail (const GError *error)
{
  g_autoptr (GPtrArray) none = g_ptr_array_new ();
  g_autofree char *out =
    counting ? dc_output_clones_failure (format, none, error) : dc_output_failure (format, error);

  dc_put_stdout (out);
  return dc_fail_line (error);
}

/* Whatever went to stdout must have arrived: a --json object a caller
 * never got is a failure, even after a clone was made (GNU's
 * close_stdout does the same). */
static int
dc_close_stdout (int status)
{
  dc_flush_stdout ();
  if (ferror (stdout) && stdout_errno == 0)
    stdout_errno = EIO;
  errno = 0;
  if (fclose (stdout) != 0 && stdout_errno == 0)
    stdout_errno = errno != 0 ? errno : EIO;
  if (stdout_errno == 0)
    return status;
  fprintf (stderr, "domclone: cannot write to standard output: %s\n", g_strerror (stdout_errno));
  return status == EXIT_SUCCESS ? EXIT_FAILURE : status;
}

/* The options the clone steps take from @opts; @opts must outlive them */
static DcCloneOptions
dc_clone_options (const DcCliOptions *opts)
{
  DcCloneOptions copts = { 0 };

  copts.source = opts->source;
  copts.name = opts->name;
  copts.pool = opts->pool;
  copts.exist_ok = opts->exist_ok;
  copts.linked = opts->linked;
  copts.live = opts->live;
  copts.quiesce = opts->quiesce;
  copts.reset_identity = opts->reset_identity == DC_CLI_RESET_TRY      ? DC_RESET_TRY
                         : opts->reset_identity == DC_CLI_RESET_STRICT ? DC_RESET_STRICT
                                                                       : DC_RESET_NONE;
  copts.shape = opts->shape;
  copts.to = to_conn;
  copts.source_uri = source_uri;
  return copts;
}

/* dc_clone_options(), and how a run that copies goes */
static DcCloneOptions
dc_run_options (const DcCliOptions *opts)
{
  DcCloneOptions copts = dc_clone_options (opts);

  copts.jobs = (guint) opts->jobs;
  /* -v writes its lines on stderr, which the redraws would garble */
  copts.progress = !opts->quiet && verbosity == 0 && isatty (STDERR_FILENO);
  copts.read_back = format == DC_OUTPUT_JSON;
  return copts;
}

/* --help */
static int
dc_handle_help (void)
{
  g_autofree char *help = dc_cli_help ();

  dc_put_stdout (help);
  return EXIT_SUCCESS;
}

/* --version */
static int
dc_handle_version (void)
{
  printf ("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
  return EXIT_SUCCESS;
}

/* --print-xml: nothing to roll back, so a signal may end it at once */
static int
dc_handle_print_xml (virConnectPtr conn, const DcCliOptions *opts)
{
  g_autoptr (GError) error = NULL;
  DcCloneOptions copts = dc_clone_options (opts);
  g_autoptr (DcCloneResult) result = dc_run_print_xml (conn, &copts, &error);
  g_autofree char *out = NULL;

  if (result == NULL)
    return dc_fail (error);
  dc_print_warnings (result);
  out = dc_output_print_xml (format, result);
  dc_put_stdout (out);
  return EXIT_SUCCESS;
}

/* --cleanup */
static int
dc_handle_cleanup (virConnectPtr conn, const DcCliOptions *opts)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) removed = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *out = NULL;
  gboolean ok;

  dc_cancel_on_signals ();
  /* --to: the unfinished clones on the destination of the source here */
  ok = dc_cleanup (to_conn ? to_conn : conn, NULL, conn, opts->source, TRUE, removed, &error);
  /* what was removed, even if something else then failed */
  out = dc_output_cleanup (format, opts->source, removed, ok ? NULL : error);
  dc_put_stdout (out);
  return ok ? EXIT_SUCCESS : dc_fail_line (error);
}

/* --make-template and --unmake-template */
static int
dc_handle_template (virConnectPtr conn, const DcCliOptions *opts)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DcTemplateResult) done = NULL;
  g_autofree char *out = NULL;

  dc_cancel_on_signals ();
  done = opts->make_template ? dc_template_make (conn, opts->source, &error)
                             : dc_template_unmake (conn, opts->source, &error);
  if (done == NULL)
    return dc_fail (error);
  out = dc_output_template (format, done);
  dc_put_stdout (out);
  return EXIT_SUCCESS;
}

/* --count */
static int
dc_handle_count (virConnectPtr conn, const DcCliOptions *opts)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) made = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_result_free);
  g_autofree char *out = NULL;
  DcCloneOptions copts;
  gboolean ok;

  dc_cancel_on_signals ();
  copts = dc_run_options (opts);
  ok = dc_run_clone_count (conn, &copts, (guint) opts->count, made, &error);
  out = ok ? dc_output_clones (format, made) : dc_output_clones_failure (format, made, error);
  for (guint i = 0; i < made->len; i++)
    dc_print_warnings (made->pdata[i]);
  dc_put_stdout (out);
  return ok ? EXIT_SUCCESS : dc_fail_line (error);
}

/* One clone, the default */
static int
dc_handle_clone (virConnectPtr conn, const DcCliOptions *opts)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DcCloneResult) result = NULL;
  g_autofree char *out = NULL;
  DcCloneOptions copts;

  dc_cancel_on_signals ();
  copts = dc_run_options (opts);
  result = dc_run_clone (conn, &copts, &error);
  if (result == NULL)
    return dc_fail (error);
  dc_print_warnings (result);
  out = dc_output_clone (format, result);
  dc_put_stdout (out);
  return EXIT_SUCCESS;
}

/* A connection to @uri (NULL: the default one) */
static DcConnect *
dc_connect (const char *given, GError **error)
{
  g_autofree char *uri = dc_connect_uri (given);
  g_autofree char *connected = NULL;
  DcConnect *conn;

  /* libvirt writes its calls with write(2): a daemon that hangs up (a
   * restart just as we connect) must be a failed call, not a SIGPIPE
   * that kills us with nothing said (the modes' handlers keep it so) */
  signal (SIGPIPE, SIG_IGN);
  conn = virConnectOpenAuth (uri, dc_connect_auth (), 0);
  if (conn == NULL)
    {
      dc_set_libvirt_error (error, "cannot connect to '%s'", given ? given : "the default libvirt URI");
      (*error)->code = DC_ERROR_CONNECT;
      return NULL;
    }
  connected = virConnectGetURI (conn);
  g_info ("connected to '%s'", connected);
  return conn;
}

/* libvirt, initialized for -v, and a connection to @opts' URI */
static DcConnect *
dc_open (const DcCliOptions *opts, GError **error)
{
  /* libvirt reads its log settings once, when it initializes */
  if (verbosity >= 4)
    g_setenv ("LIBVIRT_DEBUG", "1", TRUE);
  else if (verbosity == 3)
    g_setenv ("LIBVIRT_DEBUG", "2", TRUE);
  if (virInitialize () < 0)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_LIBVIRT, "cannot initialize libvirt");
      return NULL;
    }
  dc_libvirt_quiet ();
  return dc_connect (opts->connect, error);
}

typedef int (*DcHandler) (virConnectPtr conn, const DcCliOptions *opts);

/* The mode @opts asks for (dc_cli_parse() let only one through) */
static DcHandler
dc_handler (const DcCliOptions *opts)
{
  if (opts->print_xml)
    return dc_handle_print_xml;
  if (opts->cleanup)
    return dc_handle_cleanup;
  if (opts->make_template || opts->unmake_template)
    return dc_handle_template;
  if (opts->count > 0)
    return dc_handle_count;
  return dc_handle_clone;
}

static int
dc_main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DcCliOptions) opts = NULL;
  g_autoptr (DcConnect) conn = NULL;
  g_autoptr (DcConnect) to = NULL;
  g_autofree char *uri = NULL;

  setlocale (LC_ALL, "");
  g_log_set_handler (G_LOG_DOMAIN, G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION, dc_log_handler,
                     NULL);
  opts = dc_cli_parse (argc, argv, &error);
  if (opts == NULL)
    {
      /* a usage error is reported as --json asks too */
      if (dc_cli_wants_json (argc, argv))
        format = DC_OUTPUT_JSON;
      return dc_fail (error);
    }
  if (opts->help)
    return dc_handle_help ();
  if (opts->version)
    return dc_handle_version ();
  verbosity = opts->verbose;
  if (opts->json)
    format = DC_OUTPUT_JSON;
  counting = opts->count > 0;
  conn = dc_open (opts, &error);
  if (conn == NULL)
    return dc_fail (error);
  if (opts->to != NULL)
    {
      to = dc_connect (opts->to, &error);
      if (to == NULL)
        return dc_fail (error);
      to_conn = to;
      uri = opts->connect ? g_strdup (opts->connect) : virConnectGetURI (conn);
      source_uri = uri;
    }
  return dc_handler (opts) (conn, opts);
}

int
main (int argc, char **argv)
{
  return dc_close_stdout (dc_main (argc, argv));
}
