/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-lazy-rbd.c: the librados and librbd functions domclone calls,
 * each loading its library on the first call (see dc-lazy.c).
 * A function added to dc-rbd.c needs its line here, or the link fails.
 */
#include "config.h"

#include "dc-lazy.h"

#include <errno.h>
#include <rados/librados.h>
#include <rbd/librbd.h>

#define RADOS DC_LAZY_RADOS
#define RBD DC_LAZY_RBD
#define FAIL (-ELIBACC)

/* clang-format off */
DC_LAZY_FN (RADOS, int, rados_create, (rados_t *cluster, const char *const id), (cluster, id), FAIL)
DC_LAZY_FN (RADOS, int, rados_conf_read_file, (rados_t cluster, const char *path), (cluster, path), FAIL)
DC_LAZY_FN (RADOS, int, rados_conf_parse_env, (rados_t cluster, const char *var), (cluster, var), FAIL)
DC_LAZY_FN (RADOS, int, rados_conf_set, (rados_t cluster, const char *option, const char *value),
            (cluster, option, value), FAIL)
DC_LAZY_FN (RADOS, int, rados_connect, (rados_t cluster), (cluster), FAIL)
DC_LAZY_VOID (RADOS, rados_shutdown, (rados_t cluster), (cluster))
DC_LAZY_FN (RADOS, int, rados_ioctx_create, (rados_t cluster, const char *pool_name, rados_ioctx_t *ioctx),
            (cluster, pool_name, ioctx), FAIL)
DC_LAZY_VOID (RADOS, rados_ioctx_destroy, (rados_ioctx_t io), (io))
DC_LAZY_VOID (RADOS, rados_ioctx_set_namespace, (rados_ioctx_t io, const char *nspace), (io, nspace))

DC_LAZY_FN (RBD, int, rbd_open, (rados_ioctx_t io, const char *name, rbd_image_t *image, const char *snap_name),
            (io, name, image, snap_name), FAIL)
DC_LAZY_FN (RBD, int, rbd_open_read_only,
            (rados_ioctx_t io, const char *name, rbd_image_t *image, const char *snap_name),
            (io, name, image, snap_name), FAIL)
DC_LAZY_FN (RBD, int, rbd_close, (rbd_image_t image), (image), FAIL)
DC_LAZY_FN (RBD, int, rbd_get_size, (rbd_image_t image, uint64_t *size), (image, size), FAIL)
DC_LAZY_FN (RBD, int, rbd_get_features, (rbd_image_t image, uint64_t *features), (image, features), FAIL)
DC_LAZY_FN (RBD, int, rbd_remove, (rados_ioctx_t io, const char *name), (io, name), FAIL)
DC_LAZY_FN (RBD, int, rbd_clone3,
            (rados_ioctx_t p_ioctx, const char *p_name, const char *p_snapname, rados_ioctx_t c_ioctx,
             const char *c_name, rbd_image_options_t c_opts),
            (p_ioctx, p_name, p_snapname, c_ioctx, c_name, c_opts), FAIL)
DC_LAZY_FN (RBD, int, rbd_deep_copy_with_progress,
            (rbd_image_t image, rados_ioctx_t dest_io_ctx, const char *destname, rbd_image_options_t dest_opts,
             librbd_progress_fn_t cb, void *cbdata),
            (image, dest_io_ctx, destname, dest_opts, cb, cbdata), FAIL)
DC_LAZY_VOID (RBD, rbd_image_options_create, (rbd_image_options_t *opts), (opts))
DC_LAZY_VOID (RBD, rbd_image_options_destroy, (rbd_image_options_t opts), (opts))
DC_LAZY_FN (RBD, int, rbd_image_options_set_uint64, (rbd_image_options_t opts, int optname, uint64_t optval),
            (opts, optname, optval), FAIL)
DC_LAZY_FN (RBD, int, rbd_snap_create, (rbd_image_t image, const char *snapname), (image, snapname), FAIL)
DC_LAZY_FN (RBD, int, rbd_snap_exists, (rbd_image_t image, const char *snapname, bool *exists),
            (image, snapname, exists), FAIL)
DC_LAZY_FN (RBD, int, rbd_snap_is_protected, (rbd_image_t image, const char *snap_name, int *is_protected),
            (image, snap_name, is_protected), FAIL)
DC_LAZY_FN (RBD, int, rbd_snap_protect, (rbd_image_t image, const char *snap_name), (image, snap_name), FAIL)
DC_LAZY_FN (RBD, int, rbd_snap_list, (rbd_image_t image, rbd_snap_info_t *snaps, int *max_snaps),
            (image, snaps, max_snaps), FAIL)
DC_LAZY_VOID (RBD, rbd_snap_list_end, (rbd_snap_info_t *snaps), (snaps))
DC_LAZY_FN (RBD, int, rbd_snap_remove2,
            (rbd_image_t image, const char *snap_name, uint32_t flags, librbd_progress_fn_t cb, void *cbdata),
            (image, snap_name, flags, cb, cbdata), FAIL)
/* clang-format on */
