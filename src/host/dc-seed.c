/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-seed.c: a cloud-init NoCloud seed rewritten for a clone.
 *
 * A NoCloud seed is an ISO 9660 image labelled "cidata" (cloud-init
 * takes "CIDATA" too) holding meta-data, user-data, and perhaps
 * vendor-data and network-config. A clone that boots with its source's
 * seed is the same instance to cloud-init: it keeps the source's host
 * name and, when network-config names MAC addresses, configures no
 * interface at all. So the clone gets a seed of its own: meta-data with
 * its instance-id and host name, network-config with its MACs, every
 * other file byte for byte.
 *
 * The image is read and written with libarchive (its iso9660 reader and
 * writer, with Rock Ridge and Joliet names, which cloud-init's mount
 * reads), from memory to memory: no libvirt, no file of ours.
 */
#include "config.h"

#include "dc-seed.h"

#include <archive.h>
#include <archive_entry.h>
#include <json-glib/json-glib.h>
#include <string.h>

/* JSON meta-data ("{...}"), which is YAML too: parsed and written anew,
 * so its layout changes, not its content. */
static char *
dc_seed_meta_data_json (const char *text, gsize len, const DcCloudinitRewrite *rw, gsize *out_len,
                        GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonGenerator) gen = NULL;
  g_autoptr (GError) local = NULL;
  g_autofree char *iid = NULL;
  JsonNode *root;
  JsonObject *obj;
  const char *old = NULL;
  g_autofree char *out = NULL;
  char *nl;

  if (!json_parser_load_from_data (parser, text, (gssize) len, &local)
      || json_node_get_node_type (root = json_parser_get_root (parser)) != JSON_NODE_OBJECT)
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_UNSUPPORTED,
        "its meta-data starts with '{' but is not a JSON object (%s); domclone rewrites JSON or block-style YAML only",
        local ? local->message : "another JSON value");
      return NULL;
    }
  obj = json_node_get_object (root);
  if (json_object_has_member (obj, "instance-id")
      && JSON_NODE_HOLDS_VALUE (json_object_get_member (obj, "instance-id")))
    old = json_object_get_string_member (obj, "instance-id");
  iid = dc_cloudinit_rewrite_instance_id (rw, old);
  json_object_set_string_member (obj, "instance-id", iid);
  json_object_set_string_member (obj, "local-hostname", rw->hostname);
  if (json_object_has_member (obj, "hostname"))
    json_object_set_string_member (obj, "hostname", rw->hostname);
  gen = json_generator_new ();
  json_generator_set_pretty (gen, TRUE);
  json_generator_set_root (gen, root);
  out = json_generator_to_data (gen, NULL);
  nl = g_strconcat (out, "\n", NULL);
  *out_len = strlen (nl);
  return nl;
}

/**
 * dc_seed_meta_data:
 * @text: the seed's meta-data
 * @len: its length
 * @rw: what the clone is
 * @out_len: (out): the length of the result
 * @error: return location
 *
 * Rewrites meta-data for the clone: `instance-id` (derived from the
 * source's as dc_cloudinit_instance_id() does), `local-hostname` and, when
 * present, `hostname` (the clone's host name); the first two are added
 * when missing. JSON meta-data is parsed and written anew; YAML is
 * rewritten line by line: only top-level block-style keys at column 0
 * holding a plain, quoted or block scalar are understood, every other
 * line is kept. The source's MAC addresses are replaced too.
 *
 * Returns: (transfer full): the new meta-data, or %NULL with @error set
 * when it is written in a way this does not read
 */
