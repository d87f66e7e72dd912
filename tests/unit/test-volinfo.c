/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the planner reads of a volume's XML (dc-volinfo.c), from volume
 * XML as libvirt 9 writes it, without a daemon.
 */
#include "config.h"

#include "dc-volinfo.h"

static const char qcow2_xml[] = "<volume type='file'>\n"
                                "  <name>web&amp;1.qcow2</name>\n"
                                "  <key>/var/lib/libvirt/images/web&amp;1.qcow2</key>\n"
                                "  <capacity unit='bytes'>21474836480</capacity>\n"
                                "  <allocation unit='bytes'>1074331648</allocation>\n"
                                "  <physical unit='bytes'>1074135040</physical>\n"
                                "  <target>\n"
                                "    <path>/var/lib/libvirt/images/web&amp;1.qcow2</path>\n"
                                "    <format type='qcow2'/>\n"
                                "    <permissions>\n"
                                "      <mode>0600</mode>\n"
                                "      <owner>64055</owner>\n"
                                "      <group>-1</group>\n"
                                "    </permissions>\n"
                                "    <compat>1.1</compat>\n"
                                "    <clusterSize unit='B'>65536</clusterSize>\n"
                                "    <features>\n"
                                "      <lazy_refcounts/>\n"
                                "      <extended_l2/>\n"
                                "    </features>\n"
                                "  </target>\n"
                                "</volume>\n";

static void
test_volinfo_qcow2 (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DcVolInfo) info = dc_vol_info_from_xml (qcow2_xml, "default", "/var/lib/libvirt/images", &error);

  g_assert_no_error (error);
  g_assert_cmpstr (info->pool, ==, "default");
  g_assert_cmpstr (info->pool_path, ==, "/var/lib/libvirt/images");
  g_assert_cmpstr (info->name, ==, "web&1.qcow2");
  g_assert_cmpstr (info->path, ==, "/var/lib/libvirt/images/web&1.qcow2");
  g_assert_cmpstr (info->type, ==, "file");
  g_assert_cmpstr (info->format, ==, "qcow2");
  g_assert_cmpuint (info->capacity, ==, G_GUINT64_CONSTANT (21474836480));
  g_assert_cmpuint (info->allocation, ==, 1074331648);
  g_assert_cmpstr (info->mode, ==, "0600");
  g_assert_cmpstr (info->owner, ==, "64055");
  g_assert_null (info->group); /* -1: libvirt could not read it */
  g_assert_cmpstr (info->compat, ==, "1.1");
  g_assert_cmpstr (info->cluster_size, ==, "65536");
  g_assert_nonnull (info->features);
  g_assert_cmpuint (g_strv_length (info->features), ==, 2);
  g_assert_cmpstr (info->features[0], ==, "lazy_refcounts");
  g_assert_cmpstr (info->features[1], ==, "extended_l2");
  g_assert_null (info->open_dir);
}

static void
test_volinfo_raw (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DcVolInfo) info =
    dc_vol_info_from_xml ("<volume type='file'><name>data.raw</name><capacity unit='bytes'>1048576</capacity>"
                          "<target><path>/p/data.raw</path><format type='raw'/></target></volume>",
                          "p", NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (info->format, ==, "raw");
  g_assert_cmpuint (info->capacity, ==, 1048576);
  g_assert_cmpuint (info->allocation, ==, 0);
  g_assert_null (info->pool_path);
  g_assert_null (info->compat);
  g_assert_null (info->cluster_size);
  g_assert_null (info->features);
  g_assert_null (info->mode);
}

static void
test_volinfo_bad (void)
{
  static const char *bad[] = {
    "",
    "<volume>",
    "<pool><name>x</name></pool>",
    "<volume><capacity>1</capacity></volume>", /* no name */
    "<volume><name>x</name></volume>",         /* no capacity */
    "<volume><name>x</name><capacity>-1</capacity></volume>",
    "<volume><name>x</name><capacity>12 GiB</capacity></volume>",
    "<volume><name>x</name><capacity>1</capacity><allocation>lots</allocation></volume>",
  };

  for (size_t i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (DcVolInfo) info = dc_vol_info_from_xml (bad[i], "p", NULL, &error);

      g_test_message ("case %zu: %s", i, bad[i]);
      g_assert_null (info);
      g_assert_error (error, DC_ERROR, DC_ERROR_XML);
    }
}

/* What libvirt 9.0's dir pool says of a raw disk whose first sector is
 * a qcow2 header backed by a host file (seen on the test daemon), and
 * of a LUKS volume: the probe's format, backing file and size, the
 * file's own size, and the encryption are all read, for the planner to
 * judge */
static const char lying_xml[] = "<volume type='file'>\n"
                                "  <name>lie.raw</name>\n"
                                "  <capacity unit='bytes'>1073741824</capacity>\n"
                                "  <allocation unit='bytes'>200704</allocation>\n"
                                "  <physical unit='bytes'>16777216</physical>\n"
                                "  <target>\n"
                                "    <path>/srv/p/lie.raw</path>\n"
                                "    <format type='qcow2'/>\n"
                                "    <compat>1.1</compat>\n"
                                "  </target>\n"
                                "  <backingStore>\n"
                                "    <path>/etc/shadow</path>\n"
                                "    <format type='raw'/>\n"
                                "  </backingStore>\n"
                                "</volume>\n";

static const char luks_xml[] =
  "<volume type='file'>\n"
  "  <name>vault.raw</name>\n"
  "  <capacity unit='bytes'>1073741824</capacity>\n"
  "  <target>\n"
  "    <path>/srv/p/vault.raw</path>\n"
  "    <format type='raw'/>\n"
  "    <encryption format='luks'>\n"
  "      <secret type='passphrase' uuid='0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f'/>\n"
  "    </encryption>\n"
  "  </target>\n"
  "</volume>\n";

static void
test_volinfo_probe (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (DcVolInfo) lie = dc_vol_info_from_xml (lying_xml, "p", "/srv/p", &error);
  g_autoptr (DcVolInfo) luks = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (lie->format, ==, "qcow2");
  g_assert_cmpstr (lie->backing, ==, "/etc/shadow");
  g_assert_cmpuint (lie->capacity, ==, 1073741824);
  g_assert_cmpuint (lie->physical, ==, 16777216);
  g_assert_null (lie->encryption);

  luks = dc_vol_info_from_xml (luks_xml, "p", "/srv/p", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (luks->encryption, ==, "luks");
  g_assert_null (luks->backing);
  g_assert_cmpuint (luks->physical, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/volinfo/qcow2", test_volinfo_qcow2);
  g_test_add_func ("/volinfo/raw", test_volinfo_raw);
  g_test_add_func ("/volinfo/bad", test_volinfo_bad);
  g_test_add_func ("/volinfo/probe", test_volinfo_probe);
  return g_test_run ();
}
