/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cloud-init seed rewrite (src/dc-seed.c), without a daemon: the
 * meta-data and network-config rewrites on their own, then whole images
 * built here (with libarchive, and with xorriso where it is installed)
 * rewritten and read back; and images that are cut short or garbage,
 * which must give an error, not a crash.
 */
#include "config.h"

#include "dc-test-assert.h"
#include "dc-seed.h"
#include "seed-iso.h"

#include <json-glib/json-glib.h>

#include <glib/gstdio.h>
#include <string.h>

#define CLONE_UUID "7e843750-49f8-47a5-a770-e5884118b586"

static const char *const macs_from[] = { "52:54:00:7a:c0:11", "52:54:00:7a:c0:12", NULL };
static const char *const macs_to[] = { "52:54:00:aa:bb:01", "52:54:00:aa:bb:02", NULL };

static const DcCloudinitRewrite rewrite = {
  .source_name = "cloudy",
  .clone_name = "cloudy_2.b",
  .clone_uuid = CLONE_UUID,
  .hostname = "cloudy-2-b",
  .macs_from = macs_from,
  .macs_to = macs_to,
};

static char *
meta_data (const char *in, GError **error)
{
  gsize len = 0;
  char *out = dc_seed_meta_data (in, strlen (in), &rewrite, &len, error);

  if (out != NULL)
    g_assert_cmpuint (strlen (out), ==, len);
  return out;
}

static void
test_seed_meta_data_yaml (void)
{
  static const struct
  {
    const char *in;
    const char *out;
  } cases[] = {
    /* the usual: both keys rewritten, others kept */
    { "instance-id: cloudy\nlocal-hostname: cloudy\n",
      "instance-id: cloudy_2.b\nlocal-hostname: cloudy-2-b\n" },
    /* an instance-id without the source's name: the clone's UUID */
    { "instance-id: iid-local01\nlocal-hostname: web\nplatform: x\n",
      "instance-id: " CLONE_UUID "\nlocal-hostname: cloudy-2-b\nplatform: x\n" },
    /* quotes and comments kept, hostname rewritten when present */
    { "# seed\n\"instance-id\": 'cloudy-01' # first\nhostname: \"old\"\nlocal-hostname:   cloudy  # name\n",
      "# seed\n\"instance-id\": 'cloudy_2.b-01' # first\nhostname: \"cloudy-2-b\"\nlocal-hostname:   cloudy-2-b # name\n" },
    /* missing keys added, after a last line without newline */
    { "platform: x", "platform: x\ninstance-id: " CLONE_UUID "\nlocal-hostname: cloudy-2-b\n" },
    { "", "instance-id: " CLONE_UUID "\nlocal-hostname: cloudy-2-b\n" },
    /* ... before the document end marker */
    { "---\ninstance-id: cloudy\n...\n", "---\ninstance-id: cloudy_2.b\nlocal-hostname: cloudy-2-b\n...\n" },
    /* nested keys of the same name are not top-level: kept */
    { "instance-id: cloudy\nlocal-hostname: cloudy\nnetwork:\n  hostname: keep\n  instance-id: keep\n",
      "instance-id: cloudy_2.b\nlocal-hostname: cloudy-2-b\nnetwork:\n  hostname: keep\n  instance-id: keep\n" },
    /* a block scalar and a value on the next line: replaced, lines below dropped */
    { "instance-id: |\n  cloudy\n  more\nlocal-hostname:\n  cloudy\nafter: 1\n",
      "instance-id: " CLONE_UUID "\nlocal-hostname: cloudy-2-b\nafter: 1\n" },
    /* CRLF line ends kept */
    { "instance-id: cloudy\r\nlocal-hostname: cloudy\r\n",
      "instance-id: cloudy_2.b\r\nlocal-hostname: cloudy-2-b\r\n" },
    /* keys that only start like ours are others */
    { "instance-ids: a\nhostnames: b\n",
      "instance-ids: a\nhostnames: b\ninstance-id: " CLONE_UUID "\nlocal-hostname: cloudy-2-b\n" },
    /* MAC addresses in meta-data (network-interfaces) replaced too */
    { "instance-id: cloudy\nlocal-hostname: c\nnetwork-interfaces: |\n  hwaddress ether 52:54:00:7A:C0:11\n",
      "instance-id: cloudy_2.b\nlocal-hostname: cloudy-2-b\nnetwork-interfaces: |\n  hwaddress ether 52:54:00:AA:BB:01\n" },
  };

  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *out = meta_data (cases[i].in, &error);

      g_test_message ("case %zu", i);
      g_assert_no_error (error);
      g_assert_cmpstr (out, ==, cases[i].out);
    }
}

