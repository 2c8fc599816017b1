/*
 * checkout — "Check out" from the app and the API: a write lock on one
 * document, the same lock as a WebDAV LOCK (a dav_locks row, marked
 * checkout), so every client honours it (api/acl.c acl_lock_check for
 * the API and tus, the If-header rules of dav/h_dav.c for WebDAV). Its
 * holder writes with their own session; others get 423 naming the
 * holder and the expiry.
 *
 *   POST   /api/v1/wps/{wp}/locks/{path*}  {"minutes"}  check out (or
 *          extend one's own check-out)
 *   GET    /api/v1/wps/{wp}/locks/{path*}  the live locks on the document
 *   DELETE /api/v1/wps/{wp}/locks/{path*}  check in (the holder), or break
 *          the lock (a manager of the work package; audited, the holder
 *          is told through checkout_tell_broken)
 */
#ifndef CONSORT_CHECKOUT_H
#define CONSORT_CHECKOUT_H

#include <stdint.h>

#include "err.h"

struct call;
struct davstore_lock;

/* The one place where "the holder is told" that someone else removed
 * their lock (a manager's break, from the API or a WebDAV UNLOCK): it
 * records the break in the audit log under action "lock_break", naming
 * the holder (user id in the detail), and queues the holder's
 * "your lock was broken" mail (mail.h). Joins the caller's transaction
 * when one is open. */
enum err checkout_tell_broken(struct call *call, const struct davstore_lock *l);

#endif
