/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-output.c: the result line and the JSON object.
 *
 * Standard output carries the result only: a line of text, the XML of
 * --print-xml, or with --json exactly one JSON object, on success and on
 * failure alike. Errors, warnings and -v go to standard error whatever
 * the format. The JSON keys and the error codes are an interface:
 * domclone(1) documents them, and a new one is added, never renamed.
 */
#include "config.h"

#include "dc-output.h"

#include <json-glib/json-glib.h>

/**
 * dc_output_error_code:
 * @error: the error that ended the run
 *
 * Returns: the stable name of the kind of failure, for --json
 */
const char *
dc_output_error_code (const GError *error)
{
  return dc_error_kind (error)->code;
}

/* An error is one line: a control character that came in with a name
 * or a libvirt message must not start another. */
static char *
dc_output_one_line (const char *message)
{
  char *line = g_strdup (message);

  for (char *p = line; *p != '\0'; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      *p = ' ';
  return line;
}

/**
 * dc_output_error_line:
 * @error: the error that ended the run
 *
 * Returns: (transfer full): the line for standard error, whatever the
 * format: "domclone: MESSAGE\n"
 */
char *
dc_output_error_line (const GError *error)
{
  g_autofree char *line = dc_output_one_line (error->message);

  return g_strdup_printf ("domclone: %s\n", line);
}

/**
 * dc_output_warning_lines:
 * @result: a clone made or planned
 *
 * Returns: (transfer full): the lines for standard error, whatever the
 * format, one for each identity the clone keeps of its source's:
 * "domclone: warning: MESSAGE\n"; "" when there is none
 */
char *
dc_output_warning_lines (const DcCloneResult *result)
{
  g_autoptr (GString) out = g_string_new (NULL);

  for (guint i = 0; result->warnings != NULL && i < result->warnings->len; i++)
    {
      g_autofree char *line = dc_output_one_line (result->warnings->pdata[i]);

      g_string_append_printf (out, "domclone: warning: %s\n", line);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* A JSON object begun with its "changed" member; dc_output_json_end()
 * ends it */
static JsonBuilder *
dc_output_json_begin (gboolean changed)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "changed");
  json_builder_add_boolean_value (b, changed);
  return b;
}

static char *
dc_output_json_end (JsonBuilder *b)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *text = NULL;

  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  return g_strdup_printf ("%s\n", text);
}

/* JSON text is UTF-8: a name given in another encoding (a source name
 * comes from the command line as it is) gets U+FFFD for its bad bytes */
static void
dc_output_json_add_string (JsonBuilder *b, const char *value)
{
  if (value == NULL)
    json_builder_add_null_value (b);
  else if (g_utf8_validate (value, -1, NULL))
    json_builder_add_string_value (b, value);
  else
    {
      g_autofree char *valid = g_utf8_make_valid (value, -1);

      json_builder_add_string_value (b, valid);
    }
}

static void
dc_output_json_string (JsonBuilder *b, const char *key, const char *value)
{
  json_builder_set_member_name (b, key);
  dc_output_json_add_string (b, value);
}

/* --json's "live": null, "crash-consistent" or "quiesced" */
static const char *
dc_output_live_name (DcLive live)
{
  switch (live)
    {
    case DC_LIVE_CRASH_CONSISTENT:
      return "crash-consistent";
    case DC_LIVE_QUIESCED:
      return "quiesced";
    case DC_LIVE_NO:
      break;
    }
  return NULL;
}

static void
dc_output_json_size (JsonBuilder *b, const char *key, gint64 value)
{
  json_builder_set_member_name (b, key);
  if (value >= 0)
    json_builder_add_int_value (b, value);
  else
    json_builder_add_null_value (b);
}

static void
dc_output_json_error (JsonBuilder *b, const GError *error)
{
  g_autofree char *message = dc_output_one_line (error->message);

  json_builder_set_member_name (b, "error");
  json_builder_begin_object (b);
  dc_output_json_string (b, "code", dc_output_error_code (error));
  dc_output_json_string (b, "message", message);
  json_builder_end_object (b);
}

/**
 * dc_output_failure:
 * @format: text or JSON
 * @error: the error that ended the run
 *
 * Returns: (transfer full): what goes on standard output when the run
 * failed: nothing as text (the error line goes to standard error), the
 * object `{"changed": false, "error": {"code", "message"}}` as JSON
 */
char *
dc_output_failure (DcOutputFormat format, const GError *error)
{
  g_autoptr (JsonBuilder) b = NULL;

  if (format == DC_OUTPUT_TEXT)
    return g_strdup ("");
  b = dc_output_json_begin (FALSE);
  dc_output_json_error (b, error);
  return dc_output_json_end (b);
}

