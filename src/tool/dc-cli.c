/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-cli.c: the option table, its parser and the help text made from it.
 */
#include "config.h"

#include "dc-cli.h"
#include "dc-name.h"
#include "dc-error.h"

#include <string.h>

#define DC_HELP_WIDTH 78
#define DC_HELP_INDENT 33

/* more copies at once than this only queue in libvirt and the disk */
#define DC_CLI_MAX_JOBS 64
/* --count: more than this in one call is a typo more likely than a plan */
#define DC_CLI_MAX_COUNT 1000

static gboolean opt_help;
static gboolean opt_version;
static int opt_verbose;
static char *opt_name;
static gboolean opt_exist_ok;
static int opt_count;
static char *opt_connect;
static char *opt_pool;
static gboolean opt_cleanup;
static gboolean opt_print_xml;
static gboolean opt_json;
static int opt_jobs;
static gboolean opt_quiet;
static gboolean opt_linked;
static gboolean opt_make_template;
static gboolean opt_unmake_template;

static gboolean
dc_cli_count_verbose (const char *option, const char *value, gpointer data, GError **error)
{
  opt_verbose++;
  return TRUE;
}

static const GOptionEntry dc_cli_option_entries[] = {
  { "help", 'h', 0, G_OPTION_ARG_NONE, &opt_help, "Displays help on commandline options", NULL },
  { "version", 0, 0, G_OPTION_ARG_NONE, &opt_version, "Print \"domclone VERSION\" and exit.", NULL },
  { "verbose", 'v', G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, dc_cli_count_verbose,
    "Increase logging verbosity. Repeat the 'v' in the short option for more detail. "
    "Maximum verbosity is obtained with 4 (or more) v's, i.e. -vvvv.",
    NULL },
  { "name", 'n', 0, G_OPTION_ARG_STRING, &opt_name,
    "An optional custom name for the cloned domain. The name must follow the usual validity "
    "rules. Default: \"<source_name>-cloneN\", where N is the Nth cloned domain.",
    "<destination-name>" },
  { "exist-ok", 0, 0, G_OPTION_ARG_NONE, &opt_exist_ok,
    "With --name: if that domain exists and is a clone of <source_name> (by UUID), do nothing and exit 0 "
    "(\"NAME already exists, cloned from SOURCE.\"). Any other domain of that name is still an error.",
    NULL },
  { "count", 0, 0, G_OPTION_ARG_INT, &opt_count,
    "Make N clones (1 to 1000) in one call, named as without --name. A failure removes the clone it "
    "hit and stops; the clones made before it are kept (the error says which).",
    "<N>" },
  { "connect", 'c', 0, G_OPTION_ARG_STRING, &opt_connect,
    "libvirt connection URI (default: as virsh: $LIBVIRT_DEFAULT_URI, else libvirt's default)", "<uri>" },
  { "pool", 0, 0, G_OPTION_ARG_STRING, &opt_pool,
    "Put the new volumes of the clone's disks into this active storage pool (one that holds files: dir, "
    "fs or netfs). Default: the pool of each source volume. NVRAM and TPM state stay where libvirt keeps "
    "them.",
    "<pool>" },
  { "jobs", 'j', 0, G_OPTION_ARG_INT, &opt_jobs,
    "Copy up to N volumes at once. Default: one per CPU (never more than the clone has volumes).", "<N>" },
  { "quiet", 'q', 0, G_OPTION_ARG_NONE, &opt_quiet,
    "No progress display. (It is only drawn when standard error is a terminal and without -v.)", NULL },
  { "print-xml", 0, 0, G_OPTION_ARG_NONE, &opt_print_xml,
    "Clone nothing and change nothing: print the XML the clone would be defined with (with -v, the "
    "volumes it would create on stderr).",
    NULL },
  { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json,
    "Print the result on stdout as one JSON object, on success and on failure (the error line still "
    "goes to stderr).",
    NULL },
  { "linked", 0, 0, G_OPTION_ARG_NONE, &opt_linked,
    "Make a linked clone of a template (see --make-template): each of its disks is a new qcow2 "
    "overlay on the template's volume, made in constant time and space.",
    NULL },
  { "make-template", 0, 0, G_OPTION_ARG_NONE, &opt_make_template,
    "Clone nothing; make <source_name> a template: mark its writable disks read-only, so that "
    "linked clones can be made of it.",
    NULL },
  { "unmake-template", 0, 0, G_OPTION_ARG_NONE, &opt_unmake_template,
    "Clone nothing; make the template <source_name> a plain domain again (refused while linked "
    "clones of it exist).",
    NULL },
  { "cleanup", 0, 0, G_OPTION_ARG_NONE, &opt_cleanup,
    "Clone nothing; remove the clones of <source_name> that killed or crashed runs left "
    "unfinished, with their volumes, waiting for copies libvirt is still making into them.",
    NULL },
  { NULL, 0, 0, 0, NULL, NULL, NULL } /* G_OPTION_ENTRY_NULL needs GLib 2.70 */
};

