/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * dc-template.c: --make-template and --unmake-template.
 *
 * The domain's inactive XML is rewritten (dc-protect.c) and defined
 * again in one virDomainDefineXML: the read-only marks and the template
 * mark in the metadata come and go together. Unmaking is refused while
 * a linked clone reads the template's disks; the clones are found by
 * their <origin> in one pass over the host (dc-scan.c).
 */
#include "config.h"

#include "dc-template.h"
#include "dc-protect.h"
#include "dc-run.h"
#include "dc-scan.h"
#include "dc-template-rbd.h"

void
dc_template_result_free (DcTemplateResult *result)
{
  if (result == NULL)
    return;
  g_free (result->name);
  g_free (result->uuid);
  g_ptr_array_unref (result->disks);
  g_free (result);
}

/* Looks @name up, checks it is shut off and persistent as a clone's
 * source must be, and reads its inactive XML. */
static virDomainPtr
dc_template_open (virConnectPtr conn, const char *name, DcTemplateResult *result, char **xml, GError **error)
{
  g_autoptr (DcDomain) dom = dc_run_source_open (conn, name, FALSE, NULL, xml, error);
  char uuid[VIR_UUID_STRING_BUFLEN];

  if (dom == NULL)
    return NULL;
  result->name = g_strdup (name);
  if (virDomainGetUUIDString (dom, uuid) == 0)
    result->uuid = g_strdup (uuid);
  return g_steal_pointer (&dom);
}

static gboolean
dc_template_define (virConnectPtr conn, const char *name, const char *xml, const char *doing, GError **error)
{
  g_autoptr (DcDomain) dom = NULL;

  g_debug ("new definition of '%s':\n%s", name, xml);
  dom = virDomainDefineXML (conn, xml);
  if (dom == NULL)
    return dc_set_libvirt_error (error, "cannot %s '%s'", doing, name);
  return TRUE;
}

/**
 * dc_template_make:
 * @conn: connection
 * @name: a shut-off, persistent domain
 * @error: return location
 *
 * Makes @name a template: its writable disks read-only, the template
 * mark in its metadata. A template already stays as it is (changed is
 * FALSE), unless a disk became writable again.
 *
 * Returns: (transfer full): what was done, or %NULL with @error set
 */
DcTemplateResult *
dc_template_make (virConnectPtr conn, const char *name, GError **error)
{
  g_autoptr (DcTemplateResult) result = g_new0 (DcTemplateResult, 1);
  g_autofree char *xml = NULL;
  g_autofree char *new_xml = NULL;
  g_autoptr (DcDomain) dom = NULL;
  g_autoptr (GPtrArray) images = NULL;
  g_autoptr (GPtrArray) made = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_rbd_source_free);

  result->disks = g_ptr_array_new_with_free_func (g_free);
  dom = dc_template_open (conn, name, result, &xml, error);
  if (dom == NULL)
    return NULL;
  if (!dc_protect_xml (xml, &new_xml, result->disks, error))
    {
      g_prefix_error (error, "cannot make '%s' a template: ", name);
      return NULL;
    }
  result->template = TRUE;
  /* the RBD images get their protected snapshot first (a template made
   * before has it already): a failed define removes those made here */
  images = dc_template_rbd_images (conn, new_xml ? new_xml : xml, error);
  if (images == NULL || !dc_template_rbd_snaps_make (conn, images, made, error))
    {
      dc_template_rbd_snaps_undo (conn, made);
      g_prefix_error (error, "cannot make '%s' a template: ", name);
      return NULL;
    }
  result->changed = made->len > 0;
  if (new_xml == NULL)
    return g_steal_pointer (&result);
  if (!dc_check_cancelled (error) || !dc_template_define (conn, name, new_xml, "make a template of", error))
    {
      dc_template_rbd_snaps_undo (conn, made);
      return NULL;
    }
  result->changed = TRUE;
  return g_steal_pointer (&result);
}

/* Refuses (DC_ERROR_LINKED_CLONES) while a linked clone of the
 * template @name (@uuid) reads its disks, naming each. */
static gboolean
dc_template_check_unlinked (virConnectPtr conn, const char *name, const char *uuid, GError **error)
{
  g_autoptr (DcHostScan) scan = NULL;
  g_autoptr (GString) clones = NULL;
  guint n = 0;

  scan = dc_host_scan (conn, error);
  if (scan == NULL)
    return FALSE;
  for (guint i = 0; i < scan->linked->len; i++)
    {
      const DcMarked *m = scan->linked->pdata[i];

      if (g_strcmp0 (m->md->origin_uuid, uuid) != 0)
        continue;
      if (clones == NULL)
        clones = g_string_new (NULL);
      else
        g_string_append (clones, ", ");
      g_string_append_printf (clones, "'%s'", m->name);
      n++;
    }
  if (clones == NULL)
    return TRUE;
  g_set_error (
    error, DC_ERROR, DC_ERROR_LINKED_CLONES,
    "template '%s' has %u linked clone%s (%s) reading its disks; delete %s first ('virsh undefine --nvram --storage vda,... NAME' deletes a clone's own volumes; --remove-all-storage would also delete images it shares), or keep it a template",
    name, n, n == 1 ? "" : "s", clones->str, n == 1 ? "it" : "them");
  return FALSE;
}

/**
 * dc_template_unmake:
 * @conn: connection
 * @name: a shut-off, persistent domain
 * @error: return location
 *
 * Makes the template @name a plain domain again: the disks it made
 * read-only writable, the mark gone. Refused while a linked clone of it
 * exists. A domain that is no template stays as it is (changed FALSE).
 *
 * Returns: (transfer full): what was done, or %NULL with @error set
 */
DcTemplateResult *
dc_template_unmake (virConnectPtr conn, const char *name, GError **error)
{
  g_autoptr (DcTemplateResult) result = g_new0 (DcTemplateResult, 1);
  g_autofree char *xml = NULL;
  g_autofree char *new_xml = NULL;
  g_autoptr (DcDomain) dom = NULL;
  g_autoptr (GPtrArray) images = NULL;

  result->disks = g_ptr_array_new_with_free_func (g_free);
  dom = dc_template_open (conn, name, result, &xml, error);
  if (dom == NULL)
    return NULL;
  if (!dc_unprotect_xml (xml, &new_xml, result->disks, error))
    {
      g_prefix_error (error, "cannot unmake template '%s': ", name);
      return NULL;
    }
  if (new_xml == NULL)
    return g_steal_pointer (&result);

  if (!dc_template_check_unlinked (conn, name, result->uuid, error))
    return NULL;
  /* Ceph refuses while a copy-on-write child of a snapshot exists,
   * whoever made it */
  images = dc_template_rbd_images (conn, xml, error);
  if (images == NULL || !dc_template_rbd_snaps_drop (conn, images, error))
    {
      g_prefix_error (error, "cannot unmake template '%s': ", name);
      return NULL;
    }
  if (!dc_check_cancelled (error) || !dc_template_define (conn, name, new_xml, "unmake template", error))
    {
      g_autoptr (GPtrArray) made = g_ptr_array_new_with_free_func ((GDestroyNotify) dc_rbd_source_free);
      g_autoptr (GError) again = NULL;

      if (!dc_template_rbd_snaps_make (conn, images, made, &again))
        g_warning ("rollback incomplete: %s", again->message);
      return NULL;
    }
  result->changed = TRUE;
  return g_steal_pointer (&result);
}
