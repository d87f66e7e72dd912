/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-shape-host.h: what shaping a clone asks of libvirt: the most vCPUs
 * a machine type takes, and a new volume grown to its --resize capacity.
 */
#pragma once

#include "dc-plan.h"

#include <libvirt/libvirt.h>

G_BEGIN_DECLS

guint dc_shape_host_max_vcpus (virConnectPtr conn, const char *virt_type, const char *arch,
                               const char *machine, const char *emulator);
gboolean dc_shape_host_grow (virStorageVolPtr vol, const DcCopy *copy, gboolean *grown, GError **error);

G_END_DECLS
