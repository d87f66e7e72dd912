/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * librados, librbd and libguestfs are loaded on a clone's first use of
 * them (dc-lazy.c), not when the program starts: a clone without a Ceph
 * disk or --reset-identity never maps them.
 */
#include "config.h"

#include "dc-lazy.h"

#include <link.h>
#include <string.h>

static int
dc_seen (struct dl_phdr_info *info, size_t size, void *data)
{
  const char *soname = data;
  const char *base = strrchr (info->dlpi_name, '/');

  return g_strcmp0 (base ? base + 1 : info->dlpi_name, soname) == 0;
}

/* whether a library of that file name is mapped into this process */
static gboolean
loaded (const char *soname)
{
  return dl_iterate_phdr (dc_seen, (void *) soname) != 0;
}

static void
test_lazy_not_at_start (void)
{
  g_assert_false (loaded ("librbd.so.1"));
  g_assert_false (loaded ("librados.so.2"));
  g_assert_false (loaded ("libguestfs.so.0"));
}

static void
test_lazy_on_first_use (void)
{
  g_autoptr (GError) error = NULL;

  if (!dc_lazy_load (DC_LAZY_RBD, &error))
    {
      /* not installed here: the error names the package */
      g_assert_nonnull (strstr (error->message, "librbd1"));
      g_test_skip (error->message);
      return;
    }
  g_assert_true (loaded ("librbd.so.1"));
  g_assert_false (loaded ("libguestfs.so.0"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* in this order: the first looks before anything is loaded */
  g_test_add_func ("/lazy/not-at-start", test_lazy_not_at_start);
  g_test_add_func ("/lazy/on-first-use", test_lazy_on_first_use);
  return g_test_run ();
}
