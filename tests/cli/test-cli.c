/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The command line: help text, option table, and the installed binary's
 * exit status and output for input that must be refused. Runs without a
 * daemon (the in-process test:/// driver stands in where a connection is
 * needed for control flow only).
 */
#include "config.h"

#include "dc-test-assert.h"
#include "dc-cli.h"
#include "dc-output.h"
#include "dc-test-spawn.h"
#include "dc-util.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char expected_help[] =
  "Usage: domclone [options] <source_name>\n"
  "Create an independent copy of an existing (stopped) domain.\n"
  "\n"
  "Options:\n"
  "  -h, --help                     Displays help on commandline options\n"
  "      --version                  Print \"domclone VERSION\" and exit.\n"
  "  -v, --verbose                  Increase logging verbosity. Repeat the 'v' in\n"
  "                                 the short option for more detail. Maximum\n"
  "                                 verbosity is obtained with 4 (or more) v's,\n"
  "                                 i.e. -vvvv.\n"
  "  -n, --name <destination-name>  An optional custom name for the cloned\n"
  "                                 domain. The name must follow the usual\n"
  "                                 validity rules. Default:\n"
  "                                 \"<source_name>-cloneN\", where N is the Nth\n"
  "                                 cloned domain.\n"
  "      --exist-ok                 With --name: if that domain exists and is a\n"
  "                                 clone of <source_name> (by UUID), do nothing\n"
  "                                 and exit 0 (\"NAME already exists, cloned from\n"
  "                                 SOURCE.\"). Any other domain of that name is\n"
  "                                 still an error.\n"
  "      --count <N>                Make N clones (1 to 1000) in one call, named\n"
  "                                 as without --name, up to four at once. A\n"
  "                                 failure removes the clone it hit and stops;\n"
  "                                 the clones numbered before it are kept (the\n"
  "                                 error says which).\n"
  "  -c, --connect <uri>            libvirt connection URI (default: as virsh:\n"
  "                                 $LIBVIRT_DEFAULT_URI, else libvirt's default)\n"
  "      --to <uri>                 Define the clone on this other libvirt host\n"
  "                                 (URI), reading the source on the --connect\n"
  "                                 one: its volumes are streamed across, sparse,\n"
  "                                 into the pools of the same names there (or\n"
  "                                 --pool). A running source with --live. With\n"
  "                                 --cleanup: remove the unfinished clones of\n"
  "                                 <source_name> there.\n"
  "      --pool <pool>              Put the new volumes of the clone's disks into\n"
  "                                 this active storage pool (one that holds\n"
  "                                 files: dir, fs or netfs). Default: the pool\n"
  "                                 of each source volume. NVRAM and TPM state\n"
  "                                 stay where libvirt keeps them.\n"
  "  -j, --jobs <N>                 Copy up to N volumes at once (with --count,\n"
  "                                 in all: 1 makes the clones one after\n"
  "                                 another). Default: one per CPU (never more\n"
  "                                 than the clone has volumes).\n"
  "  -q, --quiet                    No progress display. (It is only drawn when\n"
  "                                 standard error is a terminal and without -v.)\n"
  "      --print-xml                Clone nothing and change nothing: print the\n"
  "                                 XML the clone would be defined with (with -v,\n"
  "                                 the volumes it would create on stderr).\n"
  "      --json                     Print the result on stdout as one JSON\n"
  "                                 object, on success and on failure (the error\n"
  "                                 line still goes to stderr).\n"
  "      --linked                   Make a linked clone of a template (see\n"
  "                                 --make-template): each of its disks is a new\n"
  "                                 qcow2 overlay on the template's volume, made\n"
  "                                 in constant time and space.\n"
  "      --live                     Clone a running (or paused) domain without\n"
  "                                 stopping it: its disks are copied as they\n"
  "                                 were at one instant, by a libvirt backup job,\n"
  "                                 while the guest goes on. Crash-consistent\n"
  "                                 unless its guest agent freezes its file\n"
  "                                 systems for that instant (see --quiesce). A\n"
  "                                 shut-off domain is cloned as without it. With\n"
  "                                 --to, the job exports the disks over NBD and\n"
  "                                 they are streamed to the other host (a qcow2\n"
  "                                 volume through a raw staging volume there,\n"
  "                                 which libvirt converts).\n"
  "      --quiesce                  With --live: the guest agent must freeze the\n"
  "                                 guest's file systems for the instant of the\n"
  "                                 copy; without an agent that answers, clone\n"
  "                                 nothing.\n"
  "      --make-template            Clone nothing; make <source_name> a template:\n"
  "                                 mark its writable disks read-only, so that\n"
  "                                 linked clones can be made of it.\n"
  "      --unmake-template          Clone nothing; make the template\n"
  "                                 <source_name> a plain domain again (refused\n"
  "                                 while linked clones of it exist).\n"
  "      --reset-identity[=try]     Give the clone's own disks a new identity\n"
  "                                 inside (libguestfs, Linux guests): an empty\n"
  "                                 machine-id, SSH host keys made anew at first\n"
  "                                 boot, no DHCP leases or hardware addresses,\n"
  "                                 the clone's name as host name. A guest it\n"
  "                                 cannot reset fails the clone; with =try the\n"
  "                                 clone is kept, with a warning.\n"
  "      --memory <SIZE>            The clone's memory (and current memory): a\n"
  "                                 whole number with an optional unit K, M, G or\n"
  "                                 T; a bare number is MiB.\n"
  "      --vcpus <N>                The clone's number of vCPUs (its CPU\n"
  "                                 topology's sockets and a single NUMA cell\n"
  "                                 follow).\n"
  "      --resize <TARGET=SIZE>     Grow the copy of disk TARGET to SIZE, or by\n"
  "                                 +SIZE (never shrinks; the guest's partitions\n"
  "                                 are untouched). May be repeated.\n"
  "      --disk <TARGET=copy|share|skip>\n"
  "                                 What the clone gets of disk TARGET: copy (the\n"
  "                                 default for a writable disk), share the\n"
  "                                 source's volume, or skip it. May be repeated.\n"
  "      --format <raw|qcow2>       Make the copies of the disks in this format\n"
  "                                 (raw or qcow2), with the same content; their\n"
  "                                 <driver type> follows.\n"
  "      --cleanup                  Clone nothing; remove the clones of\n"
  "                                 <source_name> that killed or crashed runs\n"
  "                                 left unfinished, with their volumes, waiting\n"
  "                                 for copies libvirt is still making into them.\n"
  "Arguments:\n"
  "  source_name                    The name of the source domain to be cloned\n";

