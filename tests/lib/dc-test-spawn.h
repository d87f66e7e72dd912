/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-test-spawn.h: running a program, or the domclone under test
 * ($DOMCLONE), and capturing its exit status and output; shared by every
 * test program that runs the binary.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

int dc_test_run (const char *const *argv, char **out, char **err);
void dc_test_run_ok (const char *const *argv);
int dc_test_domclone_argv (const char *const *args, char **out, char **err);
int dc_test_domclone (char **out, char **err, ...) G_GNUC_NULL_TERMINATED;
GSubprocess *dc_test_spawn_domclone (const char *const *args);
GSubprocess *dc_test_spawn_domclone_env (const char *const *args, const char *const *extra);
char *dc_test_communicate (GSubprocess *proc, char **err, int *status);

G_END_DECLS
