/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-copy-step.h: the copy step, which makes every new volume of a clone.
 */
#pragma once

#include "dc-run-priv.h"

G_BEGIN_DECLS

gboolean dc_copy_step_run (DcRun *run, GPtrArray *copies, GError **error);

G_END_DECLS
