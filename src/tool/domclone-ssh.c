/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * domclone-ssh: the ssh(1) that domclone gives libvirt for qemu+ssh://
 * connections (the URI's command= parameter).
 *
 * libvirt runs ssh as a child of domclone, in its process group, so
 * Ctrl-C on the terminal reaches ssh too; ssh would exit and take the
 * connection with it before domclone has rolled back. libvirt resets
 * every signal to its default in the child before it runs the command,
 * so domclone cannot pass an ignored SIGINT on by itself. This program
 * ignores SIGINT and runs ssh with the same arguments: ssh keeps an
 * ignored SIGINT ignored (as rsh did), and the terminal still reaches
 * ssh for its prompts. domclone itself gets the Ctrl-C and rolls back.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
main (int argc, char **argv)
{
  char ssh[] = "ssh";

  (void) argc;
  signal (SIGINT, SIG_IGN);
  argv[0] = ssh;
  execvp (ssh, argv);
  fprintf (stderr, "domclone-ssh: cannot run ssh: %s\n", strerror (errno));
  return 255;
}
