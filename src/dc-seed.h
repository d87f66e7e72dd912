/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-seed.h: a cloud-init NoCloud seed (an ISO 9660 image labelled
 * "cidata") rewritten for a clone, bytes in, bytes out.
 */
#pragma once

#include "dc-error.h"

G_BEGIN_DECLS

/* Seeds are a few KiB: anything bigger is refused, not read. */
#define DC_SEED_MAX_SIZE ((gsize) 16 * 1024 * 1024)
/* The primary volume descriptor: the sector at 32 KiB; its volume
 * identifier is the 32 bytes at offset 40. */
#define DC_SEED_PVD_OFFSET 32768
#define DC_SEED_PVD_SIZE 2048

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
} DcSeedRewrite;

char *dc_seed_pvd_label (const guint8 *sector, gsize len);
/* The label cloud-init's NoCloud looks for, in any case ("cidata",
 * "CIDATA"); the planner decides with this too. */
static inline gboolean
dc_seed_label_is_cidata (const char *label)
{
  return label != NULL && g_ascii_strcasecmp (label, "cidata") == 0;
}

char *dc_seed_meta_data (const char *text, gsize len, const DcSeedRewrite *rw, gsize *out_len,
                         GError **error);
char *dc_seed_replace_macs (const char *text, gsize len, const DcSeedRewrite *rw, gsize *out_len);
GBytes *dc_seed_rewrite (GBytes *iso, const DcSeedRewrite *rw, GError **error);

G_END_DECLS
