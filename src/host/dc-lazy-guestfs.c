/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-lazy-guestfs.c: the libguestfs functions --reset-identity calls,
 * each loading the library on the first call (see dc-lazy.c).
 * A function added to dc-identity.c needs its line here, or the link
 * fails.
 */
#include "config.h"

#include "dc-lazy.h"

#include <errno.h>
#include <guestfs.h>

#define GFS DC_LAZY_GUESTFS

/* clang-format off */
guestfs_h *
guestfs_create (void)
{
  static guestfs_h *(*fn) (void);

  if (!dc_lazy_sym (GFS, "guestfs_create", (gpointer *) &fn))
    {
      errno = ELIBACC;
      return NULL;
    }
  return fn ();
}

DC_LAZY_VOID (GFS, guestfs_close, (guestfs_h *g), (g))
DC_LAZY_VOID (GFS, guestfs_set_error_handler, (guestfs_h *g, guestfs_error_handler_cb cb, void *opaque),
              (g, cb, opaque))
DC_LAZY_FN (GFS, const char *, guestfs_last_error, (guestfs_h *g), (g), NULL)
DC_LAZY_FN (GFS, int, guestfs_set_identifier, (guestfs_h *g, const char *identifier), (g, identifier), -1)
DC_LAZY_FN (GFS, int, guestfs_launch, (guestfs_h *g), (g), -1)
DC_LAZY_FN (GFS, int, guestfs_shutdown, (guestfs_h *g), (g), -1)
DC_LAZY_FN (GFS, char **, guestfs_inspect_os, (guestfs_h *g), (g), NULL)
DC_LAZY_FN (GFS, char *, guestfs_inspect_get_type, (guestfs_h *g, const char *root), (g, root), NULL)
DC_LAZY_FN (GFS, char *, guestfs_inspect_get_distro, (guestfs_h *g, const char *root), (g, root), NULL)
DC_LAZY_FN (GFS, char *, guestfs_inspect_get_hostname, (guestfs_h *g, const char *root), (g, root), NULL)
DC_LAZY_FN (GFS, char *, guestfs_inspect_get_product_name, (guestfs_h *g, const char *root), (g, root), NULL)
DC_LAZY_FN (GFS, char **, guestfs_inspect_get_mountpoints, (guestfs_h *g, const char *root), (g, root), NULL)
DC_LAZY_FN (GFS, int, guestfs_mount, (guestfs_h *g, const char *mountable, const char *mountpoint),
            (g, mountable, mountpoint), -1)
DC_LAZY_FN (GFS, int, guestfs_umount_all, (guestfs_h *g), (g), -1)
DC_LAZY_FN (GFS, int, guestfs_device_index, (guestfs_h *g, const char *device), (g, device), -1)
DC_LAZY_FN (GFS, char *, guestfs_part_to_dev, (guestfs_h *g, const char *partition), (g, partition), NULL)
DC_LAZY_FN (GFS, char **, guestfs_glob_expand, (guestfs_h *g, const char *pattern), (g, pattern), NULL)
DC_LAZY_FN (GFS, int, guestfs_is_dir, (guestfs_h *g, const char *path), (g, path), -1)
DC_LAZY_FN (GFS, char *, guestfs_read_file, (guestfs_h *g, const char *path, size_t *size_r), (g, path, size_r),
            NULL)
DC_LAZY_FN (GFS, int, guestfs_write, (guestfs_h *g, const char *path, const char *content, size_t content_size),
            (g, path, content, content_size), -1)
DC_LAZY_FN (GFS, int, guestfs_truncate, (guestfs_h *g, const char *path), (g, path), -1)
DC_LAZY_FN (GFS, int, guestfs_rm, (guestfs_h *g, const char *path), (g, path), -1)
DC_LAZY_FN (GFS, int, guestfs_chmod, (guestfs_h *g, int mode, const char *path), (g, mode, path), -1)
DC_LAZY_FN (GFS, int, guestfs_mkdir_p, (guestfs_h *g, const char *path), (g, path), -1)
DC_LAZY_FN (GFS, int, guestfs_ln_sf, (guestfs_h *g, const char *target, const char *linkname),
            (g, target, linkname), -1)
/* clang-format on */

/* the two that take options: through their va_list forms */
int
guestfs_add_drive_opts (guestfs_h *g, const char *filename, ...)
{
  static int (*fn) (guestfs_h *, const char *, va_list);
  va_list ap;
  int r;

  if (!dc_lazy_sym (GFS, "guestfs_add_drive_opts_va", (gpointer *) &fn))
    return -1;
  va_start (ap, filename);
  r = fn (g, filename, ap);
  va_end (ap);
  return r;
}

int
guestfs_is_file_opts (guestfs_h *g, const char *path, ...)
{
  static int (*fn) (guestfs_h *, const char *, va_list);
  va_list ap;
  int r;

  if (!dc_lazy_sym (GFS, "guestfs_is_file_opts_va", (gpointer *) &fn))
    return -1;
  va_start (ap, path);
  r = fn (g, path, ap);
  va_end (ap);
  return r;
}
