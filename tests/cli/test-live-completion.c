/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live tests, bash completion (contrib/bash-completion/domclone): a
 * non-interactive bash sources it, is given a command line as bash would
 * split it (COMP_WORDS, COMP_CWORD, COMP_LINE, COMP_POINT), calls the
 * completion function and prints COMPREPLY. Every option of the option
 * table must complete, an option that takes a value must not be followed
 * by domain names, and the source offered must be the shut-off domains
 * of the connection named on the line, from the private libvirtd (see
 * live-fixture.c).
 */
#include "config.h"

#include "live-fixture.h"
#include "dc-test-util.h"

#include "dc-cli.h"

#include <string.h>

/* Splits the line as bash does with the default COMP_WORDBREAKS for the
 * characters that matter here (':' in URIs, '=' after long options),
 * sets the variables, completes, and prints the number of replies, then
 * the replies, one a line. */
static const char driver[] =
  "source \"$1\" || exit 3\n"
  "[[ $(complete -p domclone) == *'-F _domclone'* ]] || exit 4\n"
  "COMP_LINE=$2\n"
  "COMP_POINT=${#COMP_LINE}\n"
  "COMP_WORDS=()\n"
  "rest=$COMP_LINE\n"
  "while [[ $rest =~ ^[[:blank:]]*([^[:blank:]:=]+|[:=]+) ]]; do\n"
  "  COMP_WORDS+=(\"${BASH_REMATCH[1]}\")\n"
  "  rest=${rest:${#BASH_REMATCH[0]}}\n"
  "done\n"
  "[[ $COMP_LINE == *[[:blank:]] ]] && COMP_WORDS+=('')\n"
  "COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
  "COMPREPLY=()\n"
  "_domclone domclone \"${COMP_WORDS[COMP_CWORD]}\" \"${COMP_WORDS[COMP_CWORD - 1]}\"\n"
  "printf '%s\\n' \"${#COMPREPLY[@]}\" \"${COMPREPLY[@]}\"\n";

/* The replies to completing @line (which starts with the arguments after
 * $DOMCLONE), with LIBVIRT_DEFAULT_URI set to @default_uri (unset if
 * %NULL). Fails the test if bash writes anything on stderr. */
static GStrv
complete_with (const char *default_uri, const char *line)
{
  g_autofree char *script =
    g_test_build_filename (G_TEST_DIST, "..", "contrib", "bash-completion", "domclone", NULL);
  g_autofree char *full = g_strdup_printf ("%s %s", g_getenv ("DOMCLONE"), line);
  const char *argv[] = { "bash", "--norc", "--noprofile", "-c", driver, "bash", script, full, NULL };
  g_auto (GStrv) env = g_environ_unsetenv (g_get_environ (), "G_DEBUG");
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_auto (GStrv) lines = NULL;
  GPtrArray *replies = g_ptr_array_new ();
  int status;
  guint64 n;

  env = default_uri ? g_environ_setenv (env, "LIBVIRT_DEFAULT_URI", default_uri, TRUE)
                    : g_environ_unsetenv (env, "LIBVIRT_DEFAULT_URI");
  /* virsh prefers it; the completion must not */
  env = g_environ_setenv (env, "VIRSH_DEFAULT_CONNECT_URI", "test:///default", TRUE);
  g_spawn_sync (NULL, (char **) argv, env, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, &error);
  g_assert_no_error (error);
  g_test_message ("complete '%s': %s", line, out);
  if (!g_spawn_check_exit_status (status, NULL))
    g_error ("bash failed on '%s' (%d): %s", line, status, err);
  g_assert_cmpstr (err, ==, "");

  lines = g_strsplit (out, "\n", -1);
  g_assert_nonnull (lines[0]);
  n = g_ascii_strtoull (lines[0], NULL, 10);
  g_assert_cmpuint (g_strv_length (lines), ==, n + 2); /* the count, the replies, "" after the last \n */
  for (guint64 i = 1; i <= n; i++)
    g_ptr_array_add (replies, g_strdup (lines[i]));
  g_ptr_array_add (replies, NULL);
  return (GStrv) g_ptr_array_free (replies, FALSE);
}

