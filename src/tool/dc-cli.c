/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-cli.c: the option table, its parser and the help text made from it.
 *
 * A new option takes: its field in DcCliOptions (dc-cli.h), its entry in
 * dc_cli_option_entries (pointing at that field of parsed), a row in
 * dc_cli_rules for each option it cannot go with, and its use in
 * main.c. Parsing, freeing, "was it given" (a flag, a string or a number
 * of -1 when not), --json after a refused command line and --help all
 * follow from the entry.
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

/* What GLib parses into: the entries below point into it, and
 * dc_cli_parse() hands a copy of it out. */
static DcCliOptions parsed;

static gboolean
dc_cli_count_verbose (const char *option, const char *value, gpointer data, GError **error)
{
  parsed.verbose++;
  return TRUE;
}

/* A number from 1 to @max for option --@name into @field. GLib's own
 * integers cannot tell "not given" from a value given: every value is
 * checked here, so a field left 0 was not given. */
static gboolean
dc_cli_number (const char *name, const char *value, int max, int *field, GError **error)
{
  gint64 n = 0;

  if (!g_ascii_string_to_signed (value, 10, 1, max, &n, NULL))
    {
      g_autofree char *shown = g_strescape (value, NULL);

      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "invalid --%s '%s': give a number from 1 to %d", name, shown, max);
      return FALSE;
    }
  *field = (int) n;
  return TRUE;
}

static gboolean
dc_cli_count (const char *option, const char *value, gpointer data, GError **error)
{
  return dc_cli_number ("count", value, DC_CLI_MAX_COUNT, &parsed.count, error);
}

static gboolean
dc_cli_jobs (const char *option, const char *value, gpointer data, GError **error)
{
  return dc_cli_number ("jobs", value, DC_CLI_MAX_JOBS, &parsed.jobs, error);
}

/* --reset-identity, or --reset-identity=try (dc_cli_optional_values()
 * makes the bare form "--reset-identity=") */
static gboolean
dc_cli_reset_identity (const char *option, const char *value, gpointer data, GError **error)
{
  if (value == NULL || value[0] == '\0')
    parsed.reset_identity = DC_CLI_RESET_STRICT;
  else if (g_str_equal (value, "try"))
    parsed.reset_identity = DC_CLI_RESET_TRY;
  else
    {
      g_autofree char *shown = g_strescape (value, NULL);

      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "invalid --reset-identity value '%s': give --reset-identity or --reset-identity=try",
                   shown);
      return FALSE;
    }
  return TRUE;
}