/* "source" of a clone made or planned */
static void
dc_output_json_source (JsonBuilder *b, const DcCloneResult *result, gboolean made)
{
  json_builder_set_member_name (b, "source");
  json_builder_begin_object (b);
  dc_output_json_string (b, "name", result->source);
  dc_output_json_string (b, "uuid", result->source_uuid);
  if (made)
    {
      json_builder_set_member_name (b, "counter");
      json_builder_add_int_value (b, (gint64) result->counter);
    }
  json_builder_end_object (b);
}

/* "@name": [ the strings of @list ] */
static void
dc_output_json_strings (JsonBuilder *b, const char *name, const GPtrArray *list)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint i = 0; list != NULL && i < list->len; i++)
    dc_output_json_add_string (b, list->pdata[i]);
  json_builder_end_array (b);
}

/* "identity": what --reset-identity did (or, planned, would do) inside
 * the clone's disks; absent without it */
static void
dc_output_json_identity (JsonBuilder *b, const DcReset *reset)
{
  g_autoptr (GPtrArray) disks = g_ptr_array_new ();

  if (reset == NULL)
    return;
  for (guint i = 0; i < reset->disks->len; i++)
    g_ptr_array_add (disks, ((const DcResetDisk *) reset->disks->pdata[i])->target);
  json_builder_set_member_name (b, "identity");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "reset");
  json_builder_add_boolean_value (b, reset->done);
  dc_output_json_string (b, "mode", reset->mode == DC_RESET_TRY ? "try" : "strict");
  dc_output_json_strings (b, "disks", disks);
  dc_output_json_string (b, "hostname", reset->hostname);
  dc_output_json_string (b, "os", reset->os);
  dc_output_json_strings (b, "emptied", reset->emptied);
  dc_output_json_strings (b, "removed", reset->removed);
  dc_output_json_strings (b, "written", reset->written);
  dc_output_json_string (b, "failure", reset->failure);
  json_builder_end_object (b);
}

