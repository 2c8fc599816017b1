/*
 * h_dav — the handlers of the WebDAV network drive at /dav/, the
 * functions the route table points at for it (routes.c). Each takes the
 * call prepared by the router (matched and authorized) and answers it.
 */
#ifndef CONSORT_H_DAV_H
#define CONSORT_H_DAV_H

struct call;

void h_dav_options(struct call *call);
void h_dav_propfind_root(struct call *call);
void h_dav_propfind(struct call *call);
void h_dav_proppatch(struct call *call);
void h_dav_get(struct call *call);
void h_dav_put(struct call *call);
void h_dav_delete(struct call *call);
void h_dav_mkcol(struct call *call);
void h_dav_copy(struct call *call);
void h_dav_move(struct call *call);
void h_dav_lock(struct call *call);
void h_dav_unlock(struct call *call);

#endif
