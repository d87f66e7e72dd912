/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-cloudinit.h: what a clone changes in a cloud-init NoCloud seed (an
 * ISO 9660 image labelled "cidata"), text in, text out. No libvirt, no
 * image: src/host/dc-seed.c reads and writes the image.
 */
#pragma once

#include "dc-error.h"

G_BEGIN_DECLS

/* Seeds are a few KiB: anything bigger is refused, not read. */
#define DC_CLOUDINIT_MAX_SIZE ((gsize) 16 * 1024 * 1024)
/* The primary volume descriptor: the sector at 32 KiB; its volume
 * identifier is the 32 bytes at offset 40. */
#define DC_CLOUDINIT_PVD_OFFSET 32768
#define DC_CLOUDINIT_PVD_SIZE 2048

/* What a seed becomes in the clone. */
typedef struct
{
  const char *source_name; /* the source domain's name */
  const char *clone_name;
  const char *clone_uuid;
  const char *hostname; /* the clone's host name (dc_name_to_hostname) */
  /* MAC address of the source's interface i, and of the clone's */
  const char *const *macs_from;
  const char *const *macs_to;
} DcCloudinitRewrite;

char *dc_cloudinit_pvd_label (const guint8 *sector, gsize len);
/* The label cloud-init's NoCloud looks for, in any case ("cidata",
 * "CIDATA"); the planner decides with this too. */
static inline gboolean
dc_cloudinit_label_is_cidata (const char *label)
{
  return label != NULL && g_ascii_strcasecmp (label, "cidata") == 0;
}

char *dc_cloudinit_instance_id (const char *source_iid, const char *source_name, const char *clone_name,
                                const char *clone_uuid);
char *dc_cloudinit_rewrite_instance_id (const DcCloudinitRewrite *rw, const char *old);
char *dc_cloudinit_replace_macs (const char *text, gsize len, const DcCloudinitRewrite *rw, gsize *out_len);
char *dc_cloudinit_meta_data_yaml (const char *text, gsize len, const DcCloudinitRewrite *rw, gsize *out_len,
                                   GError **error);

G_END_DECLS
