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
#include <stdlib.h>
#include <unistd.h>

G_BEGIN_DECLS

typedef virConnect DcConnect;
typedef virDomain DcDomain;
typedef virStoragePool DcPool;
typedef virStorageVol DcVol;
typedef virStream DcStream;

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcConnect, virConnectClose)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcDomain, virDomainFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcPool, virStoragePoolFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcVol, virStorageVolFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcStream, virStreamFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (virError, virFreeError)

/* What virConnectListAllDomains / virConnectListAllStoragePools give:
 * freed, each element and the array, by g_auto. */
typedef struct
{
  virDomainPtr *list;
  int n; /* < 0: the listing failed */
} DcDomainList;

typedef struct
{
  virStoragePoolPtr *list;
  int n;
} DcPoolList;

/* What virStoragePoolListAllVolumes gives, likewise. */
typedef struct
{
  virStorageVolPtr *list;
  int n;
} DcVolList;

static inline void
dc_domain_list_clear (DcDomainList *doms)
{
  for (int i = 0; i < doms->n; i++)
    virDomainFree (doms->list[i]);
  free (doms->list);
}

static inline void
dc_pool_list_clear (DcPoolList *pools)
{
  for (int i = 0; i < pools->n; i++)
    virStoragePoolFree (pools->list[i]);
  free (pools->list);
}

static inline void
dc_vol_list_clear (DcVolList *vols)
{
  for (int i = 0; i < vols->n; i++)
    virStorageVolFree (vols->list[i]);
  free (vols->list);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (DcDomainList, dc_domain_list_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (DcPoolList, dc_pool_list_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (DcVolList, dc_vol_list_clear)

/* A file descriptor, closed by g_auto (g_autofd needs GLib 2.76). */
typedef int DcFd;
static inline void
dc_fd_close (DcFd fd)
{
  close (fd);
}
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (DcFd, dc_fd_close, -1)

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
