/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Writes the seed corpus of fuzz/fuzz-seed into a directory: NoCloud
 * images built by the test helper (tests/lib/seed-iso.c, libarchive), and
 * meta-data and network-config files, each in the shape fuzz-seed.c
 * reads (a first byte saying what the rest is).
 *   fuzz-seed-corpus DIR
 */
#include "config.h"

#include "dc-seed.h"
#include "seed-iso.h"

#include <glib/gstdio.h>
#include <string.h>

static void
corpus_write (const char *dir, const char *name, char kind, const void *data, gsize len)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  guint8 k = (guint8) kind;

  g_byte_array_append (bytes, &k, 1);
  g_byte_array_append (bytes, data, (guint) len);
  if (!g_file_set_contents (path, (const char *) bytes->data, bytes->len, &error))
    g_error ("%s", error->message);
}

static const char *const meta_yaml = "instance-id: web\nlocal-hostname: web\n";
static const char *const meta_json =
  "{\"instance-id\": \"web\", \"local-hostname\": \"web\", \"x\": [1, 2]}\n";
static const char *const meta_block = "instance-id: |\n  web\nlocal-hostname: 'web'\n# 52:54:00:aa:bb:cc\n";
static const char *const network = "version: 1\nconfig:\n  - type: physical\n    name: eth0\n"
                                   "    mac_address: '52:54:00:AA:BB:CC'\n";

int
main (int argc, char **argv)
{
  const char *const seed[] = { "meta-data",      meta_yaml, "user-data", "#cloud-config\nhostname: web\n",
                               "network-config", network,   NULL };
  const char *const json[] = { "meta-data", meta_json, "dir/vendor-data", "", NULL };
  const char *const none[] = { "user-data", "#cloud-config\n", NULL };
  struct
  {
    const char *name;
    const char *label;
    const char *const *files;
  } images[] = {
    { "image-yaml", "cidata", seed },
    { "image-json", "CIDATA", json },
    { "image-no-meta-data", "cidata", none },
  };

  if (argc != 2)
    {
      g_printerr ("usage: %s DIR\n", argv[0]);
      return 2;
    }
  g_mkdir_with_parents (argv[1], 0755);
  for (guint i = 0; i < G_N_ELEMENTS (images); i++)
    {
      g_autoptr (GBytes) iso = seed_iso_build (images[i].label, images[i].files);
      gsize len = 0;
      const guint8 *data = g_bytes_get_data (iso, &len);

      /* fuzz-seed puts the 32 KiB of zeros before the descriptors back */
      corpus_write (argv[1], images[i].name, 'i', data + DC_CLOUDINIT_PVD_OFFSET,
                    len - DC_CLOUDINIT_PVD_OFFSET);
      corpus_write (argv[1], "label", 'l', data + DC_CLOUDINIT_PVD_OFFSET, DC_CLOUDINIT_PVD_SIZE);
    }
  corpus_write (argv[1], "meta-data-yaml", 'm', meta_yaml, strlen (meta_yaml));
  corpus_write (argv[1], "meta-data-json", 'm', meta_json, strlen (meta_json));
  corpus_write (argv[1], "meta-data-block", 'm', meta_block, strlen (meta_block));
  corpus_write (argv[1], "network-config", 'n', network, strlen (network));
  return 0;
}
