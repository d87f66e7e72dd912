/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-cloudinit.c: what a clone changes in a cloud-init NoCloud seed,
 * text in, text out: the cidata label rule, the instance-id, MAC
 * addresses and YAML meta-data. Pure: no libvirt, no file, no image
 * (the ISO 9660 image and JSON meta-data are read and written in
 * src/host/dc-seed.c, with libarchive and json-glib).
 */
#include "config.h"

#include "dc-cloudinit.h"
#include "dc-name.h"

#include <string.h>

/**
 * dc_cloudinit_pvd_label:
 * @sector: the sector at %DC_CLOUDINIT_PVD_OFFSET of an image
 * @len: its length
 *
 * Returns: (transfer full) (nullable): the volume identifier of an ISO
 * 9660 primary volume descriptor, trailing spaces removed; %NULL if
 * @sector is not one
 */
char *
dc_cloudinit_pvd_label (const guint8 *sector, gsize len)
{
  gsize n = 32;

  /* type 1, "CD001", version 1 */
  if (sector == NULL || len < 72 || sector[0] != 1 || memcmp (sector + 1, "CD001", 5) != 0 || sector[6] != 1)
    return NULL;
  while (n > 0 && (sector[40 + n - 1] == ' ' || sector[40 + n - 1] == '\0'))
    n--;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isprint (sector[40 + i]))
      return NULL;
  return g_strndup ((const char *) sector + 40, n);
}

/* --- MAC addresses -------------------------------------------------------- */

static gboolean
dc_is_mac_at (const char *p, const char *end)
{
  if (end - p < 17)
    return FALSE;
  for (int i = 0; i < 17; i++)
    if (i % 3 == 2 ? p[i] != ':' : !g_ascii_isxdigit (p[i]))
      return FALSE;
  return TRUE;
}

/**
 * dc_cloudinit_replace_macs:
 * @text: a file of the seed (network-config)
 * @len: its length
 * @rw: the MAC addresses to replace and their replacements
 * @out_len: (out): the length of the result
 *
 * Replaces every MAC address of @rw->macs_from (written aa:bb:..., in
 * any case, and standing alone: not part of a longer run of hex digits
 * and colons) by the one at the same place in @rw->macs_to, written in
 * upper case where the original was.
 *
 * Returns: (transfer full): the new text
 */
char *
dc_cloudinit_replace_macs (const char *text, gsize len, const DcCloudinitRewrite *rw, gsize *out_len)
{
  GString *out = g_string_sized_new (len);
  const char *end = text + len;
  const char *p = text;

  while (p < end)
    {
      gboolean alone = dc_is_mac_at (p, end) && (p == text || (!g_ascii_isxdigit (p[-1]) && p[-1] != ':'))
                       && (p + 17 == end || (!g_ascii_isxdigit (p[17]) && p[17] != ':'));
      const char *to = NULL;

      for (guint i = 0; alone && rw->macs_from != NULL && rw->macs_from[i] != NULL; i++)
        if (g_ascii_strncasecmp (p, rw->macs_from[i], 17) == 0 && strlen (rw->macs_from[i]) == 17)
          to = rw->macs_to[i];
      if (to == NULL)
        {
          g_string_append_c (out, *p++);
          continue;
        }
      {
        gboolean upper = FALSE;

        for (int i = 0; i < 17; i++)
          upper = upper || (p[i] >= 'A' && p[i] <= 'F');
        for (const char *c = to; *c != '\0'; c++)
          g_string_append_c (out, upper ? g_ascii_toupper (*c) : g_ascii_tolower (*c));
      }
      p += 17;
    }
  *out_len = out->len;
  return g_string_free (out, FALSE);
}

/* --- meta-data ------------------------------------------------------------ */

/* The clone's instance-id from the source's @old (NULL: none). */
char *
dc_cloudinit_rewrite_instance_id (const DcCloudinitRewrite *rw, const char *old)
{
  return dc_cloudinit_instance_id (old, rw->source_name, rw->clone_name, rw->clone_uuid);
}