static const struct
{
  const char *name;
  const char *description;
} dc_cli_arguments[] = {
  { "source_name", "The name of the source domain to be cloned" },
};

const GOptionEntry *
dc_cli_entries (void)
{
  return dc_cli_option_entries;
}

void
dc_cli_options_free (DcCliOptions *opts)
{
  if (opts == NULL)
    return;
  g_free (opts->name);
  g_free (opts->connect);
  g_free (opts->pool);
  g_free (opts->source);
  g_free (opts);
}

/* Appends @text wrapped to the help width, continuation lines indented
 * to the description column. */
static void
dc_help_wrap (GString *out, const char *text)
{
  g_auto (GStrv) words = g_strsplit (text, " ", -1);
  size_t col = DC_HELP_INDENT;

  for (guint i = 0; words[i] != NULL; i++)
    {
      size_t len = strlen (words[i]);

      if (col > DC_HELP_INDENT && col + 1 + len > DC_HELP_WIDTH)
        {
          g_string_append_printf (out, "\n%*s", DC_HELP_INDENT, "");
          col = DC_HELP_INDENT;
        }
      if (col > DC_HELP_INDENT)
        {
          g_string_append_c (out, ' ');
          col++;
        }
      g_string_append (out, words[i]);
      col += len;
    }
  g_string_append_c (out, '\n');
}

static void
dc_help_item (GString *out, const char *term, const char *description)
{
  size_t len = strlen (term);

  g_string_append_printf (out, "  %s", term);
  if (len + 2 + 2 <= DC_HELP_INDENT)
    g_string_append_printf (out, "%*s", (int) (DC_HELP_INDENT - len - 2), "");
  else
    g_string_append_printf (out, "\n%*s", DC_HELP_INDENT, "");
  dc_help_wrap (out, description);
}

/**
 * dc_cli_help:
 *
 * Returns: (transfer full): the --help text, made from the option table
 */
char *
dc_cli_help (void)
{
  GString *out = g_string_new ("Usage: domclone [options] <source_name>\n"
                               "Create an independent copy of an existing (stopped) domain.\n"
                               "\n"
                               "Options:\n");

  for (const GOptionEntry *e = dc_cli_option_entries; e->long_name != NULL; e++)
    {
      g_autofree char *shortopt = e->short_name ? g_strdup_printf ("-%c,", e->short_name) : g_strdup ("   ");
      g_autofree char *term =
        g_strdup_printf ("%s --%s%s%s", shortopt, e->long_name, e->arg_description ? " " : "",
                         e->arg_description ? e->arg_description : "");
      dc_help_item (out, term, e->description);
    }
  g_string_append (out, "Arguments:\n");
  for (size_t i = 0; i < G_N_ELEMENTS (dc_cli_arguments); i++)
    dc_help_item (out, dc_cli_arguments[i].name, dc_cli_arguments[i].description);
  return g_string_free (out, FALSE);
}

