/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-plan-identity.c: what makes the clone another machine: its name
 * (<source>-cloneN or --name), UUID and generation ID, MAC addresses,
 * SMBIOS serial (cloud-init's nocloud), interfaces and static security
 * labels.
 */
#include "config.h"

#include "dc-plan-priv.h"
#include "dc-name.h"
#include "dc-cloudinit.h"

#include <string.h>

/* Enough to step over the clones a busy template has, few enough that a
 * broken lookup cannot spin for long. */
#define DC_PLAN_MAX_NAME_TRIES 10000

char *
dc_random_uuid (GRand *rand)
{
  guint8 b[16];

  for (size_t i = 0; i < sizeof (b); i++)
    b[i] = (guint8) g_rand_int_range (rand, 0, 256);
  b[6] = (b[6] & 0x0f) | 0x40; /* version 4 */
  b[8] = (b[8] & 0x3f) | 0x80; /* RFC 4122 variant */
  return g_strdup_printf ("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                          b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                          b[15]);
}

static char *
dc_planner_new_mac (DcPlanner *p, GError **error)
{
  for (int tries = 0; tries < 1000; tries++)
    {
      g_autofree char *mac = g_strdup_printf (
        "52:54:00:%02x:%02x:%02x", (guint) g_rand_int_range (p->opts->rand, 0, 256),
        (guint) g_rand_int_range (p->opts->rand, 0, 256), (guint) g_rand_int_range (p->opts->rand, 0, 256));

      gboolean in_use = FALSE;

      if (g_hash_table_contains (p->macs, mac))
        continue;
      if (!p->env->mac_in_use (p->env, mac, &in_use, error))
        return NULL;
      if (in_use)
        continue;
      g_hash_table_add (p->macs, g_strdup (mac));
      return g_steal_pointer (&mac);
    }
  g_set_error (error, DC_ERROR, DC_ERROR_FAILED, "cannot find a free MAC address with the 52:54:00 prefix");
  return NULL;
}

/* ds=nocloud;i=<instance-id>;h=<hostname>: cloud-init must see a new
 * instance and a new hostname, or it keeps the source's identity. The
 * host name is the clone's name made a DNS label (dots and underscores
 * become hyphens); the instance-id may hold any character, it keeps the
 * name as it is. */
static char *
dc_planner_nocloud (DcPlanner *p, const char *serial)
{
  g_auto (GStrv) parts = NULL;

  if (!g_str_has_prefix (serial, "ds=nocloud"))
    return NULL;

  parts = g_strsplit (serial, ";", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      char *eq = strchr (parts[i], '=');
      g_autofree char *key = NULL;
      const char *value;

      if (eq == NULL)
        continue;
      key = g_strndup (parts[i], eq - parts[i]);
      value = eq + 1;
      if (g_str_equal (key, "h") || g_str_equal (key, "local-hostname"))
        {
          g_autofree char *host = dc_name_to_hostname (p->plan->name);

          g_free (parts[i]);
          parts[i] = g_strdup_printf ("%s=%s", key, host);
        }
      else if (g_str_equal (key, "i") || g_str_equal (key, "instance-id"))
        {
          g_autofree char *iid =
            dc_cloudinit_instance_id (value, p->plan->source_name, p->plan->name, p->plan->uuid);

          g_free (parts[i]);
          parts[i] = g_strdup_printf ("%s=%s", key, iid);
        }
    }
  return g_strjoinv (";", parts);
}

void
dc_planner_sysinfo (DcPlanner *p)
{
  g_autoptr (GPtrArray) entries = dc_xml_nodes (p->ctxt, NULL, "/domain/sysinfo/system/entry");

  for (guint i = 0; i < entries->len; i++)
    {
      xmlNode *entry = entries->pdata[i];
      g_autofree char *name = dc_xml_prop (entry, "name");
      g_autoptr (DcXmlChar) text = xmlNodeGetContent (entry);

      if (g_strcmp0 (name, "uuid") == 0)
        dc_xml_set_text (entry, p->plan->uuid);
      else if (g_strcmp0 (name, "serial") == 0 && text != NULL)
        {
          g_autofree char *serial = dc_planner_nocloud (p, (const char *) text);

          if (serial != NULL)
            dc_xml_set_text (entry, serial);
        }
    }
}

/* One number of a PCI address as lspci writes it: "0x01" -> "01" */
static char *
dc_pci_part (xmlNode *addr, const char *name, int width)
{
  g_autofree char *value = dc_xml_prop (addr, name);
  guint64 n = 0;

  if (value == NULL
      || !g_ascii_string_to_unsigned (g_str_has_prefix (value, "0x") ? value + 2 : value, 16, 0, G_MAXUINT32,
                                      &n, NULL))
    return g_strdup (value ? value : "?");
  return g_strdup_printf ("%0*" G_GINT64_MODIFIER "x", width, n);
}

/* A PCI <address>: "0000:01:00.0" */
char *
dc_pci_address (xmlNode *addr)
{
  g_autofree char *domain = dc_pci_part (addr, "domain", 4);
  g_autofree char *bus = dc_pci_part (addr, "bus", 2);
  g_autofree char *slot = dc_pci_part (addr, "slot", 2);
  g_autofree char *function = dc_pci_part (addr, "function", 1);

  return g_strdup_printf ("%s:%s:%s.%s", domain, bus, slot, function);
}

/* A <virtualport>'s interfaceid (Open vSwitch: the OVN/OVS port the
 * interface is; also given for a virtualport whose type the network
 * decides) and 802.1Qbg instanceid (the VSI instance on the switch) name
 * the source's port: dropped, libvirt makes new ones when the clone is
 * defined. The rest (profileid, managerid, typeid) says which kind of
 * port, and is kept. */
static void
dc_planner_virtualport (xmlNode *iface)
{
  xmlNode *vport = dc_xml_child (iface, "virtualport", FALSE);
  xmlNode *params = vport ? dc_xml_child (vport, "parameters", FALSE) : NULL;

  if (params == NULL)
    return;
  xmlUnsetProp (params, BAD_CAST "interfaceid");
  xmlUnsetProp (params, BAD_CAST "instanceid");
  if (params->properties == NULL && params->children == NULL)
    dc_xml_remove (params);
}

/* Interfaces whose host side cannot be made the clone's own: said out
 * loud (domclone(1), IDENTITY). */
static void
dc_planner_interface_kept (DcPlanner *p, xmlNode *iface, guint index)
{
  g_autofree char *type = dc_xml_prop (iface, "type");
  g_autoptr (GPtrArray) forwards = dc_xml_nodes (p->ctxt, iface, "./portForward");
  const char *clone = p->plan->name;
  const char *source = p->plan->source_name;

  if (g_strcmp0 (type, "server") == 0 || g_strcmp0 (type, "udp") == 0)
    {
      const char *xpath = g_str_equal (type, "server") ? "./source/@port" : "./source/local/@port";
      g_autofree char *port = dc_xml_string (p->ctxt, iface, xpath);

      if (port != NULL)
        dc_planner_warn (p, "'%s' keeps interface %u's fixed %s port '%s': it cannot run while '%s' does",
                         clone, index, g_str_equal (type, "server") ? "TCP" : "UDP", port, source);
    }
  else if (g_strcmp0 (type, "hostdev") == 0 || g_strcmp0 (type, "vdpa") == 0)
    {
      g_autofree char *dev = dc_xml_string (p->ctxt, iface, "./source/@dev");
      xmlNode *addr = dc_xml_node (p->ctxt, iface, "./source/address");
      g_autofree char *pci = addr ? dc_pci_address (addr) : NULL;

      dc_planner_warn (
        p, "'%s' keeps interface %u's host device '%s': only one of it and '%s' can run at a time", clone,
        index,
        dev   ? dev
        : pci ? pci
              : "?",
        source);
    }
  for (guint i = 0; i < forwards->len; i++)
    {
      g_autoptr (GPtrArray) ranges = dc_xml_nodes (p->ctxt, forwards->pdata[i], "./range");
      g_autofree char *proto = dc_xml_prop (forwards->pdata[i], "proto");

      for (guint j = 0; j < ranges->len; j++)
        {
          g_autofree char *start = dc_xml_prop (ranges->pdata[j], "start");
          g_autofree char *end = dc_xml_prop (ranges->pdata[j], "end");
          g_autofree char *ports = end ? g_strdup_printf ("%s-%s", start, end) : g_strdup (start);

          dc_planner_warn (
            p, "'%s' keeps interface %u's forward of host %s port '%s': it cannot run while '%s' does", clone,
            index, proto ? proto : "tcp", ports ? ports : "?", source);
        }
    }
}

/* <target dev=... managed='no'>: a tap device made outside libvirt and
 * wired up by its maker; libvirt uses it as it is. One process can have
 * it open: kept, and said. */
static gboolean
dc_planner_unmanaged_tap (DcPlanner *p, xmlNode *iface, guint index)
{
  xmlNode *target = dc_xml_child (iface, "target", FALSE);
  g_autofree char *managed = target ? dc_xml_prop (target, "managed") : NULL;
  g_autofree char *dev = target ? dc_xml_prop (target, "dev") : NULL;

  if (g_strcmp0 (managed, "no") != 0 || dev == NULL)
    return FALSE;
  dc_planner_warn (
    p, "'%s' keeps interface %u's tap device '%s' (managed='no'): only one of it and '%s' can run at a time",
    p->plan->name, index, dev, p->plan->source_name);
  return TRUE;
}

gboolean
dc_planner_interfaces (DcPlanner *p, GError **error)
{
  g_autoptr (GPtrArray) ifaces = dc_xml_nodes (p->ctxt, NULL, "/domain/devices/interface");

  for (guint i = 0; i < ifaces->len; i++)
    {
      xmlNode *iface = ifaces->pdata[i];
      xmlNode *mac = dc_xml_child (iface, "mac", TRUE);
      g_autofree char *old = dc_xml_prop (mac, "address");
      g_autofree char *addr = dc_planner_new_mac (p, error);

      if (addr == NULL)
        return FALSE;
      if (old != NULL)
        {
          g_ptr_array_add (p->macs_from, g_steal_pointer (&old));
          g_ptr_array_add (p->macs_to, g_strdup (addr));
        }
      xmlSetProp (mac, BAD_CAST "address", BAD_CAST addr);
      /* libvirt picks a free tap/macvtap name for the clone; a tap
       * made outside libvirt (managed='no') is the user's: kept */
      if (!dc_planner_unmanaged_tap (p, iface, i))
        dc_xml_remove (dc_xml_child (iface, "target", FALSE));
      dc_planner_virtualport (iface);
      dc_planner_interface_kept (p, iface, i);
    }
  return TRUE;
}

/* A static security label (SELinux, AppArmor) is the source's sVirt
 * identity: a clone running with it is not kept apart from the source.
 * It becomes dynamic: libvirt gives the clone a label of its own when it
 * starts, relabelling its files. An SELinux label keeps its user, role
 * and type as the base of the new one. A DAC label (the user and group
 * QEMU runs as) is no identity and is kept. */
void
dc_planner_seclabels (DcPlanner *p)
{
  g_autoptr (GPtrArray) labels = dc_xml_nodes (p->ctxt, NULL, "/domain/seclabel[@type='static']");

  for (guint i = 0; i < labels->len; i++)
    {
      xmlNode *seclabel = labels->pdata[i];
      g_autofree char *model = dc_xml_prop (seclabel, "model");
      g_autofree char *label = dc_xml_string (p->ctxt, seclabel, "./label");
      xmlNode *base = dc_xml_child (seclabel, "baselabel", FALSE);

      if (g_strcmp0 (model, "dac") == 0)
        continue;
      xmlSetProp (seclabel, BAD_CAST "type", BAD_CAST "dynamic");
      xmlSetProp (seclabel, BAD_CAST "relabel", BAD_CAST "yes");
      if (base == NULL && g_strcmp0 (model, "selinux") == 0 && label != NULL)
        {
          /* user:role:type:level -> user:role:type:s0, the level made anew */
          g_auto (GStrv) parts = g_strsplit (label, ":", 4);

          if (g_strv_length (parts) == 4)
            {
              g_autofree char *baselabel = g_strdup_printf ("%s:%s:%s:s0", parts[0], parts[1], parts[2]);

              xmlNewTextChild (seclabel, NULL, BAD_CAST "baselabel", BAD_CAST baselabel);
            }
        }
      dc_xml_remove (dc_xml_child (seclabel, "label", FALSE));
      dc_xml_remove (dc_xml_child (seclabel, "imagelabel", FALSE));
    }
}

gboolean
dc_planner_choose_name (DcPlanner *p, GError **error)
{
  DcPlan *plan = p->plan;
  gboolean exists = FALSE;

  if (p->opts->name != NULL)
    {
      if (!dc_name_validate (p->opts->name, error))
        return FALSE;
      /* on another host the source's own name is free */
      if (!p->opts->across && g_str_equal (p->opts->name, plan->source_name))
        {
          g_set_error (error, DC_ERROR, DC_ERROR_INVALID_NAME,
                       "invalid name '%s': it is the source's own name; choose another", p->opts->name);
          return FALSE;
        }
      if (!p->env->domain_exists (p->env, p->opts->name, &exists, error))
        return FALSE;
      if (exists)
        {
          g_set_error (error, DC_ERROR, DC_ERROR_NAME_TAKEN,
                       "domain '%s' already exists; choose another --name", p->opts->name);
          return FALSE;
        }
      plan->name = g_strdup (p->opts->name);
      return TRUE;
    }

  for (guint n = MAX (p->opts->first_number, 1), tries = 0; tries < DC_PLAN_MAX_NAME_TRIES; n++, tries++)
    {
      g_autofree char *name = dc_name_auto (plan->source_name, n, error);

      if (name == NULL)
        return FALSE;
      if (!p->env->domain_exists (p->env, name, &exists, error))
        return FALSE;
      if (!exists)
        {
          plan->name = g_steal_pointer (&name);
          plan->number = n;
          return TRUE;
        }
      g_debug ("'%s' is taken, trying the next number", name);
    }
  g_set_error (error, DC_ERROR, DC_ERROR_NAME_TAKEN,
               "no free name of the form '%s-cloneN' after %d tries; give one with --name", plan->source_name,
               DC_PLAN_MAX_NAME_TRIES);
  return FALSE;
}

/* The clone's name and UUID in its XML, and a new generation ID. */
void
dc_planner_identity (DcPlanner *p, xmlNode *root)
{
  xmlNode *node;

  dc_xml_set_text (dc_xml_child (root, "name", TRUE), p->plan->name);
  dc_xml_set_text (dc_xml_child (root, "uuid", TRUE), p->plan->uuid);
  /* libvirt's runtime id never belongs in a definition */
  xmlUnsetProp (root, BAD_CAST "id");

  /* an empty <genid/> asks libvirt to make one: keep it empty */
  node = dc_xml_node (p->ctxt, NULL, "/domain/genid");
  if (node != NULL && node->children != NULL)
    {
      g_autofree char *genid = dc_random_uuid (p->opts->rand);
      dc_xml_set_text (node, genid);
    }
}
