/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The shapes of what domclone prints (dc-output.c), without a daemon:
 * each result and error is built by hand and the exact text and JSON
 * compared, byte for byte. The JSON keys and error codes are an
 * interface (domclone(1)): a change here is a change for every script.
 */
#include "config.h"

#include "dc-output.h"

#include <gio/gio.h>
#include <string.h>

static DcResultVolume *
volume_new (const char *disk, const char *name, const char *backing)
{
  DcResultVolume *v = g_new0 (DcResultVolume, 1);

  v->disk = g_strdup (disk);
  v->pool = g_strdup ("default");
  v->name = g_strdup (name);
  v->path = g_strdup_printf ("/var/lib/libvirt/images/%s", name);
  v->format = g_strdup ("qcow2");
  v->capacity = 1073741824;
  v->allocation = 196616;
  v->backing = g_strdup (backing);
  return v;
}

/* The clone "src-clone@N" of "src", with one disk, one MAC, an NVRAM file
 * and one warning */
static DcCloneResult *
clone_new (guint64 counter)
{
  DcCloneResult *r = g_new0 (DcCloneResult, 1);

  r->source = g_strdup ("src");
  r->source_uuid = g_strdup ("11111111-2222-3333-4444-555555555555");
  r->name = g_strdup_printf ("src-clone%" G_GUINT64_FORMAT, counter);
  r->uuid = g_strdup ("66666666-7777-8888-9999-000000000000");
  r->counter = counter;
  r->macs = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (r->macs, g_strdup ("52:54:00:12:34:56"));
  r->volumes = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_result_volume_free);
  g_ptr_array_add (r->volumes, volume_new ("vda", "src-clone.qcow2", NULL));
  r->nvram = g_strdup ("/var/lib/libvirt/qemu/nvram/src-clone_VARS.fd");
  r->warnings = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (r->warnings, g_strdup ("the clone keeps the serial 'S1'"));
  return r;
}

#define VOLUME_JSON                                                                                          \
  "{\"disk\":\"vda\",\"pool\":\"default\",\"name\":\"src-clone.qcow2\","                                     \
  "\"path\":\"/var/lib/libvirt/images/src-clone.qcow2\",\"format\":\"qcow2\",\"capacity\":1073741824,"       \
  "\"allocation\":196616,\"backing\":null}"
#define SOURCE_JSON(counter)                                                                                 \
  "\"source\":{\"name\":\"src\",\"uuid\":\"11111111-2222-3333-4444-555555555555\",\"counter\":" counter "}"
#define CLONE_JSON(name)                                                                                         \
  "{\"name\":\"" name                                                                                            \
  "\",\"uuid\":\"66666666-7777-8888-9999-000000000000\",\"macs\":[\"52:54:00:12:34:56\"],"                       \
  "\"volumes\":[" VOLUME_JSON                                                                                    \
  "],\"memory\":null,\"vcpus\":null,\"disks\":null,\"nvram\":\"/var/lib/libvirt/qemu/nvram/src-clone_VARS.fd\"," \
  "\"linked\":false,\"live\":null,\"warnings\":[\"the clone keeps the serial 'S1'\"]}"

static void
assert_output (char *got, const char *expected)
{
  g_autofree char *owned = got;

  g_assert_cmpstr (owned, ==, expected);
}

static void
test_output_error_line (void)
{
  g_autoptr (GError) error = g_error_new (DC_ERROR, DC_ERROR_NAME_TAKEN, "the name 'a\nb\tc' is taken");

  /* one line whatever the message holds */
  assert_output (dc_output_error_line (error), "domclone: the name 'a b c' is taken\n");
}

static void
test_output_failure (void)
{
  g_autoptr (GError) error = g_error_new (DC_ERROR, DC_ERROR_SOURCE_NOT_FOUND, "no domain 'x\ny'");

  assert_output (dc_output_failure (DC_OUTPUT_TEXT, error), "");
  assert_output (
    dc_output_failure (DC_OUTPUT_JSON, error),
    "{\"changed\":false,\"error\":{\"code\":\"source-not-found\",\"message\":\"no domain 'x y'\"}}\n");
}

