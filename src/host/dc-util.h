/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-util.h: what the code that talks to libvirt shares: automatic
 * cleanups for libvirt objects and libvirt errors turned into GErrors.
 */
#pragma once

#include "dc-error.h"
#include "dc-metadata.h"

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

G_BEGIN_DECLS

typedef virConnect DcConnect;
typedef virDomain DcDomain;
typedef virStoragePool DcPool;
typedef virStorageVol DcVol;

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcConnect, virConnectClose)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcDomain, virDomainFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcPool, virStoragePoolFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcVol, virStorageVolFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (virError, virFreeError)

void dc_libvirt_error_save (void);
gboolean dc_libvirt_error_set (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);

/**
 * dc_set_libvirt_error:
 * @error: return location
 * @...: what was being attempted, printf-style
 *
 * Sets @error to the message followed by libvirt's last error. Every
 * public libvirt call resets that error, virDomainGetName() and friends
 * included, so it is saved first: the comma operator runs the save
 * before the arguments are evaluated, and an argument that calls libvirt
 * cannot lose the reason libvirt gave.
 *
 * Returns: %FALSE, for `return dc_set_libvirt_error (...)`.
 */
#define dc_set_libvirt_error(error, ...)                                                                     \
  (dc_libvirt_error_save (), dc_libvirt_error_set ((error), __VA_ARGS__))

int dc_last_libvirt_code (void);
void dc_libvirt_quiet (void);

int dc_connect_auth_cb (virConnectCredentialPtr cred, unsigned int ncred, void *cbdata);
virConnectAuthPtr dc_connect_auth (void);
char *dc_connect_uri (const char *uri);

void dc_cancel_on_signals (void);
gboolean dc_check_cancelled (GError **error);

gboolean dc_connection_is_local (virConnectPtr conn);
DcMetadata *dc_domain_metadata (virDomainPtr dom, const char *name, GError **error);

G_END_DECLS