static void
test_seed_meta_data_json (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *out = meta_data (
    "  {\"instance-id\": \"cloudy\", \"hostname\": \"x\", \"public-keys\": [\"ssh-ed25519 AAA\"]}", &error);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *obj;

  g_assert_no_error (error);
  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  obj = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (obj, "instance-id"), ==, "cloudy_2.b");
  g_assert_cmpstr (json_object_get_string_member (obj, "local-hostname"), ==, "cloudy-2-b");
  g_assert_cmpstr (json_object_get_string_member (obj, "hostname"), ==, "cloudy-2-b");
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (obj, "public-keys"), 0), ==,
                   "ssh-ed25519 AAA");
}

/* What the line rewrite cannot read is refused, never guessed at. */
static void
test_seed_meta_data_refused (void)
{
  static const char *const cases[] = {
    "{instance-id: cloudy, local-hostname: cloudy}\n", /* a YAML flow mapping */
    "[1, 2]\n",
    "instance-id: &iid cloudy\n",
    "local-hostname: !!str cloudy\n",
    "instance-id: \"cloudy\n  continued\"\n",
  };

  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *out = meta_data (cases[i], &error);

      g_test_message ("case %zu: %s", i, error ? error->message : "accepted");
      g_assert_null (out);
      g_assert_error (error, DC_ERROR, DC_ERROR_UNSUPPORTED);
      dc_assert_contains (error->message, "meta-data");
    }
}

static void
test_seed_macs (void)
{
  static const char in[] = "version: 2\n"
                           "ethernets:\n"
                           "  a: {match: {macaddress: '52:54:00:7a:c0:11'}}\n"
                           "  b: {match: {macaddress: \"52:54:00:7A:C0:12\"}}\n"
                           "  c: {match: {macaddress: 52:54:00:7a:c0:13}}\n"
                           "  d: 152:54:00:7a:c0:11 52:54:00:7a:c0:11:ff x52:54:00:7a:c0:11\n";
  static const char want[] = "version: 2\n"
                             "ethernets:\n"
                             "  a: {match: {macaddress: '52:54:00:aa:bb:01'}}\n"
                             "  b: {match: {macaddress: \"52:54:00:AA:BB:02\"}}\n"
                             "  c: {match: {macaddress: 52:54:00:7a:c0:13}}\n"
                             "  d: 152:54:00:7a:c0:11 52:54:00:7a:c0:11:ff x52:54:00:aa:bb:01\n";
  gsize len = 0;
  g_autofree char *out = dc_cloudinit_replace_macs (in, strlen (in), &rewrite, &len);

  g_assert_cmpstr (out, ==, want);
  g_assert_cmpuint (len, ==, strlen (want));
}

static void
test_seed_pvd_label (void)
{
  guint8 pvd[DC_CLOUDINIT_PVD_SIZE] = { 1, 'C', 'D', '0', '0', '1', 1 };
  g_autofree char *label = NULL;

  memset (pvd + 40, ' ', 32);
  memcpy (pvd + 40, "cidata", 6);
  label = dc_cloudinit_pvd_label (pvd, sizeof (pvd));
  g_assert_cmpstr (label, ==, "cidata");
  g_assert_true (dc_cloudinit_label_is_cidata (label));
  g_assert_true (dc_cloudinit_label_is_cidata ("CIDATA"));
  g_assert_false (dc_cloudinit_label_is_cidata ("cidata2"));
  g_assert_false (dc_cloudinit_label_is_cidata (NULL));
  pvd[1] = 'X';
  g_assert_null (dc_cloudinit_pvd_label (pvd, sizeof (pvd)));
  g_assert_null (dc_cloudinit_pvd_label (pvd, 10));
}

/* user-data with bytes that must pass untouched: a MAC of the source,
 * a NUL, CRLF, non-ASCII */
static const char user_data[] =
  "#cloud-config\r\n# 52:54:00:7a:c0:11 stays here\r\nhostname: cloudy\r\n\xc3\xa9\x01\n";