static void
test_cli_help_text (void)
{
  g_autofree char *help = dc_cli_help ();

  g_assert_cmpstr (help, ==, expected_help);
}

static void
test_cli_short_flags_unique (void)
{
  gboolean seen[256] = { FALSE };

  for (const GOptionEntry *e = dc_cli_entries (); e->long_name != NULL; e++)
    {
      guchar c = (guchar) e->short_name;

      if (c == 0)
        continue; /* long option only */
      g_assert_false (seen[c]);
      seen[c] = TRUE;
    }
}

static void
test_cli_parse (void)
{
  char *argv[] = { "domclone", "-vvv", "--name", "copy1", "-c", "test:///default", "src", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (DcCliOptions) opts = dc_cli_parse (G_N_ELEMENTS (argv) - 1, argv, &error);

  g_assert_no_error (error);
  g_assert_cmpint (opts->verbose, ==, 3);
  g_assert_cmpstr (opts->name, ==, "copy1");
  g_assert_cmpstr (opts->connect, ==, "test:///default");
  g_assert_cmpstr (opts->source, ==, "src");
}

/* --reset-identity and its =try form; the bare option leaves the next
 * word alone, also after an option that takes a value */
static void
test_cli_parse_reset_identity (void)
{
  static const struct
  {
    const char *args[5];
    int reset;
    const char *name;
  } cases[] = {
    { { "--reset-identity", "src", NULL }, DC_CLI_RESET_STRICT, NULL },
    { { "--reset-identity=try", "src", NULL }, DC_CLI_RESET_TRY, NULL },
    { { "src", "--reset-identity", NULL }, DC_CLI_RESET_STRICT, NULL },
    { { "--name", "x", "--reset-identity", "src", NULL }, DC_CLI_RESET_STRICT, "x" },
    { { "-n", "y", "src", NULL }, DC_CLI_RESET_NONE, "y" },
  };

  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GPtrArray) argv = g_ptr_array_new ();
      g_autoptr (GError) error = NULL;
      g_autoptr (DcCliOptions) opts = NULL;

      g_ptr_array_add (argv, "domclone");
      for (guint j = 0; cases[i].args[j] != NULL; j++)
        g_ptr_array_add (argv, (gpointer) cases[i].args[j]);
      g_ptr_array_add (argv, NULL);
      opts = dc_cli_parse ((int) argv->len - 1, (char **) argv->pdata, &error);
      g_assert_no_error (error);
      g_assert_cmpint (opts->reset_identity, ==, cases[i].reset);
      g_assert_cmpstr (opts->source, ==, "src");
      g_assert_cmpstr (opts->name, ==, cases[i].name);
    }
}

