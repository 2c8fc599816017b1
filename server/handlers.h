/*
 * handlers — the functions the route table points at, grouped by the
 * file that implements them. Each takes the call prepared by the router
 * (matched, authorized, body parsed when JSON) and answers it.
 */
#ifndef CONSORT_HANDLERS_H
#define CONSORT_HANDLERS_H

struct call;

/* h_static.c */
void h_app(struct call *call);
void h_asset(struct call *call);

/* h_system.c */
void h_healthz(struct call *call);
void h_metrics(struct call *call);

/* h_test.c (only with --test-hooks) */
void h_test_sink(struct call *call);
void h_test_source(struct call *call);

#endif