static GStrv
complete (const char *line)
{
  return complete_with (g_getenv ("DOMCLONE_TEST_URI"), line);
}

/* An option with an optional value (--reset-identity[=try]) takes it in
 * its own word only: the source may follow */
static gboolean
takes_value (const GOptionEntry *e)
{
  return e->arg != G_OPTION_ARG_NONE && !(e->flags & (G_OPTION_FLAG_NO_ARG | G_OPTION_FLAG_OPTIONAL_ARG));
}

static gboolean
option_exists (const char *word)
{
  for (const GOptionEntry *e = dc_cli_entries (); e->long_name != NULL; e++)
    {
      g_autofree char *lng = g_strdup_printf ("--%s", e->long_name);
      g_autofree char *shrt = e->short_name ? g_strdup_printf ("-%c", e->short_name) : NULL;

      if (g_str_equal (word, lng) || g_strcmp0 (word, shrt) == 0)
        return TRUE;
    }
  return FALSE;
}

/* Every option in the table completes, long after "--" and both forms
 * after "-", and nothing else does. */
static void
test_live_completion_options (LiveFixture *f, gconstpointer data)
{
  g_auto (GStrv) dashdash = NULL;
  g_auto (GStrv) dash = NULL;
  g_auto (GStrv) na = NULL;
  const char *const name[] = { "--name", NULL };

  SKIP_WITHOUT_DAEMON ();
  dashdash = complete ("--");
  dash = complete ("-");
  for (const GOptionEntry *e = dc_cli_entries (); e->long_name != NULL; e++)
    {
      g_autofree char *lng = g_strdup_printf ("--%s", e->long_name);

      g_test_message ("option %s", lng);
      g_assert_true (g_strv_contains ((const char *const *) dashdash, lng));
      g_assert_true (g_strv_contains ((const char *const *) dash, lng));
      if (e->short_name)
        {
          g_autofree char *shrt = g_strdup_printf ("-%c", e->short_name);
          g_assert_true (g_strv_contains ((const char *const *) dash, shrt));
        }
    }
  for (guint i = 0; dash[i] != NULL; i++)
    g_assert_true (option_exists (dash[i]));
  for (guint i = 0; dashdash[i] != NULL; i++)
    g_assert_true (g_str_has_prefix (dashdash[i], "--") && option_exists (dashdash[i]));
  na = complete ("--na");
  g_assert_cmpstrv (na, name);
}

/* After an option that takes a value comes its value, never the source:
 * so the completion knows every option's kind. After a flag, the
 * source is offered. */
static void
test_live_completion_option_values (LiveFixture *f, gconstpointer data)
{
  SKIP_WITHOUT_DAEMON ();
  for (const GOptionEntry *e = dc_cli_entries (); e->long_name != NULL; e++)
    {
      g_autofree char *lng = g_strdup_printf ("--%s ", e->long_name);
      g_autofree char *shrt = e->short_name ? g_strdup_printf ("-%c ", e->short_name) : NULL;
      const char *forms[] = { lng, shrt };

      for (guint i = 0; i < G_N_ELEMENTS (forms) && forms[i] != NULL; i++)
        {
          g_auto (GStrv) replies = complete (forms[i]);
          gboolean offers_source = g_strv_contains ((const char *const *) replies, f->src);

          g_test_message ("after %s: %u replies", forms[i], g_strv_length (replies));
          g_assert_cmpint (offers_source, ==, !takes_value (e));
        }
    }
}

