/*
 * gcsched — garbage collection on a schedule inside the server: every
 * `gc-interval` a thread of its own (never an event loop) runs the same
 * mark and sweep as `consort gc` (storage/maint.h: retention, blobs no
 * version references once older than the grace, abandoned temp files,
 * expired resumable uploads), so space that purges, retention and
 * refused uploads give up comes back without an operator.
 *
 * A run that finds the store's gc lock taken (a backup, an fsck, a
 * `consort gc` by hand) is skipped and tried again at the next tick; it
 * is not a failure. Each run feeds /metrics (metrics.h) and the state
 * /healthz reports (gcsched_health).
 */
#ifndef CONSORT_GCSCHED_H
#define CONSORT_GCSCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct gcsched;

/* Start the thread: a first run one `interval_ms` after start, then
 * every `interval_ms`, each with `grace` seconds (maint_gc). `data_dir`
 * must outlive the scheduler. interval_ms 0: nothing starts and *out is
 * NULL (gc is off). */
enum err gcsched_start(const char *data_dir, unsigned interval_ms, int64_t grace,
		       struct gcsched **out);

/* Stop the thread (a run in progress finishes first) and free it.
 * Accepts NULL. */
void gcsched_stop(struct gcsched *g);

/* "off" (g NULL), "ok", or "overdue": no run has succeeded for more
 * than three intervals plus ten seconds (the store's lock held all
 * along, runs failing, or one run taking that long). */
const char *gcsched_health(struct gcsched *g);

#endif