/* "volumes": the clone's new volumes */
static void
dc_output_json_volumes (JsonBuilder *b, const GPtrArray *volumes)
{
  json_builder_set_member_name (b, "volumes");
  json_builder_begin_array (b);
  for (guint i = 0; volumes != NULL && i < volumes->len; i++)
    {
      const DcResultVolume *v = volumes->pdata[i];

      json_builder_begin_object (b);
      dc_output_json_string (b, "disk", v->disk);
      dc_output_json_string (b, "pool", v->pool);
      dc_output_json_string (b, "name", v->name);
      dc_output_json_string (b, "path", v->path);
      dc_output_json_string (b, "format", v->format);
      dc_output_json_size (b, "capacity", v->capacity);
      dc_output_json_size (b, "allocation", v->allocation);
      dc_output_json_string (b, "backing", v->backing);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

/* "disks": what became of each disk of the source; null when not known */
static void
dc_output_json_disks (JsonBuilder *b, const GPtrArray *disks)
{
  json_builder_set_member_name (b, "disks");
  if (disks == NULL)
    {
      json_builder_add_null_value (b);
      return;
    }
  json_builder_begin_array (b);
  for (guint i = 0; i < disks->len; i++)
    {
      const DcResultDisk *d = disks->pdata[i];

      json_builder_begin_object (b);
      dc_output_json_string (b, "disk", d->disk);
      dc_output_json_string (b, "action", d->action);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

/* The object that describes one clone: "clone", or an element of
 * "clones" */
static void
dc_output_json_clone_object (JsonBuilder *b, const DcCloneResult *result)
{
  json_builder_begin_object (b);
  dc_output_json_string (b, "name", result->name);
  dc_output_json_string (b, "uuid", result->uuid);
  dc_output_json_strings (b, "macs", result->macs);
  dc_output_json_volumes (b, result->volumes);
  dc_output_json_size (b, "memory", result->memory > 0 ? result->memory : -1);
  dc_output_json_size (b, "vcpus", result->vcpus > 0 ? result->vcpus : -1);
  dc_output_json_disks (b, result->disks);
  dc_output_json_string (b, "nvram", result->nvram);
  json_builder_set_member_name (b, "linked");
  json_builder_add_boolean_value (b, result->linked);
  /* --live: how consistent the copy of a running source is; null for a
   * shut-off source */
  dc_output_json_string (b, "live", dc_output_live_name (result->live));
  dc_output_json_identity (b, result->identity);
  /* what the clone keeps of the source's identity: [] when nothing */
  dc_output_json_strings (b, "warnings", result->warnings);
  json_builder_end_object (b);
}

/* The " while it ran (...)" of a success line, "" for a shut-off source */
static const char *
dc_output_live_text (DcLive live)
{
  switch (live)
    {
    case DC_LIVE_CRASH_CONSISTENT:
      return " while it ran (crash-consistent: no guest agent froze its file systems)";
    case DC_LIVE_QUIESCED:
      return " while it ran (its file systems frozen by the guest agent)";
    case DC_LIVE_NO:
      break;
    }
  return "";
}

/* "source" and "clone" of a clone made or planned */
static void
dc_output_json_clone (JsonBuilder *b, const DcCloneResult *result, gboolean made)
{
  dc_output_json_source (b, result, made);
  json_builder_set_member_name (b, "clone");
  dc_output_json_clone_object (b, result);
}

/* "clones": the clones --count made */
static void
dc_output_json_clones (JsonBuilder *b, const GPtrArray *made)
{
  json_builder_set_member_name (b, "clones");
  json_builder_begin_array (b);
  for (guint i = 0; i < made->len; i++)
    dc_output_json_clone_object (b, made->pdata[i]);
  json_builder_end_array (b);
}

/**
 * dc_output_clone:
 * @format: text or JSON
 * @result: the clone made
 *
 * Returns: (transfer full): "Cloned from SOURCE to CLONE.\n", or the
 * JSON object with "changed": true, "source" and "clone"; for a clone
 * that --exist-ok found made, "CLONE already exists, cloned from
 * SOURCE.\n", or the same object with "changed": false
 */
char *
dc_output_clone (DcOutputFormat format, const DcCloneResult *result)
{
  g_autoptr (JsonBuilder) b = NULL;

  if (format == DC_OUTPUT_TEXT && result->existed)
    return g_strdup_printf ("%s already exists, cloned from %s.\n", result->name, result->source);
  if (format == DC_OUTPUT_TEXT)
    return g_strdup_printf ("Cloned from %s to %s%s.\n", result->source, result->name,
                            dc_output_live_text (result->live));
  b = dc_output_json_begin (!result->existed);
  dc_output_json_clone (b, result, TRUE);
  return dc_output_json_end (b);
}

/**
 * dc_output_clones:
 * @format: text or JSON
 * @made: (element-type DcCloneResult): the clones --count made, at
 *   least one
 *
 * Returns: (transfer full): "Cloned from SOURCE to A, B, C.\n", or the
 * JSON object with "changed": true, "source" (its counter after the
 * last clone) and "clones", an array of what "clone" holds for one
 */
char *
dc_output_clones (DcOutputFormat format, const GPtrArray *made)
{
  const DcCloneResult *last = made->pdata[made->len - 1];
  g_autoptr (JsonBuilder) b = NULL;

  if (format == DC_OUTPUT_TEXT)
    {
      g_autoptr (GString) out = g_string_new (NULL);

      g_string_append_printf (out, "Cloned from %s to ", last->source);
      for (guint i = 0; i < made->len; i++)
        g_string_append_printf (out, "%s%s", i > 0 ? ", " : "",
                                ((const DcCloneResult *) made->pdata[i])->name);
      g_string_append_printf (out, "%s.\n", dc_output_live_text (last->live));
      return g_string_free (g_steal_pointer (&out), FALSE);
    }
  b = dc_output_json_begin (TRUE);
  dc_output_json_source (b, last, TRUE);
  dc_output_json_clones (b, made);
  return dc_output_json_end (b);
}

/**
 * dc_output_clones_failure:
 * @format: text or JSON
 * @made: (element-type DcCloneResult): the clones --count made before
 *   the failure
 * @error: the error that ended the run
 *
 * Returns: (transfer full): nothing as text (the error line, which
 * names the clones kept, goes to standard error); as JSON the object
 * with "changed" (whether a clone was made), "source" if one was,
 * "clones" (those made, kept) and "error"
 */
char *
dc_output_clones_failure (DcOutputFormat format, const GPtrArray *made, const GError *error)
{
  g_autoptr (JsonBuilder) b = NULL;

  if (format == DC_OUTPUT_TEXT)
    return g_strdup ("");
  b = dc_output_json_begin (made->len > 0);
  if (made->len > 0)
    dc_output_json_source (b, made->pdata[made->len - 1], TRUE);
  dc_output_json_clones (b, made);
  dc_output_json_error (b, error);
  return dc_output_json_end (b);
}

/**
 * dc_output_print_xml:
 * @format: text or JSON
 * @result: the clone planned by dc_clone_print_xml()
 *
 * Returns: (transfer full): the clone's XML, or the JSON object of a
 * clone made ("changed": false, no allocations, no counter) with
 * "dry_run": true and the XML under "xml". A clone that --exist-ok
 * found made is as dc_output_clone() reports it (the text line; in the
 * object "dry_run": true, its counter and a null "xml"): nothing would
 * be done.
 */
char *
dc_output_print_xml (DcOutputFormat format, const DcCloneResult *result)
{
  g_autoptr (JsonBuilder) b = NULL;

  if (format == DC_OUTPUT_TEXT && result->existed)
    return dc_output_clone (format, result);
  if (format == DC_OUTPUT_TEXT)
    return g_strdup (result->xml);
  b = dc_output_json_begin (FALSE);
  json_builder_set_member_name (b, "dry_run");
  json_builder_add_boolean_value (b, TRUE);
  dc_output_json_clone (b, result, result->existed);
  dc_output_json_string (b, "xml", result->xml);
  return dc_output_json_end (b);
}

/**
 * dc_output_cleanup:
 * @format: text or JSON
 * @source: the source whose leftovers were looked for
 * @removed: (element-type utf8): the clones removed
 * @error: (nullable): why the clean-up stopped, if it did
 *
 * Returns: (transfer full): one line per clone removed (or "Nothing to
 * clean up for SOURCE.\n" when it ended well without finding any), the
 * error going to standard error; or one JSON object with "changed"
 * (whether anything was removed), "source", "removed" and, if it
 * stopped, "error"
 */
char *
dc_output_cleanup (DcOutputFormat format, const char *source, const GPtrArray *removed, const GError *error)
{
  g_autoptr (JsonBuilder) b = NULL;

  if (format == DC_OUTPUT_TEXT)
    {
      g_autoptr (GString) out = g_string_new (NULL);

      for (guint i = 0; i < removed->len; i++)
        g_string_append_printf (out, "Removed %s, left unfinished by a killed run.\n",
                                (const char *) removed->pdata[i]);
      if (removed->len == 0 && error == NULL)
        g_string_append_printf (out, "Nothing to clean up for %s.\n", source);
      return g_string_free (g_steal_pointer (&out), FALSE);
    }
  b = dc_output_json_begin (removed->len > 0);
  json_builder_set_member_name (b, "source");
  json_builder_begin_object (b);
  dc_output_json_string (b, "name", source);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "removed");
  json_builder_begin_array (b);
  for (guint i = 0; i < removed->len; i++)
    dc_output_json_add_string (b, removed->pdata[i]);
  json_builder_end_array (b);
  if (error != NULL)
    dc_output_json_error (b, error);
  return dc_output_json_end (b);
}

/**
 * dc_output_template:
 * @format: text or JSON
 * @result: what --make-template or --unmake-template did
 *
 * Returns: (transfer full): one line saying what changed (or that
 * nothing did), or the JSON object with "changed" and "template":
 * {"name", "uuid", "is_template", "disks"}
 */
char *
dc_output_template (DcOutputFormat format, const DcTemplateResult *result)
{
  g_autoptr (JsonBuilder) b = NULL;

  if (format == DC_OUTPUT_TEXT)
    {
      g_autoptr (GString) disks = g_string_new (NULL);

      for (guint i = 0; i < result->disks->len; i++)
        g_string_append_printf (disks, "%s%s", i > 0 ? ", " : "", (const char *) result->disks->pdata[i]);
      if (!result->changed)
        return g_strdup_printf (result->template ? "%s is a template already; nothing changed.\n"
                                                 : "%s is not a template; nothing changed.\n",
                                result->name);
      if (result->template && result->disks->len > 0)
        return g_strdup_printf ("Made %s a template; read-only now: %s.\n", result->name, disks->str);
      if (result->template)
        return g_strdup_printf ("Made %s a template; it has no writable disk.\n", result->name);
      if (result->disks->len > 0)
        return g_strdup_printf ("%s is no template any more; writable again: %s.\n", result->name,
                                disks->str);
      return g_strdup_printf ("%s is no template any more.\n", result->name);
    }
  b = dc_output_json_begin (result->changed);
  json_builder_set_member_name (b, "template");
  json_builder_begin_object (b);
  dc_output_json_string (b, "name", result->name);
  dc_output_json_string (b, "uuid", result->uuid);
  json_builder_set_member_name (b, "is_template");
  json_builder_add_boolean_value (b, result->template);
  json_builder_set_member_name (b, "disks");
  json_builder_begin_array (b);
  for (guint i = 0; i < result->disks->len; i++)
    dc_output_json_add_string (b, result->disks->pdata[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);
  return dc_output_json_end (b);
}
