/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-lazy.c: librados, librbd and libguestfs, loaded when a clone first
 * needs them.
 *
 * Most clones touch neither a Ceph RBD disk nor the inside of a guest,
 * but linking those libraries made every run load them: librbd and
 * librados pull in Ceph's common library, the C++ runtime and Boost,
 * about 25 MiB read and 20,000 symbols bound before main(), the larger
 * part of a small clone's start from a cold cache. So the program does
 * not link them: dc-lazy-rbd.c and dc-lazy-guestfs.c define the
 * functions domclone calls, each of which opens its library with
 * GModule (dlopen()) on the first call and calls the library's own function.
 * A library that cannot be loaded makes those functions fail as the
 * library's do (a negative errno, -ELIBACC; NULL with errno ELIBACC);
 * dc_lazy_load() says why, in a sentence.
 */
#include "config.h"

#include "dc-lazy.h"
#include "dc-error.h"

#include <gmodule.h>

typedef struct
{
  const char *soname;
  const char *package; /* Debian's */
  GModule *handle;     /* atomic */
  char *why;           /* g_module_error() of the failed load */
  GMutex lock;
} DcLazy;

static DcLazy dc_lazy_libs[] = {
  [DC_LAZY_RADOS] = { "librados.so.2", "librados2", NULL, NULL, { 0 } },
  [DC_LAZY_RBD] = { "librbd.so.1", "librbd1", NULL, NULL, { 0 } },
  [DC_LAZY_GUESTFS] = { "libguestfs.so.0", "libguestfs0", NULL, NULL, { 0 } },
};

/* The handle of @lib, loaded on the first call; NULL when it cannot be
 * (the reason in ->why). One try: a failure stays a failure. */
static GModule *
dc_lazy_handle (DcLazy *lib)
{
  GModule *handle = g_atomic_pointer_get (&lib->handle);

  if (handle != NULL)
    return handle;
  g_mutex_lock (&lib->lock);
  if (lib->handle == NULL && lib->why == NULL)
    {
      handle = g_module_open (lib->soname, G_MODULE_BIND_LOCAL);
      if (handle == NULL)
        {
          const char *why = g_module_error ();

          lib->why = g_strdup (why != NULL ? why : "unknown error");
        }
      else
        g_debug ("loaded %s", lib->soname);
      g_atomic_pointer_set (&lib->handle, handle);
    }
  handle = lib->handle;
  g_mutex_unlock (&lib->lock);
  return handle;
}

/**
 * dc_lazy_load:
 * @lib: which library
 * @error: return location
 *
 * Loads @lib if it is not yet.
 *
 * Returns: whether it is loaded; %FALSE with @error set, naming the
 *   library and its package, when it cannot be
 */
gboolean
dc_lazy_load (DcLazyLib lib, GError **error)
{
  DcLazy *l = &dc_lazy_libs[lib];

  if (dc_lazy_handle (l) != NULL)
    return TRUE;
  g_set_error (error, DC_ERROR, DC_ERROR_FAILED, "cannot load '%s' (Debian package %s): %s", l->soname,
               l->package, l->why);
  return FALSE;
}

/**
 * dc_lazy_sym:
 * @lib: which library
 * @name: a function of it
 * @slot: (inout): where the function's address is kept; NULL until found
 *
 * Fills @slot with @name's address in @lib, loading @lib first.
 *
 * Returns: whether @slot holds it
 */
gboolean
dc_lazy_sym (DcLazyLib lib, const char *name, gpointer *slot)
{
  GModule *handle;
  gpointer fn = g_atomic_pointer_get (slot);

  if (fn != NULL)
    return TRUE;
  handle = dc_lazy_handle (&dc_lazy_libs[lib]);
  if (handle == NULL)
    return FALSE;
  if (!g_module_symbol (handle, name, &fn) || fn == NULL)
    {
      g_warning ("'%s' has no function '%s'", dc_lazy_libs[lib].soname, name);
      return FALSE;
    }
  g_atomic_pointer_set (slot, fn);
  return TRUE;
}
