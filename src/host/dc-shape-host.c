/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-shape-host.c: the libvirt side of a shaped clone (dc-shape.c is the
 * pure side): the machine type's vCPU ceiling from the domain
 * capabilities, and --resize carried out on a new volume, inside the
 * one copy step, so a failure is rolled back with the volume.
 */
#include "config.h"

#include "dc-shape-host.h"
#include "dc-util.h"
#include "dc-xml.h"

/**
 * dc_shape_host_max_vcpus:
 * @conn: connection
 * @virt_type: (nullable): <domain type> (kvm, qemu)
 * @arch: (nullable): <os><type arch>
 * @machine: (nullable): <os><type machine>
 * @emulator: (nullable): <emulator>
 *
 * Returns: <vcpu max> of libvirt's domain capabilities for these, 0 when
 * libvirt cannot say (the define then judges)
 */
guint
dc_shape_host_max_vcpus (virConnectPtr conn, const char *virt_type, const char *arch, const char *machine,
                         const char *emulator)
{
  g_autofree char *caps = virConnectGetDomainCapabilities (conn, emulator, arch, machine, virt_type, 0);
  g_autoptr (xmlXPathContext) ctxt = NULL;
  g_autoptr (xmlDoc) doc = NULL;
  g_autofree char *max = NULL;
  guint64 n = 0;

  if (caps == NULL)
    {
      g_debug ("no domain capabilities for machine '%s': %s", machine ? machine : "?",
               virGetLastErrorMessage ());
      return 0;
    }
  doc = dc_xml_parse (caps, "domainCapabilities", "libvirt's domain capabilities", &ctxt, NULL);
  max = doc ? dc_xml_string (ctxt, NULL, "/domainCapabilities/vcpu/@max") : NULL;
  if (max == NULL || !g_ascii_string_to_unsigned (max, 10, 1, G_MAXUINT, &n, NULL))
    return 0;
  return (guint) n;
}

/**
 * dc_shape_host_grow:
 * @vol: @copy's new volume, filled
 * @copy: its plan
 * @grown: (out): whether it was grown here
 * @error: return location
 *
 * --resize: grows @vol to @copy's capacity where the way it was filled
 * left it smaller (qemu-img convert makes a copy of the source's size
 * whatever the new volume's XML says; a local copy gives it the source's
 * length). libvirt grows a raw file sparsely and runs qemu-img resize on
 * a qcow2 one. Never shrinks.
 *
 * Returns: %TRUE on success
 */
gboolean
dc_shape_host_grow (virStorageVolPtr vol, const DcCopy *copy, gboolean *grown, GError **error)
{
  virStorageVolInfo info;

  *grown = FALSE;
  if (copy->grow_to == 0)
    return TRUE;
  if (virStorageVolGetInfo (vol, &info) < 0)
    return dc_set_libvirt_error (error, "cannot read the size of %s's new volume '%s'", copy->what,
                                 copy->dst_name);
  if (info.capacity >= copy->grow_to)
    return TRUE;
  g_info ("growing %s from %llu to %" G_GUINT64_FORMAT " bytes", copy->what, info.capacity, copy->grow_to);
  if (virStorageVolResize (vol, copy->grow_to, 0) < 0)
    return dc_set_libvirt_error (error, "cannot resize %s's new volume '%s' to %" G_GUINT64_FORMAT " bytes",
                                 copy->what, copy->dst_name, copy->grow_to);
  *grown = TRUE;
  return TRUE;
}
