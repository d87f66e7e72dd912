/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Live tests, automation: --print-xml against a private libvirtd (see
 * live-fixture.c). --print-xml must change nothing at all, not even for
 * a moment: every storage pool event the daemon sends while it runs is
 * recorded, so a transient pool opened and closed again is caught too.
 * Its XML must be the clone a real run then makes.
 */
#include "config.h"

#include <sys/wait.h>

#include "dc-test-assert.h"
#include "live-auto.h"

#include "dc-metadata.h"
#include "dc-volinfo.h"
#include "dc-xml.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- --print-xml ------------------------------------------------------------ */

/* Runs --print-xml and checks that nothing changed, not even for a
 * moment: no domain, volume or pool, not the source, not the files
 * next to the NVRAM. Returns the printed XML; *@err gets stderr. */
static char *
print_xml_ok (const LiveFixture *f, const char *name, gboolean verbose, char **err)
{
  g_autofree char *before = live_snapshot ();
  g_autofree char *src_before = live_domain_xml (f->src);
  g_autofree char *files_before = list_dir (f->nvram_dir);
  g_autofree char *pool_files_before = list_dir (f->dir);
  g_autofree char *seen = events_take ();
  g_autofree char *after = NULL;
  g_autofree char *src_after = NULL;
  g_autofree char *files_after = NULL;
  g_autofree char *pool_files_after = NULL;
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  char *out = NULL;
  int status;

  if (verbose)
    g_ptr_array_add (args, "-v");
  g_ptr_array_add (args, "--print-xml");
  if (name != NULL)
    {
      g_ptr_array_add (args, "--name");
      g_ptr_array_add (args, (gpointer) name);
    }
  g_ptr_array_add (args, f->src);
  g_ptr_array_add (args, NULL);
  status = dc_test_domclone_argv ((const char *const *) args->pdata, &out, err);
  g_test_message ("exit %d: %s", status, *err);
  g_assert_cmpint (status, ==, 0);

  g_free (seen);
  seen = events_take ();
  g_assert_cmpstr (seen, ==, "");
  after = live_snapshot ();
  g_assert_cmpstr (after, ==, before);
  src_after = live_domain_xml (f->src);
  g_assert_cmpstr (src_after, ==, src_before);
  files_after = list_dir (f->nvram_dir);
  g_assert_cmpstr (files_after, ==, files_before);
  pool_files_after = list_dir (f->dir);
  g_assert_cmpstr (pool_files_after, ==, pool_files_before);
  return out;
}

/* Longer than 60 lines: one scenario, each step starting from what the
 * step before left; it reads best in that order. */