static const char *const seed_files[] = {
  "meta-data",
  "instance-id: cloudy\nlocal-hostname: cloudy\n",
  "user-data",
  user_data,
  "vendor-data",
  "",
  "network-config",
  "version: 1\nconfig:\n  - type: physical\n    name: eth0\n    mac_address: '52:54:00:7A:C0:11'\n"
  "  - type: physical\n    name: eth1\n    mac_address: '52:54:00:7a:c0:12'\n",
  "scripts/per-boot-with-a-long-name.sh",
  "#!/bin/sh\necho 52:54:00:7a:c0:12\n",
  NULL,
};

/* Checks that @fresh is @seed_files rewritten, under @label. */
static void
check_rewritten (GBytes *fresh, const char *label)
{
  g_autofree char *got_label = NULL;
  g_autoptr (GHashTable) files = seed_iso_read (fresh, &got_label);

  g_assert_cmpstr (got_label, ==, label);
  g_assert_cmpuint (g_hash_table_size (files), ==, 5);
  g_assert_cmpstr (g_hash_table_lookup (files, "meta-data"), ==,
                   "instance-id: cloudy_2.b\nlocal-hostname: cloudy-2-b\n");
  g_assert_cmpstr (g_hash_table_lookup (files, "user-data"), ==, user_data);
  g_assert_cmpstr (g_hash_table_lookup (files, "vendor-data"), ==, "");
  g_assert_cmpstr (
    g_hash_table_lookup (files, "network-config"), ==,
    "version: 1\nconfig:\n  - type: physical\n    name: eth0\n    mac_address: '52:54:00:AA:BB:01'\n"
    "  - type: physical\n    name: eth1\n    mac_address: '52:54:00:aa:bb:02'\n");
  /* only the files cloud-init reads at the top are rewritten */
  g_assert_cmpstr (g_hash_table_lookup (files, "scripts/per-boot-with-a-long-name.sh"), ==,
                   "#!/bin/sh\necho 52:54:00:7a:c0:12\n");
}

static void
test_seed_iso_round_trip (void)
{
  static const char *const labels[] = { "cidata", "CIDATA" };

  for (size_t i = 0; i < G_N_ELEMENTS (labels); i++)
    {
      g_autoptr (GBytes) iso = seed_iso_build (labels[i], seed_files);
      g_autoptr (GBytes) copy = g_bytes_new (g_bytes_get_data (iso, NULL), g_bytes_get_size (iso));
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) fresh = dc_seed_rewrite (iso, &rewrite, &error);

      g_assert_no_error (error);
      g_assert_nonnull (fresh);
      check_rewritten (fresh, labels[i]);
      /* the input is only read */
      g_assert_true (g_bytes_equal (iso, copy));
      /* and the result is a seed in turn, for a clone of the clone */
      {
        DcCloudinitRewrite next = rewrite;
        g_autoptr (GBytes) again = NULL;
        g_autoptr (GHashTable) files = NULL;
        g_autofree char *label = NULL;

        next.source_name = "cloudy_2.b";
        next.clone_name = "cloudy_2.b-clone1";
        next.macs_from = macs_to;
        next.macs_to = macs_from;
        again = dc_seed_rewrite (fresh, &next, &error);
        g_assert_no_error (error);
        files = seed_iso_read (again, &label);
        g_assert_cmpstr (label, ==, labels[i]);
        g_assert_cmpstr (g_hash_table_lookup (files, "meta-data"), ==,
                         "instance-id: cloudy_2.b-clone1\nlocal-hostname: cloudy-2-b\n");
        g_assert_cmpstr (g_hash_table_lookup (files, "user-data"), ==, user_data);
        g_assert_cmpstr (g_hash_table_lookup (files, "network-config"), ==, seed_files[7]);
      }
    }
}

/* A seed without meta-data gets one. */
static void
test_seed_iso_meta_data_made (void)
{
  static const char *const files[] = { "user-data", "#cloud-config\n", NULL };
  g_autoptr (GBytes) iso = seed_iso_build ("cidata", files);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) fresh = dc_seed_rewrite (iso, &rewrite, &error);
  g_autoptr (GHashTable) got = NULL;

  g_assert_no_error (error);
  got = seed_iso_read (fresh, NULL);
  g_assert_cmpstr (g_hash_table_lookup (got, "meta-data"), ==,
                   "instance-id: " CLONE_UUID "\nlocal-hostname: cloudy-2-b\n");
  g_assert_cmpstr (g_hash_table_lookup (got, "user-data"), ==, "#cloud-config\n");
}

