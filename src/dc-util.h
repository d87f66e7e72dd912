/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-util.h: error domain and the automatic cleanups for libvirt and
 * libxml2 objects, in one place.
 */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <libxml/tree.h>
#include <libxml/xpath.h>

G_BEGIN_DECLS

#define DC_ERROR (dc_error_quark ())
GQuark dc_error_quark (void);

/* Which exit status an error maps to is decided by its code: the
 * "usage" codes are the caller's fault and change nothing (exit 2). */
typedef enum
{
  DC_ERROR_FAILED,        /* generic failure, exit 1 */
  DC_ERROR_USAGE,         /* bad command line, exit 2 */
  DC_ERROR_INVALID_NAME,  /* a name breaks the rules, exit 2 */
  DC_ERROR_NAME_TAKEN,    /* the name belongs to another domain */
  DC_ERROR_NOT_FOUND,     /* source domain or volume missing */
  DC_ERROR_STATE,         /* source not shut off, or transient */
  DC_ERROR_UNSUPPORTED,   /* a disk or device we cannot clone safely */
  DC_ERROR_XML,           /* malformed domain XML */
  DC_ERROR_LIBVIRT,       /* a libvirt call failed */
  DC_ERROR_CANCELLED,     /* interrupted by a signal */
} DcError;

typedef virConnect DcConnect;
typedef virDomain DcDomain;
typedef virStoragePool DcPool;
typedef virStorageVol DcVol;

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcConnect, virConnectClose)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcDomain, virDomainFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcPool, virStoragePoolFree)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcVol, virStorageVolFree)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlXPathContext, xmlXPathFreeContext)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlXPathObject, xmlXPathFreeObject)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlBuffer, xmlBufferFree)

/* xmlChar strings are freed with xmlFree, not g_free. */
typedef xmlChar DcXmlChar;
static inline void
dc_xml_char_free (DcXmlChar *s)
{
  xmlFree (s);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcXmlChar, dc_xml_char_free)

gboolean dc_set_libvirt_error (GError **error, const char *fmt, ...) G_GNUC_PRINTF (2, 3);
int dc_last_libvirt_code (void);
void dc_libvirt_quiet (void);
int dc_error_exit_status (const GError *error);

G_END_DECLS
