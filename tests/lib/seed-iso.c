/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * seed-iso.c: ISO 9660 images for the seed tests, built and read back
 * with libarchive, independently of what src/dc-seed.c does with them.
 */
#include "config.h"

#include "seed-iso.h"

#include "dc-seed.h"

#include <archive.h>
#include <archive_entry.h>
#include <string.h>

static la_ssize_t
seed_iso_write_cb (struct archive *a, void *data, const void *buf, size_t len)
{
  g_byte_array_append (data, buf, (guint) len);
  return (la_ssize_t) len;
}

/**
 * seed_iso_build:
 * @label: the volume label
 * @files: name, content, name, content, ..., %NULL
 *
 * Returns: (transfer full): an ISO 9660 image with Rock Ridge names
 */
GBytes *
seed_iso_build (const char *label, const char *const *files)
{
  struct archive *w = archive_write_new ();
  GByteArray *out = g_byte_array_new ();

  g_assert_cmpint (archive_write_set_format_iso9660 (w), ==, ARCHIVE_OK);
  g_assert_cmpint (archive_write_set_format_option (w, "iso9660", "volume-id", label), ==, ARCHIVE_OK);
  g_assert_cmpint (archive_write_set_bytes_in_last_block (w, 1), ==, ARCHIVE_OK);
  g_assert_cmpint (archive_write_open (w, out, NULL, seed_iso_write_cb, NULL), ==, ARCHIVE_OK);
  for (guint i = 0; files[i] != NULL; i += 2)
    {
      struct archive_entry *e = archive_entry_new ();
      gsize len = strlen (files[i + 1]);

      archive_entry_set_pathname (e, files[i]);
      archive_entry_set_filetype (e, AE_IFREG);
      archive_entry_set_perm (e, 0644);
      archive_entry_set_size (e, (la_int64_t) len);
      archive_entry_set_mtime (e, 1700000000, 0);
      g_assert_cmpint (archive_write_header (w, e), ==, ARCHIVE_OK);
      if (len > 0)
        g_assert_cmpint (archive_write_data (w, files[i + 1], len), ==, (la_ssize_t) len);
      archive_entry_free (e);
    }
  g_assert_cmpint (archive_write_close (w), ==, ARCHIVE_OK);
  archive_write_free (w);
  /* libarchive writes the label upper-case; make it @label exactly, as
   * cloud-localds (genisoimage) does */
  g_assert_cmpuint (out->len, >=, DC_CLOUDINIT_PVD_OFFSET + DC_CLOUDINIT_PVD_SIZE);
  memset (out->data + DC_CLOUDINIT_PVD_OFFSET + 40, ' ', 32);
  memcpy (out->data + DC_CLOUDINIT_PVD_OFFSET + 40, label, strlen (label));
  return g_byte_array_free_to_bytes (out);
}

/**
 * seed_iso_read:
 * @iso: an image
 * @label: (out) (optional): its volume label
 *
 * Returns: (transfer full): file name -> content (a string) of every
 * regular file in @iso
 */
GHashTable *
seed_iso_read (GBytes *iso, char **label)
{
  GHashTable *files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  struct archive *r = archive_read_new ();
  struct archive_entry *e;
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (iso, &len);
  int ret;

  if (label != NULL)
    {
      g_assert_cmpuint (len, >=, DC_CLOUDINIT_PVD_OFFSET + DC_CLOUDINIT_PVD_SIZE);
      *label = dc_cloudinit_pvd_label (data + DC_CLOUDINIT_PVD_OFFSET, DC_CLOUDINIT_PVD_SIZE);
    }
  g_assert_cmpint (archive_read_support_format_iso9660 (r), ==, ARCHIVE_OK);
  g_assert_cmpint (archive_read_open_memory (r, data, len), ==, ARCHIVE_OK);
  while ((ret = archive_read_next_header (r, &e)) == ARCHIVE_OK)
    {
      gsize size = (gsize) archive_entry_size (e);
      char *buf;

      if (archive_entry_filetype (e) != AE_IFREG)
        continue;
      buf = g_malloc0 (size + 1);
      if (size > 0)
        g_assert_cmpint (archive_read_data (r, buf, size), ==, (la_ssize_t) size);
      g_hash_table_insert (files, g_strdup (archive_entry_pathname (e)), buf);
    }
  g_assert_cmpint (ret, ==, ARCHIVE_EOF);
  archive_read_free (r);
  return files;
}

/* The image in the file @path, with its label and files. */
GBytes *
seed_iso_read_file (const char *path, char **label, GHashTable **files)
{
  g_autoptr (GError) error = NULL;
  char *data = NULL;
  gsize len = 0;
  GBytes *iso;

  g_file_get_contents (path, &data, &len, &error);
  g_assert_no_error (error);
  iso = g_bytes_new_take (data, len);
  *files = seed_iso_read (iso, label);
  return iso;
}
