/*
 * mime — what a document is, judged from its bytes (libmagic), never
 * from what the client claims; and how it may be labelled when it is
 * served back, so that nothing uploaded runs in consort's origin.
 */
#ifndef CONSORT_MIME_H
#define CONSORT_MIME_H

#include <stddef.h>

/* Bytes of the start of a document that detection looks at. */
#define MIME_HEAD_BYTES (64 * 1024)
#define MIME_MAX 255

/* Detect the MIME type of content starting with `head` (the first
 * `len` bytes, at most MIME_HEAD_BYTES are used) into out[MIME_MAX + 1]:
 * a printable-ASCII type such as "application/pdf", never empty
 * ("application/octet-stream" when libmagic cannot tell or fails). Thread-
 * safe: each thread loads its own magic database on first use (tens of
 * milliseconds), so call it from job threads. */
void mime_detect(const void *head, size_t len, char out[MIME_MAX + 1]);

/* The Content-Type to send for a stored type: the type itself when it
 * cannot render or run in a browser (PDF, images other than SVG, office
 * formats, archives, plain text...), else "application/octet-stream"
 * (HTML, SVG, XML, JavaScript, anything unknown with "html", "xml" or
 * "script" in it). */
const char *mime_for_download(const char *stored);

#endif