/**
 * dc_cli_wants_json:
 * @argc: argument count
 * @argv: arguments
 *
 * Whether --json is among the options, for a command line that
 * dc_cli_parse() refused (GLib undoes what it parsed when it fails):
 * the error is then reported as JSON too. The values of the options that
 * take one are skipped, and "--" ends the options.
 *
 * Returns: %TRUE if --json was given
 */
gboolean
dc_cli_wants_json (int argc, char **argv)
{
  for (int i = 1; i < argc; i++)
    {
      const char *arg = argv[i];

      if (g_str_equal (arg, "--"))
        return FALSE;
      if (g_str_equal (arg, "--json"))
        return TRUE;
      if (g_str_equal (arg, "--name") || g_str_equal (arg, "--connect") || g_str_equal (arg, "--jobs")
          || g_str_equal (arg, "--pool"))
        i++;
      else if (g_str_equal (arg, "--count"))
        i++;
      else if (arg[0] == '-' && arg[1] != '-' && arg[1] != '\0'
               && strchr ("ncj", arg[strlen (arg) - 1]) != NULL)
        i++; /* -n VALUE, or -vn VALUE */
    }
  return FALSE;
}

/**
 * dc_cli_parse:
 * @argc: argument count
 * @argv: arguments, not modified
 * @error: return location; DC_ERROR_USAGE or DC_ERROR_INVALID_NAME
 *
 * Returns: (transfer full): the options, or %NULL with @error set
 */
