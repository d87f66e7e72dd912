/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-env-iface.h: the questions the planner asks about the connection.
 * Declared here, in the pure room; answered by src/host/dc-env.c (which
 * asks libvirt) and by the tests' table (tests/dc-fake-env.c).
 */
#pragma once

#include "dc-error.h"
#include "dc-rbdsrc.h"
#include "dc-volinfo.h"

G_BEGIN_DECLS

/*
 * DcEnv: the questions the plan asks about the connection. The live
 * implementation (dc-env.c) asks libvirt; the tests answer from a table.
 * Lookups return %NULL with DC_ERROR_NOT_FOUND when a thing is missing,
 * DC_ERROR_UNSUPPORTED when it is outside any storage pool. Yes/no
 * questions return FALSE with @error set when they cannot be answered:
 * a failure is never taken for "no".
 */
typedef struct _DcEnv DcEnv;

/* A storage pool as --pool names it: what the plan needs to put volumes
 * into it. */
typedef struct
{
  char *name;
  char *type; /* dir, fs, logical, ... (<pool type>) */
  char *path; /* its target directory; NULL if it names none */
  gboolean active;
} DcPoolInfo;

DcPoolInfo *dc_pool_info_new (const char *name, const char *type, const char *path, gboolean active);
void dc_pool_info_free (DcPoolInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcPoolInfo, dc_pool_info_free)

/* What the plan needs to know of a Ceph RBD image. */
typedef struct
{
  gboolean exists;
  guint64 size;           /* bytes */
  gboolean layering;      /* it can be the parent of a copy-on-write clone */
  gboolean template_snap; /* it has the protected DC_RBD_TEMPLATE_SNAP */
} DcRbdImage;

struct _DcEnv
{
  /* TRUE when a domain called @name exists; FALSE with @error on failure */
  gboolean (*domain_exists) (DcEnv *env, const char *name, gboolean *exists, GError **error);
  /* *@in_use: a domain on the connection has @mac (lower case) */
  gboolean (*mac_in_use) (DcEnv *env, const char *mac, gboolean *in_use, GError **error);
  DcVolInfo *(*vol_by_path) (DcEnv *env, const char *path, GError **error);
  DcVolInfo *(*vol_by_name) (DcEnv *env, const char *pool, const char *name, GError **error);
  /* *@exists: pool @pool (a temporary one over @open_dir if set) holds a
   * volume called @name */
  gboolean (*vol_exists) (DcEnv *env, const char *pool, const char *open_dir, const char *name,
                          gboolean *exists, GError **error);
  /* a file that need not be in a pool (NVRAM): made reachable as a volume */
  DcVolInfo *(*file) (DcEnv *env, const char *path, GError **error);
  /* where the daemon keeps the NVRAM it names itself (<os firmware='efi'>
   * without <nvram>), NULL if that cannot be known */
  char *(*nvram_dir) (DcEnv *env);
  /* where it keeps swtpm state, in a folder per domain UUID; NULL if
   * that cannot be known */
  char *(*swtpm_dir) (DcEnv *env);
  /* the pool called @name, active or not; %NULL with DC_ERROR_NOT_FOUND
   * when there is none */
  DcPoolInfo *(*pool_info) (DcEnv *env, const char *name, GError **error);
  /* *@label: the ISO 9660 volume label of the image at @path (or of
   * volume @name in pool @pool), NULL if it is no ISO 9660 image or
   * does not exist; a member left NULL never finds a seed */
  gboolean (*iso_label) (DcEnv *env, const char *path, const char *pool, const char *name, char **label,
                         GError **error);
  /* --to: the clone goes onto another host. The questions above about
   * the source's files (vol_by_path, vol_by_name, file, iso_label,
   * nvram_dir, swtpm_dir) are answered by the source's host, those
   * about what is free or where volumes go (domain_exists, mac_in_use,
   * vol_exists, pool_info) by the destination's. *@has: the
   * destination has the file @path (or volume @name of pool @pool).
   * NULL on one host. */
  gboolean (*dst_has) (DcEnv *env, const char *path, const char *pool, const char *name, gboolean *has,
                       GError **error);
  /* *@image: what the Ceph cluster says of image @src->image; FALSE with
   * @error when the cluster cannot be reached (a member left NULL: no
   * RBD disk can be planned) */
  gboolean (*rbd_image) (DcEnv *env, const DcRbdSource *src, DcRbdImage *image, GError **error);
  /* where volume @image of the rbd storage pool @pool is, and how its
   * cluster is reached */
  DcRbdSource *(*rbd_pool) (DcEnv *env, const char *pool, const char *image, GError **error);
  /* the most vCPUs a domain of virtualization type @virt_type, @arch and
   * @machine (each NULL if the XML names none) takes on this host, 0 if
   * that cannot be known; a member left NULL knows nothing */
  guint (*max_vcpus) (DcEnv *env, const char *virt_type, const char *arch, const char *machine,
                      const char *emulator);
};

G_END_DECLS
