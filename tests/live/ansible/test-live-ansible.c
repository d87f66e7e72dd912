/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live tests, Ansible: contrib/ansible/clone-vm.yml run by ansible-playbook
 * (on localhost, local connection) against the private libvirtd (see
 * live-fixture.c). The first run makes the clone and reports a change,
 * the second finds it (--exist-ok) and reports none, both exiting 0; a
 * name taken by a domain of another origin fails the play. The play
 * recap and task results come as one JSON object from a small stdout
 * callback (tests/ansible/domclone_recap.py) and are parsed with
 * json-glib. Ansible's own files (~/.ansible, its temp dirs) go into a
 * directory of the test, removed at the end.
 */
#include "config.h"

#include "dc-test-assert.h"
#include "live-fixture.h"

#include "dc-cli.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/wait.h>

typedef struct
{
  int status;
  JsonParser *parser;
  JsonObject *root;
} PlayRun;

static void
play_run_clear (PlayRun *run)
{
  g_clear_object (&run->parser);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PlayRun, play_run_clear)

static void
remove_tree (const char *path)
{
  const char *argv[] = { "rm", "-rf", "--", path, NULL };

  dc_test_run_ok (argv);
}

/* Runs the example playbook with HOME and every Ansible directory in
 * @home, for @source, @clone and the test's daemon. */
static void
run_playbook (const char *home, const char *source, const char *clone, PlayRun *run)
{
  g_autofree char *playbook =
    g_test_build_filename (G_TEST_DIST, "..", "contrib", "ansible", "clone-vm.yml", NULL);
  g_autofree char *callbacks = g_test_build_filename (G_TEST_DIST, "ansible", NULL);
  g_autofree char *e_source = g_strdup_printf ("source=%s", source);
  g_autofree char *e_clone = g_strdup_printf ("clone_name=%s", clone);
  g_autofree char *e_uri = g_strdup_printf ("libvirt_uri=%s", g_getenv ("DOMCLONE_TEST_URI"));
  g_autofree char *e_domclone = g_strdup_printf ("domclone=%s", g_getenv ("DOMCLONE"));
  g_autofree char *ansible_home = g_build_filename (home, ".ansible", NULL);
  g_autofree char *local_tmp = g_build_filename (home, ".ansible", "tmp", NULL);
  g_autofree char *remote_tmp = g_build_filename (home, "remote-tmp", NULL);
  g_autofree char *config = g_build_filename (home, "ansible.cfg", NULL);
  const char *argv[] = { "ansible-playbook", "-i",     "localhost,", "-c", "local", "-e",
                         e_source,           "-e",     e_clone,      "-e", e_uri,   "-e",
                         e_domclone,         playbook, NULL };
  g_auto (GStrv) env = g_environ_unsetenv (g_get_environ (), "G_DEBUG");
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  JsonNode *root;
  int wait_status;

  env = g_environ_setenv (env, "HOME", home, TRUE);
  env = g_environ_setenv (env, "ANSIBLE_HOME", ansible_home, TRUE);
  env = g_environ_setenv (env, "ANSIBLE_LOCAL_TEMP", local_tmp, TRUE);
  env = g_environ_setenv (env, "ANSIBLE_REMOTE_TEMP", remote_tmp, TRUE);
  env = g_environ_setenv (env, "ANSIBLE_CALLBACK_PLUGINS", callbacks, TRUE);
  env = g_environ_setenv (env, "ANSIBLE_STDOUT_CALLBACK", "domclone_recap", TRUE);
  env = g_environ_setenv (env, "ANSIBLE_PYTHON_INTERPRETER", "auto_silent", TRUE);
  env = g_environ_setenv (env, "ANSIBLE_RETRY_FILES_ENABLED", "0", TRUE);
  env = g_environ_setenv (env, "ANSIBLE_NOCOLOR", "1", TRUE);
  /* make check runs with LC_ALL=C; Ansible refuses any encoding but UTF-8 */
  env = g_environ_setenv (env, "LC_ALL", "C.UTF-8", TRUE);
  /* an empty one, not the machine's or the user's ansible.cfg */
  g_assert_true (g_file_set_contents (config, "[defaults]\n", -1, NULL));
  env = g_environ_setenv (env, "ANSIBLE_CONFIG", config, TRUE);

  /* the working directory is @home too: Ansible reads ./ansible.cfg */
  g_spawn_sync (home, (char **) argv, env, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &wait_status, &error);
  if (error != NULL && g_error_matches (error, G_SPAWN_ERROR, G_SPAWN_ERROR_NOENT))
    g_error ("ansible-playbook not found (run scripts/install-deps.sh)");
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (wait_status));
  run->status = WEXITSTATUS (wait_status);
  g_test_message ("ansible-playbook: exit %d\nstdout: %s\nstderr: %s", run->status, out, err);

  run->parser = json_parser_new ();
  if (!json_parser_load_from_data (run->parser, out, -1, &error)
      || json_parser_get_root (run->parser) == NULL)
    g_error ("ansible-playbook (exit %d) wrote no JSON recap: %s", run->status, err);
  root = json_parser_get_root (run->parser);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  run->root = json_node_get_object (root);
}

