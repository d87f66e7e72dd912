/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The libraries only some clones need, loaded on their first use */
typedef enum
{
  DC_LAZY_RADOS,
  DC_LAZY_RBD,
  DC_LAZY_GUESTFS,
} DcLazyLib;

gboolean dc_lazy_load (DcLazyLib lib, GError **error);
gboolean dc_lazy_sym (DcLazyLib lib, const char *name, gpointer *slot);

/*
 * DC_LAZY_FN: defines @name, a function of @lib, as a call through a
 * pointer that dc_lazy_sym() fills on the first call; when the library
 * cannot be loaded it returns @fail. The prototype comes from the
 * library's own header, so the compiler checks @params against it.
 */
#define DC_LAZY_FN(lib, ret, name, params, args, fail)                                                       \
  ret name params                                                                                            \
  {                                                                                                          \
    static ret (*fn) params;                                                                                 \
                                                                                                             \
    if (!dc_lazy_sym (lib, #name, (gpointer *) &fn))                                                         \
      return fail;                                                                                           \
    return fn args;                                                                                          \
  }

/* the same for a function returning nothing */
#define DC_LAZY_VOID(lib, name, params, args)                                                                \
  void name params                                                                                           \
  {                                                                                                          \
    static void (*fn) params;                                                                                \
                                                                                                             \
    if (dc_lazy_sym (lib, #name, (gpointer *) &fn))                                                          \
      fn args;                                                                                               \
  }

G_END_DECLS