static void
test_live_print_xml (LiveFixture *f, gconstpointer data)
{
  g_autofree char *named = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *src_uuid = NULL;
  g_autofree char *expect = NULL;
  g_autofree char *clone1 = NULL;
  Xml x = { 0 };

  SKIP_WITHOUT_DAEMON ();
  {
    Xml src = { 0 };
    g_autofree char *xml = live_domain_xml (f->src);

    xml_parse (&src, xml);
    src_uuid = xml_get (&src, "/domain/uuid");
    xml_clear (&src);
  }

  /* the default name; with -v the plan on stderr */
  out = print_xml_ok (f, NULL, TRUE, &err);
  clone1 = g_strdup_printf ("%s-clone1", f->src);
  xml_parse (&x, out);
  {
    g_autofree char *name = xml_get (&x, "/domain/name");
    g_autofree char *uuid = xml_get (&x, "/domain/uuid");
    g_autoptr (GPtrArray) macs = dc_xml_nodes (x.ctxt, NULL, "/domain/devices/interface/mac/@address");
    g_autofree char *vda = xml_get (&x, "/domain/devices/disk[target/@dev='vda']/source/@file");
    g_autofree char *vdb_pool = xml_get (&x, "/domain/devices/disk[target/@dev='vdb']/source/@pool");
    g_autofree char *vdb = xml_get (&x, "/domain/devices/disk[target/@dev='vdb']/source/@volume");
    g_autofree char *vdc = xml_get (&x, "/domain/devices/disk[target/@dev='vdc']/source/@file");
    g_autofree char *sda = xml_get (&x, "/domain/devices/disk[target/@dev='sda']/source/@file");
    g_autofree char *nvram = xml_get (&x, "normalize-space(/domain/os/nvram)");
    g_autofree char *origin =
      xml_get (&x, "/domain/metadata/*[local-name()='domclone']/*[local-name()='origin']/@uuid");
    g_autofree char *building =
      xml_get (&x, "count(/domain/metadata/*[local-name()='domclone']/*[local-name()='building'])");
    g_autofree char *want = NULL;

    g_assert_cmpstr (name, ==, clone1);
    g_assert_true (g_uuid_string_is_valid (uuid));
    g_assert_cmpstr (uuid, !=, src_uuid);
    g_assert_cmpuint (macs->len, ==, 1);
    for (guint i = 0; i < macs->len; i++)
      {
        g_autoptr (DcXmlChar) mac = xmlNodeGetContent (macs->pdata[i]);

        g_assert_true (g_str_has_prefix ((const char *) mac, "52:54:00:"));
        g_assert_cmpstr ((const char *) mac, !=, "52:54:00:00:00:01");
      }
    want = g_strdup_printf ("%s/%s.qcow2", f->dir, clone1);
    g_assert_cmpstr (vda, ==, want);
    g_assert_cmpstr (vdb_pool, ==, f->pool);
    g_free (want);
    want = g_strdup_printf ("%s-vdb.raw", clone1);
    g_assert_cmpstr (vdb, ==, want);
    g_free (want);
    want = g_strdup_printf ("%s/shared.raw", f->dir);
    g_assert_cmpstr (vdc, ==, want);
    g_free (want);
    want = g_strdup_printf ("%s/install.iso", f->dir);
    g_assert_cmpstr (sda, ==, want);
    g_free (want);
    want = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, clone1);
    g_assert_cmpstr (nvram, ==, want);
    /* the finished clone's metadata: its origin, no marker */
    g_assert_cmpstr (origin, ==, src_uuid);
    g_assert_cmpstr (building, ==, "0");
  }
  xml_clear (&x);
  /* -v lists the volumes it would create, the NVRAM's included */
  expect = g_strdup_printf ("copy disk 'vda': %s/%s.qcow2 -> %s/%s.qcow2 (%s/%s.qcow2)\n", f->pool, f->src,
                            f->pool, clone1, f->dir, clone1);
  dc_assert_contains (err, expect);
  g_free (expect);
  expect = g_strdup_printf ("copy disk 'vdb': %s/data.raw -> %s/%s-vdb.raw (%s/%s-vdb.raw)\n", f->pool,
                            f->pool, clone1, f->dir, clone1);
  dc_assert_contains (err, expect);
  g_free (expect);
  expect = g_strdup_printf ("/%s_VARS.fd (%s/%s_VARS.fd)\n", clone1, f->nvram_dir, clone1);
  dc_assert_contains (err, "copy the NVRAM: domclone-");
  dc_assert_contains (err, expect);
  dc_assert_contains (err, "share disk 'vdc' (disk)\n");
  g_assert_cmpuint (live_counter_of (f->src), ==, 0);

  /* --name: the clone a real run then makes is the one printed */
  named = g_strdup_printf ("%s-web", f->src);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  out = print_xml_ok (f, named, FALSE, &err);
  g_assert_cmpstr (err, ==, "");
  {
    g_autofree char *planned = xml_storage_summary (out);
    g_autofree char *made = NULL;
    g_autofree char *made_xml = NULL;
    g_autofree char *line = live_clone_ok (f, named);
    g_autofree char *seen = events_take ();

    g_test_message ("planned:\n%s", planned);
    /* the control: a real run opens a temporary pool for the NVRAM,
     * which the event watch sees */
    dc_assert_contains (seen, "started domclone-");
    made_xml = live_domain_xml (named);
    made = xml_storage_summary (made_xml);
    g_assert_cmpstr (made, ==, planned);
  }
  g_assert_cmpuint (live_counter_of (f->src), ==, 1);

  /* the counter moved: the next default name is one higher */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  out = print_xml_ok (f, NULL, FALSE, &err);
  xml_parse (&x, out);
  {
    g_autofree char *name = xml_get (&x, "/domain/name");
    g_autofree char *want = g_strdup_printf ("%s-clone2", f->src);

    g_assert_cmpstr (name, ==, want);
  }
  xml_clear (&x);
}

/* A refusal: --print-xml refuses what a real run refuses, with the same
 * exit status and message, and neither changes anything. "@" stands
 * for the fixture's source. */
typedef struct
{
  const char *label;
  const char *args[4];
  int status;
  const char *err_part;
} PrintXmlRefusal;

static void
assert_both_refuse (const LiveFixture *f, const PrintXmlRefusal *r)
{
  g_autofree char *before = live_snapshot ();
  g_autofree char *seen = events_take ();
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  char *out[2] = { NULL, NULL };
  char *err[2] = { NULL, NULL };
  int status[2];

  for (int real = 0; real < 2; real++)
    {
      g_ptr_array_set_size (args, 0);
      if (!real)
        g_ptr_array_add (args, "--print-xml");
      for (size_t j = 0; r->args[j] != NULL; j++)
        g_ptr_array_add (args, (gpointer) (g_str_equal (r->args[j], "@") ? f->src : r->args[j]));
      g_ptr_array_add (args, NULL);
      status[real] = dc_test_domclone_argv ((const char *const *) args->pdata, &out[real], &err[real]);
      g_test_message ("%s (%s): exit %d: %s", r->label, real ? "real" : "print-xml", status[real], err[real]);
    }
  g_assert_cmpint (status[0], ==, r->status);
  g_assert_cmpint (status[1], ==, r->status);
  g_assert_cmpstr (out[0], ==, "");
  g_assert_cmpstr (err[0], ==, err[1]);
  dc_assert_contains (err[0], r->err_part);
  {
    g_autofree char *after = live_snapshot ();

    g_assert_cmpstr (after, ==, before);
  }
  for (int i = 0; i < 2; i++)
    {
      g_free (out[i]);
      g_free (err[i]);
    }
}

