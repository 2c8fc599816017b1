/*
 * preview — page images of documents, made outside the server process.
 *
 * Every document is parsed by a helper, the hidden subcommand
 * `consort preview-worker`, one process per task, started in its own
 * process group and killed with it when late. Before it touches a
 * document the helper leaves the network (its own, empty network
 * namespace: unshare(CLONE_NEWNET), or a new user namespace with it when
 * the server is not root) and sets its limits: RLIMIT_CPU, RLIMIT_AS
 * (not under AddressSanitizer; the programs it runs get it always),
 * RLIMIT_FSIZE on what it writes. What it does:
 *   PDF     poppler's pdfinfo (page count) and pdftoppm (one page)
 *   images  gdk-pixbuf, one loader chosen by the stored MIME type (SVG
 *           through librsvg's loader: rasterised, never served as SVG)
 *   office  DOCX XLSX PPTX DOC XLS PPT ODT ODS ODP: LibreOffice converts
 *           to PDF, then as PDF
 * LibreOffice starts once and is reused (the converter): a soffice.bin
 * started through the helper (so in its own network namespace, with
 * memory limits), listening on a private UNO pipe, with a profile that
 * never updates links or runs macros; each conversion is a helper that
 * runs a short UNO script (python3-uno) against it. Conversions take
 * turns; one that is late kills the converter, which the next starts
 * again.
 *
 * Results go to the preview cache (storage/previews.h), keyed by content
 * hash: "<hash>.meta" (pages or why it failed), "<hash>.pdf" (an office
 * document's PDF), "<hash>-p<page>-w<width>.png".
 *
 * Work runs on a pool of its own (http/jobs.h, `preview-threads`
 * threads, bounded queue): page requests wait there in order, so the
 * first pages asked for are the first made.
 */
#ifndef CONSORT_PREVIEW_H
#define CONSORT_PREVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

struct config;
struct cas;
struct jobs;
struct previews;

enum preview_kind { PREVIEW_NONE, PREVIEW_PDF, PREVIEW_IMAGE, PREVIEW_OFFICE };

#define PREVIEW_DEFAULT_WIDTH 800
#define PREVIEW_THUMB_WIDTH 200
#define PREVIEW_MAX_PNG (16u << 20)

/* The kind of preview a content gets from its MIME type (and, for
 * ZIP-based office files libmagic may call application/zip, its name).
 * For PREVIEW_IMAGE, *loader is the gdk-pixbuf loader to use. */
enum preview_kind preview_kind_of(const char *mime, const char *name, const char **loader);

/* True for the widths a page is made at (a fixed set, so the cache
 * cannot be filled with every width). */
bool preview_width_ok(unsigned width);

/* Start the module for `cfg` with the blob store `cas`: opens the cache
 * and the pool; the converter starts on first use. */
enum err preview_start(const struct config *cfg, struct cas *cas);
/* Stops the pool (after its queued work), the converter; idempotent. */
void preview_stop(void);

/* The pool for preview work, NULL when not started. */
struct jobs *preview_pool(void);
struct previews *preview_cache(void);
/* How the helpers are kept off the network ("network namespace",
 * "network namespace in a user namespace" or "none: ..."), from a probe
 * at start. */
const char *preview_isolation(void);

/* LibreOffice processes the pool keeps: `preview-converters`, or by the
 * cores when 0, and never more than `preview-threads`. */
unsigned preview_converters(const struct config *cfg);

/* The office converters since start, for /metrics. A conversion is
 * counted once: converted (a PDF came out), failed (the document, or
 * a converter that crashed on it), or timed out (`preview-seconds`;
 * the converter is then killed and started afresh). */
struct preview_converter_stats {
	unsigned converters, running, busy;
	uint64_t starts, start_failures;
	uint64_t converted, failed, timed_out;
	double seconds; /* summed time of the conversions */
};
void preview_converter_stats(struct preview_converter_stats *out);

/* What is known about content `hash`: ERR_OK with *pages > 0 when its
 * pages can be shown, ERR_OK with *pages == 0 and `reason` when it
 * failed, ERR_NOTFOUND when not yet made. */
enum err preview_state(const char *hash, int *pages, char *reason, size_t cap);

/* Make what preview_state reports (converting and making page 1 at the
 * default width) for content `hash` of `kind`; blocks (a pool thread).
 * `name` gives an office document's extension. A document that cannot
 * be shown is recorded as failed, not an error. */
enum err preview_prepare(const char *hash, enum preview_kind kind, const char *loader,
			 const char *name);

/* Page `page` at `width`, made if missing (preparing first): *png
 * malloc'd. ERR_UNSUPPORTED with the reason when the document failed,
 * ERR_NOTFOUND when there is no such page. Blocks. */
enum err preview_page(const char *hash, enum preview_kind kind, const char *loader,
		      const char *name, int page, unsigned width, char **png, size_t *len);

/* Queue preview_prepare on the pool unless it is queued already;
 * ERR_LIMIT when the queue is full. */
enum err preview_prepare_async(const char *hash, enum preview_kind kind, const char *loader,
			       const char *name);

/* Body of `consort preview-worker ...`. Returns the exit status. */
int preview_worker_main(int argc, char **argv);

#endif
