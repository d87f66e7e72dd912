/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * main.c: command line, output and exit status of domclone.
 */
#include "config.h"

#include "dc-cli.h"
#include "dc-cleanup.h"
#include "dc-run.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static int verbosity;

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
  fflush (stdout);
  fprintf (stderr, "domclone: %s%s\n", kind, message);
}

/* Errors are one line: a control character that came in with a name or
 * a libvirt message must not start another. */
static int
dc_fail (const GError *error)
{
  g_autofree char *line = g_strdup (error->message);

  for (char *p = line; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      *p = ' ';
  fflush (stdout);
  fprintf (stderr, "domclone: %s\n", line);
  return dc_error_exit_status (error);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DcCliOptions) opts = NULL;
  g_autoptr (DcConnect) conn = NULL;
  g_autoptr (DcCloneResult) result = NULL;
  DcCloneOptions copts = { 0 };

  setlocale (LC_ALL, "");
  g_log_set_handler (G_LOG_DOMAIN, G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION, dc_log_handler,
                     NULL);

  opts = dc_cli_parse (argc, argv, &error);
  if (opts == NULL)
    return dc_fail (error);
  if (opts->help)
    {
      g_autofree char *help = dc_cli_help ();
      fputs (help, stdout);
      return EXIT_SUCCESS;
    }
  if (opts->version)
    {
      printf ("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }
  verbosity = opts->verbose;

  /* libvirt reads its log settings once, when it initializes */
  if (verbosity >= 4)
    g_setenv ("LIBVIRT_DEBUG", "1", TRUE);
  else if (verbosity == 3)
    g_setenv ("LIBVIRT_DEBUG", "2", TRUE);
  if (virInitialize () < 0)
    {
      fprintf (stderr, "domclone: cannot initialize libvirt\n");
      return EXIT_FAILURE;
    }
  dc_libvirt_quiet ();

  conn = virConnectOpenAuth (opts->connect, virConnectAuthPtrDefault, 0);
  if (conn == NULL)
    {
      dc_set_libvirt_error (&error, "cannot connect to '%s'",
                            opts->connect ? opts->connect : "the default libvirt URI");
      error->code = DC_ERROR_CONNECT;
      return dc_fail (error);
    }
  {
    g_autofree char *uri = virConnectGetURI (conn);
    g_info ("connected to '%s'", uri);
  }

  copts.source = opts->source;
  copts.name = opts->name;
  if (opts->print_xml)
    {
      /* nothing to roll back: a signal may end it at once */
      result = dc_clone_print_xml (conn, &copts, &error);
      if (result == NULL)
        return dc_fail (error);
      fputs (result->xml, stdout);
      return EXIT_SUCCESS;
    }

  dc_cancel_on_signals ();
  if (opts->cleanup)
    {
      g_autoptr (GPtrArray) removed = g_ptr_array_new_with_free_func (g_free);

      gboolean ok = dc_cleanup (conn, NULL, opts->source, TRUE, removed, &error);

      /* what was removed, even if something else then failed */
      for (guint i = 0; i < removed->len; i++)
        printf ("Removed %s, left unfinished by a killed run.\n", (const char *) removed->pdata[i]);
      if (!ok)
        return dc_fail (error);
      if (removed->len == 0)
        printf ("Nothing to clean up for %s.\n", opts->source);
      return EXIT_SUCCESS;
    }

  copts.jobs = (guint) opts->jobs;
  /* -v writes its lines on stderr, which the redraws would garble */
  copts.progress = !opts->quiet && verbosity == 0 && isatty (STDERR_FILENO);
  result = dc_clone (conn, &copts, &error);
  if (result == NULL)
    return dc_fail (error);

  printf ("Cloned from %s to %s.\n", result->source, result->name);
  return EXIT_SUCCESS;
}