static void
test_live_print_xml_refusals (LiveFixture *f, gconstpointer data)
{
  g_autofree char *taken = NULL;
  g_autoptr (DcDomain) other = NULL;

  SKIP_WITHOUT_DAEMON ();
  taken = g_strdup_printf ("%s-taken", f->src);
  other = live_define_bare_domain (taken);
  {
    const PrintXmlRefusal cases[] = {
      { "missing source", { "no-such-vm", NULL }, 1, "domain 'no-such-vm' not found" },
      { "bad name", { "--name", "1abc", "@", NULL }, 2, "invalid name '1abc'" },
      { "source's own name", { "--name", "@", "@", NULL }, 2, "it is the source's own name" },
      { "existing name", { "--name", taken, "@", NULL }, 1, "already exists" },
    };

    for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
      assert_both_refuse (f, &cases[i]);
  }
  {
    /* a volume in the way of a planned one */
    g_autofree char *leftover = g_strdup_printf ("%s/%s-clone1.qcow2", f->dir, f->src);
    const PrintXmlRefusal r = { "volume exists", { "@", NULL }, 1, "already exists in pool" };

    g_assert_true (g_file_set_contents (leftover, "precious", -1, NULL));
    assert_both_refuse (f, &r);
    g_unlink (leftover);
  }
  {
    g_autoptr (DcDomain) dom = virDomainLookupByName (live_conn, f->src);
    const PrintXmlRefusal r = { "running source", { "@", NULL }, 1, "is running; shut it down first" };

    if (virDomainCreate (dom) < 0)
      g_error ("cannot start the source: %s", virGetLastErrorMessage ());
    assert_both_refuse (f, &r);
    virDomainDestroy (dom);
  }
  {
    /* the NVRAM, outside any pool, looked at without one */
    g_autofree char *nvram = g_strdup_printf ("%s/%s_VARS.fd", f->nvram_dir, f->src);
    const PrintXmlRefusal r = { "NVRAM is a directory", { "@", NULL }, 1, "is a directory, not a file" };

    g_assert_cmpint (g_unlink (nvram), ==, 0);
    g_assert_cmpint (g_mkdir (nvram, 0700), ==, 0);
    assert_both_refuse (f, &r);
    g_rmdir (nvram);
  }
  g_assert_cmpuint (live_counter_of (f->src), ==, 0);
}

/* A source that ran has implicit UEFI variables (firmware='efi', no
 * <nvram>) and TPM state, both outside pools: print-xml plans their
 * copies, opening no pool over their directories. */
static void
test_live_print_xml_tpm_efi (LiveFixture *f, gconstpointer data)
{
  g_autofree char *swtpm = g_find_program_in_path ("swtpm");
  g_autofree char *name = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *seen = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autoptr (DcDomain) dom = NULL;
  const char *args[] = { "-v", "--print-xml", NULL, NULL };
  int status;

  SKIP_WITHOUT_DAEMON ();
  if (swtpm == NULL)
    {
      g_test_skip ("swtpm is not installed");
      return;
    }
  name = g_strdup_printf ("%s-efitpm", f->src);
  xml = g_strdup_printf ("<domain type='qemu'><name>%s</name><memory unit='MiB'>128</memory>"
                         "<os firmware='efi'><type arch='x86_64' machine='q35'>hvm</type></os>"
                         "<features><acpi/></features><devices>"
                         "<tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>"
                         "</devices></domain>",
                         name);
  dom = virDomainDefineXML (live_conn, xml);
  g_assert_nonnull (dom);
  if (virDomainCreate (dom) < 0)
    g_error ("cannot start the source: %s", virGetLastErrorMessage ());
  virDomainDestroy (dom);

  before = live_snapshot ();
  g_free (events_take ());
  args[2] = name;
  status = dc_test_domclone_argv (args, &out, &err);
  g_test_message ("exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 0);
  seen = events_take ();
  g_assert_cmpstr (seen, ==, "");
  after = live_snapshot ();
  g_assert_cmpstr (after, ==, before);
  dc_assert_contains (err, "copy the NVRAM: ");
  dc_assert_contains (err, "copy the TPM state: ");
  g_assert_true (g_str_has_prefix (out, "<domain"));
  virDomainUndefineFlags (dom, VIR_DOMAIN_UNDEFINE_NVRAM | VIR_DOMAIN_UNDEFINE_TPM);
}

int
main (int argc, char **argv)
{
  live_auto_init (&argc, &argv);
  LIVE_TEST ("/live/auto/print-xml/changes-nothing", test_live_print_xml);
  LIVE_TEST ("/live/auto/print-xml/refusals", test_live_print_xml_refusals);
  LIVE_TEST ("/live/auto/print-xml/tpm-efi", test_live_print_xml_tpm_efi);
  return live_auto_run ();
}