/**
 * dc_cloudinit_instance_id:
 * @source_iid: (nullable): the source's cloud-init instance-id
 * @source_name: the source domain's name
 * @clone_name: the clone's
 * @clone_uuid: the clone's UUID
 *
 * The clone's instance-id, the same wherever cloud-init finds it (the
 * SMBIOS serial, a seed's meta-data): the source's with the source's
 * name replaced by the clone's, else the clone's UUID.
 *
 * Returns: (transfer full): the clone's instance-id
 */
char *
dc_cloudinit_instance_id (const char *source_iid, const char *source_name, const char *clone_name,
                          const char *clone_uuid)
{
  char *iid = source_iid ? dc_name_replace (source_iid, source_name, clone_name) : NULL;

  return iid ? iid : g_strdup (clone_uuid);
}

typedef struct
{
  const char *name;
  gboolean add; /* added when missing */
  gboolean seen;
} DcSeedKey;

/* The top-level key a line of block-style YAML sets, if one of @keys:
 * `key:` at column 0, the key plain or quoted. *@value points after the
 * colon and the blanks after it. */
static DcSeedKey *
dc_seed_yaml_key (const char *line, const char *end, DcSeedKey *keys, gsize n_keys, const char **value)
{
  char quote = (line < end && (*line == '"' || *line == '\'')) ? *line : '\0';
  const char *name = quote ? line + 1 : line;

  for (gsize i = 0; i < n_keys; i++)
    {
      gsize klen = strlen (keys[i].name);
      const char *p = name + klen;

      if ((gsize) (end - name) < klen || memcmp (name, keys[i].name, klen) != 0)
        continue;
      if (quote)
        {
          if (p >= end || *p != quote)
            continue;
          p++;
        }
      while (p < end && (*p == ' ' || *p == '\t'))
        p++;
      if (p >= end || *p != ':')
        continue;
      p++;
      if (p < end && *p != ' ' && *p != '\t')
        continue;
      while (p < end && (*p == ' ' || *p == '\t'))
        p++;
      *value = p;
      return &keys[i];
    }
  return NULL;
}

/* Splits the scalar at @value (to @end, the end of the line without its
 * newline) into its text and what follows it (a comment). *@style is the
 * quote it was written with, '\0' for plain. A value this cannot read
 * sets @error. */
static gboolean
dc_seed_yaml_scalar (const char *key, const char *value, const char *end, char **text, const char **rest,
                     char *style, gboolean *block, GError **error)
{
  *text = NULL;
  *rest = end;
  *style = '\0';
  *block = FALSE;
  if (value >= end || *value == '#')
    {
      /* the value is on the lines below */
      *block = TRUE;
      *rest = value;
      return TRUE;
    }
  if (*value == '|' || *value == '>')
    {
      *block = TRUE;
      *rest = end;
      return TRUE;
    }
  if (strchr ("&*![{", *value) != NULL)
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_UNSUPPORTED,
        "its meta-data sets '%s' with YAML that domclone does not rewrite (an anchor, alias, tag or collection); write it as a plain or quoted string",
        key);
      return FALSE;
    }
  if (*value == '"' || *value == '\'')
    {
      const char *close = value + 1;

      while (close < end && (*close != *value || (*value == '"' && close[-1] == '\\')))
        close++;
      if (close >= end)
        {
          g_set_error (
            error, DC_ERROR, DC_ERROR_UNSUPPORTED,
            "its meta-data sets '%s' to a quoted string that does not end on its line; domclone rewrites one-line values only",
            key);
          return FALSE;
        }
      *style = *value;
      *text = g_strndup (value + 1, close - value - 1);
      *rest = close + 1;
      return TRUE;
    }
  {
    const char *p = value;
    const char *stop;

    while (p < end && !(*p == '#' && (p[-1] == ' ' || p[-1] == '\t')))
      p++;
    *rest = p;
    stop = p;
    while (stop > value && (stop[-1] == ' ' || stop[-1] == '\t'))
      stop--;
    *text = g_strndup (value, stop - value);
  }
  return TRUE;
}

/* Block-style YAML, line by line: a top-level `instance-id:`,
 * `local-hostname:` or `hostname:` line is written anew, every other
 * line is kept as it is. */
/* Writes the line at @p (up to @line_end, its newline up to @next) that
 * sets @key at @value anew: the key as it was written, then the new
 * value in the old quotes, then the comment that followed. *@block: the
 * old value was a block scalar, whose lines follow. */
