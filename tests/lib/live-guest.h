/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * live-guest.h: live tests that boot a guest and ask it what it sees.
 *
 * The guest is a Debian kernel and a busybox initramfs (scripts/guest-kit.sh,
 * init in tests/guest-init.sh), booted directly under TCG with its serial
 * console in a file. It prints "DOMCLONE-FACT key=value" lines (its MAC,
 * SMBIOS UUID and serial, the lines at LIVE_GUEST_DATA_OFFSET and
 * LIVE_GUEST_MARK_OFFSET of its data disk, a cloud-init seed's meta-data),
 * writes a marker of its own at LIVE_GUEST_MARK_OFFSET, prints
 * DOMCLONE-DONE and powers off.
 */
#pragma once

#include "live-fixture.h"

G_BEGIN_DECLS

/* Where the guest reads its data line, and reads then writes its marker,
 * on its data disk (vda). */
#define LIVE_GUEST_DATA_OFFSET ((gsize) 1 * MiB)
#define LIVE_GUEST_MARK_OFFSET ((gsize) 2 * MiB)
/* What the test writes at LIVE_GUEST_MARK_OFFSET before the first boot. */
#define LIVE_GUEST_FIRST_MARK "DOMCLONE-MARK none"
/* How long one boot may take before the test gives up (TCG on a busy
 * machine boots in 10-30 s). */
#define LIVE_GUEST_BOOT_TIMEOUT_S 150

/* Writer mode (tests/guest-init.sh): with LIVE_GUEST_WRITER_ON at
 * LIVE_GUEST_WRITER_OFFSET of its data disk, the guest reports its facts,
 * then writes the records "DOMCLONE-REC N", N = 1, 2, ..., one sector
 * each, in order (each flushed before the next), record N into slot
 * (N - 1) % LIVE_GUEST_SLOTS from LIVE_GUEST_RECORDS_OFFSET on, for as
 * long as it runs. */
#define LIVE_GUEST_WRITER_OFFSET ((gsize) 3 * MiB)
#define LIVE_GUEST_WRITER_ON "DOMCLONE-WRITER on"
#define LIVE_GUEST_WRITER_OFF "DOMCLONE-WRITER off"
#define LIVE_GUEST_RECORDS_OFFSET ((gsize) 4 * MiB)
#define LIVE_GUEST_SLOTS 2048

typedef struct
{
  char *src;       /* the bootable source domain */
  char *pool;      /* its pool */
  char *dir;       /* the pool's directory */
  char *data_path; /* its raw data disk (vda), in the pool */
  char *data;      /* the line written at LIVE_GUEST_DATA_OFFSET */
  char *seed_path; /* its cloud-init seed (an ISO on a SCSI CD-ROM) */
  char *mac;       /* its MAC address */
} LiveGuest;

/* Adds @func as test @path with a bootable source of its own. */
#define LIVE_GUEST_TEST(path, func)                                                                          \
  g_test_add ((path), LiveGuest, NULL, live_guest_setup, (func), live_guest_teardown)

/* The fixture skips the test when there is no daemon or no guest kit; the
 * test then just returns. */
#define SKIP_WITHOUT_GUEST(g)                                                                                \
  do                                                                                                         \
    {                                                                                                        \
      if ((g)->src == NULL)                                                                                  \
        return;                                                                                              \
    }                                                                                                        \
  while (0)

void live_guest_setup (LiveGuest *g, gconstpointer data);
void live_guest_teardown (LiveGuest *g, gconstpointer data);

/* booting */
void live_guest_start (const char *name);
void live_guest_start_on (virConnectPtr conn, const char *name, const char *log);
GHashTable *live_guest_wait (const char *name);
GHashTable *live_guest_wait_on (virConnectPtr conn, const char *name, const char *log);
GHashTable *live_guest_boot (const char *name);
GPtrArray *live_guest_boot_together (const char *const *names);

/* writer mode */
void live_guest_start_writer (const LiveGuest *g, guint64 records);
guint64 *live_guest_read_records (const char *path);
guint64 live_guest_last_record (const char *path);
gboolean live_guest_records_are_cut (const guint64 *slots, guint64 *last, char **why);
guint64 live_guest_assert_one_instant (const char *path, guint64 least);
void live_guest_add_full_disk (const LiveGuest *g, const char *target, guint mib);

/* state and jobs */
int live_guest_state (virConnectPtr conn, const char *name);
int live_guest_job_type (virConnectPtr conn, const char *name, gboolean completed);
void live_guest_assert_goes_on (const LiveGuest *g, guint64 seen);

/* facts */
GHashTable *live_guest_parse_facts (const char *console, GError **error);
const char *live_guest_fact (GHashTable *facts, const char *key);

/* what the daemon and the files say */
char *live_guest_xml_string (const char *name, const char *xpath);
char *live_guest_mac_of (const char *name);
char *live_guest_uuid_of (const char *name);
char *live_guest_seed_of (const char *name);
char *live_guest_read_line (const char *path, gsize offset);
void live_guest_write_line (const char *path, gsize offset, const char *line);

/* what this domclone can do */
gboolean live_guest_domclone_has_option (const char *option);

G_END_DECLS