/* An image made by another tool, the way users make seeds (cloud-localds
 * and virt-install run genisoimage or xorriso), read back by xorriso too:
 * the names cloud-init looks for are there, through Rock Ridge.
 *
 * Longer than 60 lines: one input and every check of what it becomes,
 * side by side.
 */
static void
test_seed_iso_xorriso (void)
{
  g_autofree char *xorriso = g_find_program_in_path ("xorriso");
  g_autofree char *dir = NULL;
  g_autofree char *in_iso = NULL;
  g_autofree char *out_iso = NULL;
  g_autofree char *listing = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) fresh = NULL;
  g_autoptr (GBytes) iso = NULL;
  char *data = NULL;
  gsize len = 0;
  int status = 0;

  if (xorriso == NULL)
    {
      g_test_skip ("xorriso is not installed");
      return;
    }
  /* the isolated cache dir goes with the test */
  dir = g_build_filename (g_get_user_cache_dir (), "xorriso", NULL);
  for (guint i = 0; seed_files[i] != NULL; i += 2)
    {
      g_autofree char *path = g_build_filename (dir, "files", seed_files[i], NULL);
      g_autofree char *parent = g_path_get_dirname (path);

      g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
      g_file_set_contents (path, seed_files[i + 1], -1, &error);
      g_assert_no_error (error);
    }
  in_iso = g_build_filename (dir, "in.iso", NULL);
  out_iso = g_build_filename (dir, "out.iso", NULL);
  {
    g_autofree char *files = g_build_filename (dir, "files", NULL);
    const char *argv[] = { xorriso, "-as",    "mkisofs", "-quiet", "-o",  in_iso,
                           "-V",    "cidata", "-J",      "-r",     files, NULL };

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                  NULL, NULL, NULL, &status, &error);
    g_assert_no_error (error);
    g_assert_cmpint (status, ==, 0);
  }
  g_file_get_contents (in_iso, &data, &len, &error);
  g_assert_no_error (error);
  iso = g_bytes_new_take (data, len);
  fresh = dc_seed_rewrite (iso, &rewrite, &error);
  g_assert_no_error (error);
  check_rewritten (fresh, "cidata");

  g_file_set_contents (out_iso, g_bytes_get_data (fresh, NULL), (gssize) g_bytes_get_size (fresh), &error);
  g_assert_no_error (error);
  {
    const char *argv[] = { xorriso, "-indev", out_iso, "-find", "/", "-type", "f", NULL };

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &listing, NULL, &status,
                  &error);
    g_assert_no_error (error);
    g_assert_cmpint (status, ==, 0);
  }
  g_test_message ("xorriso lists:\n%s", listing);
  dc_assert_contains (listing, "'/meta-data'");
  dc_assert_contains (listing, "'/network-config'");
  dc_assert_contains (listing, "'/vendor-data'");
  dc_assert_contains (listing, "'/scripts/per-boot-with-a-long-name.sh'");
}

/* Whatever the bytes, an error or an image: never a crash (run it under
 * ASan: ../configure --enable-sanitizers).
 *
 * Longer than 60 lines: a list of damaged images, each refused the
 * same way.
 */