char *
dc_seed_meta_data (const char *text, gsize len, const DcCloudinitRewrite *rw, gsize *out_len, GError **error)
{
  g_autofree char *rewritten = NULL;
  gsize rewritten_len = 0;
  const char *p = text;

  while (p < text + len && g_ascii_isspace (*p))
    p++;
  if (p < text + len && *p == '[')
    {
      g_set_error (error, DC_ERROR, DC_ERROR_UNSUPPORTED,
                   "its meta-data is a list, not a mapping of keys; cloud-init cannot read it either");
      return NULL;
    }
  if (p < text + len && *p == '{')
    rewritten = dc_seed_meta_data_json (text, len, rw, &rewritten_len, error);
  else
    rewritten = dc_cloudinit_meta_data_yaml (text, len, rw, &rewritten_len, error);
  if (rewritten == NULL)
    return NULL;
  return dc_cloudinit_replace_macs (rewritten, rewritten_len, rw, out_len);
}

/* --- the image ------------------------------------------------------------ */

typedef struct archive DcArchive;

static void
dc_archive_read_free (DcArchive *a)
{
  archive_read_free (a);
}

static void
dc_archive_write_free (DcArchive *a)
{
  archive_write_free (a);
}

typedef DcArchive DcArchiveReader;
typedef DcArchive DcArchiveWriter;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcArchiveReader, dc_archive_read_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcArchiveWriter, dc_archive_write_free)

typedef struct archive_entry DcArchiveEntry;
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcArchiveEntry, archive_entry_free)

static la_ssize_t
dc_seed_write_cb (struct archive *a, void *data, const void *buf, size_t len)
{
  GByteArray *out = data;

  if (out->len + len > 4 * DC_CLOUDINIT_MAX_SIZE)
    {
      archive_set_error (a, EFBIG, "the new image grows past %zu bytes", 4 * DC_CLOUDINIT_MAX_SIZE);
      return -1;
    }
  g_byte_array_append (out, buf, (guint) len);
  return (la_ssize_t) len;
}

static gboolean
dc_seed_archive_error (struct archive *a, const char *what, GError **error)
{
  const char *msg = archive_error_string (a);

  g_set_error (error, DC_ERROR, DC_ERROR_FAILED, "%s: %s", what, msg ? msg : "libarchive gave no reason");
  return FALSE;
}

static gboolean
dc_seed_write_file (struct archive *w, struct archive_entry *entry, const char *data, gsize len,
                    GError **error)
{
  archive_entry_set_size (entry, (la_int64_t) len);
  if (archive_write_header (w, entry) < ARCHIVE_OK)
    return dc_seed_archive_error (w, "cannot write the new seed", error);
  for (gsize done = 0; done < len;)
    {
      la_ssize_t n = archive_write_data (w, data + done, len - done);

      if (n <= 0)
        return dc_seed_archive_error (w, "cannot write the new seed", error);
      done += (gsize) n;
    }
  return TRUE;
}

/* Reads the data of the current entry, @size bytes. */
static char *
dc_seed_read_data (struct archive *a, gsize size, GError **error)
{
  g_autofree char *buf = g_malloc (size + 1);
  gsize done = 0;

  while (done < size)
    {
      la_ssize_t n = archive_read_data (a, buf + done, size - done);

      if (n < 0)
        {
          dc_seed_archive_error (a, "cannot read the seed", error);
          return NULL;
        }
      if (n == 0)
        {
          g_set_error (error, DC_ERROR, DC_ERROR_FAILED, "cannot read the seed: a file in it is cut short");
          return NULL;
        }
      done += (gsize) n;
    }
  buf[size] = '\0';
  return g_steal_pointer (&buf);
}

/* The label of the image @data, checked to be a seed this rewrites. */
static char *
dc_seed_label (const guint8 *data, gsize len, GError **error)
{
  char *label = NULL;

  if (len > DC_CLOUDINIT_MAX_SIZE)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_UNSUPPORTED,
                   "the seed is %zu bytes, more than the %zu domclone rewrites", len, DC_CLOUDINIT_MAX_SIZE);
      return NULL;
    }
  if (len >= DC_CLOUDINIT_PVD_OFFSET + DC_CLOUDINIT_PVD_SIZE)
    label = dc_cloudinit_pvd_label (data + DC_CLOUDINIT_PVD_OFFSET, DC_CLOUDINIT_PVD_SIZE);
  if (label == NULL)
    g_set_error (error, DC_ERROR, DC_ERROR_FAILED,
                 "the seed is not an ISO 9660 image (no primary volume descriptor)");
  return label;
}

