/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-rbd.c: Ceph RBD images, on the Ceph side, through librbd.
 *
 * libvirt's storage API cannot copy an RBD image: its volume copy in an
 * rbd pool is a copy-on-write child of a snapshot it leaves on the
 * source. So domclone talks to the cluster itself, the way QEMU does for
 * the guest: a full clone is a deep copy (rbd_deep_copy: object by
 * object, the source's features, order and striping kept), flattened
 * when the source has a parent, and without the snapshots a deep copy
 * brings along; a linked clone is rbd_clone3 of the snapshot
 * --make-template made and protected on the template's image.
 *
 * Reaching the cluster: first the monitors the disk (or pool) names
 * with the key libvirt's secret holds (virSecretGetValue: the secret
 * must not be private), as the domain itself does, which works over a
 * remote URI too; then this host's Ceph configuration (CEPH_CONF, else
 * /etc/ceph/ceph.conf, and the keyring it names) for the <auth> user.
 * When neither answers, the error says why each failed.
 */
#include "config.h"

#include "dc-rbd.h"
#include "dc-lazy.h"

#include <errno.h>
#include <rados/librados.h>
#include <rbd/librbd.h>
#include <string.h>

/* How long a connection waits for the monitors before giving up:
 * librados's default is 300 s, far too long to say a cluster is not
 * there. */
#define DC_RBD_MOUNT_TIMEOUT "10"

struct _DcRbdConn
{
  rados_t cluster;
  char *how; /* which way it reached the cluster, for messages */
};

void
dc_rbd_conn_free (DcRbdConn *c)
{
  if (c == NULL)
    return;
  rados_shutdown (c->cluster);
  g_free (c->how);
  g_free (c);
}

/**
 * dc_rbd_conn_how:
 * @c: a connection
 *
 * Returns: which way @c reached its cluster, as a phrase
 */
const char *
dc_rbd_conn_how (const DcRbdConn *c)
{
  return c->how;
}

static gboolean dc_rbd_fail (GError **error, int rc, const char *format, ...) G_GNUC_PRINTF (3, 4);

/* Sets @error from a negative errno @rc and a sentence start. */
static gboolean
dc_rbd_fail (GError **error, int rc, const char *format, ...)
{
  g_autofree char *what = NULL;
  va_list ap;

  va_start (ap, format);
  what = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, DC_ERROR,
               rc == -ENOSPC   ? DC_ERROR_NO_SPACE
               : rc == -EEXIST ? DC_ERROR_VOLUME_EXISTS
                               : DC_ERROR_FAILED,
               "%s: %s", what, g_strerror (-rc));
  return FALSE;
}

/* The key of @src's libvirt secret, base64 as Ceph takes it. */
static char *
dc_rbd_secret_key (virConnectPtr conn, const DcRbdSource *src, GError **error)
{
  const char *named = src->secret_uuid ? src->secret_uuid : src->secret_usage;
  virSecretPtr secret = src->secret_uuid
                          ? virSecretLookupByUUIDString (conn, src->secret_uuid)
                          : virSecretLookupByUsage (conn, VIR_SECRET_USAGE_TYPE_CEPH, src->secret_usage);
  unsigned char *value = NULL;
  size_t len = 0;
  char *key;

  if (secret == NULL)
    {
      dc_set_libvirt_error (error, "libvirt has no secret '%s'", named);
      return NULL;
    }
  value = virSecretGetValue (secret, &len, 0);
  if (value == NULL)
    dc_set_libvirt_error (error, "cannot read libvirt's secret '%s'", named);
  virSecretFree (secret);
  if (value == NULL)
    return NULL;
  key = g_base64_encode (value, len);
  memset (value, 0, len);
  free (value);
  return key;
}

/* Sets option @name of @cluster; %FALSE with @error on failure. */
static gboolean
dc_rbd_set (rados_t cluster, const char *name, const char *value, GError **error)
{
  int rc = rados_conf_set (cluster, name, value);

  if (rc < 0)
    return dc_rbd_fail (error, rc, "cannot set Ceph option '%s'", name);
  return TRUE;
}

