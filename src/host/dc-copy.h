/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "dc-plan.h"

G_BEGIN_DECLS

/* How the bytes of one volume were moved. */
typedef enum
{
  DC_COPY_BY_LIBVIRT,   /* virStorageVolCreateXMLFrom: qemu-img convert, or libvirt's own loop */
  DC_COPY_BY_REFLINK,   /* a local copy-on-write clone (FICLONE): no data copied */
  DC_COPY_BY_SPARSE,    /* a local copy of the data extents (SEEK_DATA/SEEK_HOLE, copy_file_range) */
  DC_COPY_BY_STREAM,    /* its bytes as they are, through libvirt (dc-vol-io.c) */
  DC_COPY_BY_UPLOAD,    /* bytes made in memory (a seed's), uploaded through libvirt */
  DC_COPY_BY_RBD_COPY,  /* a Ceph RBD image's deep copy by librbd, flattened (dc-rbd.c) */
  DC_COPY_BY_RBD_CLONE, /* a copy-on-write child of a template's RBD snapshot (dc-rbd.c) */
  DC_COPY_BY_BACKUP,    /* a running source's disk, as it was at one instant: a backup job (dc-backup.c) */
  DC_COPY_BY_NBD,       /* --live --to: a running source's disk at one instant, read over NBD from a
                         * pull-mode backup job and streamed sparse to the other host (dc-nbd.c) */
  DC_COPY_BY_OVERLAY,   /* a qcow2 overlay written here into a volume libvirt made (dc-overlay-vol.c) */
} DcCopyWay;

const char *dc_copy_way_describe (DcCopyWay way);

/* What the start of a qcow2 file says (QEMU's docs/interop/qcow2.txt;
 * big-endian on disk). */
typedef struct
{
  guint32 version;
  guint64 backing_offset; /* 0: no backing file */
  guint32 nb_snapshots;
  guint64 incompatible; /* version 3: incompatible feature bits */
} DcQcow2Header;

gboolean dc_qcow2_header_read (const char *path, DcQcow2Header *h);
gboolean dc_copy_local_possible (const DcCopy *copy, char **why);
gboolean dc_copy_dst_writable (const DcCopy *copy);
gboolean dc_copy_file (const char *src, const char *dst, DcCopyWay *way, gsize *done, GError **error);
gboolean dc_libvirt_copy_syncs (const DcCopy *copy);
gboolean dc_file_holds (const char *path, GBytes *token);
gboolean dc_file_sync (const char *path, GError **error);

G_END_DECLS
