/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include "dc-name.h"
#include "dc-error.h"

#include <string.h>

/**
 * dc_name_validate:
 * @name: a proposed destination domain name
 * @error: return location
 *
 * Checks the name rules, which the names libvirt users give their
 * domains meet (virt-install's "ubuntu22.04", "my_vm"): ASCII letters,
 * digits, hyphens, dots and underscores; starts with a letter; ends with
 * a letter or a digit; no ".."; at most %DC_NAME_MAX characters. Nothing
 * else: the name ends up in file and volume names, so no '/', no space,
 * no shell or XML metacharacter gets through.
 *
 * Returns: %TRUE if @name is acceptable
 */
gboolean
dc_name_validate (const char *name, GError **error)
{
  size_t len = strlen (name);

  if (len == 0)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_INVALID_NAME, "invalid name '': a name must not be empty");
      return FALSE;
    }

  for (size_t i = 0; i < len; i++)
    {
      if (!g_ascii_isalnum (name[i]) && name[i] != '-' && name[i] != '.' && name[i] != '_')
        {
          g_autofree char *shown = g_strescape (name, NULL);
          g_set_error (error, DC_ERROR, DC_ERROR_INVALID_NAME,
                       "invalid name '%s': use only letters, digits, hyphens, dots and underscores", shown);
          return FALSE;
        }
    }

  if (!g_ascii_isalpha (name[0]))
    {
      g_set_error (error, DC_ERROR, DC_ERROR_INVALID_NAME,
                   "invalid name '%s': a name must start with a letter", name);
      return FALSE;
    }

  if (!g_ascii_isalnum (name[len - 1]))
    {
      g_set_error (error, DC_ERROR, DC_ERROR_INVALID_NAME,
                   "invalid name '%s': a name must end with a letter or a digit", name);
      return FALSE;
    }

  if (strstr (name, "..") != NULL)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_INVALID_NAME,
                   "invalid name '%s': a name must not hold two dots in a row", name);
      return FALSE;
    }

  if (len > DC_NAME_MAX)
    {
      g_set_error (error, DC_ERROR, DC_ERROR_INVALID_NAME,
                   "invalid name '%s': a name can have at most %d characters, it has %zu", name, DC_NAME_MAX,
                   len);
      return FALSE;
    }

  return TRUE;
}

/**
 * dc_name_auto:
 * @source: the source domain's name
 * @n: the clone number, from 1
 * @error: return location
 *
 * Builds "<source>-clone<n>" and checks it against the name rules, so a
 * source whose name is too long (or was never a valid instance name)
 * gets an error that says so.
 *
 * Returns: (transfer full): the generated name, or %NULL with @error set
 */
char *
dc_name_auto (const char *source, guint n, GError **error)
{
  g_autofree char *name = g_strdup_printf ("%s-clone%u", source, n);
  g_autoptr (GError) local = NULL;

  if (!dc_name_validate (name, &local))
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_INVALID_NAME,
        "cannot generate a clone name from '%s': '%s' breaks the name rules (%s); give one with --name",
        source, name, local->message);
      return NULL;
    }
  return g_steal_pointer (&name);
}

/**
 * dc_name_replace:
 * @str: a string such as a volume name or a file path
 * @from: text to replace (the source domain's name)
 * @to: replacement (the clone's name)
 *
 * Replaces the last occurrence of @from that stands as a word of its own
 * (not next to a letter or a digit, so "web" is found in "web-data.img"
 * but not in "myweb.img"). The last one, because in a path the domain
 * name is usually in the file name, not in the folders above it.
 *
 * Returns: (transfer full) (nullable): the new string, or %NULL if @from
 * does not occur as a word
 */
char *
dc_name_replace (const char *str, const char *from, const char *to)
{
  const char *hit = NULL;
  size_t flen = strlen (from);

  if (flen == 0)
    return NULL;
  for (const char *p = strstr (str, from); p != NULL; p = strstr (p + 1, from))
    {
      gboolean left_ok = p == str || !g_ascii_isalnum (p[-1]);
      gboolean right_ok = !g_ascii_isalnum (p[flen]);

      if (left_ok && right_ok)
        hit = p;
    }
  if (hit == NULL)
    return NULL;

  return g_strdup_printf ("%.*s%s%s", (int) (hit - str), str, to, hit + flen);
}

/**
 * dc_name_to_hostname:
 * @name: a name that dc_name_validate() accepts
 *
 * A host name is one DNS label: letters, digits and hyphens (RFC 1123).
 * Dots and underscores become hyphens; the other rules of a name (a
 * letter first, a letter or a digit last, at most %DC_NAME_MAX
 * characters) already make the rest a valid label: "ubuntu22.04-clone1"
 * gives "ubuntu22-04-clone1".
 *
 * Returns: (transfer full): the host name for @name
 */
char *
dc_name_to_hostname (const char *name)
{
  char *host = g_strdup (name);

  g_strdelimit (host, "._", '-');
  return host;
}