/*
 * One try at reaching @src's cluster: with @key (base64) or, when NULL
 * and @use_conf, with this host's Ceph configuration and keyring, or
 * else without authentication (a disk with no <auth>).
 */
static rados_t
dc_rbd_try (const DcRbdSource *src, const char *key, gboolean use_conf, GError **error)
{
  g_autofree char *hosts = dc_rbd_source_hosts (src);
  rados_t cluster = NULL;
  int rc;

  if (!dc_lazy_load (DC_LAZY_RADOS, error) || !dc_lazy_load (DC_LAZY_RBD, error))
    return NULL;
  rc = rados_create (&cluster, src->user);
  if (rc < 0)
    {
      dc_rbd_fail (error, rc, "cannot make a Ceph client");
      return NULL;
    }
  if (use_conf && (rc = rados_conf_read_file (cluster, src->config)) < 0)
    {
      if (src->config != NULL)
        dc_rbd_fail (error, rc, "cannot read the Ceph configuration '%s'", src->config);
      else
        dc_rbd_fail (error, rc, "cannot read a Ceph configuration ($CEPH_CONF, else /etc/ceph/ceph.conf)");
      goto fail;
    }
  if (use_conf)
    rados_conf_parse_env (cluster, NULL);
  /* librados's own complaints (a key that does not decode, say) are
   * in the error this returns: none on stderr */
  if (!dc_rbd_set (cluster, "log_to_stderr", "false", error)
      || !dc_rbd_set (cluster, "err_to_stderr", "false", error)
      || (hosts[0] != '\0' && !dc_rbd_set (cluster, "mon_host", hosts, error))
      || (key != NULL && !dc_rbd_set (cluster, "key", key, error))
      || (key == NULL && !use_conf && !dc_rbd_set (cluster, "auth_client_required", "none", error))
      || !dc_rbd_set (cluster, "client_mount_timeout", DC_RBD_MOUNT_TIMEOUT, error))
    goto fail;
  rc = rados_connect (cluster);
  if (rc < 0)
    {
      dc_rbd_fail (error, rc, "cannot connect");
      goto fail;
    }
  return cluster;

fail:
  rados_shutdown (cluster);
  return NULL;
}

/**
 * dc_rbd_connect:
 * @conn: the libvirt connection whose secrets the disks name
 * @src: an image's place and how its cluster is reached
 * @error: return location
 *
 * Connects to @src's cluster: with its monitors and the key of libvirt's
 * secret first, then with this host's Ceph configuration (see above).
 *
 * Returns: (transfer full): the connection, or %NULL with @error saying
 * why each way failed
 */
DcRbdConn *
dc_rbd_connect (virConnectPtr conn, const DcRbdSource *src, GError **error)
{
  g_autofree char *hosts = dc_rbd_source_hosts (src);
  g_autofree char *name = dc_rbd_source_name (src, NULL);
  g_autoptr (GError) by_secret = NULL;
  g_autoptr (GError) by_conf = NULL;
  g_autofree char *first = NULL;
  gboolean secret = src->secret_uuid != NULL || src->secret_usage != NULL;
  g_autofree char *key = secret ? dc_rbd_secret_key (conn, src, &by_secret) : NULL;
  DcRbdConn *c = g_new0 (DcRbdConn, 1);

  if (key != NULL || (!secret && hosts[0] != '\0'))
    c->cluster = dc_rbd_try (src, key, FALSE, &by_secret);
  if (key != NULL)
    memset (key, 0, strlen (key));
  if (c->cluster != NULL)
    c->how = secret ? g_strdup_printf ("the monitors '%s' with libvirt's secret '%s'", hosts,
                                       src->secret_uuid ? src->secret_uuid : src->secret_usage)
                    : g_strdup_printf ("the monitors '%s' without authentication", hosts);
  if (c->cluster == NULL)
    c->cluster = dc_rbd_try (src, NULL, TRUE, &by_conf);
  if (c->cluster != NULL && c->how == NULL)
    c->how = g_strdup ("this host's Ceph configuration and keyring");
  if (c->cluster != NULL)
    {
      g_debug ("reached the Ceph cluster of '%s' through %s", name, c->how);
      return c;
    }
  g_free (c);
  if (by_secret != NULL)
    first = g_strdup_printf ("with the monitors '%s' and %s: %s; ", hosts[0] ? hosts : "none named",
                             secret ? "libvirt's secret" : "no authentication", by_secret->message);
  g_set_error (error, DC_ERROR, DC_ERROR_FAILED,
               "cannot reach the Ceph cluster of RBD image '%s': %swith this host's Ceph configuration: %s",
               name, first ? first : "", by_conf->message);
  return NULL;
}

