/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-seed.h: a cloud-init NoCloud seed (an ISO 9660 image labelled
 * "cidata") rewritten for a clone, bytes in, bytes out: the image with
 * libarchive, JSON meta-data with json-glib, the rest by dc-cloudinit.
 */
#pragma once

#include "dc-cloudinit.h"

G_BEGIN_DECLS

char *dc_seed_meta_data (const char *text, gsize len, const DcCloudinitRewrite *rw, gsize *out_len,
                         GError **error);
GBytes *dc_seed_rewrite (GBytes *iso, const DcCloudinitRewrite *rw, GError **error);

G_END_DECLS
