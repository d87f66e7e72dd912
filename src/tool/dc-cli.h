/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "dc-shape.h"

G_BEGIN_DECLS

/* --reset-identity[=try] */
typedef enum
{
  DC_CLI_RESET_NONE,
  DC_CLI_RESET_STRICT,
  DC_CLI_RESET_TRY,
} DcCliReset;

typedef struct
{
  gboolean help;
  gboolean version;
  int verbose;
  char *name;
  gboolean exist_ok;
  int count; /* --count; 0: not given */
  char *connect;
  char *to; /* --to: the destination's URI */
  char *pool;
  gboolean cleanup;
  gboolean print_xml;
  gboolean json;
  int jobs; /* 0: the default */
  gboolean quiet;
  gboolean linked;
  gboolean live;
  gboolean quiesce;
  gboolean make_template;
  gboolean unmake_template;
  int reset_identity; /* DcCliReset */
  char *memory;       /* --memory, as given */
  char *vcpus;        /* --vcpus, as given */
  char **resize;      /* --resize, each TARGET=SIZE */
  char **disk;        /* --disk, each TARGET=copy|share|skip */
  char *format;       /* --format */
  DcShape *shape;     /* the five above, read; NULL when none is given */
  char *source;
} DcCliOptions;

void dc_cli_options_free (DcCliOptions *opts);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcCliOptions, dc_cli_options_free)

DcCliOptions *dc_cli_parse (int argc, char **argv, GError **error);
gboolean dc_cli_wants_json (int argc, char **argv);
char *dc_cli_help (void);
const GOptionEntry *dc_cli_entries (void);

G_END_DECLS
