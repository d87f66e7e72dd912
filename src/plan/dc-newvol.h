/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-newvol.h: a clone's new volumes: their names and XML.
 */
#pragma once

#include "dc-volinfo.h"

G_BEGIN_DECLS

char *dc_newvol_path (const char *path, const char *source, const char *clone);
char *dc_newvol_name (const char *vol, const char *target, const char *source, const char *clone);
gboolean dc_newvol_name_is_safe (const char *name);
char *dc_newvol_xml (const DcVolInfo *src, const char *name);
char *dc_newvol_overlay_xml (const DcVolInfo *src, const char *name);
char *dc_newvol_overlay_name (const char *vol, const char *target, const char *source, const char *clone);

G_END_DECLS