/* Where a volume descriptor (ISO 9660 §8.4, §8.5) says its volume ends
 * and where its root directory lies, both little-endian halves. */
#define DC_SEED_VD_SPACE 80
#define DC_SEED_VD_BLOCK_SIZE 128
#define DC_SEED_VD_ROOT 156
#define DC_SEED_DR_EXTENT 2
#define DC_SEED_DR_SIZE 10

/* The little-endian number of @n bytes at @p (any alignment). */
static guint64
dc_seed_le (const guint8 *p, guint n)
{
  guint64 v = 0;

  while (n-- > 0)
    v = (v << 8) | p[n];
  return v;
}

/* Checks that every volume the descriptors of @data describe, and its
 * root directory, lie inside the @len bytes there are. libarchive
 * reserves what a directory claims before it reads it, and checks the
 * other extents only against the volume's claimed size, so a seed that
 * claims gigabytes would make it allocate them. */
static gboolean
dc_seed_check_extents (const guint8 *data, gsize len, GError **error)
{
  for (gsize off = DC_CLOUDINIT_PVD_OFFSET; off + DC_CLOUDINIT_PVD_SIZE <= len; off += DC_CLOUDINIT_PVD_SIZE)
    {
      const guint8 *vd = data + off;
      const guint8 *root = vd + DC_SEED_VD_ROOT;
      guint64 block, space, extent, size;

      if (memcmp (vd + 1, "CD001", 5) != 0 || vd[0] == 255)
        break;
      if (vd[0] != 1 && vd[0] != 2)
        continue;
      block = dc_seed_le (vd + DC_SEED_VD_BLOCK_SIZE, 2);
      space = dc_seed_le (vd + DC_SEED_VD_SPACE, 4);
      extent = dc_seed_le (root + DC_SEED_DR_EXTENT, 4);
      size = dc_seed_le (root + DC_SEED_DR_SIZE, 4);
      if (space * block > len || extent * block + size > len)
        {
          g_set_error (error, DC_ERROR, DC_ERROR_FAILED,
                       "cannot read the seed: its volume descriptor at byte %zu claims more than the "
                       "image's %zu bytes",
                       off, len);
          return FALSE;
        }
    }
  return TRUE;
}

/* One rewrite: the source's image read, the clone's written. */
typedef struct
{
  const DcCloudinitRewrite *rw;
  struct archive *r;
  struct archive *w;
  GHashTable *files; /* path -> GBytes: the regular files read so far */
  gsize total;       /* their bytes */
  gboolean have_meta_data;
} DcSeedCopy;

/* Opens the reader over @data and the writer into @out, labelled @label. */
static gboolean
dc_seed_open (DcSeedCopy *sc, const guint8 *data, gsize len, const char *label, GByteArray *out,
              GError **error)
{
  if (archive_read_support_format_iso9660 (sc->r) != ARCHIVE_OK
      || archive_read_open_memory (sc->r, data, len) != ARCHIVE_OK)
    return dc_seed_archive_error (sc->r, "cannot read the seed", error);
  if (archive_write_set_format_iso9660 (sc->w) != ARCHIVE_OK
      || archive_write_set_format_option (sc->w, "iso9660", "volume-id", label) < ARCHIVE_OK
      || archive_write_set_format_option (sc->w, "iso9660", "rockridge", "1") < ARCHIVE_OK
      || archive_write_set_format_option (sc->w, "iso9660", "joliet", "1") < ARCHIVE_OK
      || archive_write_set_bytes_in_last_block (sc->w, 1) != ARCHIVE_OK
      || archive_write_open (sc->w, out, NULL, dc_seed_write_cb, NULL) != ARCHIVE_OK)
    return dc_seed_archive_error (sc->w, "cannot write the new seed", error);
  return TRUE;
}