static const GOptionEntry dc_cli_option_entries[] = {
  { "help", 'h', 0, G_OPTION_ARG_NONE, &parsed.help, "Displays help on commandline options", NULL },
  { "version", 0, 0, G_OPTION_ARG_NONE, &parsed.version, "Print \"domclone VERSION\" and exit.", NULL },
  { "verbose", 'v', G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK, dc_cli_count_verbose,
    "Increase logging verbosity. Repeat the 'v' in the short option for more detail. "
    "Maximum verbosity is obtained with 4 (or more) v's, i.e. -vvvv.",
    NULL },
  { "name", 'n', 0, G_OPTION_ARG_STRING, &parsed.name,
    "An optional custom name for the cloned domain. The name must follow the usual validity "
    "rules. Default: \"<source_name>-cloneN\", where N is the Nth cloned domain.",
    "<destination-name>" },
  { "exist-ok", 0, 0, G_OPTION_ARG_NONE, &parsed.exist_ok,
    "With --name: if that domain exists and is a clone of <source_name> (by UUID), do nothing and exit 0 "
    "(\"NAME already exists, cloned from SOURCE.\"). Any other domain of that name is still an error.",
    NULL },
  { "count", 0, 0, G_OPTION_ARG_CALLBACK, dc_cli_count,
    "Make N clones (1 to 1000) in one call, named as without --name, up to four at once. A failure "
    "removes the clone it hit and stops; the clones numbered before it are kept (the error says which).",
    "<N>" },
  { "connect", 'c', 0, G_OPTION_ARG_STRING, &parsed.connect,
    "libvirt connection URI (default: as virsh: $LIBVIRT_DEFAULT_URI, else libvirt's default)", "<uri>" },
  { "to", 0, 0, G_OPTION_ARG_STRING, &parsed.to,
    "Define the clone on this other libvirt host (URI), reading the source on the --connect one: its "
    "volumes are streamed across, sparse, into the pools of the same names there (or --pool). A running "
    "source with --live. With --cleanup: remove the unfinished clones of <source_name> there.",
    "<uri>" },
  { "pool", 0, 0, G_OPTION_ARG_STRING, &parsed.pool,
    "Put the new volumes of the clone's disks into this active storage pool (one that holds files: dir, "
    "fs or netfs). Default: the pool of each source volume. NVRAM and TPM state stay where libvirt keeps "
    "them.",
    "<pool>" },
  { "jobs", 'j', 0, G_OPTION_ARG_CALLBACK, dc_cli_jobs,
    "Copy up to N volumes at once (with --count, in all: 1 makes the clones one after another). "
    "Default: one per CPU (never more than the clone has volumes).",
    "<N>" },
  { "quiet", 'q', 0, G_OPTION_ARG_NONE, &parsed.quiet,
    "No progress display. (It is only drawn when standard error is a terminal and without -v.)", NULL },
  { "print-xml", 0, 0, G_OPTION_ARG_NONE, &parsed.print_xml,
    "Clone nothing and change nothing: print the XML the clone would be defined with (with -v, the "
    "volumes it would create on stderr).",
    NULL },
  { "json", 0, 0, G_OPTION_ARG_NONE, &parsed.json,
    "Print the result on stdout as one JSON object, on success and on failure (the error line still "
    "goes to stderr).",
    NULL },
  { "linked", 0, 0, G_OPTION_ARG_NONE, &parsed.linked,
    "Make a linked clone of a template (see --make-template): each of its disks is a new qcow2 "
    "overlay on the template's volume, made in constant time and space.",
    NULL },
  { "live", 0, 0, G_OPTION_ARG_NONE, &parsed.live,
    "Clone a running (or paused) domain without stopping it: its disks are copied as they were at one "
    "instant, by a libvirt backup job, while the guest goes on. Crash-consistent unless its guest agent "
    "freezes its file systems for that instant (see --quiesce). A shut-off domain is cloned as without it. "
    "With --to, the job exports the disks over NBD and they are streamed to the other host (a qcow2 volume "
    "through a raw staging volume there, which libvirt converts).",
    NULL },
  { "quiesce", 0, 0, G_OPTION_ARG_NONE, &parsed.quiesce,
    "With --live: the guest agent must freeze the guest's file systems for the instant of the copy; "
    "without an agent that answers, clone nothing.",
    NULL },
  { "make-template", 0, 0, G_OPTION_ARG_NONE, &parsed.make_template,
    "Clone nothing; make <source_name> a template: mark its writable disks read-only, so that "
    "linked clones can be made of it.",
    NULL },
  { "unmake-template", 0, 0, G_OPTION_ARG_NONE, &parsed.unmake_template,
    "Clone nothing; make the template <source_name> a plain domain again (refused while linked "
    "clones of it exist).",
    NULL },
  { "reset-identity", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, dc_cli_reset_identity,
    "Give the clone's own disks a new identity inside (libguestfs, Linux guests): an empty machine-id, "
    "SSH host keys made anew at first boot, no DHCP leases or hardware addresses, the clone's name as "
    "host name. A guest it cannot reset fails the clone; with =try the clone is kept, with a warning.",
    "[=try]" },
  { "memory", 0, 0, G_OPTION_ARG_STRING, &parsed.memory,
    "The clone's memory (and current memory): a whole number with an optional unit K, M, G or T; a "
    "bare number is MiB.",
    "<SIZE>" },
  { "vcpus", 0, 0, G_OPTION_ARG_STRING, &parsed.vcpus,
    "The clone's number of vCPUs (its CPU topology's sockets and a single NUMA cell follow).", "<N>" },
  { "resize", 0, 0, G_OPTION_ARG_STRING_ARRAY, &parsed.resize,
    "Grow the copy of disk TARGET to SIZE, or by +SIZE (never shrinks; the guest's partitions are "
    "untouched). May be repeated.",
    "<TARGET=SIZE>" },
  { "disk", 0, 0, G_OPTION_ARG_STRING_ARRAY, &parsed.disk,
    "What the clone gets of disk TARGET: copy (the default for a writable disk), share the source's "
    "volume, or skip it. May be repeated.",
    "<TARGET=copy|share|skip>" },
  { "format", 0, 0, G_OPTION_ARG_STRING, &parsed.format,
    "Make the copies of the disks in this format (raw or qcow2), with the same content; their <driver "
    "type> follows.",
    "<raw|qcow2>" },
  { "cleanup", 0, 0, G_OPTION_ARG_NONE, &parsed.cleanup,
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

/* The field of @opts that entry @e fills in parsed */
static gpointer
dc_cli_field (const DcCliOptions *opts, const GOptionEntry *e)
{
  return (char *) opts + ((char *) e->arg_data - (char *) &parsed);
}

/* Frees the strings of @opts that the option table fills */
static void
dc_cli_options_clear_strings (DcCliOptions *opts)
{
  for (const GOptionEntry *e = dc_cli_option_entries; e->long_name != NULL; e++)
    if (e->arg == G_OPTION_ARG_STRING)
      g_clear_pointer ((char **) dc_cli_field (opts, e), g_free);
    else if (e->arg == G_OPTION_ARG_STRING_ARRAY)
      g_clear_pointer ((char ***) dc_cli_field (opts, e), g_strfreev);
}

void
dc_cli_options_free (DcCliOptions *opts)
{
  if (opts == NULL)
    return;
  dc_cli_options_clear_strings (opts);
  dc_shape_free (opts->shape);
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
  g_autoptr (GString) out = g_string_new ("Usage: domclone [options] <source_name>\n"
                                          "Create an independent copy of an existing (stopped) domain.\n"
                                          "\n"
                                          "Options:\n");

  for (const GOptionEntry *e = dc_cli_option_entries; e->long_name != NULL; e++)
    {
      g_autofree char *shortopt = e->short_name ? g_strdup_printf ("-%c,", e->short_name) : g_strdup ("   ");
      g_autofree char *term =
        g_strdup_printf ("%s --%s%s%s", shortopt, e->long_name,
                         e->arg_description && !(e->flags & G_OPTION_FLAG_OPTIONAL_ARG) ? " " : "",
                         e->arg_description ? e->arg_description : "");
      dc_help_item (out, term, e->description);
    }
  g_string_append (out, "Arguments:\n");
  for (size_t i = 0; i < G_N_ELEMENTS (dc_cli_arguments); i++)
    dc_help_item (out, dc_cli_arguments[i].name, dc_cli_arguments[i].description);
  return g_string_free (g_steal_pointer (&out), FALSE);
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
/* Whether @arg is an option of the table that takes a value: "--name",
 * or a group of short options ending in one, "-vn" */
static gboolean
dc_cli_takes_value (const char *arg)
{
  for (const GOptionEntry *e = dc_cli_option_entries; e->long_name != NULL; e++)
    {
      if (e->arg == G_OPTION_ARG_NONE
          || (e->flags & (G_OPTION_FLAG_NO_ARG | G_OPTION_FLAG_OPTIONAL_ARG)) != 0)
        continue;
      if (arg[1] == '-' && g_str_equal (arg + 2, e->long_name))
        return TRUE;
      if (arg[1] != '-' && arg[1] != '\0' && e->short_name != 0 && arg[strlen (arg) - 1] == e->short_name)
        return TRUE;
    }
  return FALSE;
}

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
      if (arg[0] == '-' && dc_cli_takes_value (arg))
        i++; /* --name VALUE, -n VALUE, or -vn VALUE */
    }
  return FALSE;
}

/* A rule refuses the command line when option @given is given together
 * with any of @with (or on its own when @with is NULL) and with none
 * of @without. Options are long names, separated by spaces; an option is
 * given when its field is set (a flag TRUE, a string not NULL, a number
 * not -1). @given may also be a fault of a value (dc_cli_faults). */
typedef struct
{
  const char *given;
  const char *with;
  const char *without;
  const char *message;
} DcCliRule;

#define DC_CLI_TEMPLATE_ALONE                                                                                \
  "--make-template and --unmake-template clone nothing: give one of them alone, without --name, --linked, "  \
  "--live, --pool, --count, --exist-ok, --print-xml, --cleanup or --to"
#define DC_CLI_NOT_WITH_TEMPLATE "cleanup print-xml linked live quiesce name pool count exist-ok to"

/* the options that shape a clone (dc-shape.c reads their values) */
#define DC_CLI_SHAPE "memory vcpus resize disk format"
#define DC_CLI_TEMPLATE_SHAPE                                                                                \
  "--make-template and --unmake-template clone nothing: they take no --memory, --vcpus, --resize, --disk "   \
  "or --format"

/* In the order they are checked: the first that applies is the error */
static const DcCliRule dc_cli_rules[] = {
  { "cleanup", "name", NULL, "--cleanup clones nothing: it takes no --name" },
  { "cleanup", "pool", NULL, "--cleanup clones nothing: it takes no --pool" },
  { "empty-pool", NULL, NULL, "the --pool name is empty" },
  { "count", "name", NULL, "--count names its clones <source_name>-cloneN: it takes no --name" },
  { "count", "exist-ok", NULL,
    "--count makes new clones every time: it takes no --exist-ok, which needs --name" },
  { "count", "print-xml", NULL,
    "--count makes clones: it takes no --print-xml (which shows one clone's XML)" },
  { "count", "cleanup", NULL, "--count makes clones: it takes no --cleanup" },
  { "exist-ok", NULL, "name",
    "--exist-ok needs --name: it tells whether the clone of that name was made already" },
  { "cleanup", "print-xml", NULL,
    "--cleanup removes what killed runs left and --print-xml changes nothing: give one of them" },
  { "live", "cleanup", NULL, "--cleanup clones nothing: it takes no --live" },
  { "quiesce", NULL, "live make-template unmake-template",
    "--quiesce freezes a running guest's file systems for --live: it needs --live" },
  { "live", "linked", NULL, "--linked clones a shut-off template: it takes no --live" },
  { "make-template", "unmake-template " DC_CLI_NOT_WITH_TEMPLATE, NULL, DC_CLI_TEMPLATE_ALONE },
  { "unmake-template", "make-template " DC_CLI_NOT_WITH_TEMPLATE, NULL, DC_CLI_TEMPLATE_ALONE },
  { "linked", "cleanup", NULL, "--cleanup clones nothing: it takes no --linked" },
  { "linked", "pool", NULL,
    "--linked makes each overlay beside its base, in the template's pool: it takes no --pool" },
  { "reset-identity", "cleanup make-template unmake-template", NULL,
    "--reset-identity changes a new clone's disks: it takes no --cleanup, --make-template or --unmake-template" },
  { "linked", "format", NULL,
    "--linked makes each disk a qcow2 overlay on the template's volume: it takes no --format" },
  { "cleanup", DC_CLI_SHAPE, NULL,
    "--cleanup clones nothing: it takes no --memory, --vcpus, --resize, --disk or --format" },
  { "make-template", DC_CLI_SHAPE, NULL, DC_CLI_TEMPLATE_SHAPE },
  { "unmake-template", DC_CLI_SHAPE, NULL, DC_CLI_TEMPLATE_SHAPE },
  { "empty-to", NULL, NULL, "the --to URI is empty" },
  { "to", "linked", NULL,
    "--linked makes overlays on the template's volumes, which stay on its host: it takes no --to" },
  { "to", "exist-ok", NULL,
    "--exist-ok is not supported with --to: an earlier clone on the other host is not looked for" },
};

static gboolean
dc_cli_empty_pool (const DcCliOptions *opts)
{
  return opts->pool != NULL && opts->pool[0] == '\0';
}

static gboolean
dc_cli_empty_to (const DcCliOptions *opts)
{
  return opts->to != NULL && opts->to[0] == '\0';
}

static gboolean
dc_cli_count_given (const DcCliOptions *opts)
{
  return opts->count != 0;
}

static gboolean
dc_cli_jobs_given (const DcCliOptions *opts)
{
  return opts->jobs != 0;
}

static gboolean
dc_cli_reset_given (const DcCliOptions *opts)
{
  return opts->reset_identity != DC_CLI_RESET_NONE;
}

/* The faults of a value that rules name */
static const struct
{
  const char *name;
  gboolean (*is) (const DcCliOptions *opts);
} dc_cli_faults[] = {
  { "empty-pool", dc_cli_empty_pool },
  { "empty-to", dc_cli_empty_to },
  /* not faults: options parsed by a callback, given when it set their field */
  { "count", dc_cli_count_given },
  { "jobs", dc_cli_jobs_given },
  { "reset-identity", dc_cli_reset_given },
};

/* Whether option @name (a long name, or a fault) is given in @opts */
static gboolean
dc_cli_given (const DcCliOptions *opts, const char *name)
{
  for (size_t i = 0; i < G_N_ELEMENTS (dc_cli_faults); i++)
    if (g_str_equal (name, dc_cli_faults[i].name))
      return dc_cli_faults[i].is (opts);
  for (const GOptionEntry *e = dc_cli_option_entries; e->long_name != NULL; e++)
    {
      if (!g_str_equal (name, e->long_name))
        continue;
      if (e->arg == G_OPTION_ARG_NONE)
        return *(const gboolean *) dc_cli_field (opts, e);
      if (e->arg == G_OPTION_ARG_STRING)
        return *(char *const *) dc_cli_field (opts, e) != NULL;
      if (e->arg == G_OPTION_ARG_STRING_ARRAY)
        return *(char **const *) dc_cli_field (opts, e) != NULL;
    }
  g_return_val_if_reached (FALSE); /* a rule names no option of the table */
}

/* Whether any option of the space-separated @names is given in @opts */
static gboolean
dc_cli_any_given (const DcCliOptions *opts, const char *names)
{
  g_auto (GStrv) list = g_strsplit (names, " ", -1);

  for (guint i = 0; list[i] != NULL; i++)
    if (dc_cli_given (opts, list[i]))
      return TRUE;
  return FALSE;
}

/* The options of @opts together: the first rule that refuses them is
 * the error */
static gboolean
dc_cli_check_rules (const DcCliOptions *opts, GError **error)
{
  for (size_t i = 0; i < G_N_ELEMENTS (dc_cli_rules); i++)
    {
      const DcCliRule *r = &dc_cli_rules[i];

      if (!dc_cli_given (opts, r->given) || (r->with != NULL && !dc_cli_any_given (opts, r->with))
          || (r->without != NULL && dc_cli_any_given (opts, r->without)))
        continue;
      g_set_error_literal (error, DC_ERROR, DC_ERROR_USAGE, r->message);
      return FALSE;
    }
  return TRUE;
}

/* GLib gives an option with an optional value the next word when it
 * has none of its own ("--reset-identity vm1" would be "=vm1"): the bare
 * option becomes "--OPTION=", whose empty value means none. Words that
 * are values of other options, and those after "--", stay. */
static void
dc_cli_optional_values (char **args)
{
  for (guint i = 1; args[i] != NULL; i++)
    {
      const char *arg = args[i];

      if (g_str_equal (arg, "--"))
        return;
      if (arg[0] == '-' && dc_cli_takes_value (arg))
        {
          if (args[i + 1] == NULL)
            return;
          i++;
          continue;
        }
      for (const GOptionEntry *e = dc_cli_option_entries; e->long_name != NULL; e++)
        if ((e->flags & G_OPTION_FLAG_OPTIONAL_ARG) != 0 && g_str_has_prefix (arg, "--")
            && g_str_equal (arg + 2, e->long_name))
          {
            g_free (args[i]);
            args[i] = g_strdup_printf ("--%s=", e->long_name);
            break;
          }
    }
}

/* GLib's parse of @argv into a copy of parsed; @args gets what is left
 * (the program and the arguments) */
static DcCliOptions *
dc_cli_parse_options (int argc, char **argv, GStrv *args, GError **error)
{
  g_autoptr (GOptionContext) ctx = g_option_context_new (NULL);
  g_autoptr (GError) local = NULL;
  g_autoptr (DcCliOptions) opts = g_new0 (DcCliOptions, 1);

  *args = g_new0 (char *, argc + 1);
  for (int i = 0; i < argc; i++)
    (*args)[i] = g_strdup (argv[i]);
  dc_cli_optional_values (*args);
  dc_cli_options_clear_strings (&parsed);
  parsed = (DcCliOptions){ 0 };
  g_option_context_set_help_enabled (ctx, FALSE);
  g_option_context_add_main_entries (ctx, dc_cli_option_entries, NULL);
  if (!g_option_context_parse_strv (ctx, args, &local))
    {
      /* GLib converts option values from the locale's character set */
      if (local->domain == G_CONVERT_ERROR)
        g_set_error (
          error, DC_ERROR, DC_ERROR_INVALID_NAME,
          "invalid argument: it is not text in this locale's character set; names use only ASCII letters, digits, hyphens, dots and underscores");
      else
        g_set_error (error, DC_ERROR, DC_ERROR_USAGE, "%s; see 'domclone --help'", local->message);
      return NULL;
    }
  *opts = parsed;
  parsed = (DcCliOptions){ 0 }; /* its strings are opts' now */
  return g_steal_pointer (&opts);
}

/* The one argument left in @args, the source, into @opts */
static gboolean
dc_cli_take_source (DcCliOptions *opts, char **args, GError **error)
{
  int n = (int) g_strv_length (args);

  /* GLib leaves the "--" that ends the options in place */
  for (int i = 1; i < n; i++)
    if (g_str_equal (args[i], "--"))
      {
        g_free (args[i]);
        memmove (&args[i], &args[i + 1], (n - i) * sizeof (char *));
        n--;
        break;
      }
  if (n < 2)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_USAGE,
                   "missing the name of the domain to clone; usage: domclone [options] <source_name>");
      return FALSE;
    }
  if (n > 2)
    {
      g_autofree char *shown = g_strescape (args[2], NULL);
      g_set_error (error, DC_ERROR, DC_ERROR_USAGE,
                   "unexpected argument '%s': give exactly one source domain; see 'domclone --help'", shown);
      return FALSE;
    }
  opts->source = g_strdup (args[1]);
  if (opts->source[0] == '\0')
    {
      g_set_error (error, DC_ERROR, DC_ERROR_USAGE, "the source domain name is empty");
      return FALSE;
    }
  return TRUE;
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
  g_autoptr (DcCliOptions) opts = NULL;
  g_auto (GStrv) args = NULL;
  g_autoptr (GError) local = NULL;

  opts = dc_cli_parse_options (argc, argv, &args, error);
  if (opts == NULL)
    return NULL;
  /* like --help, --version takes no source and ignores the rest */
  if (!opts->help && !opts->version)
    {
      if (!dc_cli_take_source (opts, args, error))
        return NULL;
      if (!dc_cli_check_rules (opts, error))
        return NULL;
      if (opts->name != NULL && !dc_name_validate (opts->name, error))
        return NULL;
      opts->shape = dc_shape_new (opts->memory, opts->vcpus, (const char *const *) opts->resize,
                                  (const char *const *) opts->disk, opts->format, &local);
      if (local != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
    }
  return g_steal_pointer (&opts);
}
