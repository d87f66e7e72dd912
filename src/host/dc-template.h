/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "dc-util.h"

G_BEGIN_DECLS

/* What --make-template or --unmake-template did. */
typedef struct
{
  char *name;
  char *uuid;
  gboolean changed;  /* FALSE: it was (or was not) a template already */
  gboolean template; /* whether it is a template now */
  GPtrArray *disks;  /* char *: targets made read-only, or writable again */
} DcTemplateResult;

void dc_template_result_free (DcTemplateResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcTemplateResult, dc_template_result_free)

DcTemplateResult *dc_template_make (virConnectPtr conn, const char *name, GError **error);
DcTemplateResult *dc_template_unmake (virConnectPtr conn, const char *name, GError **error);

G_END_DECLS