DcCliOptions *
dc_cli_parse (int argc, char **argv, GError **error)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr (DcCliOptions) opts = g_new0 (DcCliOptions, 1);
  g_auto (GStrv) args = g_new0 (char *, argc + 1);
  g_autoptr (GError) local = NULL;
  int n;

  for (int i = 0; i < argc; i++)
    args[i] = g_strdup (argv[i]);
  n = argc;

  opt_help = FALSE;
  opt_version = FALSE;
  opt_cleanup = FALSE;
  opt_print_xml = FALSE;
  opt_exist_ok = FALSE;
  opt_count = -1; /* not given */
  opt_json = FALSE;
  opt_jobs = -1; /* not given */
  opt_quiet = FALSE;
  opt_linked = FALSE;
  opt_make_template = FALSE;
  opt_unmake_template = FALSE;
  opt_verbose = 0;
  g_clear_pointer (&opt_name, g_free);
  g_clear_pointer (&opt_connect, g_free);
  g_clear_pointer (&opt_pool, g_free);

  g_option_context_set_help_enabled (ctx, FALSE);
  g_option_context_add_main_entries (ctx, dc_cli_option_entries, NULL);
  if (!g_option_context_parse_strv (ctx, &args, &local))
    {
      /* GLib converts option values from the locale's character set */
      if (local->domain == G_CONVERT_ERROR)
        {
          g_set_error (
            error, DC_ERROR, DC_ERROR_INVALID_NAME,
            "invalid argument: it is not text in this locale's character set; names use only ASCII letters, digits, hyphens, dots and underscores");
          return NULL;
        }
      g_set_error (error, DC_ERROR, DC_ERROR_USAGE, "%s; see 'domclone --help'", local->message);
      return NULL;
    }
  n = (int) g_strv_length (args);
  /* GLib leaves the "--" that ends the options in place */
  for (int i = 1; i < n; i++)
    if (g_str_equal (args[i], "--"))
      {
        g_free (args[i]);
        memmove (&args[i], &args[i + 1], (n - i) * sizeof (char *));
        n--;
        break;
      }

  opts->help = opt_help;
  opts->version = opt_version;
  opts->verbose = opt_verbose;
  opts->name = g_steal_pointer (&opt_name);
  opts->exist_ok = opt_exist_ok;
  opts->count = MAX (opt_count, 0);
  opts->connect = g_steal_pointer (&opt_connect);
  opts->pool = g_steal_pointer (&opt_pool);
  opts->cleanup = opt_cleanup;
  opts->print_xml = opt_print_xml;
  opts->json = opt_json;
  opts->jobs = MAX (opt_jobs, 0);
  opts->quiet = opt_quiet;
  opts->linked = opt_linked;
  opts->make_template = opt_make_template;
  opts->unmake_template = opt_unmake_template;
  /* like --help, --version takes no source and ignores the rest */
  if (opts->help || opts->version)
    return g_steal_pointer (&opts);

  if (n < 2)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_USAGE,
                   "missing the name of the domain to clone; usage: domclone [options] <source_name>");
      return NULL;
    }
  if (n > 2)
    {
      g_autofree char *shown = g_strescape (args[2], NULL);
      g_set_error (error, DC_ERROR, DC_ERROR_USAGE,
                   "unexpected argument '%s': give exactly one source domain; see 'domclone --help'", shown);
      return NULL;
    }
  opts->source = g_strdup (args[1]);
  if (opts->source[0] == '\0')
    {
      g_set_error (error, DC_ERROR, DC_ERROR_USAGE, "the source domain name is empty");
      return NULL;
    }
  if (opts->cleanup && opts->name != NULL)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_USAGE, "--cleanup clones nothing: it takes no --name");
      return NULL;
    }
  if (opts->pool != NULL && (opts->cleanup || opts->pool[0] == '\0'))
    {
      g_set_error (error, DC_ERROR, DC_ERROR_USAGE, "%s",
                   opts->cleanup ? "--cleanup clones nothing: it takes no --pool"
                                 : "the --pool name is empty");
      return NULL;
    }
  if (opt_count != -1 && (opt_count < 1 || opt_count > DC_CLI_MAX_COUNT))
    {
      g_set_error (error, DC_ERROR, DC_ERROR_USAGE, "invalid --count %d: give a number from 1 to %d",
                   opt_count, DC_CLI_MAX_COUNT);
      return NULL;
    }
  if (opts->count > 0 && opts->name != NULL)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_USAGE,
                   "--count names its clones <source_name>-cloneN: it takes no --name");
      return NULL;
    }
  if (opts->count > 0 && opts->exist_ok)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_USAGE,
                   "--count makes new clones every time: it takes no --exist-ok, which needs --name");
      return NULL;
    }
  if (opts->count > 0 && (opts->print_xml || opts->cleanup))
    {
      g_set_error (error, DC_ERROR, DC_ERROR_USAGE, "--count makes clones: it takes no %s",
                   opts->print_xml ? "--print-xml (which shows one clone's XML)" : "--cleanup");
      return NULL;
    }
  if (opts->exist_ok && opts->name == NULL)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_USAGE,
                   "--exist-ok needs --name: it tells whether the clone of that name was made already");
      return NULL;
    }
  if (opts->cleanup && opts->print_xml)
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_USAGE,
        "--cleanup removes what killed runs left and --print-xml changes nothing: give one of them");
      return NULL;
    }
  if ((opts->make_template || opts->unmake_template)
      && (opts->make_template + opts->unmake_template + opts->cleanup + opts->print_xml + opts->linked > 1
          || opts->name != NULL || opts->pool != NULL || opts->count > 0 || opts->exist_ok))
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_USAGE,
        "--make-template and --unmake-template clone nothing: give one of them alone, without --name, --linked, --pool, --count, --exist-ok, --print-xml or --cleanup");
      return NULL;
    }
  if (opts->linked && opts->cleanup)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_USAGE, "--cleanup clones nothing: it takes no --linked");
      return NULL;
    }
  if (opts->linked && opts->pool != NULL)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_USAGE,
                   "--linked makes each overlay beside its base, in the template's pool: it takes no --pool");
      return NULL;
    }
  if (opt_jobs != -1 && (opt_jobs < 1 || opt_jobs > DC_CLI_MAX_JOBS))
    {
      g_set_error (error, DC_ERROR, DC_ERROR_USAGE, "invalid --jobs %d: give a number from 1 to %d", opt_jobs,
                   DC_CLI_MAX_JOBS);
      return NULL;
    }
  if (opts->name != NULL && !dc_name_validate (opts->name, error))
    return NULL;
  return g_steal_pointer (&opts);
}
