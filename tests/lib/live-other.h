/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * live-other.h: a second, independent libvirt daemon for the live
 * tests that need two hosts (--to) or another mount namespace
 * (sameness): tests/with-libvirtd.sh started again from inside the
 * test's own namespace, with its own /run, /etc/libvirt and
 * /var/lib/libvirt, reached through its socket. Root only.
 */
#pragma once

#include "live-fixture.h"

G_BEGIN_DECLS

/* Its connection and URI
 * (qemu+unix:///system?socket=/proc/PID/root/run/libvirt/libvirt-sock),
 * NULL until live_other_start() */
extern virConnectPtr live_other_conn;
extern const char *live_other_uri;

gboolean live_other_start (void);
void live_other_stop (void);
char *live_other_path (const char *path);
void live_other_pool (const char *name, const char *dir);
void live_other_pool_refresh (const char *name);
void live_other_run_ok (const char *const *argv);
char *live_other_there_dir (const char *pool);
char *live_other_there_file (const char *pool, const char *name);
gboolean live_other_start_with_pool (const char *pool);

G_END_DECLS
