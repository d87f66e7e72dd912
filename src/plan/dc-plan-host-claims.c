/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-plan-host-claims.c: what the clone would hold on the host that
 * only one running domain can: fixed display and vsock ports, socket
 * paths QEMU binds, chardev files and ports, passed-through host
 * devices. Each is made the clone's own, or kept with a warning.
 */
#include "config.h"

#include "dc-plan-priv.h"
#include "dc-newvol.h"

#include <string.h>

void
dc_planner_ports (DcPlanner *p)
{
  g_autoptr (GPtrArray) graphics = dc_xml_nodes (p->ctxt, NULL, "/domain/devices/graphics");
  g_autoptr (GPtrArray) cids = dc_xml_nodes (p->ctxt, NULL, "/domain/devices/vsock/cid");

  for (guint i = 0; i < graphics->len; i++)
    {
      xmlNode *g = graphics->pdata[i];
      g_autofree char *port = dc_xml_prop (g, "port");
      g_autofree char *tls = dc_xml_prop (g, "tlsPort");
      g_autofree char *ws = dc_xml_prop (g, "websocket");
      gboolean fixed = FALSE;

      if (port != NULL && !g_str_equal (port, "-1"))
        fixed = TRUE;
      if (tls != NULL && !g_str_equal (tls, "-1"))
        fixed = TRUE;
      /* automatic display ports, but a fixed websocket port: kept, as
       * a proxy in front of it (noVNC) is set up for that port */
      if (!fixed && ws != NULL && !g_str_equal (ws, "-1"))
        {
          g_autofree char *type = dc_xml_prop (g, "type");

          dc_planner_warn (
            p, "'%s' keeps the %s display's fixed websocket port '%s': it cannot run while '%s' does",
            p->plan->name, type ? type : "?", ws, p->plan->source_name);
        }
      if (!fixed)
        continue;
      xmlUnsetProp (g, BAD_CAST "port");
      xmlUnsetProp (g, BAD_CAST "tlsPort");
      if (ws != NULL && !g_str_equal (ws, "-1"))
        xmlSetProp (g, BAD_CAST "websocket", BAD_CAST "-1");
      xmlSetProp (g, BAD_CAST "autoport", BAD_CAST "yes");
    }

  for (guint i = 0; i < cids->len; i++)
    {
      xmlNode *cid = cids->pdata[i];

      xmlUnsetProp (cid, BAD_CAST "address");
      xmlSetProp (cid, BAD_CAST "auto", BAD_CAST "yes");
    }
}

/* A unix socket's path holds at most this many bytes (sun_path is 108,
 * with its terminating NUL) */
#define DC_SUN_PATH_MAX 107

/* How the planner names a device in messages: its element and its
 * place among the devices of that kind ("serial 0", "channel 1"); an
 * RNG's backend is named by its <rng>. */
static char *
dc_planner_device_name (DcPlanner *p, xmlNode *dev)
{
  g_autofree char *xpath = NULL;
  g_autofree char *count = NULL;

  if (xmlStrEqual (dev->name, BAD_CAST "backend") && dev->parent != NULL)
    dev = dev->parent;
  xpath = g_strdup_printf ("count(preceding-sibling::%s)", (const char *) dev->name);
  count = dc_xml_string (p->ctxt, dev, xpath);
  return g_strdup_printf ("%s %s", (const char *) dev->name, count ? count : "?");
}

/* A unix socket QEMU binds (listens on) must be the clone's own: QEMU
 * removes whatever is at the path before it binds, so the domain started
 * second silently takes the socket from the first. A path libvirt made
 * for a virtio channel or a display (@libvirt_names) is dropped: libvirt
 * makes a new one for the clone. Any other gets the clone's name in its
 * file name, never in the directories above it, which stay: nobody would
 * make a directory named after the clone, and the clone could not start.
 * A path that does not fit in a socket address is refused. */
static gboolean
dc_planner_bound_path (DcPlanner *p, xmlNode *dev, xmlNode *node, const char *attr, gboolean libvirt_names,
                       GError **error)
{
  g_autofree char *path = dc_xml_prop (node, attr);
  g_autofree char *renamed = NULL;

  if (path == NULL)
    return TRUE;
  if (libvirt_names && (strstr (path, "/channel/target/") != NULL || strstr (path, "/domain-") != NULL))
    {
      xmlUnsetProp (node, BAD_CAST attr);
      return TRUE;
    }
  renamed = dc_newvol_path (path, p->plan->source_name, p->plan->name);
  if (strlen (renamed) > DC_SUN_PATH_MAX)
    {
      g_autofree char *what = dc_planner_device_name (p, dev);

      g_set_error (
        error, DC_ERROR, DC_ERROR_UNSUPPORTED,
        "cannot clone %s: its socket '%s' would become '%s', %zu bytes, more than the %d a unix socket path can hold; give the source's socket a shorter path, or clone with a shorter --name",
        what, path, renamed, strlen (renamed), DC_SUN_PATH_MAX);
      return FALSE;
    }
  xmlSetProp (node, BAD_CAST attr, BAD_CAST renamed);
  return TRUE;
}

