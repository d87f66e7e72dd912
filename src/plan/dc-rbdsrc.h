/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-rbdsrc.h: where a Ceph RBD image is and how to reach its cluster, as
 * a domain's network disk or an rbd storage pool names it (no libvirt or
 * librbd call here: src/host/dc-rbd.c does the Ceph side).
 */
#pragma once

#include "dc-xml.h"

G_BEGIN_DECLS

/* The snapshot --make-template makes (and protects) on each RBD image a
 * template's disks read: the parent of every linked clone's image. */
#define DC_RBD_TEMPLATE_SNAP "domclone-template"

typedef struct
{
  char *pool;         /* Ceph pool */
  char *nspace;       /* RADOS namespace, NULL for the default one */
  char *image;        /* the image */
  GPtrArray *hosts;   /* char *: monitors, "name" or "name:port"; may be empty */
  char *user;         /* cephx id (<auth username>), NULL: no <auth> */
  char *secret_uuid;  /* libvirt's secret holding its key ... */
  char *secret_usage; /* ... named by UUID or by usage */
  char *config;       /* <config file>, a ceph.conf, NULL if none */
} DcRbdSource;

void dc_rbd_source_free (DcRbdSource *src);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcRbdSource, dc_rbd_source_free)

DcRbdSource *dc_rbd_source_copy (const DcRbdSource *src, const char *image);
gboolean dc_rbd_source_split_name (const char *name, DcRbdSource *src, GError **error);
DcRbdSource *dc_rbd_source_from_disk (xmlNode *disk, GError **error);
DcRbdSource *dc_rbd_source_from_pool_xml (const char *xml, const char *image, GError **error);
char *dc_rbd_source_name (const DcRbdSource *src, const char *image);
char *dc_rbd_source_hosts (const DcRbdSource *src);
gboolean dc_rbd_source_same_cluster (const DcRbdSource *a, const DcRbdSource *b);
void dc_rbd_source_to_node (const DcRbdSource *src, xmlNode *parent);
DcRbdSource *dc_rbd_source_from_node (xmlNode *node);

G_END_DECLS
