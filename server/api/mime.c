/* mime — see mime.h. */
#include "api/mime.h"

#include <magic.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>

#include "extract.h"

/* The extractor trusts our verdict on content we saw whole. */
_Static_assert(EXTRACT_TYPED_WHOLE <= MIME_HEAD_BYTES, "typed whole means seen whole");

static pthread_key_t magic_key;
static pthread_once_t magic_once = PTHREAD_ONCE_INIT;

static void magic_free(void *m) { magic_close(m); }

static void magic_key_init(void) { pthread_key_create(&magic_key, magic_free); }

/* One cookie per thread: libmagic cookies are not thread-safe. NULL when
 * the database cannot be loaded (then everything is octet-stream). */
static magic_t thread_magic(void)
{
	magic_t m;

	pthread_once(&magic_once, magic_key_init);
	m = pthread_getspecific(magic_key);
	if (m)
		return m;
	/* No decompression (a zip bomb in the head is not our problem) and
	 * no ELF section walking: the type of the container is enough. */
	m = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_CHECK_ELF |
		       MAGIC_ERROR);
	if (!m)
		return NULL;
	if (magic_load(m, NULL) != 0) {
		magic_close(m);
		return NULL;
	}
	pthread_setspecific(magic_key, m);
	return m;
}

static bool printable_type(const char *t)
{
	size_t n = strlen(t);

	if (n == 0 || n > MIME_MAX || !strchr(t, '/'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (t[i] <= ' ' || t[i] > '~' || t[i] == ';' || t[i] == ',' || t[i] == '"')
			return false;
	return true;
}

void mime_detect(const void *head, size_t len, char out[MIME_MAX + 1])
{
	magic_t m = thread_magic();
	const char *t = NULL;

	if (len > MIME_HEAD_BYTES)
		len = MIME_HEAD_BYTES;
	if (m && len > 0)
		t = magic_buffer(m, head, len);
	/* An empty document, or libmagic's own pseudo-types, say nothing a
	 * browser or an office suite could use. */
	if (!t || !printable_type(t) || !strncmp(t, "inode/", 6) ||
	    !strcmp(t, "application/x-empty"))
		t = "application/octet-stream";
	memcpy(out, t, strlen(t) + 1);
}

const char *mime_for_download(const char *stored)
{
	/* Types a browser shows inline without running anything of the
	 * document's own: these keep their label (the attachment disposition
	 * and the sandbox CSP apply anyway). */
	static const char *const passive[] = {
		"application/pdf",
		"application/zip",
		"application/gzip",
		"application/x-tar",
		"application/x-7z-compressed",
		"application/x-bzip2",
		"application/x-xz",
		"application/msword",
		"application/vnd.ms-excel",
		"application/vnd.ms-powerpoint",
		"application/vnd.oasis.opendocument.text",
		"application/vnd.oasis.opendocument.spreadsheet",
		"application/vnd.oasis.opendocument.presentation",
		"application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		"application/vnd.openxmlformats-officedocument.presentationml.presentation",
		"application/rtf",
		"application/octet-stream",
		"application/json",
		"image/png",
		"image/jpeg",
		"image/gif",
		"image/webp",
		"image/tiff",
		"image/bmp",
		"audio/mpeg",
		"audio/ogg",
		"audio/x-wav",
		"video/mp4",
		"video/webm",
		"video/ogg",
		"text/plain",
		"text/csv",
		"text/rtf",
		"text/x-tex",
		"text/markdown",
	};

	if (!stored)
		return "application/octet-stream";
	for (size_t i = 0; i < sizeof passive / sizeof passive[0]; i++)
		if (!strcasecmp(stored, passive[i]))
			return passive[i];
	/* Anything else may be active (HTML, SVG, XML with stylesheets,
	 * scripts) or unknown: the browser gets opaque bytes. */
	return "application/octet-stream";
}
