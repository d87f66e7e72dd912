/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

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
  gboolean make_template;
  gboolean unmake_template;
  char *source;
} DcCliOptions;

void dc_cli_options_free (DcCliOptions *opts);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcCliOptions, dc_cli_options_free)

DcCliOptions *dc_cli_parse (int argc, char **argv, GError **error);
gboolean dc_cli_wants_json (int argc, char **argv);
char *dc_cli_help (void);
const GOptionEntry *dc_cli_entries (void);

G_END_DECLS