static void
test_output_warnings (void)
{
  g_autoptr (DcCloneResult) r = clone_new (1);
  g_autoptr (DcCloneResult) none = clone_new (1);

  g_ptr_array_add (r->warnings, g_strdup ("a\rb"));
  assert_output (dc_output_warning_lines (r),
                 "domclone: warning: the clone keeps the serial 'S1'\ndomclone: warning: a b\n");
  g_clear_pointer (&none->warnings, g_ptr_array_unref);
  assert_output (dc_output_warning_lines (none), "");
}

static void
test_output_clone (void)
{
  g_autoptr (DcCloneResult) r = clone_new (3);

  assert_output (dc_output_clone (DC_OUTPUT_TEXT, r), "Cloned from src to src-clone3.\n");
  assert_output (dc_output_clone (DC_OUTPUT_JSON, r),
                 "{\"changed\":true," SOURCE_JSON ("3") ",\"clone\":" CLONE_JSON ("src-clone3") "}\n");
}

/* --live: the line and "live" say how consistent the copy is */
static void
test_output_clone_live (void)
{
  g_autoptr (DcCloneResult) r = clone_new (3);
  g_autoptr (GPtrArray) made = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_result_free);
  g_autofree char *json = NULL;

  r->live = DC_LIVE_CRASH_CONSISTENT;
  assert_output (
    dc_output_clone (DC_OUTPUT_TEXT, r),
    "Cloned from src to src-clone3 while it ran (crash-consistent: no guest agent froze its file systems).\n");
  json = dc_output_clone (DC_OUTPUT_JSON, r);
  g_assert_nonnull (strstr (json, ",\"live\":\"crash-consistent\","));
  r->live = DC_LIVE_QUIESCED;
  assert_output (
    dc_output_clone (DC_OUTPUT_TEXT, r),
    "Cloned from src to src-clone3 while it ran (its file systems frozen by the guest agent).\n");
  g_clear_pointer (&json, g_free);
  json = dc_output_clone (DC_OUTPUT_JSON, r);
  g_assert_nonnull (strstr (json, ",\"live\":\"quiesced\","));
  g_ptr_array_add (made, clone_new (1));
  g_ptr_array_add (made, g_steal_pointer (&r));
  assert_output (
    dc_output_clones (DC_OUTPUT_TEXT, made),
    "Cloned from src to src-clone1, src-clone3 while it ran (its file systems frozen by the guest agent).\n");
}

/* --exist-ok found it made: nothing changed */
static void
test_output_clone_existed (void)
{
  g_autoptr (DcCloneResult) r = clone_new (3);

  r->existed = TRUE;
  g_ptr_array_set_size (r->volumes, 0);
  g_ptr_array_set_size (r->warnings, 0);
  assert_output (dc_output_clone (DC_OUTPUT_TEXT, r), "src-clone3 already exists, cloned from src.\n");
  assert_output (
    dc_output_clone (DC_OUTPUT_JSON, r),
    "{\"changed\":false," SOURCE_JSON (
      "3") ",\"clone\":{\"name\":\"src-clone3\",\"uuid\":\"66666666-7777-8888-9999-000000000000\","
           "\"macs\":[\"52:54:00:12:34:56\"],\"volumes\":[],"
           "\"memory\":null,\"vcpus\":null,\"disks\":null,\"nvram\":\"/var/lib/libvirt/qemu/nvram/src-clone_VARS.fd\",\"linked\":false,\"live\":null,"
           "\"warnings\":[]}}\n");
}

/* a linked clone: the overlay names its backing file; unknown sizes,
 * paths and formats are null */