/* VNC and SPICE listening on a unix socket (<graphics socket=...> or
 * <listen type='socket' socket=...>): QEMU binds it. A path libvirt made
 * (in the domain's runtime directory) is dropped, as it makes one. */
gboolean
dc_planner_graphics_sockets (DcPlanner *p, GError **error)
{
  g_autoptr (GPtrArray) nodes = dc_xml_nodes (
    p->ctxt, NULL,
    "/domain/devices/graphics[@socket] | /domain/devices/graphics/listen[@type='socket' and @socket]");

  for (guint i = 0; i < nodes->len; i++)
    {
      xmlNode *node = nodes->pdata[i];
      xmlNode *dev = xmlStrEqual (node->name, BAD_CAST "listen") ? node->parent : node;

      if (!dc_planner_bound_path (p, dev, node, "socket", TRUE, error))
        return FALSE;
    }
  return TRUE;
}

/* A TCP or UDP port a character device binds (<source mode='bind'
 * service=...>) cannot be made the clone's own: the clone keeps it,
 * and says so. */
static void
dc_planner_chardev_port (DcPlanner *p, xmlNode *dev, const char *type)
{
  g_autoptr (GPtrArray) binds = dc_xml_nodes (p->ctxt, dev, "./source[@mode='bind' and @service]");

  for (guint i = 0; i < binds->len; i++)
    {
      g_autofree char *service = dc_xml_prop (binds->pdata[i], "service");
      g_autofree char *host = dc_xml_prop (binds->pdata[i], "host");
      g_autofree char *what = NULL;

      if (g_str_equal (service, "0"))
        continue; /* any free port */
      what = dc_planner_device_name (p, dev);
      dc_planner_warn (p, "'%s' keeps %s's fixed %s port '%s'%s%s%s: it cannot run while '%s' does",
                       p->plan->name, what, g_str_equal (type, "udp") ? "UDP" : "TCP", service,
                       host ? " on '" : "", host ? host : "", host ? "'" : "", p->plan->source_name);
    }
}

/* Character devices (serial, console, channel, parallel, a passthrough
 * smartcard, a USB redirection, an RNG's egd backend): sockets they bind
 * and files they write must not be shared with the source. A unix
 * socket they connect to belongs to a server outside the domain and is
 * kept: mode='connect', or no mode, which libvirt reads as connect. A
 * TCP or UDP port they bind is kept with a warning. */
gboolean
dc_planner_chardevs (DcPlanner *p, GError **error)
{
  g_autoptr (GPtrArray) devs = dc_xml_nodes (
    p->ctxt, NULL,
    "/domain/devices/*[self::serial or self::console or self::channel or self::parallel or self::smartcard or self::redirdev]"
    " | /domain/devices/rng/backend[@model='egd']");

  for (guint i = 0; i < devs->len; i++)
    {
      xmlNode *dev = devs->pdata[i];
      g_autofree char *type = dc_xml_prop (dev, "type");
      xmlNode *source = dc_xml_child (dev, "source", FALSE);
      xmlNode *log = dc_xml_child (dev, "log", FALSE);
      g_autofree char *path = source ? dc_xml_prop (source, "path") : NULL;
      g_autofree char *mode = source ? dc_xml_prop (source, "mode") : NULL;
      g_autofree char *logfile = log ? dc_xml_prop (log, "file") : NULL;

      if (path != NULL && g_strcmp0 (type, "unix") == 0 && g_strcmp0 (mode, "bind") == 0)
        {
          g_autofree char *target = dc_xml_string (p->ctxt, dev, "./target/@type");
          gboolean libvirt_names =
            xmlStrEqual (dev->name, BAD_CAST "channel") && g_strcmp0 (target, "virtio") == 0;

          if (!dc_planner_bound_path (p, dev, source, "path", libvirt_names, error))
            return FALSE;
        }
      else if (path != NULL && g_strcmp0 (type, "file") == 0)
        {
          g_autofree char *renamed = dc_newvol_path (path, p->plan->source_name, p->plan->name);
          xmlSetProp (source, BAD_CAST "path", BAD_CAST renamed);
        }
      else if (g_strcmp0 (type, "tcp") == 0 || g_strcmp0 (type, "udp") == 0)
        {
          /* libvirt repeats the first serial port as a console of
           * target type serial: one device, one warning */
          g_autofree char *ttype = dc_xml_string (p->ctxt, dev, "./target/@type");

          if (!(xmlStrEqual (dev->name, BAD_CAST "console") && g_strcmp0 (ttype, "serial") == 0))
            dc_planner_chardev_port (p, dev, type);
        }

      if (logfile != NULL)
        {
          g_autofree char *renamed = dc_newvol_path (logfile, p->plan->source_name, p->plan->name);
          xmlSetProp (log, BAD_CAST "file", BAD_CAST renamed);
        }
    }
  return TRUE;
}

