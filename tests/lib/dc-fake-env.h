/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "dc-plan.h"

DcEnv *dc_fake_env_new (const char *inventory_path);
void dc_fake_env_free (DcEnv *env);
void dc_fake_env_fail (DcEnv *env, const char *question);