/* The shaping options, read into the one DcShape */
static void
test_cli_parse_shape (void)
{
  char *argv[] = { "domclone", "--memory", "2G",      "--vcpus",  "4",     "--resize", "vda=+10G", "--disk",
                   "vdb=skip", "--resize", "vdc=64G", "--format", "qcow2", "src",      NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (DcCliOptions) opts = dc_cli_parse (G_N_ELEMENTS (argv) - 1, argv, &error);
  char *plain_argv[] = { "domclone", "src", NULL };
  g_autoptr (DcCliOptions) plain = dc_cli_parse (G_N_ELEMENTS (plain_argv) - 1, plain_argv, &error);

  g_assert_no_error (error);
  g_assert_null (plain->shape);
  g_assert_nonnull (opts->shape);
  g_assert_cmpuint (opts->shape->memory, ==, G_GUINT64_CONSTANT (2) << 30);
  g_assert_cmpuint (opts->shape->vcpus, ==, 4);
  g_assert_cmpstr (opts->shape->format, ==, "qcow2");
  g_assert_cmpuint (opts->shape->disks->len, ==, 3);
  g_assert_cmpint (dc_shape_disk (opts->shape, "vdb")->action, ==, DC_DISK_SKIP);
  g_assert_true (dc_shape_disk (opts->shape, "vda")->relative);
  g_assert_cmpuint (dc_shape_disk (opts->shape, "vdc")->resize, ==, G_GUINT64_CONSTANT (64) << 30);
}

typedef struct
{
  const char *label;
  const char *args[8]; /* after the program name, NULL-terminated */
  int status;
  const char *stderr_part;
} RunCase;

static const RunCase run_cases[] = {
  { "no-args", { NULL }, 2, "missing the name of the domain to clone" },
  { "unknown-option", { "--frobnicate", "src", NULL }, 2, "Unknown option --frobnicate" },
  { "extra-arg", { "src", "more", NULL }, 2, "unexpected argument 'more'" },
  { "name-missing-value", { "src", "--name", NULL }, 2, "Missing argument for --name" },
  { "bad-name", { "--name", "9lives", "src", NULL }, 2, "invalid name '9lives'" },
  { "option-as-name", { "--name", "-x", "src", NULL }, 2, "invalid name '-x'" },
  { "name-amp", { "--name", "a&b", "src", NULL }, 2, "invalid name 'a&b'" },
  { "name-too-long",
    { "--name", "x234567890123456789012345678901234567890123456789012345678901234", "src", NULL },
    2,
    "at most 63 characters" },
  { "empty-source", { "", NULL }, 2, "source domain name is empty" },
  { "cleanup-with-name", { "--cleanup", "--name", "x", "src", NULL }, 2, "--cleanup clones nothing" },
  { "cleanup-with-print-xml", { "--cleanup", "--print-xml", "src", NULL }, 2, "give one of them" },
  { "exist-ok-without-name", { "--exist-ok", "src", NULL }, 2, "--exist-ok needs --name" },
  { "exist-ok-print-xml-without-name",
    { "--print-xml", "--exist-ok", "src", NULL },
    2,
    "--exist-ok needs --name" },
  { "count-zero", { "--count", "0", "src", NULL }, 2, "invalid --count '0': give a number from 1 to 1000" },
  { "count-too-many", { "--count", "1001", "src", NULL }, 2, "invalid --count '1001'" },
  { "count-negative", { "--count", "-3", "src", NULL }, 2, "invalid --count '-3'" },
  /* -1 was once the mark of "not given": the run went on without --count */
  { "count-minus-one",
    { "--count", "-1", "-c", "test:///default", "test", NULL },
    2,
    "invalid --count '-1': give a number from 1 to 1000" },
  { "count-minus-one-joined",
    { "--count=-1", "-c", "test:///default", "test", NULL },
    2,
    "invalid --count '-1'" },
  { "count-int-min",
    { "--count", "-2147483648", "-c", "test:///default", "test", NULL },
    2,
    "invalid --count" },
  { "count-hex", { "--count", "0x2", "-c", "test:///default", "test", NULL }, 2, "invalid --count '0x2'" },
  { "count-not-a-number", { "--count", "three", "src", NULL }, 2, "invalid --count 'three'" },
  { "count-overflow", { "--count", "99999999999999", "src", NULL }, 2, "invalid --count '99999999999999'" },
  { "count-int-overflow", { "--count", "4294967297", "src", NULL }, 2, "invalid --count '4294967297'" },
  { "jobs-zero", { "--jobs", "0", "src", NULL }, 2, "invalid --jobs '0': give a number from 1 to 64" },
  { "jobs-minus-one",
    { "--jobs", "-1", "-c", "test:///default", "test", NULL },
    2,
    "invalid --jobs '-1': give a number from 1 to 64" },
  { "jobs-short-minus-one", { "-j", "-1", "-c", "test:///default", "test", NULL }, 2, "invalid --jobs '-1'" },
  { "jobs-too-many", { "--jobs", "65", "src", NULL }, 2, "invalid --jobs '65'" },
  { "jobs-overflow", { "--jobs", "99999999999999", "src", NULL }, 2, "invalid --jobs '99999999999999'" },
  { "count-missing-value", { "src", "--count", NULL }, 2, "Missing argument for --count" },
  { "count-with-name", { "--count", "2", "--name", "x", "src", NULL }, 2, "it takes no --name" },
  { "count-with-exist-ok", { "--count", "2", "--exist-ok", "src", NULL }, 2, "it takes no --exist-ok" },
  { "count-with-print-xml", { "--count", "2", "--print-xml", "src", NULL }, 2, "it takes no --print-xml" },
  { "count-with-cleanup", { "--count", "2", "--cleanup", "src", NULL }, 2, "it takes no --cleanup" },
  { "count-missing-source",
    { "--count", "2", "-c", "test:///default", "nosuch", NULL },
    1,
    "domain 'nosuch' not found" },
  { "make-and-unmake", { "--make-template", "--unmake-template", "src", NULL }, 2, "give one of them alone" },
  { "make-template-with-name",
    { "--make-template", "--name", "x", "src", NULL },
    2,
    "give one of them alone" },
  { "make-template-linked", { "--make-template", "--linked", "src", NULL }, 2, "give one of them alone" },
  { "cleanup-linked", { "--cleanup", "--linked", "src", NULL }, 2, "it takes no --linked" },
  { "linked-pool", { "--linked", "--pool", "p", "src", NULL }, 2, "it takes no --pool" },
  { "quiesce-without-live",
    { "--quiesce", "src", NULL },
    2,
    "--quiesce freezes a running guest's file systems for --live: it needs --live" },
  { "live-linked",
    { "--live", "--linked", "src", NULL },
    2,
    "--linked clones a shut-off template: it takes no --live" },
  { "cleanup-live",
    { "--cleanup", "--live", "src", NULL },
    2,
    "--cleanup clones nothing: it takes no --live" },
  { "make-template-live", { "--make-template", "--live", "src", NULL }, 2, "give one of them alone" },
  { "clone-running",
    { "-c", "test:///default", "test", NULL },
    1,
    "domain 'test' is running; shut it down first (virsh shutdown 'test'), or clone it as it runs with --live" },
  { "live-unsupported",
    { "-c", "test:///default", "--live", "test", NULL },
    1,
    "cannot clone domain 'test' while it runs: libvirt cannot back it up here" },
  { "make-template-count", { "--make-template", "--count", "2", "src", NULL }, 2, "give one of them alone" },
  { "make-template-running",
    { "-c", "test:///default", "--make-template", "test", NULL },
    1,
    "domain 'test' is running; shut it down first" },
  { "print-xml-missing-source",
    { "--print-xml", "-c", "test:///default", "nosuch", NULL },
    1,
    "domain 'nosuch' not found" },
  { "missing-source", { "-c", "test:///default", "nosuch", NULL }, 1, "domain 'nosuch' not found" },
  { "running-source",
    { "-c", "test:///default", "test", NULL },
    1,
    "domain 'test' is running; shut it down first" },
  { "bad-uri", { "-c", "nosuchdriver:///x", "src", NULL }, 1, "cannot connect to 'nosuchdriver:///x'" },
  { "reset-identity-bad-value",
    { "--reset-identity=yes", "src", NULL },
    2,
    "invalid --reset-identity value 'yes': give --reset-identity or --reset-identity=try" },
  { "reset-identity-cleanup", { "--reset-identity", "--cleanup", "src", NULL }, 2, "it takes no --cleanup" },
  { "reset-identity-template",
    { "--make-template", "--reset-identity=try", "src", NULL },
    2,
    "it takes no --cleanup, --make-template" },
  /* the bare option never takes the next word as its value */
  { "reset-identity-missing-source",
    { "-c", "test:///default", "--reset-identity", "nosuch", NULL },
    1,
    "domain 'nosuch' not found" },
  /* a shaped clone's values: refused before any connection */
  { "memory-fraction", { "--memory", "1.5G", "src", NULL }, 2, "invalid --memory '1.5G'" },
  { "memory-zero", { "--memory", "0", "src", NULL }, 2, "invalid --memory '0'" },
  { "memory-relative", { "--memory", "+1G", "src", NULL }, 2, "invalid --memory '+1G'" },
  { "memory-unit", { "--memory", "2GB", "src", NULL }, 2, "optional unit K, M, G or T" },
  { "vcpus-zero", { "--vcpus", "0", "src", NULL }, 2, "invalid --vcpus '0': give a number from 1 to 4096" },
  { "vcpus-too-many", { "--vcpus", "5000", "src", NULL }, 2, "invalid --vcpus '5000'" },
  { "vcpus-negative", { "--vcpus", "-1", "src", NULL }, 2, "invalid --vcpus '-1'" },
  { "vcpus-not-a-number", { "--vcpus", "two", "src", NULL }, 2, "invalid --vcpus 'two'" },
  { "format-vmdk", { "--format", "vmdk", "src", NULL }, 2, "invalid --format 'vmdk': give raw or qcow2" },
  { "disk-no-action", { "--disk", "vda", "src", NULL }, 2, "give TARGET=copy|share|skip" },
  { "disk-bad-action", { "--disk", "vda=move", "src", NULL }, 2, "invalid --disk vda='move'" },
  { "disk-twice", { "--disk", "vda=skip", "--disk", "vda=copy", "src", NULL }, 2, "names disk 'vda' twice" },
  { "resize-twice",
    { "--resize", "vda=+1G", "--resize", "vda=9G", "src", NULL },
    2,
    "names disk 'vda' twice" },
  { "resize-bad-size", { "--resize", "vda=big", "src", NULL }, 2, "invalid --resize vda 'big'" },
  { "resize-skipped", { "--resize", "vda=+1G", "--disk", "vda=skip", "src", NULL }, 2, "do not go together" },
  { "format-linked", { "--format", "raw", "--linked", "src", NULL }, 2, "it takes no --format" },
  { "cleanup-memory", { "--cleanup", "--memory", "1G", "src", NULL }, 2, "it takes no --memory" },
  { "make-template-disk",
    { "--make-template", "--disk", "vda=skip", "src", NULL },
    2,
    "they take no --memory" },
  { "to-linked", { "--to", "test:///default", "--linked", "src", NULL }, 2, "it takes no --to" },
  { "to-exist-ok",
    { "--to", "test:///default", "--exist-ok", "--name", "x", "src", NULL },
    2,
    "--exist-ok is not supported with --to" },
  { "to-template",
    { "--to", "test:///default", "--make-template", "src", NULL },
    2,
    "give one of them alone" },
  { "to-empty", { "--to", "", "src", NULL }, 2, "the --to URI is empty" },
  /* --to takes --live: the run starts, and finds the test driver cannot
   * back up */
  { "to-live",
    { "-c", "test:///default", "--to", "test:///default", "--live", "test", NULL },
    1,
    "cannot clone domain 'test' while it runs: libvirt cannot back it up here" },
  { "to-bad-uri",
    { "-c", "test:///default", "--to", "nosuchdriver:///x", "test", NULL },
    1,
    "cannot connect to 'nosuchdriver:///x'" },
};

static void
test_cli_run (gconstpointer data)
{
  const RunCase *c = data;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  if (g_getenv ("DOMCLONE") == NULL)
    {
      g_test_skip ("DOMCLONE is not set (run through make check)");
      return;
    }
  status = dc_test_domclone_argv (c->args, &out, &err);
  g_assert_cmpint (status, ==, c->status);
  g_assert_cmpstr (out, ==, "");
  /* one line, prefixed, saying what is wrong */
  g_assert_true (g_str_has_prefix (err, "domclone: "));
  g_assert_true (g_str_has_suffix (err, "\n"));
  g_assert_true (strchr (err, '\n') == err + strlen (err) - 1);
  dc_assert_contains (err, c->stderr_part);
}

/* Hostile and malformed input the command-line parser refuses by itself,
 * before any connection: exit 2 and a one-line message. (What takes a
 * daemon to judge is in test-live-refuse.) */
typedef struct
{
  const char *args[5]; /* after the program name, NULL-terminated */
  const char *stderr_part;
} HostileCase;

#define LONG64 "a234567890123456789012345678901234567890123456789012345678901234"
static const HostileCase hostile_cases[] = {
  { { "", NULL }, "source domain name is empty" },
  { { NULL }, "missing the name of the domain to clone" },
  { { "vm1", "extra", NULL }, "unexpected argument 'extra'" },
  { { "vm1", "--", "-x", NULL }, "unexpected argument '-x'" },
  { { "--frobnicate", "vm1", NULL }, "Unknown option --frobnicate" },
  { { "-x", "vm1", NULL }, "Unknown option -x" },
  { { "vm1", "--name", NULL }, "Missing argument for --name" },
  { { "--name=", "vm1", NULL }, "invalid name ''" },
  { { "--name", "", "vm1", NULL }, "invalid name ''" },
  { { "--name", LONG64, "vm1", NULL }, "at most 63 characters" },
  { { "--name", LONG64 LONG64 LONG64, "vm1", NULL }, "at most 63 characters" },
  { { "--name", "1abc", "vm1", NULL }, "must start with a letter" },
  { { "--name", "-abc", "vm1", NULL }, "invalid name '-abc'" },
  { { "--name", "abc-", "vm1", NULL }, "must end with a letter or a digit" },
  { { "--name", "..", "vm1", NULL }, "invalid name" },
  { { "--name", "a..b", "vm1", NULL }, "invalid name" },
  /* a name starts with a letter and ends with a letter or a digit */
  { { "--name", ".ab", "vm1", NULL }, "invalid name '.ab'" },
  { { "--name", "ab.", "vm1", NULL }, "invalid name 'ab.'" },
  { { "--name", "_ab", "vm1", NULL }, "invalid name '_ab'" },
  { { "--name", "ab_", "vm1", NULL }, "invalid name 'ab_'" },
  { { "--name", "a/b", "vm1", NULL }, "invalid name" },
  { { "--name", "../../etc/passwd", "vm1", NULL }, "invalid name" },
  { { "--name", "/tmp/x", "vm1", NULL }, "invalid name" },
  { { "--name", "a b", "vm1", NULL }, "invalid name" },
  { { "--name", "a'b", "vm1", NULL }, "invalid name" },
  { { "--name", "a\"b", "vm1", NULL }, "invalid name" },
  { { "--name", "a<b", "vm1", NULL }, "invalid name" },
  { { "--name", "a>b", "vm1", NULL }, "invalid name" },
  { { "--name", "a&b", "vm1", NULL }, "invalid name" },
  { { "--name", "a;b", "vm1", NULL }, "invalid name" },
  { { "--name", "a$(id)", "vm1", NULL }, "invalid name" },
  { { "--name", "a`id`", "vm1", NULL }, "invalid name" },
  /* "invalid name", or in the C locale "invalid argument" */
  { { "--name", "caf\xc3\xa9", "vm1", NULL }, "invalid " },
  { { "--name",
      "\xe2\x80\xae"
      "abc",
      "vm1", NULL },
    "invalid " },
  { { "--name", "\xff\xfe", "vm1", NULL }, "invalid " },
  { { "--name", "a\nb", "vm1", NULL }, "invalid name 'a\\nb'" },
  { { "--name", "a\tb", "vm1", NULL }, "invalid name" },
  { { "--name",
      "a\x01"
      "b",
      "vm1", NULL },
    "invalid name" },
  { { "--name", "a\x7f", "vm1", NULL }, "invalid name" },
  { { "--name", "-x", "vm1", NULL }, "invalid name '-x'" },
  { { "--name", "--name", "vm1", NULL }, "invalid name '--name'" },
  { { "--name", "a:b", "vm1", NULL }, "invalid name" },
  { { "--name", "*", "vm1", NULL }, "invalid name" },
  { { "--name", "a\\b", "vm1", NULL }, "invalid name" },
};

static void
test_cli_refuse_hostile (void)
{
  guint refused = 0;

  if (g_getenv ("DOMCLONE") == NULL)
    {
      g_test_skip ("DOMCLONE is not set (run through make check)");
      return;
    }
  for (size_t i = 0; i < G_N_ELEMENTS (hostile_cases); i++)
    {
      const HostileCase *c = &hostile_cases[i];
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      int status = dc_test_domclone_argv (c->args, &out, &err);

      g_test_message ("case %zu: exit %d: %.200s", i, status, err);
      g_assert_cmpint (status, ==, 2);
      g_assert_cmpstr (out, ==, "");
      g_assert_true (g_str_has_prefix (err, "domclone: "));
      g_assert_true (strchr (err, '\n') == err + strlen (err) - 1);
      dc_assert_contains (err, c->stderr_part);
      refused++;
    }
  g_assert_cmpuint (refused, ==, G_N_ELEMENTS (hostile_cases));
}

static void
test_cli_run_help (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  if (g_getenv ("DOMCLONE") == NULL)
    {
      g_test_skip ("DOMCLONE is not set (run through make check)");
      return;
    }
  status = dc_test_domclone (&out, &err, "--help", NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (out, ==, expected_help);
  g_assert_cmpstr (err, ==, "");
}

/* --version prints one line and connects nowhere: with a URI that
 * leads nowhere and a source that does not exist, it still exits 0. */
static void
test_cli_run_version (void)
{
  const char *const cases[][5] = {
    { "--version", NULL },
    { "--version", "-c", "nosuchdriver:///x", "nosuch", NULL },
    { "-v", "--name", "x1", "--version", NULL },
  };

  if (g_getenv ("DOMCLONE") == NULL)
    {
      g_test_skip ("DOMCLONE is not set (run through make check)");
      return;
    }
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      int status = dc_test_domclone_argv (cases[i], &out, &err);

      g_assert_cmpint (status, ==, 0);
      g_assert_cmpstr (out, ==, "domclone " PACKAGE_VERSION "\n");
      g_assert_cmpstr (err, ==, "");
    }
}

static void
test_cli_parse_version (void)
{
  char *argv[] = { "domclone", "--version", NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (DcCliOptions) opts = dc_cli_parse (G_N_ELEMENTS (argv) - 1, argv, &error);

  g_assert_no_error (error);
  g_assert_true (opts->version);
  g_assert_null (opts->source);
}

/* Every kind of failure has a code of its own for --json; only the
 * generic one says "failed". */
static void
test_cli_json_codes (void)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  static const char *const expected[] = {
    [DC_ERROR_FAILED] = "failed",
    [DC_ERROR_USAGE] = "usage",
    [DC_ERROR_INVALID_NAME] = "invalid-name",
    [DC_ERROR_NAME_TAKEN] = "name-taken",
    [DC_ERROR_NOT_FOUND] = "not-found",
    [DC_ERROR_STATE] = "source-running",
    [DC_ERROR_UNSUPPORTED] = "unsupported-disk",
    [DC_ERROR_XML] = "invalid-xml",
    [DC_ERROR_LIBVIRT] = "libvirt",
    [DC_ERROR_CANCELLED] = "interrupted",
    [DC_ERROR_SOURCE_NOT_FOUND] = "source-not-found",
    [DC_ERROR_VOLUME_EXISTS] = "volume-exists",
    [DC_ERROR_CONNECT] = "connect-failed",
    [DC_ERROR_POOL_NOT_FOUND] = "pool-not-found",
    [DC_ERROR_POOL_INACTIVE] = "pool-inactive",
    [DC_ERROR_IN_PROGRESS] = "in-progress",
    [DC_ERROR_NOT_TEMPLATE] = "not-a-template",
    [DC_ERROR_LINKED_CLONES] = "has-linked-clones",
    [DC_ERROR_NO_SPACE] = "no-space",
    [DC_ERROR_NO_AGENT] = "no-guest-agent",
    [DC_ERROR_NO_BACKUP] = "backup-unsupported",
  };

  for (int code = 0; code < (int) G_N_ELEMENTS (expected); code++)
    {
      g_autoptr (GError) error = g_error_new (DC_ERROR, code, "x");
      const char *name = dc_output_error_code (error);

      g_assert_cmpstr (name, ==, expected[code]);
      g_assert_false (g_hash_table_contains (seen, name));
      g_hash_table_add (seen, (gpointer) name);
    }
  {
    g_autoptr (GError) error = g_error_new (G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "x");
    g_assert_cmpstr (dc_output_error_code (error), ==, "usage");
  }
}

/* --json: a command line refused before any connection is still
 * reported as one JSON object on stdout (GLib's parser forgets --json
 * when it fails: dc_cli_wants_json() finds it), and the line on stderr
 * stays. Where "--json" is the value of another option, or comes after
 * "--", it is no request for JSON. */
typedef struct
{
  const char *args[6];
  int status;
  const char *code; /* NULL: no JSON, stdout empty */
} JsonCliCase;

static const JsonCliCase json_cli_cases[] = {
  { { "--json", "--frobnicate", "src", NULL }, 2, "usage" },
  { { "--frobnicate", "--json", "src", NULL }, 2, "usage" },
  { { "--json", NULL }, 2, "usage" },
  { { "--json", "src", "extra", NULL }, 2, "usage" },
  { { "--json", "--name", "9x", "src", NULL }, 2, "invalid-name" },
  { { "-vn", "a&b", "--json", "src", NULL }, 2, "invalid-name" },
  { { "--json", "--cleanup", "--name", "x", "src", NULL }, 2, "usage" },
  { { "--json", "--jobs", "0", "src", NULL }, 2, "usage" },
  { { "--json", "--cleanup", "--pool", "p", "src", NULL }, 2, "usage" },
  { { "--json", "--pool", "", "src", NULL }, 2, "usage" },
  { { "--json", "--exist-ok", "src", NULL }, 2, "usage" },
  { { "--json", "--count", "0", "src", NULL }, 2, "usage" },
  { { "--count", "--json", "src", NULL }, 2, NULL },
  { { "--json", "-c", "test:///default", "nosuch", NULL }, 1, "source-not-found" },
  { { "--json", "-c", "test:///default", "test", NULL }, 1, "source-running" },
  { { "--json", "-c", "test:///default", "--live", "test", NULL }, 1, "backup-unsupported" },
  { { "--json", "-c", "nosuchdriver:///x", "src", NULL }, 1, "connect-failed" },
  { { "--name", "--json", "src", NULL }, 2, NULL },
  { { "-c", "--json", "--frobnicate", "src", NULL }, 2, NULL },
  { { "src", "--", "--json", NULL }, 2, NULL },
};

static void
test_cli_json_errors (void)
{
  if (g_getenv ("DOMCLONE") == NULL)
    {
      g_test_skip ("DOMCLONE is not set (run through make check)");
      return;
    }
  for (size_t i = 0; i < G_N_ELEMENTS (json_cli_cases); i++)
    {
      const JsonCliCase *c = &json_cli_cases[i];
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      g_autoptr (JsonParser) parser = json_parser_new ();
      g_autoptr (GError) error = NULL;
      g_autofree char *line = NULL;
      JsonObject *o, *e;
      int status = dc_test_domclone_argv (c->args, &out, &err);

      g_test_message ("case %zu: exit %d: %s%s", i, status, out, err);
      g_assert_cmpint (status, ==, c->status);
      g_assert_true (g_str_has_prefix (err, "domclone: "));
      g_assert_true (strchr (err, '\n') == err + strlen (err) - 1);
      if (c->code == NULL)
        {
          g_assert_cmpstr (out, ==, "");
          continue;
        }
      /* one object, on one line */
      g_assert_true (strchr (out, '\n') == out + strlen (out) - 1);
      json_parser_load_from_data (parser, out, -1, &error);
      g_assert_no_error (error);
      g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
      o = json_node_get_object (json_parser_get_root (parser));
      g_assert_cmpuint (json_object_get_size (o), ==, 2);
      g_assert_false (json_object_get_boolean_member (o, "changed"));
      e = json_object_get_object_member (o, "error");
      g_assert_cmpstr (json_object_get_string_member (e, "code"), ==, c->code);
      line = g_strdup_printf ("domclone: %s\n", json_object_get_string_member (e, "message"));
      g_assert_cmpstr (line, ==, err);
    }
}

/* --count: a failure's object also lists the clones made ("clones"),
 * none here, whether the run failed before it connected or after */
static void
test_cli_json_count_errors (void)
{
  static const JsonCliCase cases[] = {
    { { "--json", "--count=2", "-c", "nosuchdriver:///x", "src", NULL }, 1, "connect-failed" },
    { { "--json", "--count=2", "-c", "test:///default", "nosuch", NULL }, 1, "source-not-found" },
  };

  if (g_getenv ("DOMCLONE") == NULL)
    {
      g_test_skip ("DOMCLONE is not set (run through make check)");
      return;
    }
  for (size_t i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      g_autoptr (JsonParser) parser = json_parser_new ();
      g_autoptr (GError) error = NULL;
      JsonObject *o;
      int status = dc_test_domclone_argv (cases[i].args, &out, &err);

      g_test_message ("case %zu: exit %d: %s%s", i, status, out, err);
      g_assert_cmpint (status, ==, cases[i].status);
      json_parser_load_from_data (parser, out, -1, &error);
      g_assert_no_error (error);
      o = json_node_get_object (json_parser_get_root (parser));
      g_assert_false (json_object_get_boolean_member (o, "changed"));
      g_assert_false (json_object_has_member (o, "source"));
      g_assert_cmpuint (json_array_get_length (json_object_get_array_member (o, "clones")), ==, 0);
      g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (o, "error"), "code"), ==,
                       cases[i].code);
    }
}