/* A file that shares its data with another (@hardlink): written as a
 * file of its own, with that data. */
static char *
dc_seed_linked_data (DcSeedCopy *sc, struct archive_entry *entry, const char *path, const char *hardlink,
                     gsize *size, GError **error)
{
  GBytes *same;

  while (g_str_has_prefix (hardlink, "./"))
    hardlink += 2;
  same = g_hash_table_lookup (sc->files, hardlink);
  if (same == NULL)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_FAILED, "cannot read the seed: '%s' links to a missing '%s'",
                   path, hardlink);
      return NULL;
    }
  archive_entry_set_hardlink (entry, NULL);
  archive_entry_set_filetype (entry, AE_IFREG);
  *size = g_bytes_get_size (same);
  return g_strndup (g_bytes_get_data (same, NULL), *size);
}

/* A regular file's data, read and kept for the files that link to it. */
static char *
dc_seed_file_data (DcSeedCopy *sc, struct archive_entry *entry, const char *path, gsize *size, GError **error)
{
  la_int64_t s = archive_entry_size (entry);
  char *content;

  if (s < 0 || (guint64) s > DC_CLOUDINIT_MAX_SIZE - sc->total)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_UNSUPPORTED,
                   "the seed's files hold more than the %zu bytes domclone rewrites", DC_CLOUDINIT_MAX_SIZE);
      return NULL;
    }
  *size = (gsize) s;
  sc->total += *size;
  content = dc_seed_read_data (sc->r, *size, error);
  if (content != NULL)
    g_hash_table_insert (sc->files, g_strdup (path), g_bytes_new (content, *size));
  return content;
}

/* Writes file @entry at @path with @content, rewritten where cloud-init
 * reads it (the files at the top of the image). */
static gboolean
dc_seed_write_rewritten (DcSeedCopy *sc, struct archive_entry *entry, const char *path, const char *content,
                         gsize size, GError **error)
{
  g_autofree char *fresh = NULL;
  gsize fresh_len = 0;

  if (g_str_equal (path, "meta-data"))
    {
      fresh = dc_seed_meta_data (content, size, sc->rw, &fresh_len, error);
      if (fresh == NULL)
        return FALSE;
      sc->have_meta_data = TRUE;
    }
  else if (g_str_equal (path, "network-config"))
    fresh = dc_cloudinit_replace_macs (content, size, sc->rw, &fresh_len);
  return dc_seed_write_file (sc->w, entry, fresh ? fresh : content, fresh ? fresh_len : size, error);
}

/* Copies one entry of the source's image into the clone's. */
static gboolean
dc_seed_copy_entry (DcSeedCopy *sc, struct archive_entry *entry, GError **error)
{
  /* copied: setting an entry's name from its own storage frees it */
  g_autofree char *own_path = g_strdup (archive_entry_pathname (entry));
  g_autofree char *own_link = g_strdup (archive_entry_hardlink (entry));
  const char *path = own_path;
  mode_t type = archive_entry_filetype (entry);
  g_autofree char *content = NULL;
  gsize size = 0;

  if (path == NULL)
    return TRUE;
  while (g_str_has_prefix (path, "./"))
    path += 2;
  if (path[0] == '\0' || g_str_equal (path, "."))
    return TRUE;
  archive_entry_set_pathname (entry, path);

  if (own_link != NULL)
    content = dc_seed_linked_data (sc, entry, path, own_link, &size, error);
  else if (type == AE_IFREG)
    content = dc_seed_file_data (sc, entry, path, &size, error);
  else if (type == AE_IFDIR || type == AE_IFLNK)
    {
      if (archive_write_header (sc->w, entry) < ARCHIVE_OK)
        return dc_seed_archive_error (sc->w, "cannot write the new seed", error);
      return TRUE;
    }
  else
    {
      g_debug ("seed: '%s' is neither a file, a folder nor a link: left out", path);
      return TRUE;
    }
  if (content == NULL)
    return FALSE;
  return dc_seed_write_rewritten (sc, entry, path, content, size, error);
}

