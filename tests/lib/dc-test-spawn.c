/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One way to run a child in the tests: G_DEBUG removed from its
 * environment (a warning in the program under test is output for the
 * test to check, not a crash), stdout and stderr captured, and an
 * assertion that it exited rather than died of a signal.
 */
#include "config.h"

#include "dc-test-spawn.h"

#include <string.h>

#include <sys/wait.h>

static char **
child_environ (void)
{
  return g_environ_unsetenv (g_get_environ (), "G_DEBUG");
}

/* $DOMCLONE followed by @args: the array owns no strings. */
static GPtrArray *
domclone_argv (const char *const *args)
{
  const char *binary = g_getenv ("DOMCLONE");
  GPtrArray *argv = g_ptr_array_new ();

  if (binary == NULL)
    g_error ("DOMCLONE is not set (run the tests through make check)");
  g_ptr_array_add (argv, (gpointer) binary);
  for (size_t i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  return argv;
}

/**
 * dc_test_run:
 * @argv: the program (looked up in $PATH) and its arguments, NULL-terminated
 * @out: (out) (optional): its standard output
 * @err: (out) (optional): its standard error
 *
 * Runs @argv to its end; fails the test if it cannot be started or is
 * killed by a signal.
 *
 * Returns: its exit status
 */
int
dc_test_run (const char *const *argv, char **out, char **err)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) env = child_environ ();
  int status;

  g_spawn_sync (NULL, (char **) argv, env, G_SPAWN_SEARCH_PATH, NULL, NULL, out, err, &status, &error);
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (status));
  return WEXITSTATUS (status);
}

/**
 * dc_test_run_ok:
 * @argv: the program and its arguments, NULL-terminated
 *
 * Runs @argv, a tool the test needs (qemu-img, mount...); aborts the test
 * with its standard error unless it exits 0.
 */
void
dc_test_run_ok (const char *const *argv)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = dc_test_run (argv, &out, &err);

  if (status != 0)
    g_error ("%s failed (%d): %s", argv[0], status, err);
}

/**
 * dc_test_domclone_argv:
 * @args: domclone's arguments (not the program name), NULL-terminated
 * @out: (out) (optional): its standard output
 * @err: (out) (optional): its standard error
 *
 * Returns: the exit status of $DOMCLONE run with @args
 */
int
dc_test_domclone_argv (const char *const *args, char **out, char **err)
{
  g_autoptr (GPtrArray) argv = domclone_argv (args);

  return dc_test_run ((const char *const *) argv->pdata, out, err);
}

/**
 * dc_test_domclone:
 * @out: (out) (optional): its standard output
 * @err: (out) (optional): its standard error
 * @...: domclone's arguments, then %NULL
 *
 * Returns: the exit status of $DOMCLONE run with the arguments
 */
int
dc_test_domclone (char **out, char **err, ...)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  const char *arg;
  va_list ap;

  va_start (ap, err);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (args, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  return dc_test_domclone_argv ((const char *const *) args->pdata, out, err);
}

/**
 * dc_test_spawn_domclone:
 * @args: domclone's arguments, NULL-terminated
 *
 * Starts $DOMCLONE with @args in the background, its stdout and stderr
 * piped; dc_test_communicate() collects them.
 *
 * Returns: (transfer full): the running process
 */
GSubprocess *
dc_test_spawn_domclone (const char *const *args)
{
  return dc_test_spawn_domclone_env (args, NULL);
}

/**
 * dc_test_spawn_domclone_env:
 * @args: arguments after the program name, %NULL-terminated
 * @extra: (nullable): "NAME=VALUE" entries added to the child's
 *   environment, %NULL-terminated; the test's own is left alone (setenv
 *   is not thread-safe once GLib runs threads)
 *
 * Returns: (transfer full): the running domclone, its output piped
 */
GSubprocess *
dc_test_spawn_domclone_env (const char *const *args, const char *const *extra)
{
  g_autoptr (GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_auto (GStrv) env = child_environ ();
  g_autoptr (GPtrArray) argv = domclone_argv (args);
  g_autoptr (GError) error = NULL;
  GSubprocess *proc;

  for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
    {
      g_autofree char *name = g_strndup (extra[i], strcspn (extra[i], "="));
      env = g_environ_setenv (env, name, extra[i] + strlen (name) + 1, TRUE);
    }
  g_subprocess_launcher_set_environ (launcher, env);
  proc = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  return proc;
}

/**
 * dc_test_communicate:
 * @proc: a process from dc_test_spawn_domclone()
 * @err: (out): its standard error
 * @status: (out): its exit status, or -1 if a signal killed it
 *
 * Waits for @proc to end, reading its output.
 *
 * Returns: (transfer full): its standard output
 */
char *
dc_test_communicate (GSubprocess *proc, char **err, int *status)
{
  g_autoptr (GError) error = NULL;
  char *out = NULL;

  g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, err, &error);
  g_assert_no_error (error);
  *status = g_subprocess_get_if_exited (proc) ? g_subprocess_get_exit_status (proc) : -1;
  return out;
}
