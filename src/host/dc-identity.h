/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-identity.h: --reset-identity, carried out on the clone's own disks
 * with the libguestfs C API.
 */
#pragma once

#include "dc-reset.h"

G_BEGIN_DECLS

/* The unit a reset installs: SSH host keys made at the clone's first
 * boot (Debian's openssh makes none by itself). */
#define DC_IDENTITY_KEYS_UNIT "domclone-ssh-host-keys.service"

gboolean dc_identity_reset (DcReset *reset, const char *clone, GError **error);

G_END_DECLS
