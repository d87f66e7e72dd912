/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-test-assert.h: assertions the GTest ones lack. A failed
 * dc_assert_contains() prints the text it searched and the part it
 * missed, so a failure in a log says what was there instead.
 */
#pragma once

#include <glib.h>
#include <string.h>

G_BEGIN_DECLS

static inline void
dc_test_assert_contains (const char *file, int line, const char *func, const char *expr, const char *haystack,
                         const char *needle, gboolean want)
{
  gboolean found = haystack != NULL && needle != NULL && strstr (haystack, needle) != NULL;
  g_autofree char *msg = NULL;

  if (found == want && (want || needle != NULL))
    return;
  msg = g_strdup_printf ("assertion failed (%s):\n--- text searched ---\n%s\n--- %s ---\n%s\n---", expr,
                         haystack != NULL ? haystack : "(null)", want ? "missing part" : "part found",
                         needle != NULL ? needle : "(null)");
  g_assertion_message (G_LOG_DOMAIN, file, line, func, msg);
}

/* @haystack contains @needle (both strings; NULL fails) */
#define dc_assert_contains(haystack, needle)                                                                 \
  dc_test_assert_contains (__FILE__, __LINE__, G_STRFUNC, #haystack " contains " #needle, (haystack),        \
                           (needle), TRUE)

/* @haystack does not contain @needle (a NULL @haystack passes) */
#define dc_assert_not_contains(haystack, needle)                                                             \
  dc_test_assert_contains (__FILE__, __LINE__, G_STRFUNC, #haystack " lacks " #needle, (haystack), (needle), \
                           FALSE)

G_END_DECLS