/* The play recap of localhost: "changed", "failures", "ok"... */
static gint64
recap (const PlayRun *run, const char *what)
{
  JsonObject *stats = json_object_get_object_member (run->root, "stats");
  JsonObject *host;

  g_assert_nonnull (stats);
  host = json_object_get_object_member (stats, "localhost");
  g_assert_nonnull (host);
  g_assert_true (json_object_has_member (host, what));
  return json_object_get_int_member (host, what);
}

/* The result of the clone task (the one that ran domclone) */
static JsonObject *
clone_task (const PlayRun *run, const char **status)
{
  JsonArray *tasks = json_object_get_array_member (run->root, "tasks");

  g_assert_nonnull (tasks);
  for (guint i = 0; i < json_array_get_length (tasks); i++)
    {
      JsonObject *task = json_array_get_object_element (tasks, i);

      if (g_str_has_prefix (json_object_get_string_member (task, "name"), "Clone "))
        {
          *status = json_object_get_string_member (task, "status");
          return json_object_get_object_member (task, "result");
        }
    }
  g_error ("no clone task among the results");
  return NULL;
}

/* domclone's own JSON object, from the task's stdout */
static JsonParser *
domclone_json (JsonObject *result)
{
  JsonParser *parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  json_parser_load_from_data (parser, json_object_get_string_member (result, "stdout"), -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  return parser;
}

static gboolean
has_exist_ok (void)
{
  for (const GOptionEntry *e = dc_cli_entries (); e->long_name != NULL; e++)
    if (g_str_equal (e->long_name, "exist-ok"))
      return TRUE;
  return FALSE;
}

static char *
make_home (const LiveFixture *f)
{
  g_autofree char *home = g_strdup_printf ("%s/ansible-%s", live_state_dir, f->src);

  g_assert_cmpint (g_mkdir_with_parents (home, 0700), ==, 0);
  return g_steal_pointer (&home);
}

/* Run 1 clones and reports a change; run 2 changes nothing and
 * succeeds; the clone is there, made from the source.
 *
 * Longer than 60 lines: one scenario, each step starting from what the
 * step before left; it reads best in that order.
 */
static void
test_live_ansible_idempotent (LiveFixture *f, gconstpointer data)
{
  g_autofree char *home = NULL;
  g_autofree char *name = NULL;
  g_autofree char *src_uuid = NULL;
  g_autoptr (JsonParser) first_json = NULL;
  g_autoptr (JsonParser) second_json = NULL;
  g_auto (PlayRun) first = { 0 };
  g_auto (PlayRun) second = { 0 };
  const char *status = NULL;
  JsonObject *result;
  JsonObject *obj;

  SKIP_WITHOUT_DAEMON ();
  /* the playbook needs --exist-ok: a domclone without it fails here */
  g_assert_true (has_exist_ok ());
  home = make_home (f);
  name = g_strdup_printf ("%s-web", f->src);
  {
    g_autoptr (DcDomain) src = virDomainLookupByName (live_conn, f->src);
    char uuid[VIR_UUID_STRING_BUFLEN];

    g_assert_cmpint (virDomainGetUUIDString (src, uuid), ==, 0);
    src_uuid = g_strdup (uuid);
  }

  run_playbook (home, f->src, name, &first);
  g_assert_cmpint (first.status, ==, 0);
  g_assert_cmpint (recap (&first, "changed"), ==, 1);
  g_assert_cmpint (recap (&first, "failures"), ==, 0);
  result = clone_task (&first, &status);
  g_assert_cmpstr (status, ==, "changed");
  first_json = domclone_json (result);
  obj = json_node_get_object (json_parser_get_root (first_json));
  g_assert_true (json_object_get_boolean_member (obj, "changed"));
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (obj, "clone"), "name"), ==,
                   name);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (obj, "source"), "uuid"), ==,
                   src_uuid);

  /* the clone is really there, and records its origin */
  g_assert_true (live_domain_exists (name));
  {
    g_autofree char *xml = live_domain_xml (name);
    dc_assert_contains (xml, src_uuid);
  }

  run_playbook (home, f->src, name, &second);
  g_assert_cmpint (second.status, ==, 0);
  g_assert_cmpint (recap (&second, "changed"), ==, 0);
  g_assert_cmpint (recap (&second, "failures"), ==, 0);
  g_assert_cmpint (recap (&second, "ok"), >=, 1);
  result = clone_task (&second, &status);
  g_assert_cmpstr (status, ==, "ok");
  second_json = domclone_json (result);
  obj = json_node_get_object (json_parser_get_root (second_json));
  g_assert_false (json_object_get_boolean_member (obj, "changed"));
  g_assert_true (live_domain_exists (name));
  /* the playbook's paths: the same on the second run as on the first */
  {
    JsonObject *o1 = json_node_get_object (json_parser_get_root (first_json));
    g_autoptr (JsonGenerator) gen = json_generator_new ();
    g_autofree char *v1 = NULL;
    g_autofree char *v2 = NULL;

    json_generator_set_root (gen,
                             json_object_get_member (json_object_get_object_member (o1, "clone"), "volumes"));
    v1 = json_generator_to_data (gen, NULL);
    json_generator_set_root (
      gen, json_object_get_member (json_object_get_object_member (obj, "clone"), "volumes"));
    v2 = json_generator_to_data (gen, NULL);
    g_assert_cmpstr (v1, !=, "[]");
    g_assert_cmpstr (v2, ==, v1);
  }

  remove_tree (home);
}