/* meta-data made for a seed that has none. */
static gboolean
dc_seed_add_meta_data (DcSeedCopy *sc, GError **error)
{
  g_autoptr (DcArchiveEntry) made = archive_entry_new ();
  gsize fresh_len = 0;
  g_autofree char *fresh = dc_seed_meta_data ("", 0, sc->rw, &fresh_len, error);

  if (fresh == NULL)
    return FALSE;
  archive_entry_set_pathname (made, "meta-data");
  archive_entry_set_filetype (made, AE_IFREG);
  archive_entry_set_perm (made, 0644);
  archive_entry_set_mtime (made, (time_t) (g_get_real_time () / G_USEC_PER_SEC), 0);
  return dc_seed_write_file (sc->w, made, fresh, fresh_len, error);
}

/* libarchive writes the primary label in ISO 9660's upper-case
 * d-characters; the Joliet one keeps its case. Keep the source's label
 * as it was, as genisoimage and xorriso write it. */
static void
dc_seed_keep_label (GByteArray *out, const char *label)
{
  if (out->len >= DC_CLOUDINIT_PVD_OFFSET + DC_CLOUDINIT_PVD_SIZE && out->data[DC_CLOUDINIT_PVD_OFFSET] == 1)
    {
      guint8 *id = out->data + DC_CLOUDINIT_PVD_OFFSET + 40;

      memset (id, ' ', 32);
      memcpy (id, label, MIN (strlen (label), 32));
    }
}

/**
 * dc_seed_rewrite:
 * @iso: a NoCloud seed, an ISO 9660 image
 * @rw: what the clone is
 * @error: return location
 *
 * Makes the clone's seed from the source's: the same volume label and
 * files, meta-data rewritten by dc_seed_meta_data() (made if missing),
 * network-config with the clone's MAC addresses
 * (dc_cloudinit_replace_macs()), every other file byte for byte. Files keep
 * their names through Rock Ridge and Joliet. @iso is only read.
 *
 * Returns: (transfer full): the new image, or %NULL with @error set when
 * @iso is not a seed this can read
 */
GBytes *
dc_seed_rewrite (GBytes *iso, const DcCloudinitRewrite *rw, GError **error)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (iso, &len);
  g_autofree char *label = dc_seed_label (data, len, error);
  /* before the writer: freeing an unfinished writer still writes */
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (DcArchiveReader) r = NULL;
  g_autoptr (DcArchiveWriter) w = NULL;
  g_autoptr (GHashTable) files =
    g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_bytes_unref);
  DcSeedCopy sc = { .rw = rw, .files = files };
  struct archive_entry *entry;
  int ret;

  if (label == NULL || !dc_seed_check_extents (data, len, error))
    return NULL;
  r = archive_read_new ();
  w = archive_write_new ();
  sc.r = r;
  sc.w = w;
  if (!dc_seed_open (&sc, data, len, label, out, error))
    return NULL;
  while ((ret = archive_read_next_header (r, &entry)) == ARCHIVE_OK || ret == ARCHIVE_WARN)
    if (!dc_seed_copy_entry (&sc, entry, error))
      return NULL;
  if (ret != ARCHIVE_EOF)
    {
      dc_seed_archive_error (r, "cannot read the seed", error);
      return NULL;
    }
  if (!sc.have_meta_data && !dc_seed_add_meta_data (&sc, error))
    return NULL;
  if (archive_write_close (w) != ARCHIVE_OK)
    {
      dc_seed_archive_error (w, "cannot write the new seed", error);
      return NULL;
    }
  dc_seed_keep_label (out, label);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}