static void
test_live_completion_values (LiveFixture *f, gconstpointer data)
{
  const char *const uris[] = { "///session", "///system", NULL };
  const char *const none[] = { NULL };
  const char *const test_uri[] = { "test:///default", NULL }; /* no ":" typed yet: all of it */
  const char *const *expect[] = { uris, uris, uris, test_uri, none, none, uris, uris };
  const char *lines[] = { "-c qemu:///s", "--connect=qemu:///s", "-c qemu:",      "-c te", "-n ",
                          "--name=",      "--to qemu:///s",      "--to=qemu:///s" };
  /* $LIBVIRT_DEFAULT_URI is offered too, once */
  const char *defaults[] = { NULL, NULL, "qemu:///system", "test:///default", NULL, NULL, NULL, NULL };
  g_auto (GStrv) jobs = NULL;
  g_auto (GStrv) jobs_vj = NULL;

  SKIP_WITHOUT_DAEMON ();
  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    {
      g_auto (GStrv) replies = complete_with (defaults[i], lines[i]);

      qsort (replies, g_strv_length (replies), sizeof (char *), dc_test_compare_strings);
      g_assert_cmpstrv (replies, expect[i]);
    }

  /* numbers from 1, as many as CPUs; also after a cluster "-vj" */
  jobs = complete ("-j ");
  jobs_vj = complete ("-q -vj ");
  g_assert_cmpstr (jobs[0], ==, "1");
  g_assert_cmpuint (g_strv_length (jobs), ==, g_get_num_processors ());
  g_assert_cmpstrv (jobs_vj, jobs);
}

static void
define_extra_domains (const LiveFixture *f, char **stopped, char **running)
{
  g_autoptr (DcDomain) off = NULL;
  g_autoptr (DcDomain) on = NULL;

  *stopped = g_strdup_printf ("%s-stopped", f->src);
  *running = g_strdup_printf ("%s-running", f->src);
  off = live_define_bare_domain (*stopped);
  on = live_define_bare_domain (*running);
  if (virDomainCreate (on) < 0)
    g_error ("cannot start '%s': %s", *running, virGetLastErrorMessage ());
}

/* The source: the shut-off domains of the connection on the line (a
 * running one is not offered but after --live), else of
 * $LIBVIRT_DEFAULT_URI. */
static void
test_live_completion_domains (LiveFixture *f, gconstpointer data)
{
  const char *uri = g_getenv ("DOMCLONE_TEST_URI");
  const char *bogus = "qemu+unix:///system?socket=/nonexistent/libvirt-sock";
  g_autofree char *stopped = NULL;
  g_autofree char *running = NULL;
  g_autofree char *with_c = g_strdup_printf ("-c %s ", uri);
  g_autofree char *with_connect = g_strdup_printf ("--json --connect=%s -q ", uri);
  g_autofree char *prefix = NULL;
  g_autofree char *after_source = NULL;
  const char *lines[] = { with_c, with_connect, "", "-- " };
  const char *defaults[] = { bogus, bogus, uri, uri };

  SKIP_WITHOUT_DAEMON ();
  define_extra_domains (f, &stopped, &running);

  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    {
      g_auto (GStrv) replies = complete_with (defaults[i], lines[i]);

      g_assert_true (g_strv_contains ((const char *const *) replies, f->src));
      g_assert_true (g_strv_contains ((const char *const *) replies, stopped));
      g_assert_false (g_strv_contains ((const char *const *) replies, running));
    }

  /* --live clones running domains too */
  {
    g_autofree char *live = g_strdup_printf ("%s--live ", with_c);
    g_auto (GStrv) replies = complete_with (bogus, live);

    g_assert_true (g_strv_contains ((const char *const *) replies, running));
    g_assert_true (g_strv_contains ((const char *const *) replies, stopped));
  }

  /* a prefix narrows it down */
  prefix = g_strdup_printf ("%s%s-s", with_c, f->src);
  {
    g_auto (GStrv) replies = complete_with (bogus, prefix);
    const char *const only[] = { stopped, NULL };
    g_assert_cmpstrv (replies, only);
  }

  /* one source only: nothing after it but options */
  after_source = g_strdup_printf ("%s%s ", with_c, f->src);
  {
    g_auto (GStrv) replies = complete_with (bogus, after_source);
    g_assert_cmpuint (g_strv_length (replies), ==, 0);
  }

  /* over TCP, a URI with a port: bash splits it at each ':' */
  if (g_getenv ("DOMCLONE_TEST_TCP_URI") != NULL)
    {
      g_autofree char *tcp = g_strdup_printf ("-c %s ", g_getenv ("DOMCLONE_TEST_TCP_URI"));
      g_auto (GStrv) replies = complete_with (bogus, tcp);

      g_assert_true (g_strv_contains ((const char *const *) replies, f->src));
      g_assert_false (g_strv_contains ((const char *const *) replies, running));
    }
}

