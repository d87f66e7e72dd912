/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target: arbitrary bytes into the cloud-init seed reader
 * (src/dc-seed.c), which reads what the user's disk holds: an ISO 9660
 * image through libarchive, its meta-data as YAML or JSON, its
 * network-config's MAC addresses.
 *
 * The first byte of an input picks what the rest is:
 *   'i'  an image from its sector 16 on (the 32 KiB system area before
 *        it is all zeros in a seed, and is put back here, so inputs
 *        stay small and the mutations land on the descriptors);
 *   'm'  a meta-data file (YAML, or JSON when it starts with '{');
 *   'n'  a network-config file;
 *   else the primary volume descriptor's label reader.
 * fuzz/fuzz-seed-corpus writes a seed corpus in this shape; both are
 * built with ./configure --enable-fuzzing (clang) and run by
 * scripts/fuzz.sh.
 */
#include "config.h"

#include "dc-seed.h"

#include <string.h>

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static const char *const fz_macs_from[] = { "52:54:00:aa:bb:cc", "52:54:00:11:22:33", NULL };
static const char *const fz_macs_to[] = { "52:54:00:dd:ee:ff", "52:54:00:44:55:66", NULL };

static const DcCloudinitRewrite fz_rewrite = {
  .source_name = "web",
  .clone_name = "web-clone1",
  .clone_uuid = "7d1ee2b4-1e52-4d55-9d36-0cb7c0c1e0e5",
  .hostname = "web-clone1",
  .macs_from = fz_macs_from,
  .macs_to = fz_macs_to,
};

static void
fz_image (const guint8 *data, size_t size)
{
  g_autofree guint8 *image = NULL;
  g_autoptr (GBytes) iso = NULL;
  g_autoptr (GBytes) fresh = NULL;
  g_autoptr (GError) error = NULL;

  if (size > DC_CLOUDINIT_MAX_SIZE)
    return;
  image = g_malloc0 (DC_CLOUDINIT_PVD_OFFSET + size);
  memcpy (image + DC_CLOUDINIT_PVD_OFFSET, data, size);
  iso = g_bytes_new_take (g_steal_pointer (&image), DC_CLOUDINIT_PVD_OFFSET + size);
  fresh = dc_seed_rewrite (iso, &fz_rewrite, &error);
  /* one or the other, never both nor neither */
  g_assert ((fresh == NULL) == (error != NULL));
  if (fresh != NULL)
    {
      /* what we write, we must be able to read again */
      g_autoptr (GBytes) again = dc_seed_rewrite (fresh, &fz_rewrite, &error);

      if (again == NULL)
        g_error ("the rewritten seed cannot be read back: %s", error->message);
    }
}

static void
fz_meta_data (const guint8 *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  gsize out_len = 0;
  g_autofree char *out = dc_seed_meta_data ((const char *) data, size, &fz_rewrite, &out_len, &error);

  g_assert ((out == NULL) == (error != NULL));
  if (out != NULL)
    {
      /* the rewrite reads its own output: the ids are already the
       * clone's */
      g_autofree char *again = NULL;
      gsize again_len = 0;

      g_assert (strlen (out) <= out_len);
      again = dc_seed_meta_data (out, out_len, &fz_rewrite, &again_len, &error);
      if (again == NULL)
        g_error ("the rewritten meta-data cannot be read back: %s", error->message);
    }
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  if (size == 0)
    return 0;
  switch (data[0])
    {
    case 'i':
      fz_image (data + 1, size - 1);
      break;
    case 'm':
      fz_meta_data (data + 1, size - 1);
      break;
    case 'n':
      {
        gsize out_len = 0;
        g_autofree char *out =
          dc_cloudinit_replace_macs ((const char *) data + 1, size - 1, &fz_rewrite, &out_len);

        /* every MAC is replaced by one of the same length */
        g_assert (out != NULL && out_len == size - 1);
      }
      break;
    default:
      {
        g_autofree char *label = dc_cloudinit_pvd_label (data + 1, size - 1);

        g_assert (label == NULL || strlen (label) <= 32);
      }
      break;
    }
  return 0;
}
