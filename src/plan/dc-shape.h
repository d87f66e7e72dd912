/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-shape.h: a clone shaped on the way (--memory, --vcpus, --resize,
 * --disk, --format): the values read from the command line, and the pure
 * rules the planner applies with them.
 */
#pragma once

#include "dc-xml.h"

G_BEGIN_DECLS

/* --vcpus above this is a typo more likely than a machine: QEMU's own
 * ceiling on x86 (the machine type's, often lower, is asked of libvirt) */
#define DC_SHAPE_MAX_VCPUS 4096

/* What --disk says of one disk; DEFAULT where only --resize names it */
typedef enum
{
  DC_DISK_DEFAULT,
  DC_DISK_COPY,
  DC_DISK_SHARE,
  DC_DISK_SKIP,
} DcDiskAction;

/* One disk named by --disk or --resize */
typedef struct
{
  char *target;
  DcDiskAction action;
  guint64 resize;    /* bytes; 0: not resized */
  gboolean relative; /* +SIZE: @resize is added to its capacity */
} DcShapeDisk;

typedef struct
{
  guint64 memory;   /* bytes, a whole number of KiB; 0: not given */
  guint vcpus;      /* 0: not given */
  char *format;     /* raw, qcow2, or NULL: each copy keeps its own */
  GPtrArray *disks; /* DcShapeDisk, one per target named */
} DcShape;

void dc_shape_free (DcShape *shape);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DcShape, dc_shape_free)

gboolean dc_shape_parse_size (const char *text, const char *option, gboolean relative_ok, guint64 *bytes,
                              gboolean *relative, GError **error);
DcShape *dc_shape_new (const char *memory, const char *vcpus, const char *const *resize,
                       const char *const *disk, const char *format, GError **error);
const DcShapeDisk *dc_shape_disk (const DcShape *shape, const char *target);
const char *dc_shape_action_name (DcDiskAction action);

gboolean dc_shape_check_targets (const DcShape *shape, xmlXPathContext *ctxt, GError **error);
gboolean dc_shape_domain (const DcShape *shape, xmlXPathContext *ctxt, guint max_vcpus, GError **error);
gboolean dc_shape_capacity (const DcShapeDisk *disk, const char *what, guint64 current, guint64 *capacity,
                            GError **error);
char *dc_shape_vol_name (const char *name, const char *from, const char *to);
gboolean dc_shape_libvirt_size (const char *value, const char *unit, guint64 *bytes);

G_END_DECLS
