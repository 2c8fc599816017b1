/*
 * imgsan — pictures people upload (partner logos, news images) made
 * harmless: decoded by gdk-pixbuf in a separate, resource-limited
 * process and re-encoded as a PNG of bounded size. The server never
 * decodes an image itself and never serves what was uploaded.
 *
 * The helper is the hidden subcommand `consort image-worker`, one
 * process per picture (they are rare): it reads the bytes on stdin,
 * writes the PNG on stdout, and a reason on stderr when it refuses.
 *   formats  PNG, JPEG, GIF (the first frame), WebP (Debian's
 *            webp-pixbuf-loader) and SVG (librsvg's loader: no script
 *            runs, no external reference is fetched), told by their
 *            magic bytes or, for SVG, the <svg> root element, each
 *            decoded by its own loader only; anything else (TIFF, SVGZ,
 *            ...) is refused, never guessed
 *   size     scaled while decoding to fit IMGSAN_MAX_SIDE pixels; a
 *            raster picture declaring over IMGSAN_MAX_PIXELS is refused
 *            before its buffer is allocated
 *   limits   RLIMIT_CPU, RLIMIT_AS (not under AddressSanitizer),
 *            RLIMIT_FSIZE 0, no new files; the parent kills it after
 *            IMGSAN_WALL_SECONDS and caps what it reads back
 */
#ifndef CONSORT_IMGSAN_H
#define CONSORT_IMGSAN_H

#include <stddef.h>

#include "err.h"

#define IMGSAN_MAX_INPUT (8u << 20) /* bytes of an uploaded picture */
#define IMGSAN_MAX_SIDE 512         /* pixels, the longer side */
#define IMGSAN_MAX_OUTPUT (2u << 20)
#define IMGSAN_WALL_SECONDS 10
#define IMGSAN_MAX_PIXELS (50u * 1000 * 1000) /* declared, of a raster picture */
#define IMGSAN_EXIT_FORMAT 2                  /* the helper's status: not a format taken */

/* Run the helper `exe` ("/proc/self/exe") on `len` bytes at `in`. On
 * success *png (malloc'd, *png_len bytes) is a PNG no larger than
 * IMGSAN_MAX_SIDE on either side, with *w and *h. ERR_UNSUPPORTED with
 * the helper's reason when the bytes are not a format taken (or empty);
 * ERR_INVALID when a picture of a known format is refused (damaged,
 * truncated, dimensions or time over a limit); ERR_IO when no helper
 * can run. Blocks: call from a job thread. */
enum err imgsan_run(const char *exe, const void *in, size_t len, unsigned char **png,
		    size_t *png_len, int *w, int *h);

/* Body of `consort image-worker`. Returns the exit status. */
int imgsan_main(void);

#endif