/* a shaped clone: its memory, vCPUs and what became of each disk */
static void
test_output_clone_shaped (void)
{
  g_autoptr (DcCloneResult) r = clone_new (2);
  static const char *const disks[][2] = { { "vda", "copy" }, { "vdb", "share" }, { "vdc", "skip" } };

  r->memory = 2147483648;
  r->vcpus = 4;
  r->disks = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_result_disk_free);
  for (size_t i = 0; i < G_N_ELEMENTS (disks); i++)
    {
      DcResultDisk *d = g_new0 (DcResultDisk, 1);

      d->disk = g_strdup (disks[i][0]);
      d->action = g_strdup (disks[i][1]);
      g_ptr_array_add (r->disks, d);
    }
  g_ptr_array_set_size (r->warnings, 0);
  assert_output (
    dc_output_clone (DC_OUTPUT_JSON, r),
    "{\"changed\":true," SOURCE_JSON (
      "2") ",\"clone\":{\"name\":\"src-clone2\",\"uuid\":\"66666666-7777-8888-9999-000000000000\","
           "\"macs\":[\"52:54:00:12:34:56\"],\"volumes\":[" VOLUME_JSON "],\"memory\":2147483648,"
           "\"vcpus\":4,\"disks\":[{\"disk\":\"vda\",\"action\":\"copy\"},{\"disk\":\"vdb\","
           "\"action\":\"share\"},{\"disk\":\"vdc\",\"action\":\"skip\"}],"
           "\"nvram\":\"/var/lib/libvirt/qemu/nvram/src-clone_VARS.fd\",\"linked\":false,\"live\":null,\"warnings\":[]}}\n");
}

static void
test_output_clone_linked (void)
{
  g_autoptr (DcCloneResult) r = clone_new (1);
  DcResultVolume *v = volume_new ("vdb", "o.qcow2", "/t/base.qcow2");

  r->linked = TRUE;
  g_clear_pointer (&r->nvram, g_free);
  g_clear_pointer (&v->path, g_free);
  g_clear_pointer (&v->format, g_free);
  v->capacity = -1;
  v->allocation = -1;
  g_ptr_array_set_size (r->volumes, 0);
  g_ptr_array_add (r->volumes, v);
  g_ptr_array_set_size (r->warnings, 0);
  assert_output (
    dc_output_clone (DC_OUTPUT_JSON, r),
    "{\"changed\":true," SOURCE_JSON (
      "1") ",\"clone\":{\"name\":\"src-clone1\",\"uuid\":\"66666666-7777-8888-9999-000000000000\","
           "\"macs\":[\"52:54:00:12:34:56\"],\"volumes\":[{\"disk\":\"vdb\",\"pool\":\"default\","
           "\"name\":\"o.qcow2\",\"path\":null,\"format\":null,\"capacity\":null,\"allocation\":null,"
           "\"backing\":\"/t/base.qcow2\"}],\"memory\":null,\"vcpus\":null,\"disks\":null,\"nvram\":null,\"linked\":true,\"live\":null,\"warnings\":[]}}\n");
}

/* --reset-identity: "identity" after "linked", its lists in order; a
 * failure kept by =try in "failure" */
static void
test_output_clone_identity (void)
{
  g_autoptr (DcCloneResult) r = clone_new (1);
  DcReset *id = dc_reset_new (DC_RESET_STRICT, "src-clone1");
  g_autofree char *out = NULL;

  dc_reset_add_disk (id, "vda", "/var/lib/libvirt/images/src-clone.qcow2", "qcow2");
  id->done = TRUE;
  id->os = g_strdup ("debian 12.5");
  g_ptr_array_add (id->emptied, g_strdup ("/etc/machine-id"));
  g_ptr_array_add (id->removed, g_strdup ("/etc/ssh/ssh_host_rsa_key"));
  g_ptr_array_add (id->written, g_strdup ("/etc/hostname"));
  r->identity = id;
  out = dc_output_clone (DC_OUTPUT_JSON, r);
  g_assert_nonnull (strstr (
    out,
    "\"linked\":false,\"live\":null,\"identity\":{\"reset\":true,\"mode\":\"strict\",\"disks\":[\"vda\"],"
    "\"hostname\":\"src-clone1\",\"os\":\"debian 12.5\",\"emptied\":[\"/etc/machine-id\"],"
    "\"removed\":[\"/etc/ssh/ssh_host_rsa_key\"],\"written\":[\"/etc/hostname\"],\"failure\":null},"
    "\"warnings\":["));
  g_clear_pointer (&out, g_free);
  id->done = FALSE;
  id->mode = DC_RESET_TRY;
  id->failure = g_strdup ("no system");
  out = dc_output_clone (DC_OUTPUT_JSON, r);
  g_assert_nonnull (strstr (out, "\"identity\":{\"reset\":false,\"mode\":\"try\","));
  g_assert_nonnull (strstr (out, "\"failure\":\"no system\"}"));
  g_clear_pointer (&out, g_free);
  /* without the option: no "identity" at all */
  g_clear_pointer (&r->identity, dc_reset_free);
  out = dc_output_clone (DC_OUTPUT_JSON, r);
  g_assert_null (strstr (out, "identity"));
}