/* A vhost-user interface's socket: QEMU binds it in mode='server' (the
 * switch, DPDK say, connects), and connects to the switch's in
 * mode='client', which is kept. A <shmem>'s <server path> is not handled
 * here on purpose: QEMU connects to it, and the ivshmem-server behind it
 * is shared by design by the domains of one shared-memory group. */
gboolean
dc_planner_vhostuser (DcPlanner *p, GError **error)
{
  g_autoptr (GPtrArray) sources =
    dc_xml_nodes (p->ctxt, NULL, "/domain/devices/interface[@type='vhostuser']/source[@type='unix']");

  for (guint i = 0; i < sources->len; i++)
    {
      xmlNode *source = sources->pdata[i];
      g_autofree char *mode = dc_xml_prop (source, "mode");

      if (g_strcmp0 (mode, "server") == 0
          && !dc_planner_bound_path (p, source->parent, source, "path", FALSE, error))
        return FALSE;
    }
  return TRUE;
}

/* Host devices passed through (PCI, USB, SCSI, vhost-scsi, mediated):
 * one running domain at a time can have one. The clone keeps them, and
 * says so. */
void
dc_planner_hostdevs (DcPlanner *p)
{
  g_autoptr (GPtrArray) devs = dc_xml_nodes (p->ctxt, NULL, "/domain/devices/hostdev[@mode='subsystem']");

  for (guint i = 0; i < devs->len; i++)
    {
      xmlNode *dev = devs->pdata[i];
      g_autofree char *type = dc_xml_prop (dev, "type");
      xmlNode *addr = dc_xml_node (p->ctxt, dev, "./source/address");
      g_autofree char *what = NULL;

      if (dc_xml_child (dev, "shareable", FALSE) != NULL)
        continue;
      if (g_strcmp0 (type, "pci") == 0 && addr != NULL)
        {
          g_autofree char *pci = dc_pci_address (addr);
          what = g_strdup_printf ("PCI device '%s'", pci);
        }
      else if (g_strcmp0 (type, "usb") == 0)
        {
          g_autofree char *vendor = dc_xml_string (p->ctxt, dev, "./source/vendor/@id");
          g_autofree char *product = dc_xml_string (p->ctxt, dev, "./source/product/@id");
          g_autofree char *bus = addr ? dc_xml_prop (addr, "bus") : NULL;
          g_autofree char *device = addr ? dc_xml_prop (addr, "device") : NULL;

          if (vendor != NULL || product != NULL)
            what = g_strdup_printf ("USB device '%s:%s'", vendor ? vendor : "?", product ? product : "?");
          else
            what =
              g_strdup_printf ("USB device at bus '%s' device '%s'", bus ? bus : "?", device ? device : "?");
        }
      else if (g_strcmp0 (type, "scsi") == 0)
        {
          g_autofree char *adapter = dc_xml_string (p->ctxt, dev, "./source/adapter/@name");
          g_autofree char *iscsi = dc_xml_string (p->ctxt, dev, "./source/@name");

          what = g_strdup_printf ("SCSI device '%s'", adapter ? adapter : iscsi ? iscsi : "?");
        }
      else if (g_strcmp0 (type, "scsi_host") == 0)
        {
          g_autofree char *wwpn = dc_xml_string (p->ctxt, dev, "./source/@wwpn");
          what = g_strdup_printf ("vhost-scsi target '%s'", wwpn ? wwpn : "?");
        }
      else if (g_strcmp0 (type, "mdev") == 0)
        {
          g_autofree char *uuid = addr ? dc_xml_prop (addr, "uuid") : NULL;
          what = g_strdup_printf ("mediated device '%s'", uuid ? uuid : "?");
        }
      else
        what = g_strdup_printf ("'%s' host device", type ? type : "?");
      dc_planner_warn (
        p, "'%s' keeps hostdev %u, the %s passed through: only one of it and '%s' can run at a time",
        p->plan->name, i, what, p->plan->source_name);
    }
}
