/*
 * handlers — the functions the route table points at, grouped by the
 * file that implements them. Each takes the call prepared by the router
 * (matched, authorized, body parsed when JSON) and answers it.
 */
#ifndef CONSORT_HANDLERS_H
#define CONSORT_HANDLERS_H

struct call;

/* h_search.c */
void h_search(struct call *call);

/* h_system.c */
void h_healthz(struct call *call);

#endif