/* JSON is UTF-8: a source name in another encoding gets U+FFFD */
static void
test_output_clone_not_utf8 (void)
{
  g_autoptr (DcCloneResult) r = clone_new (1);
  g_autofree char *out = NULL;

  g_free (r->source);
  r->source = g_strdup ("s\xffrc");
  out = dc_output_clone (DC_OUTPUT_JSON, r);
  g_assert_nonnull (strstr (out, "\"source\":{\"name\":\"s\xef\xbf\xbdrc\""));
  g_assert_true (g_utf8_validate (out, -1, NULL));
  /* text goes out as it came in */
  assert_output (dc_output_clone (DC_OUTPUT_TEXT, r), "Cloned from s\xffrc to src-clone1.\n");
}

static void
test_output_clones (void)
{
  g_autoptr (GPtrArray) made = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_result_free);

  g_ptr_array_add (made, clone_new (1));
  g_ptr_array_add (made, clone_new (2));
  assert_output (dc_output_clones (DC_OUTPUT_TEXT, made), "Cloned from src to src-clone1, src-clone2.\n");
  assert_output (dc_output_clones (DC_OUTPUT_JSON, made),
                 "{\"changed\":true," SOURCE_JSON ("2") ",\"clones\":[" CLONE_JSON (
                   "src-clone1") "," CLONE_JSON ("src-clone2") "]}\n");
}

/* --count stopped: the clones made before are kept and listed */
static void
test_output_clones_failure (void)
{
  g_autoptr (GPtrArray) made = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_result_free);
  g_autoptr (GError) error = g_error_new (DC_ERROR, DC_ERROR_NO_SPACE, "no space");

  assert_output (dc_output_clones_failure (DC_OUTPUT_TEXT, made, error), "");
  assert_output (
    dc_output_clones_failure (DC_OUTPUT_JSON, made, error),
    "{\"changed\":false,\"clones\":[],\"error\":{\"code\":\"no-space\",\"message\":\"no space\"}}\n");
  g_ptr_array_add (made, clone_new (1));
  assert_output (dc_output_clones_failure (DC_OUTPUT_TEXT, made, error), "");
  assert_output (dc_output_clones_failure (DC_OUTPUT_JSON, made, error),
                 "{\"changed\":true," SOURCE_JSON ("1") ",\"clones\":[" CLONE_JSON (
                   "src-clone1") "],\"error\":{\"code\":\"no-space\",\"message\":\"no space\"}}\n");
}

static void
test_output_print_xml (void)
{
  g_autoptr (DcCloneResult) r = clone_new (4);

  r->xml = g_strdup ("<domain>\n  <name>src-clone4</name>\n</domain>\n");
  assert_output (dc_output_print_xml (DC_OUTPUT_TEXT, r), "<domain>\n  <name>src-clone4</name>\n</domain>\n");
  /* no counter: nothing was counted */
  assert_output (dc_output_print_xml (DC_OUTPUT_JSON, r),
                 "{\"changed\":false,\"dry_run\":true,\"source\":{\"name\":\"src\","
                 "\"uuid\":\"11111111-2222-3333-4444-555555555555\"},\"clone\":" CLONE_JSON (
                   "src-clone4") ",\"xml\":\"<domain>\\n  <name>src-clone4</name>\\n</domain>\\n\"}\n");
}