/* A daemon that cannot be reached completes nothing, and says nothing
 * (complete_with() fails on any output on stderr). */
static void
test_live_completion_unreachable (LiveFixture *f, gconstpointer data)
{
  const char *bogus = "qemu+unix:///system?socket=/nonexistent/libvirt-sock";
  g_autofree char *line = g_strdup_printf ("-c %s ", bogus);
  g_auto (GStrv) with_c = NULL;
  g_auto (GStrv) by_default = NULL;

  SKIP_WITHOUT_DAEMON ();
  with_c = complete (line);
  by_default = complete_with (bogus, "");
  g_assert_cmpuint (g_strv_length (with_c), ==, 0);
  g_assert_cmpuint (g_strv_length (by_default), ==, 0);
}

/* --pool: the active pools of the connection */
static void
test_live_completion_pool (LiveFixture *f, gconstpointer data)
{
  g_auto (GStrv) replies = NULL;

  SKIP_WITHOUT_DAEMON ();
  g_assert_true (option_exists ("--pool"));
  replies = complete ("--pool ");
  g_assert_true (g_strv_contains ((const char *const *) replies, f->pool));

  /* with --to, the destination's pools: the new volumes go there */
  {
    g_auto (GStrv) there = complete ("--to test:///default --pool ");
    g_auto (GStrv) there_eq = complete ("--to=test:///default --pool ");

    g_assert_true (g_strv_contains ((const char *const *) there, "default-pool"));
    g_assert_false (g_strv_contains ((const char *const *) there, f->pool));
    g_assert_cmpstrv (there_eq, there);
  }
}

/* --format: its two formats; --disk: the actions once TARGET= is typed
 * (readline replaces what follows the '=') */
static void
test_live_completion_shape (LiveFixture *f, gconstpointer data)
{
  g_auto (GStrv) formats = NULL;
  g_auto (GStrv) actions = NULL;
  g_auto (GStrv) target = NULL;

  SKIP_WITHOUT_DAEMON ();
  formats = complete ("--format ");
  g_assert_cmpuint (g_strv_length (formats), ==, 2);
  g_assert_true (g_strv_contains ((const char *const *) formats, "raw"));
  g_assert_true (g_strv_contains ((const char *const *) formats, "qcow2"));
  actions = complete ("--disk vda=s");
  g_assert_cmpuint (g_strv_length (actions), ==, 2);
  g_assert_true (g_strv_contains ((const char *const *) actions, "share"));
  g_assert_true (g_strv_contains ((const char *const *) actions, "skip"));
  /* a target is the user's to type: no source domains offered */
  target = complete ("--disk ");
  g_assert_cmpuint (g_strv_length (target), ==, 0);
}

int
main (int argc, char **argv)
{
  live_init (&argc, &argv);
  LIVE_TEST ("/live/completion/options", test_live_completion_options);
  LIVE_TEST ("/live/completion/option-values", test_live_completion_option_values);
  LIVE_TEST ("/live/completion/values", test_live_completion_values);
  LIVE_TEST ("/live/completion/domains", test_live_completion_domains);
  LIVE_TEST ("/live/completion/unreachable", test_live_completion_unreachable);
  LIVE_TEST ("/live/completion/pool", test_live_completion_pool);
  LIVE_TEST ("/live/completion/shape", test_live_completion_shape);
  return live_run ();
}