/* A name that a domain of another origin holds: the task fails with
 * domclone's error, the play fails, nothing is made. */
static void
test_live_ansible_name_taken (LiveFixture *f, gconstpointer data)
{
  g_autofree char *home = NULL;
  g_autofree char *taken = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autoptr (DcDomain) other = NULL;
  g_autoptr (JsonParser) json = NULL;
  g_auto (PlayRun) run = { 0 };
  const char *status = NULL;
  JsonObject *result;
  JsonObject *obj;

  SKIP_WITHOUT_DAEMON ();
  /* the playbook needs --exist-ok: a domclone without it fails here */
  g_assert_true (has_exist_ok ());
  home = make_home (f);
  taken = g_strdup_printf ("%s-other", f->src);
  other = live_define_bare_domain (taken);
  before = live_snapshot ();

  run_playbook (home, f->src, taken, &run);
  g_assert_cmpint (run.status, !=, 0);
  g_assert_cmpint (recap (&run, "failures"), ==, 1);
  g_assert_cmpint (recap (&run, "changed"), ==, 0);
  result = clone_task (&run, &status);
  g_assert_cmpstr (status, ==, "failed");
  g_assert_cmpint (json_object_get_int_member (result, "rc"), ==, 1);
  json = domclone_json (result);
  obj = json_node_get_object (json_parser_get_root (json));
  g_assert_false (json_object_get_boolean_member (obj, "changed"));
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (obj, "error"), "code"), ==,
                   "name-taken");

  after = live_snapshot ();
  g_assert_cmpstr (after, ==, before);
  remove_tree (home);
}

int
main (int argc, char **argv)
{
  live_init (&argc, &argv);
  LIVE_TEST ("/live/ansible/idempotent", test_live_ansible_idempotent);
  LIVE_TEST ("/live/ansible/name-taken", test_live_ansible_name_taken);
  return live_run ();
}