/* --print-xml --exist-ok of a clone made: as the clone's own report */
static void
test_output_print_xml_existed (void)
{
  g_autoptr (DcCloneResult) r = clone_new (4);
  g_autofree char *out = NULL;

  r->existed = TRUE;
  assert_output (dc_output_print_xml (DC_OUTPUT_TEXT, r), "src-clone4 already exists, cloned from src.\n");
  out = dc_output_print_xml (DC_OUTPUT_JSON, r);
  g_assert_true (g_str_has_prefix (out, "{\"changed\":false,\"dry_run\":true," SOURCE_JSON ("4") ","));
  g_assert_true (g_str_has_suffix (out, ",\"xml\":null}\n"));
}

static void
test_output_cleanup (void)
{
  g_autoptr (GPtrArray) removed = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = g_error_new (DC_ERROR, DC_ERROR_LIBVIRT, "cannot undefine 'b'");

  assert_output (dc_output_cleanup (DC_OUTPUT_TEXT, "src", removed, NULL), "Nothing to clean up for src.\n");
  assert_output (dc_output_cleanup (DC_OUTPUT_JSON, "src", removed, NULL),
                 "{\"changed\":false,\"source\":{\"name\":\"src\"},\"removed\":[]}\n");
  assert_output (dc_output_cleanup (DC_OUTPUT_TEXT, "src", removed, error), "");
  g_ptr_array_add (removed, g_strdup ("src-clone1"));
  g_ptr_array_add (removed, g_strdup ("src-clone2"));
  assert_output (dc_output_cleanup (DC_OUTPUT_TEXT, "src", removed, NULL),
                 "Removed src-clone1, left unfinished by a killed run.\n"
                 "Removed src-clone2, left unfinished by a killed run.\n");
  assert_output (dc_output_cleanup (DC_OUTPUT_TEXT, "src", removed, error),
                 "Removed src-clone1, left unfinished by a killed run.\n"
                 "Removed src-clone2, left unfinished by a killed run.\n");
  assert_output (
    dc_output_cleanup (DC_OUTPUT_JSON, "src", removed, error),
    "{\"changed\":true,\"source\":{\"name\":\"src\"},\"removed\":[\"src-clone1\",\"src-clone2\"],"
    "\"error\":{\"code\":\"libvirt\",\"message\":\"cannot undefine 'b'\"}}\n");
}

static DcTemplateResult *
template_new (gboolean changed, gboolean is_template, guint disks)
{
  DcTemplateResult *r = g_new0 (DcTemplateResult, 1);

  r->name = g_strdup ("tpl");
  r->uuid = g_strdup ("aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
  r->changed = changed;
  r->template = is_template;
  r->disks = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < disks; i++)
    g_ptr_array_add (r->disks, g_strdup_printf ("vd%c", 'a' + i));
  return r;
}

static void
test_output_template (void)
{
  static const struct
  {
    gboolean changed, is_template;
    guint disks;
    const char *text;
  } cases[] = {
    { FALSE, TRUE, 0, "tpl is a template already; nothing changed.\n" },
    { FALSE, FALSE, 0, "tpl is not a template; nothing changed.\n" },
    { TRUE, TRUE, 2, "Made tpl a template; read-only now: vda, vdb.\n" },
    { TRUE, TRUE, 0, "Made tpl a template; it has no writable disk.\n" },
    { TRUE, FALSE, 1, "tpl is no template any more; writable again: vda.\n" },
    { TRUE, FALSE, 0, "tpl is no template any more.\n" },
  };

  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (DcTemplateResult) r = template_new (cases[i].changed, cases[i].is_template, cases[i].disks);

      assert_output (dc_output_template (DC_OUTPUT_TEXT, r), cases[i].text);
    }
  {
    g_autoptr (DcTemplateResult) r = template_new (TRUE, TRUE, 2);

    assert_output (
      dc_output_template (DC_OUTPUT_JSON, r),
      "{\"changed\":true,\"template\":{\"name\":\"tpl\",\"uuid\":\"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee\","
      "\"is_template\":true,\"disks\":[\"vda\",\"vdb\"]}}\n");
  }
}