static void
test_seed_iso_bad_input (void)
{
  g_autoptr (GBytes) iso = seed_iso_build ("cidata", seed_files);
  gsize len = g_bytes_get_size (iso);
  const guint8 *data = g_bytes_get_data (iso, NULL);
  g_autoptr (GRand) rand = g_rand_new_with_seed (9);
  guint refused = 0;

  /* garbage, and nothing */
  {
    g_autofree guint8 *junk = g_malloc (len);
    g_autoptr (GBytes) bytes = NULL;
    g_autoptr (GBytes) empty = g_bytes_new (NULL, 0);
    g_autoptr (GError) error = NULL;
    g_autoptr (GError) error2 = NULL;

    for (gsize i = 0; i < len; i++)
      junk[i] = (guint8) g_rand_int (rand);
    bytes = g_bytes_new (junk, len);
    g_assert_null (dc_seed_rewrite (bytes, &rewrite, &error));
    g_assert_error (error, DC_ERROR, DC_ERROR_FAILED);
    g_assert_null (dc_seed_rewrite (empty, &rewrite, &error2));
    g_assert_nonnull (error2);
  }
  /* cut short anywhere: past the descriptors, the files are missing */
  for (gsize cut = 0; cut < len; cut += 1 + g_rand_int_range (rand, 0, 4096))
    {
      g_autoptr (GBytes) part = g_bytes_new_from_bytes (iso, 0, cut);
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) out = dc_seed_rewrite (part, &rewrite, &error);

      g_assert_true ((out == NULL) != (error == NULL));
      refused += out == NULL;
    }
  g_assert_cmpuint (refused, >, 0);
  /* bytes flipped at random */
  for (guint round = 0; round < 200; round++)
    {
      g_autofree guint8 *bent = g_memdup2 (data, len);
      g_autoptr (GBytes) bytes = NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) out = NULL;

      for (guint k = 0; k < 8; k++)
        {
          /* mostly in the descriptors and directories, where it hurts */
          gsize at = g_rand_boolean (rand)
                       ? (gsize) g_rand_int_range (rand, 32768, (gint32) MIN (len, 32768 + 8 * 2048))
                       : (gsize) g_rand_int_range (rand, 0, (gint32) len);
          bent[at] = (guint8) g_rand_int (rand);
        }
      bytes = g_bytes_new (bent, len);
      out = dc_seed_rewrite (bytes, &rewrite, &error);
      g_assert_true ((out == NULL) != (error == NULL));
    }
  /* too big to be a seed */
  {
    g_autoptr (GBytes) big =
      g_bytes_new_take (g_malloc0 (DC_CLOUDINIT_MAX_SIZE + 1), DC_CLOUDINIT_MAX_SIZE + 1);
    g_autoptr (GError) error = NULL;

    g_assert_null (dc_seed_rewrite (big, &rewrite, &error));
    g_assert_error (error, DC_ERROR, DC_ERROR_UNSUPPORTED);
  }
}

/* An image whose descriptors claim more than it holds is refused before
 * libarchive reads it: it would reserve what a directory claims (here
 * 4 GiB for a seed of a few KiB). */
static void
test_seed_iso_claims_too_much (void)
{
  /* the root directory's size, then the volume's, each in both halves */
  static const struct
  {
    gsize at;
    guint32 value;
  } lies[] = { { 32768 + 156 + 10, 0xffff9000u }, { 32768 + 80, 0x00100000u } };

  for (gsize i = 0; i < G_N_ELEMENTS (lies); i++)
    {
      g_autoptr (GBytes) iso = seed_iso_build ("cidata", seed_files);
      gsize len = g_bytes_get_size (iso);
      g_autofree guint8 *bent = g_memdup2 (g_bytes_get_data (iso, NULL), len);
      g_autoptr (GBytes) bytes = NULL;
      g_autoptr (GError) error = NULL;
      guint32 le = GUINT32_TO_LE (lies[i].value);
      guint32 be = GUINT32_TO_BE (lies[i].value);

      memcpy (bent + lies[i].at, &le, 4);
      memcpy (bent + lies[i].at + 4, &be, 4);
      bytes = g_bytes_new (bent, len);
      g_assert_null (dc_seed_rewrite (bytes, &rewrite, &error));
      g_assert_error (error, DC_ERROR, DC_ERROR_FAILED);
      g_assert_nonnull (strstr (error->message, "claims more than the image's"));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_add_func ("/seed/meta-data/yaml", test_seed_meta_data_yaml);
  g_test_add_func ("/seed/meta-data/json", test_seed_meta_data_json);
  g_test_add_func ("/seed/meta-data/refused", test_seed_meta_data_refused);
  g_test_add_func ("/seed/macs", test_seed_macs);
  g_test_add_func ("/seed/pvd-label", test_seed_pvd_label);
  g_test_add_func ("/seed/iso/round-trip", test_seed_iso_round_trip);
  g_test_add_func ("/seed/iso/meta-data-made", test_seed_iso_meta_data_made);
  g_test_add_func ("/seed/iso/xorriso", test_seed_iso_xorriso);
  g_test_add_func ("/seed/iso/bad-input", test_seed_iso_bad_input);
  g_test_add_func ("/seed/iso/claims-too-much", test_seed_iso_claims_too_much);
  return g_test_run ();
}
