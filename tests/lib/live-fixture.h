/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * live-fixture.h: what the live test programs (tests/live/AREA/test-live-*.c)
 * share: the connection to the private libvirtd, the per-test fixture
 * (a pool and a source domain of its own), and helpers that look at
 * what a run of domclone left behind. Defined in live-fixture.c (the
 * daemon, the fixture, the daemon's view, clones), live-checks.c (runs
 * that fail or are interrupted) and live-files.c (files).
 */
#pragma once

#include "dc-test-spawn.h"
#include "dc-util.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define MiB ((gsize) 1024 * 1024)

typedef struct
{
  char *src;       /* source domain name */
  char *pool;      /* its pool's name */
  char *dir;       /* its pool's directory */
  char *nvram_dir; /* where its NVRAM lives (no pool) */
} LiveFixture;

/* The test's own connection to the daemon, NULL without one; and the
 * harness's scratch directory (DOMCLONE_TEST_STATE). */
extern virConnectPtr live_conn;
extern const char *live_state_dir;

/* Without a daemon the fixture skips the test; the test itself then
 * just returns. */
#define SKIP_WITHOUT_DAEMON()                                                                                \
  do                                                                                                         \
    {                                                                                                        \
      if (live_conn == NULL)                                                                                 \
        return;                                                                                              \
    }                                                                                                        \
  while (0)

/* Adds @func as test @path with the per-test fixture. */
#define LIVE_TEST(path, func)                                                                                \
  g_test_add ((path), LiveFixture, NULL, live_fixture_setup, (func), live_fixture_teardown)

void live_init (int *argc, char ***argv);
int live_run (void);
void live_reconnect (void);
gboolean live_daemon_restartable (void);
void live_restart_daemon (void);

void live_fixture_setup (LiveFixture *f, gconstpointer data);
void live_fixture_teardown (LiveFixture *f, gconstpointer data);
void live_remove_test_objects (const char *src, const char *pool_name);
void live_remove_pool (const char *name);

/* files */
void live_write_pattern (const char *path, gsize size, const gsize *offsets, gsize n_offsets, guint32 seed);
char *live_sha256_file (const char *path);
guint64 live_allocated_bytes (const char *path);
char *live_path_in (const LiveFixture *f, const char *name);
void live_assert_same_file (const char *src, const char *clone);
void live_assert_same_sparse_file (const char *src, const char *clone);

/* the daemon's view */
char *live_snapshot (void);
char *live_snapshot_of (virConnectPtr conn);
char *live_domain_xml (const char *name);
char *live_domain_xml_without_metadata (const char *name);
guint64 live_counter_of (const char *name);
gboolean live_domain_exists (const char *name);
gboolean live_has_building_marker (const char *name);
void live_define_pool (const char *name, const char *dir);
void live_attach_disk (const LiveFixture *f, const char *dev, const char *format, const char *path);

/* clones */
char *live_clone_ok (const LiveFixture *f, const char *name);
JsonObject *live_run_json (const LiveFixture *f, const char *const *args, int *status, char **err);
void live_delete_clone (const char *name);

/* interrupting a clone mid-copy */
char *live_add_big_disk (const LiveFixture *f);
void live_wait_for_copy_start (const LiveFixture *f, const char *name);
void live_wait_for_copies_to_end (const LiveFixture *f);
GSubprocess *live_start_clone_mid_copy (const LiveFixture *f, char **before);

/* shared checks */
typedef struct
{
  const char *label;
  int status;           /* expected exit status */
  const char *err_part; /* a part of the expected message */
} LiveRefusal;

virDomainPtr live_define_bare_domain (const char *name);
/* the run fails and leaves nothing: exit @status, no stdout, the daemon
 * as it was; returns stderr */
char *live_assert_fails_cleanly (const char *const *args, const char *const *env, int status);
/* the same, exit 1, with the source's config pinned (NULL: skipped) */
char *live_assert_fails_cleanly_pinned (const LiveFixture *f, const char *const *args);
/* the same, and one "domclone: " line holding @r's part, the source's
 * definition unchanged */
void live_assert_refused (const LiveFixture *f, const LiveRefusal *r, const char *const *args);
char *live_assert_sigterm_rolls_back (GSubprocess *proc, const char *before);
char *live_small_pool (const LiveFixture *f, guint mib, char **pool_name);
gboolean live_mount_loop_fs (const char *const *mkfs, const char *image, gsize size, const char *dir);
void live_small_pool_remove (const char *pool_name, const char *dir);
char *live_pin_config (const char *name);
void live_unpin_config (const char *config);

G_END_DECLS