/* One table gives each error its JSON code and exit status: 2 for the
 * caller's mistakes, 1 for the rest; errors from outside domclone map
 * to the kind they are */
static void
test_output_error_kinds (void)
{
  static const struct
  {
    DcError code;
    const char *json;
    int status;
  } cases[] = {
    { DC_ERROR_FAILED, "failed", 1 },
    { DC_ERROR_USAGE, "usage", 2 },
    { DC_ERROR_INVALID_NAME, "invalid-name", 2 },
    { DC_ERROR_NAME_TAKEN, "name-taken", 1 },
    { DC_ERROR_NOT_FOUND, "not-found", 1 },
    { DC_ERROR_STATE, "source-running", 1 },
    { DC_ERROR_UNSUPPORTED, "unsupported-disk", 1 },
    { DC_ERROR_XML, "invalid-xml", 1 },
    { DC_ERROR_LIBVIRT, "libvirt", 1 },
    { DC_ERROR_CANCELLED, "interrupted", 1 },
    { DC_ERROR_SOURCE_NOT_FOUND, "source-not-found", 1 },
    { DC_ERROR_VOLUME_EXISTS, "volume-exists", 1 },
    { DC_ERROR_CONNECT, "connect-failed", 1 },
    { DC_ERROR_POOL_NOT_FOUND, "pool-not-found", 1 },
    { DC_ERROR_POOL_INACTIVE, "pool-inactive", 1 },
    { DC_ERROR_IN_PROGRESS, "in-progress", 1 },
    { DC_ERROR_NOT_TEMPLATE, "not-a-template", 1 },
    { DC_ERROR_LINKED_CLONES, "has-linked-clones", 1 },
    { DC_ERROR_NO_SPACE, "no-space", 1 },
    { DC_ERROR_NO_AGENT, "no-guest-agent", 1 },
    { DC_ERROR_NO_BACKUP, "backup-unsupported", 1 },
    { (DcError) 9999, "failed", 1 },
  };

  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = g_error_new (DC_ERROR, cases[i].code, "x");

      g_assert_cmpstr (dc_output_error_code (error), ==, cases[i].json);
      g_assert_cmpint (dc_error_exit_status (error), ==, cases[i].status);
    }
  {
    g_autoptr (GError) option = g_error_new (G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "x");
    g_autoptr (GError) space = g_error_new (G_IO_ERROR, G_IO_ERROR_NO_SPACE, "x");
    g_autoptr (GError) other = g_error_new (G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "x");

    g_assert_cmpstr (dc_output_error_code (option), ==, "usage");
    g_assert_cmpint (dc_error_exit_status (option), ==, 2);
    g_assert_cmpstr (dc_output_error_code (space), ==, "no-space");
    g_assert_cmpint (dc_error_exit_status (space), ==, 1);
    g_assert_cmpstr (dc_output_error_code (other), ==, "failed");
    g_assert_cmpint (dc_error_exit_status (other), ==, 1);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/output/error-line", test_output_error_line);
  g_test_add_func ("/output/failure", test_output_failure);
  g_test_add_func ("/output/warnings", test_output_warnings);
  g_test_add_func ("/output/clone", test_output_clone);
  g_test_add_func ("/output/clone-live", test_output_clone_live);
  g_test_add_func ("/output/clone/identity", test_output_clone_identity);
  g_test_add_func ("/output/clone/existed", test_output_clone_existed);
  g_test_add_func ("/output/clone/linked", test_output_clone_linked);
  g_test_add_func ("/output/clone/shaped", test_output_clone_shaped);
  g_test_add_func ("/output/clone/not-utf8", test_output_clone_not_utf8);
  g_test_add_func ("/output/clones", test_output_clones);
  g_test_add_func ("/output/clones/failure", test_output_clones_failure);
  g_test_add_func ("/output/print-xml", test_output_print_xml);
  g_test_add_func ("/output/print-xml/existed", test_output_print_xml_existed);
  g_test_add_func ("/output/cleanup", test_output_cleanup);
  g_test_add_func ("/output/template", test_output_template);
  g_test_add_func ("/output/error-kinds", test_output_error_kinds);
  return g_test_run ();
}
