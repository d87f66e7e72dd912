/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What domclone puts on stdout, without a daemon: a failed write to
 * stdout is a failure, libvirt's questions for credentials are asked on
 * the terminal (never on stdout), and the same failure has one JSON
 * code whichever copy path hit it.
 */
#include "config.h"

#include "dc-test-assert.h"
#include "dc-output.h"
#include "dc-test-spawn.h"
#include "dc-util.h"

#include <fcntl.h>
#include <gio/gio.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Runs $DOMCLONE with @args, its stdout on /dev/full; returns its exit
 * status, its stderr in @err. */
static int
run_into_full (const char *const *args, char **err)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;

  g_ptr_array_add (argv, (gpointer) g_getenv ("DOMCLONE"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_subprocess_launcher_unsetenv (launcher, "G_DEBUG");
  g_subprocess_launcher_set_stdout_file_path (launcher, "/dev/full");
  proc = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, NULL, err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (proc));
  return g_subprocess_get_exit_status (proc);
}

static void
test_truth_stdout_full (void)
{
  static const struct
  {
    const char *args[5];
    int status;
  } cases[] = {
    { { "--help", NULL }, 1 },
    { { "--version", NULL }, 1 },
    /* a failure keeps its own status, and says both */
    { { "--json", "-c", "test:///default", "no-such-domain", NULL }, 1 },
    { { "--json", "--frobnicate", NULL }, 2 },
  };

  if (g_getenv ("DOMCLONE") == NULL)
    {
      g_test_skip ("DOMCLONE is not set (run through make check)");
      return;
    }
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *err = NULL;
      int status = run_into_full (cases[i].args, &err);

      g_test_message ("%s: exit %d: %s", cases[i].args[0], status, err);
      g_assert_cmpint (status, ==, cases[i].status);
      g_assert_true (
        g_str_has_suffix (err, "domclone: cannot write to standard output: No space left on device\n"));
    }
}

/* In a child with a new session whose controlling terminal is a pty
 * this test plays the user on: the callback asks there, reads the
 * answers there, and writes nothing on stdout. */
static void
test_truth_auth_tty (void)
{
  if (g_test_subprocess ())
    {
      virConnectAuthPtr auth = dc_connect_auth ();
      int master = posix_openpt (O_RDWR | O_NOCTTY);
      int slave;
      char buf[256];
      gsize len = 0;
      ssize_t n;
      virConnectCredential cred[2] = {
        { .type = VIR_CRED_AUTHNAME, .prompt = "Username", .defresult = "root" },
        { .type = VIR_CRED_PASSPHRASE, .prompt = "Password" },
      };

      g_assert_cmpint (master, >=, 0);
      g_assert_cmpint (grantpt (master), ==, 0);
      g_assert_cmpint (unlockpt (master), ==, 0);
      g_assert_cmpint (setsid (), >, 0);
      slave = open (ptsname (master), O_RDWR); /* becomes the terminal */
      g_assert_cmpint (slave, >=, 0);
      g_assert_cmpint (ioctl (slave, TIOCSCTTY, 0), ==, 0);
      g_assert_cmpint (write (master, "alice\nsecret\n", 13), ==, 13);
      g_assert_cmpint (auth->cb (cred, 2, auth->cbdata), ==, 0);
      g_assert_cmpstr (cred[0].result, ==, "alice");
      g_assert_cmpuint (cred[0].resultlen, ==, 5);
      g_assert_cmpstr (cred[1].result, ==, "secret");
      free (cred[0].result);
      free (cred[1].result);
      /* the prompts went to the terminal, after the echo of the
       * answers: a pty hands its output over in pieces, so read until
       * the prompt is there or nothing more comes */
      buf[0] = '\0';
      while (len < sizeof (buf) - 1 && strstr (buf, "Username [root]: ") == NULL)
        {
          struct pollfd ready = { .fd = master, .events = POLLIN };

          if (poll (&ready, 1, 5000) <= 0)
            break;
          n = read (master, buf + len, sizeof (buf) - 1 - len);
          if (n <= 0)
            break;
          len += (gsize) n;
          buf[len] = '\0';
        }
      g_assert_cmpuint (len, >, 0);
      dc_assert_contains (buf, "Username [root]: ");
      fflush (stdout);
      exit (0);
    }
  g_test_trap_subprocess (NULL, 20 * G_USEC_PER_SEC, 0);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("");
}

/* Without a terminal nothing is asked, and nothing read from stdin:
 * the authentication fails. */
static void
test_truth_auth_no_tty (void)
{
  if (g_test_subprocess ())
    {
      virConnectAuthPtr auth = dc_connect_auth ();
      virConnectCredential cred = { .type = VIR_CRED_PASSPHRASE, .prompt = "Password" };

      g_assert_cmpint (setsid (), >, 0); /* no controlling terminal */
      g_assert_cmpint (auth->cb (&cred, 1, auth->cbdata), ==, -1);
      g_assert_null (cred.result);
      fflush (stdout);
      exit (0);
    }
  g_test_trap_subprocess (NULL, 20 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_INHERIT_STDIN);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("");
}

/* ENOSPC: the local copy's GIOError and libvirt's system error are one
 * code */
static void
test_truth_no_space_codes (void)
{
  g_autoptr (GError) local =
    g_error_new (G_IO_ERROR, G_IO_ERROR_NO_SPACE, "cannot copy 'x': No space left on device");
  g_autoptr (GError) libvirt = g_error_new (DC_ERROR, DC_ERROR_NO_SPACE, "cannot clone disk 'vda': ...");

  g_assert_cmpstr (dc_output_error_code (local), ==, "no-space");
  g_assert_cmpstr (dc_output_error_code (libvirt), ==, "no-space");
  g_assert_cmpint (dc_error_exit_status (local), ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_add_func ("/truth/stdout/full", test_truth_stdout_full);
  g_test_add_func ("/truth/auth/tty", test_truth_auth_tty);
  g_test_add_func ("/truth/auth/no-tty", test_truth_auth_no_tty);
  g_test_add_func ("/truth/codes/no-space", test_truth_no_space_codes);
  return g_test_run ();
}