/* An I/O context on @src's pool and namespace. */
static rados_ioctx_t
dc_rbd_ioctx (DcRbdConn *c, const DcRbdSource *src, GError **error)
{
  rados_ioctx_t io = NULL;
  int rc = rados_ioctx_create (c->cluster, src->pool, &io);

  if (rc < 0)
    {
      dc_rbd_fail (error, rc, "cannot open Ceph pool '%s'", src->pool);
      return NULL;
    }
  rados_ioctx_set_namespace (io, src->nspace ? src->nspace : "");
  return io;
}

/* An image open for writing, with its pool's I/O context */
typedef struct
{
  rados_ioctx_t io;
  rbd_image_t image; /* NULL: not open */
} DcRbdOpen;

static void
dc_rbd_open_close (DcRbdOpen *o)
{
  if (o->image != NULL)
    rbd_close (o->image);
  o->image = NULL;
}

static void
dc_rbd_open_clear (DcRbdOpen *o)
{
  dc_rbd_open_close (o);
  if (o->io != NULL)
    rados_ioctx_destroy (o->io);
  o->io = NULL;
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (DcRbdOpen, dc_rbd_open_clear)

/* Opens @src's image into @o; @rc gets what rbd_open() returned
 * (@o->image stays NULL when it failed). Returns: %FALSE with @error set
 * if its pool cannot be opened */
static gboolean
dc_rbd_open (DcRbdConn *c, const DcRbdSource *src, DcRbdOpen *o, int *rc, GError **error)
{
  o->io = dc_rbd_ioctx (c, src, error);
  if (o->io == NULL)
    return FALSE;
  *rc = rbd_open (o->io, src->image, &o->image, NULL);
  if (*rc < 0)
    o->image = NULL;
  return TRUE;
}

/**
 * dc_rbd_stat:
 * @c: a connection
 * @src: an image's place
 * @out: (out): what the plan needs to know of it
 * @error: return location
 *
 * Returns: %FALSE with @error set if the cluster cannot tell; a missing
 * image is no error (@out->exists is %FALSE)
 */
gboolean
dc_rbd_stat (DcRbdConn *c, const DcRbdSource *src, DcRbdImage *out, GError **error)
{
  g_autofree char *name = dc_rbd_source_name (src, NULL);
  rados_ioctx_t io = dc_rbd_ioctx (c, src, error);
  rbd_image_t image = NULL;
  uint64_t features = 0;
  bool exists = FALSE;
  int protected = 0;
  int rc;

  *out = (DcRbdImage){ 0 };
  if (io == NULL)
    return FALSE;
  rc = rbd_open_read_only (io, src->image, &image, NULL);
  if (rc == -ENOENT)
    {
      rados_ioctx_destroy (io);
      return TRUE;
    }
  if (rc < 0)
    {
      rados_ioctx_destroy (io);
      return dc_rbd_fail (error, rc, "cannot open RBD image '%s'", name);
    }
  out->exists = TRUE;
  if ((rc = rbd_get_size (image, &out->size)) >= 0 && (rc = rbd_get_features (image, &features)) >= 0)
    rc = rbd_snap_exists (image, DC_RBD_TEMPLATE_SNAP, &exists);
  if (rc >= 0 && exists)
    rc = rbd_snap_is_protected (image, DC_RBD_TEMPLATE_SNAP, &protected);
  rbd_close (image);
  rados_ioctx_destroy (io);
  if (rc < 0)
    return dc_rbd_fail (error, rc, "cannot read RBD image '%s'", name);
  out->layering = (features & RBD_FEATURE_LAYERING) != 0;
  out->template_snap = exists && protected;
  return TRUE;
}

/* Deep copy progress: librbd counts in its own units up to @total, from
 * its own threads */
typedef struct
{
  GMutex lock;
  gsize *done;   /* bytes, for the progress line */
  guint64 size;  /* the image's */
  guint64 shown; /* bytes counted so far, under @lock */
  gboolean stop; /* a signal asked the run to stop, under @lock */
} DcRbdProgress;

static int
dc_rbd_progress (uint64_t offset, uint64_t total, void *data)
{
  DcRbdProgress *p = data;
  guint64 now = total > 0 ? (guint64) ((double) p->size * ((double) offset / (double) total)) : 0;
  gboolean stop;

  g_mutex_lock (&p->lock);
  if (p->done != NULL && now > p->shown)
    g_atomic_pointer_add (p->done, (gssize) (now - p->shown));
  p->shown = MAX (p->shown, now);
  /* a signal: the copy is cut short where librbd lets it be */
  p->stop = p->stop || !dc_check_cancelled (NULL);
  stop = p->stop;
  g_mutex_unlock (&p->lock);
  return stop ? -ECANCELED : 0;
}

/* Removes the snapshots a deep copy brought into the new @image: a
 * clone is a copy of the source's present, nothing more. */
static int
dc_rbd_drop_snaps (rbd_image_t image)
{
  int max = 8;
  g_autofree rbd_snap_info_t *snaps = NULL;
  int n, rc = 0;

  for (;;)
    {
      snaps = g_new0 (rbd_snap_info_t, max);
      n = rbd_snap_list (image, snaps, &max);
      if (n != -ERANGE)
        break;
      g_clear_pointer (&snaps, g_free);
    }
  if (n < 0)
    return n;
  for (int i = 0; i < n && rc >= 0; i++)
    rc = rbd_snap_remove2 (image, snaps[i].name, RBD_SNAP_REMOVE_UNPROTECT, NULL, NULL);
  rbd_snap_list_end (snaps);
  return rc;
}

/* The deep copy of open @image into @dst next to @src, flattened, with
 * the source's features; its snapshots dropped. */
static int
dc_rbd_copy_open (rados_ioctx_t io, rbd_image_t image, const char *dst, DcRbdProgress *progress)
{
  rbd_image_options_t opts;
  rbd_image_t made = NULL;
  int rc;

  rbd_image_options_create (&opts);
  rbd_image_options_set_uint64 (opts, RBD_IMAGE_OPTION_FLATTEN, 1);
  rc = rbd_deep_copy_with_progress (image, io, dst, opts, dc_rbd_progress, progress);
  rbd_image_options_destroy (opts);
  if (rc < 0)
    return rc;
  rc = rbd_open (io, dst, &made, NULL);
  if (rc < 0)
    return rc;
  rc = dc_rbd_drop_snaps (made);
  rbd_close (made);
  return rc;
}

/**
 * dc_rbd_deep_copy:
 * @c: a connection
 * @src: the source image's place
 * @dst: the new image's name, beside it
 * @done: (nullable): bytes copied so far, for progress (atomic adds)
 * @error: return location
 *
 * Makes @dst an independent copy of @src: its bytes, features, order
 * and striping, no parent, no snapshots. The source is opened
 * read-only. A failed copy may leave a partial @dst: the caller's undo
 * removes it.
 *
 * Returns: %FALSE with @error set on failure
 */
gboolean
dc_rbd_deep_copy (DcRbdConn *c, const DcRbdSource *src, const char *dst, gsize *done, GError **error)
{
  g_autofree char *name = dc_rbd_source_name (src, NULL);
  g_autofree char *dst_name = dc_rbd_source_name (src, dst);
  rados_ioctx_t io = dc_rbd_ioctx (c, src, error);
  rbd_image_t image = NULL;
  DcRbdProgress progress = { .done = done };
  int rc;

  if (io == NULL)
    return FALSE;
  g_mutex_init (&progress.lock);
  rc = rbd_open_read_only (io, src->image, &image, NULL);
  if (rc >= 0 && (rc = rbd_get_size (image, &progress.size)) >= 0)
    rc = dc_rbd_copy_open (io, image, dst, &progress);
  if (image != NULL)
    rbd_close (image);
  rados_ioctx_destroy (io);
  g_mutex_clear (&progress.lock);
  if (progress.stop)
    return dc_check_cancelled (error);
  if (rc < 0)
    return dc_rbd_fail (error, rc, "cannot copy RBD image '%s' to '%s'", name, dst_name);
  return TRUE;
}

/**
 * dc_rbd_clone:
 * @c: a connection
 * @src: the template's image
 * @dst: the new image's name, beside it
 * @error: return location
 *
 * Makes @dst a copy-on-write child of @src's DC_RBD_TEMPLATE_SNAP, with
 * @src's features.
 *
 * Returns: %FALSE with @error set on failure
 */
gboolean
dc_rbd_clone (DcRbdConn *c, const DcRbdSource *src, const char *dst, GError **error)
{
  g_autofree char *name = dc_rbd_source_name (src, NULL);
  rados_ioctx_t io = dc_rbd_ioctx (c, src, error);
  rbd_image_options_t opts;
  int rc;

  if (io == NULL)
    return FALSE;
  rbd_image_options_create (&opts);
  rc = rbd_clone3 (io, src->image, DC_RBD_TEMPLATE_SNAP, io, dst, opts);
  rbd_image_options_destroy (opts);
  rados_ioctx_destroy (io);
  if (rc < 0)
    return dc_rbd_fail (error, rc, "cannot clone snapshot '%s@%s' to '%s'", name, DC_RBD_TEMPLATE_SNAP, dst);
  return TRUE;
}

/* How long a removal waits for an image to be closed: a client that
 * went away without closing it (a run killed while it copied) keeps its
 * watch on the image until the cluster gives up on it, after
 * osd_client_watch_timeout (30 s by default), and Ceph refuses to remove
 * an image anyone watches. */
#define DC_RBD_WATCH_WAIT 45

/* rbd_remove(), waiting up to DC_RBD_WATCH_WAIT seconds while the image
 * is still watched (-EBUSY). Returns its last result. */
static int
dc_rbd_remove_when_free (rados_ioctx_t io, const char *name, const char *image)
{
  gint64 give_up = 0;

  for (;;)
    {
      int rc = rbd_remove (io, image);
      gint64 now;

      if (rc != -EBUSY)
        return rc;
      now = g_get_monotonic_time ();
      if (give_up == 0)
        {
          give_up = now + DC_RBD_WATCH_WAIT * G_USEC_PER_SEC;
          g_message ("RBD image '%s' is still open, likely by a killed run's client: waiting up to %d s for "
                     "Ceph to let it go",
                     name, DC_RBD_WATCH_WAIT);
        }
      else if (now >= give_up)
        return rc;
      g_usleep (G_USEC_PER_SEC / 2);
    }
}

/**
 * dc_rbd_remove:
 * @c: a connection
 * @src: an image this process or a killed run made
 * @error: return location
 *
 * Removes @src's image with its snapshots; one that is not there counts
 * as removed.
 *
 * Returns: %FALSE with @error set if it is still there
 */
gboolean
dc_rbd_remove (DcRbdConn *c, const DcRbdSource *src, GError **error)
{
  g_autofree char *name = dc_rbd_source_name (src, NULL);
  g_auto (DcRbdOpen) o = { 0 };
  int rc;

  /* a deep copy cut short may have brought snapshots along */
  if (!dc_rbd_open (c, src, &o, &rc, error))
    return FALSE;
  if (rc >= 0)
    rc = dc_rbd_drop_snaps (o.image);
  dc_rbd_open_close (&o);
  if (rc >= 0 || rc == -ENOENT)
    rc = dc_rbd_remove_when_free (o.io, name, src->image);
  if (rc == -EBUSY)
    return dc_rbd_fail (
      error, rc, "cannot remove RBD image '%s', still open after %d s ('rbd status %s' shows who holds it)",
      name, DC_RBD_WATCH_WAIT, name);
  if (rc < 0 && rc != -ENOENT)
    return dc_rbd_fail (error, rc, "cannot remove RBD image '%s'", name);
  return TRUE;
}

/**
 * dc_rbd_remove_image:
 * @conn: the libvirt connection whose secrets @src names
 * @src: an image this process or a killed run made
 * @error: return location
 *
 * Connects and removes @src's image (dc_rbd_remove()).
 *
 * Returns: %FALSE with @error set if it may still be there
 */
gboolean
dc_rbd_remove_image (virConnectPtr conn, const DcRbdSource *src, GError **error)
{
  g_autoptr (DcRbdConn) c = dc_rbd_connect (conn, src, error);

  return c != NULL && dc_rbd_remove (c, src, error);
}

/**
 * dc_rbd_snap_make:
 * @c: a connection
 * @src: a template's image
 * @made: (out): whether this call made the snapshot
 * @error: return location
 *
 * Gives @src the protected snapshot DC_RBD_TEMPLATE_SNAP, the parent of
 * its linked clones; one already there is protected if need be.
 *
 * Returns: %FALSE with @error set on failure
 */
gboolean
dc_rbd_snap_make (DcRbdConn *c, const DcRbdSource *src, gboolean *made, GError **error)
{
  g_autofree char *name = dc_rbd_source_name (src, NULL);
  g_auto (DcRbdOpen) o = { 0 };
  uint64_t features = 0;
  bool exists = FALSE;
  int protected = 0;
  int rc;

  *made = FALSE;
  if (!dc_rbd_open (c, src, &o, &rc, error))
    return FALSE;
  if (rc >= 0 && (rc = rbd_get_features (o.image, &features)) >= 0 && (features & RBD_FEATURE_LAYERING) == 0)
    {
      /* no parent of clones: its linked clones are refused (the plan
       * says why), its full clones need no snapshot */
      g_info ("RBD image '%s' lacks the layering feature: no snapshot made for linked clones", name);
      return TRUE;
    }
  if (rc >= 0 && (rc = rbd_snap_exists (o.image, DC_RBD_TEMPLATE_SNAP, &exists)) >= 0 && !exists)
    {
      rc = rbd_snap_create (o.image, DC_RBD_TEMPLATE_SNAP);
      *made = rc >= 0;
    }
  if (rc >= 0 && (rc = rbd_snap_is_protected (o.image, DC_RBD_TEMPLATE_SNAP, &protected)) >= 0 && !protected)
    rc = rbd_snap_protect (o.image, DC_RBD_TEMPLATE_SNAP);
  if (rc < 0)
    return dc_rbd_fail (error, rc, "cannot make the protected snapshot '%s@%s'", name, DC_RBD_TEMPLATE_SNAP);
  return TRUE;
}

/**
 * dc_rbd_snap_drop:
 * @c: a connection
 * @src: a template's image
 * @error: return location
 *
 * Unprotects and removes DC_RBD_TEMPLATE_SNAP; refused by Ceph (EBUSY)
 * while a clone of it exists. One that is not there counts as removed.
 *
 * Returns: %FALSE with @error set on failure
 */
gboolean
dc_rbd_snap_drop (DcRbdConn *c, const DcRbdSource *src, GError **error)
{
  g_autofree char *name = dc_rbd_source_name (src, NULL);
  g_auto (DcRbdOpen) o = { 0 };
  bool exists = FALSE;
  int rc;

  if (!dc_rbd_open (c, src, &o, &rc, error))
    return FALSE;
  if (rc >= 0 && (rc = rbd_snap_exists (o.image, DC_RBD_TEMPLATE_SNAP, &exists)) >= 0 && exists)
    rc = rbd_snap_remove2 (o.image, DC_RBD_TEMPLATE_SNAP, RBD_SNAP_REMOVE_UNPROTECT, NULL, NULL);
  dc_rbd_open_close (&o);
  if (rc == -EBUSY)
    {
      g_set_error (
        error, DC_ERROR, DC_ERROR_LINKED_CLONES,
        "snapshot '%s@%s' still has copy-on-write clones; delete them first ('rbd children %s@%s' lists them)",
        name, DC_RBD_TEMPLATE_SNAP, name, DC_RBD_TEMPLATE_SNAP);
      return FALSE;
    }
  if (rc < 0 && rc != -ENOENT)
    return dc_rbd_fail (error, rc, "cannot remove the snapshot '%s@%s'", name, DC_RBD_TEMPLATE_SNAP);
  return TRUE;
}
