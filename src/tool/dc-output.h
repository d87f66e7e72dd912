/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-output.h: what domclone prints on standard output, as text or as
 * one JSON object (--json), from one result.
 */
#pragma once

#include "dc-run.h"
#include "dc-template.h"

G_BEGIN_DECLS

typedef enum
{
  DC_OUTPUT_TEXT,
  DC_OUTPUT_JSON,
} DcOutputFormat;

const char *dc_output_error_code (const GError *error);
char *dc_output_error_line (const GError *error);
char *dc_output_warning_lines (const DcCloneResult *result);
char *dc_output_failure (DcOutputFormat format, const GError *error);
char *dc_output_clone (DcOutputFormat format, const DcCloneResult *result);
char *dc_output_clones (DcOutputFormat format, const GPtrArray *made);
char *dc_output_clones_failure (DcOutputFormat format, const GPtrArray *made, const GError *error);
char *dc_output_print_xml (DcOutputFormat format, const DcCloneResult *result);
char *dc_output_template (DcOutputFormat format, const DcTemplateResult *result);
char *dc_output_cleanup (DcOutputFormat format, const char *source, const GPtrArray *removed,
                         const GError *error);

G_END_DECLS