/* libvirt's test driver refuses VIR_DOMAIN_UNDEFINE_KEEP_NVRAM, as
 * drivers without NVRAM support do. A clone that fails half-way there
 * (its pool is full) must still be undefined: rolled back completely,
 * not left defined with a warning. (The test driver keeps its state in
 * the process, so the run's own report is what can be checked.) */
static void
test_cli_testdriver_rollback (void)
{
  g_autofree char *node = g_test_build_filename (G_TEST_DIST, "data", "testdriver", "full-pool.xml", NULL);
  g_autofree char *uri = g_strdup_printf ("test://%s", node);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  g_assert_true (g_path_is_absolute (node));
  status = dc_test_domclone (&out, &err, "-v", "-c", uri, "tiny", NULL);
  g_test_message ("exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 1);
  g_assert_cmpstr (out, ==, "");
  dc_assert_contains (err, "domclone: rolled back: removed domain 'tiny-clone1'\n");
  dc_assert_not_contains (err, "rollback incomplete");
  g_assert_true (
    g_str_has_suffix (err, "domclone: cannot clone disk 'vda' to 'tiny-clone1.img' in pool 'small': "
                           "internal error: Not enough free space in pool for volume 'tiny-clone1.img'; "
                           "everything this run created was removed\n"));
}

/* Disks in pools that cannot be made on these machines, planned through
 * libvirt's test driver (tests/data/testdriver/pools.xml): an LVM disk
 * stays a block disk in its own pool and becomes a file disk in a dir
 * --pool; a disk in an iSCSI pool is refused in the plan, before the
 * clone is defined (nothing to roll back), with unsupported-disk; a
 * block device outside any pool is advised a logical pool. */
static void
test_cli_testdriver_pools (void)
{
  g_autofree char *node = g_test_build_filename (G_TEST_DIST, "data", "testdriver", "pools.xml", NULL);
  g_autofree char *uri = g_strdup_printf ("test://%s", node);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  g_assert_true (g_path_is_absolute (node));
  status = dc_test_domclone (&out, &err, "-c", uri, "--print-xml", "lvm", NULL);
  g_test_message ("lvm: exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 0);
  dc_assert_contains (out, "<disk type=\"block\" device=\"disk\">");
  dc_assert_contains (out, "<source dev=\"/dev/vg0/lvm-clone1-root\"/>");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  status = dc_test_domclone (&out, &err, "-c", uri, "--print-xml", "--pool", "files", "lvm", NULL);
  g_test_message ("lvm --pool files: exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 0);
  dc_assert_contains (out, "<disk type=\"file\" device=\"disk\">");
  dc_assert_contains (out, "<source file=\"/srv/files/lvm-clone1-root\"/>");
  dc_assert_not_contains (out, "type=\"block\"");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  for (int with_pool = 0; with_pool < 2; with_pool++)
    {
      status = with_pool
                 ? dc_test_domclone (&out, &err, "-v", "--json", "-c", uri, "--pool", "files", "san", NULL)
                 : dc_test_domclone (&out, &err, "-v", "--json", "-c", uri, "san", NULL);
      g_test_message ("san: exit %d: %s%s", status, out, err);
      g_assert_cmpint (status, ==, 1);
      dc_assert_contains (out, "\"code\":\"unsupported-disk\"");
      dc_assert_contains (err, "cannot clone disk 'vda': its volume '/dev/disk/by-path/");
      dc_assert_contains (err, "is in storage pool 'san' of type 'iscsi'");
      /* refused by the plan: nothing was defined, so nothing rolled back */
      dc_assert_not_contains (err, "rolled back");
      g_clear_pointer (&out, g_free);
      g_clear_pointer (&err, g_free);
    }

  status = dc_test_domclone (&out, &err, "-c", uri, "stray", NULL);
  g_test_message ("stray: exit %d: %s", status, err);
  g_assert_cmpint (status, ==, 1);
  dc_assert_contains (err, "virsh pool-define-as vgx logical --source-name vgx --target /dev/vgx");
  dc_assert_not_contains (err, " dir ");
}

/* A daemon that hangs up at once: a UNIX socket whose every connection
 * is accepted and closed, until *stop. */
typedef struct
{
  int fd;
  gint stop;
} HangUp;

static gpointer
hang_up_loop (gpointer data)
{
  HangUp *h = data;

  while (!g_atomic_int_get (&h->stop))
    {
      struct pollfd p = { .fd = h->fd, .events = POLLIN };

      if (poll (&p, 1, 100) == 1)
        {
          int c = accept (h->fd, NULL, NULL);

          if (c >= 0)
            close (c);
        }
    }
  return NULL;
}

/* A connection the daemon hangs up on is a failed connection: one line,
 * exit 1; never a death by SIGPIPE while libvirt writes its first call,
 * which left no word and no rollback (found by bench/soak.sh: a daemon
 * restarted just as a run connected). Ten tries: the race is libvirt's. */
static void
test_cli_hang_up (void)
{
  g_autofree char *dir = g_dir_make_tmp ("dc-cli-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "sock", NULL);
  g_autofree char *uri = g_strdup_printf ("qemu+unix:///system?socket=%s", path);
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  HangUp h = { .fd = socket (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0) };
  GThread *thread;

  if (g_getenv ("DOMCLONE") == NULL)
    {
      g_test_skip ("DOMCLONE is not set (run through make check)");
      return;
    }
  g_assert_cmpint (h.fd, >=, 0);
  g_assert_cmpuint (strlen (path), <, sizeof (addr.sun_path));
  memcpy (addr.sun_path, path, strlen (path));
  g_assert_cmpint (bind (h.fd, (struct sockaddr *) &addr, sizeof (addr)), ==, 0);
  g_assert_cmpint (listen (h.fd, 16), ==, 0);
  thread = g_thread_new ("hang-up", hang_up_loop, &h);
  for (int i = 0; i < 10; i++)
    {
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      int status = dc_test_domclone (&out, &err, "-c", uri, "some-source", NULL);

      g_assert_cmpint (status, ==, 1);
      g_assert_true (g_str_has_prefix (err, "domclone: cannot connect to "));
    }
  g_atomic_int_set (&h.stop, 1);
  g_thread_join (thread);
  close (h.fd);
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_add_func ("/cli/help/text", test_cli_help_text);
  g_test_add_func ("/cli/help/binary", test_cli_run_help);
  g_test_add_func ("/cli/version/binary", test_cli_run_version);
  g_test_add_func ("/cli/options/short-unique", test_cli_short_flags_unique);
  g_test_add_func ("/cli/options/parse-version", test_cli_parse_version);
  g_test_add_func ("/cli/options/parse", test_cli_parse);
  g_test_add_func ("/cli/options/reset-identity", test_cli_parse_reset_identity);
  g_test_add_func ("/cli/options/parse-shape", test_cli_parse_shape);
  for (size_t i = 0; i < G_N_ELEMENTS (run_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/cli/run/%s", run_cases[i].label);
      g_test_add_data_func (path, &run_cases[i], test_cli_run);
    }
  g_test_add_func ("/cli/refuse/hostile", test_cli_refuse_hostile);
  g_test_add_func ("/cli/json/codes", test_cli_json_codes);
  g_test_add_func ("/cli/json/errors", test_cli_json_errors);
  g_test_add_func ("/cli/json/count-errors", test_cli_json_count_errors);
  g_test_add_func ("/cli/testdriver/rollback-undefine", test_cli_testdriver_rollback);
  g_test_add_func ("/cli/testdriver/pools", test_cli_testdriver_pools);
  g_test_add_func ("/cli/run/hang-up", test_cli_hang_up);
  return g_test_run ();
}