static gboolean
dc_seed_yaml_rewrite_line (GString *out, const DcCloudinitRewrite *rw, DcSeedKey *key, const char *p,
                           const char *value, const char *line_end, const char *next, gboolean *block,
                           GError **error)
{
  g_autofree char *old = NULL;
  g_autofree char *fresh = NULL;
  const char *rest;
  char style;

  if (!dc_seed_yaml_scalar (key->name, value, line_end, &old, &rest, &style, block, error))
    return FALSE;
  if (g_str_equal (key->name, "instance-id"))
    fresh = dc_cloudinit_rewrite_instance_id (rw, *block ? NULL : old);
  else
    fresh = g_strdup (rw->hostname);
  g_string_append_len (out, p, value - p);
  if (value[-1] == ':')
    g_string_append_c (out, ' ');
  if (style != '\0')
    g_string_append_printf (out, "%c%s%c", style, fresh, style);
  else
    g_string_append (out, fresh);
  while (rest < line_end && (*rest == ' ' || *rest == '\t'))
    rest++;
  if (rest < line_end)
    g_string_append_printf (out, " %.*s", (int) (line_end - rest), rest);
  g_string_append_len (out, line_end, next - line_end);
  key->seen = TRUE;
  return TRUE;
}

/* Adds the keys @out lacks, before the document's end marker at
 * @doc_end if it has one (G_MAXSIZE: none). */
static void
dc_seed_yaml_add_missing (GString *out, const DcCloudinitRewrite *rw, const DcSeedKey *keys, gsize n_keys,
                          gsize doc_end, const char *newline)
{
  g_autoptr (GString) added = g_string_new (NULL);

  for (gsize i = 0; i < n_keys; i++)
    {
      g_autofree char *iid = NULL;

      if (keys[i].seen || !keys[i].add)
        continue;
      if (g_str_equal (keys[i].name, "instance-id"))
        iid = dc_cloudinit_rewrite_instance_id (rw, NULL);
      g_string_append_printf (added, "%s: %s%s", keys[i].name, iid ? iid : rw->hostname, newline);
    }
  if (doc_end == G_MAXSIZE)
    {
      if (out->len > 0 && out->str[out->len - 1] != '\n' && added->len > 0)
        g_string_append (out, newline);
      doc_end = out->len;
    }
  g_string_insert_len (out, (gssize) doc_end, added->str, (gssize) added->len);
}

char *
dc_cloudinit_meta_data_yaml (const char *text, gsize len, const DcCloudinitRewrite *rw, gsize *out_len,
                             GError **error)
{
  DcSeedKey keys[] = {
    { "instance-id", TRUE, FALSE },
    { "local-hostname", TRUE, FALSE },
    { "hostname", FALSE, FALSE },
  };
  g_autoptr (GString) out = g_string_sized_new (len + 128);
  const char *end = text + len;
  const char *newline = "\n";
  gboolean skipping = FALSE;
  gsize doc_end = G_MAXSIZE;

  for (const char *p = text; p < end;)
    {
      const char *nl = memchr (p, '\n', end - p);
      const char *next = nl ? nl + 1 : end;
      const char *line_end = nl ? nl : end;
      const char *value = NULL;
      DcSeedKey *key;

      if (line_end > p && line_end[-1] == '\r')
        {
          line_end--;
          newline = "\r\n";
        }
      /* the lines of a value that was replaced: more indented, or blank */
      if (skipping && (*p == ' ' || *p == '\t' || line_end == p))
        {
          p = next;
          continue;
        }
      skipping = FALSE;
      if (line_end - p == 3 && memcmp (p, "...", 3) == 0 && doc_end == G_MAXSIZE)
        doc_end = out->len;

      key = dc_seed_yaml_key (p, line_end, keys, G_N_ELEMENTS (keys), &value);
      if (key == NULL)
        g_string_append_len (out, p, next - p);
      else if (!dc_seed_yaml_rewrite_line (out, rw, key, p, value, line_end, next, &skipping, error))
        return NULL;
      p = next;
    }
  dc_seed_yaml_add_missing (out, rw, keys, G_N_ELEMENTS (keys), doc_end, newline);
  *out_len = out->len;
  return g_string_free (g_steal_pointer (&out), FALSE);
}
