/* imgsan — see imgsan.h. */
#include "api/imgsan.h"

#include <errno.h>
#include <fcntl.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#ifdef UNDER_ASAN
/* Under LeakSanitizer, what librsvg's libraries never free would be
 * reported at the helper's exit and turn good SVGs into refusals:
 * fontconfig's caches (loaded to draw an SVG's text) and the value of
 * an internal DTD entity that libxml2 keeps when librsvg parses one.
 * Only these are suppressed (the runtime calls this hook at start). */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libfontconfig.so\nleak:xmlParseEntityValue\n";
}
#endif

#define HELPER_CPU_SECONDS 5
#define HELPER_MEMORY (768u << 20)

extern char **environ;

/* --- the parent ----------------------------------------------------------------------- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Feed `in` to the helper's stdin while reading its stdout and stderr,
 * until both close or the deadline passes. */
static enum err exchange(int fin, int fout, int ferr, const unsigned char *in, size_t len,
			 unsigned char **out, size_t *out_len, char *why, size_t why_cap)
{
	size_t sent = 0, got = 0, wlen = 0, cap = 64 * 1024;
	unsigned char *buf = malloc(cap);
	int64_t deadline = now_ms() + IMGSAN_WALL_SECONDS * 1000;
	bool out_open = true, err_open = true;

	if (!buf)
		return err_set(ERR_NOMEM, "out of memory");
	while (out_open || err_open) {
		struct pollfd p[3];
		int n = 0, iw = -1, io = -1, ie = -1;
		int64_t left = deadline - now_ms();

		if (left <= 0) {
			free(buf);
			return err_set(ERR_INVALID, "the picture took too long to decode");
		}
		if (fin >= 0) {
			p[n] = (struct pollfd){.fd = fin, .events = POLLOUT};
			iw = n++;
		}
		if (out_open) {
			p[n] = (struct pollfd){.fd = fout, .events = POLLIN};
			io = n++;
		}
		if (err_open) {
			p[n] = (struct pollfd){.fd = ferr, .events = POLLIN};
			ie = n++;
		}
		if (poll(p, (nfds_t)n, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			return err_from_errno(errno, "poll");
		}
		if (iw >= 0 && p[iw].revents) {
			ssize_t k =
				(p[iw].revents & POLLOUT) ? write(fin, in + sent, len - sent) : -1;

			if (k > 0)
				sent += (size_t)k;
			else if (k < 0 && (p[iw].revents & POLLOUT) &&
				 (errno == EAGAIN || errno == EINTR))
				k = 0; /* try again at the next poll */
			if (k < 0 || sent == len) {
				close(fin);
				fin = -1;
			}
		}
		if (io >= 0 && p[io].revents) {
			ssize_t k;

			if (got == cap) {
				unsigned char *nb;

				if (cap >= IMGSAN_MAX_OUTPUT) {
					free(buf);
					if (fin >= 0)
						close(fin);
					return err_set(ERR_INVALID, "the picture is too large");
				}
				nb = realloc(buf, cap * 2);
				if (!nb) {
					free(buf);
					return err_set(ERR_NOMEM, "out of memory");
				}
				buf = nb;
				cap *= 2;
			}
			k = read(fout, buf + got, cap - got);
			if (k > 0)
				got += (size_t)k;
			else if (k == 0 || errno != EINTR)
				out_open = false;
		}
		if (ie >= 0 && p[ie].revents) {
			char tmp[256];
			ssize_t k = read(ferr, tmp, sizeof tmp);

			if (k > 0) {
				size_t c = (size_t)k < why_cap - 1 - wlen ? (size_t)k
									  : why_cap - 1 - wlen;

				memcpy(why + wlen, tmp, c);
				wlen += c;
				why[wlen] = '\0';
			} else if (k == 0 || errno != EINTR) {
				err_open = false;
			}
		}
	}
	if (fin >= 0)
		close(fin);
	*out = buf;
	*out_len = got;
	return ERR_OK;
}

/* Width and height from a PNG's IHDR. */
static bool png_size(const unsigned char *p, size_t n, int *w, int *h)
{
	static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

	if (n < 24 || memcmp(p, sig, 8) || memcmp(p + 12, "IHDR", 4))
		return false;
	*w = (int)((uint32_t)p[16] << 24 | (uint32_t)p[17] << 16 | (uint32_t)p[18] << 8 | p[19]);
	*h = (int)((uint32_t)p[20] << 24 | (uint32_t)p[21] << 16 | (uint32_t)p[22] << 8 | p[23]);
	return *w > 0 && *h > 0 && *w <= IMGSAN_MAX_SIDE && *h <= IMGSAN_MAX_SIDE;
}

enum err imgsan_run(const char *exe, const void *in, size_t len, unsigned char **png,
		    size_t *png_len, int *w, int *h)
{
	int pin[2] = {-1, -1}, pout[2] = {-1, -1}, perr[2] = {-1, -1};
	char *const argv[] = {(char *)exe, "image-worker", NULL};
	posix_spawn_file_actions_t fa;
	char why[256] = "";
	unsigned char *out = NULL;
	size_t out_len = 0;
	pid_t pid = 0;
	int status = 0;
	enum err rc = ERR_OK;

	*png = NULL;
	*png_len = 0;
	if (len == 0 || len > IMGSAN_MAX_INPUT)
		return err_set(ERR_UNSUPPORTED, "a picture must have 1 byte to %u MiB",
			       IMGSAN_MAX_INPUT >> 20);
	if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) || pipe2(perr, O_CLOEXEC)) {
		rc = err_from_errno(errno, "pipe");
		goto out;
	}
	if (posix_spawn_file_actions_init(&fa)) {
		rc = err_set(ERR_NOMEM, "out of memory");
		goto out;
	}
	posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
	posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
	posix_spawn_file_actions_adddup2(&fa, perr[1], 2);
	if (posix_spawn(&pid, exe, &fa, NULL, argv, environ) != 0) {
		pid = 0;
		rc = err_set(ERR_IO, "cannot start the image helper");
	}
	posix_spawn_file_actions_destroy(&fa);
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	pin[0] = pout[1] = perr[1] = -1;
	if (rc)
		goto out;
	/* SIGPIPE when the helper stops reading early is answered by EPIPE
	 * from write: the server ignores SIGPIPE. */
	fcntl(pin[1], F_SETFL, O_NONBLOCK);
	rc = exchange(pin[1], pout[0], perr[0], in, len, &out, &out_len, why, sizeof why);
	pin[1] = -1; /* closed by exchange */
	if (rc)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!rc && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
		size_t l = strlen(why);

		while (l && (why[l - 1] == '\n' || why[l - 1] == '\r'))
			why[--l] = '\0';
		rc = err_set(WIFEXITED(status) && WEXITSTATUS(status) == IMGSAN_EXIT_FORMAT
				     ? ERR_UNSUPPORTED
				     : ERR_INVALID,
			     "%s",
			     *why                  ? why
			     : WIFSIGNALED(status) ? "the picture could not be decoded within "
						     "the limits"
						   : "the picture could not be decoded");
	}
	if (!rc && !png_size(out, out_len, w, h))
		rc = err_set(ERR_UNSUPPORTED, "the image helper gave no valid PNG");
	if (!rc) {
		*png = out;
		*png_len = out_len;
		out = NULL;
	}
out:
	free(out);
	for (int i = 0; i < 2; i++) {
		if (pin[i] >= 0)
			close(pin[i]);
		if (pout[i] >= 0)
			close(pout[i]);
		if (perr[i] >= 0)
			close(perr[i]);
	}
	return rc;
}

/* --- the helper ----------------------------------------------------------------------- */

/* SVG is text: an XML document whose first element is <svg>. Only the
 * prolog (BOM, blanks, <?xml ...?>, comments, a DOCTYPE) may stand
 * before it; compressed SVG (.svgz) is not taken. */
static bool is_svg(const unsigned char *p, size_t n)
{
	size_t i = 0;

	if (n >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		i = 3;
	while (i < n && i < 4096) {
		const char *end;

		if (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n') {
			i++;
			continue;
		}
		if (p[i] != '<')
			return false;
		if (n - i >= 5 && !memcmp(p + i, "<?xml", 5))
			end = "?>";
		else if (n - i >= 4 && !memcmp(p + i, "<!--", 4))
			end = "-->";
		else if (n - i >= 9 && !memcmp(p + i, "<!DOCTYPE", 9)) {
			/* An internal subset ("[ ... ]") may hold '>'. */
			const unsigned char *b = memchr(p + i, '[', n - i);
			const unsigned char *g = memchr(p + i, '>', n - i);

			if (!g)
				return false;
			if (b && b < g) {
				const unsigned char *c = memchr(b, ']', n - (size_t)(b - p));

				if (!c || !(g = memchr(c, '>', n - (size_t)(c - p))))
					return false;
			}
			i = (size_t)(g - p) + 1;
			continue;
		} else
			return n - i >= 5 && !memcmp(p + i, "<svg", 4) &&
			       (p[i + 4] == ' ' || p[i + 4] == '>' || p[i + 4] == '\t' ||
				p[i + 4] == '\r' || p[i + 4] == '\n');
		{
			const unsigned char *q = memmem(p + i + 1, n - i - 1, end, strlen(end));

			if (!q)
				return false;
			i = (size_t)(q - p) + strlen(end);
		}
	}
	return false;
}

static const char *sniff(const unsigned char *p, size_t n)
{
	if (n >= 8 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8))
		return "png";
	if (n >= 3 && p[0] == 0xff && p[1] == 0xd8 && p[2] == 0xff)
		return "jpeg";
	if (n >= 6 && (!memcmp(p, "GIF87a", 6) || !memcmp(p, "GIF89a", 6)))
		return "gif";
	if (n >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4))
		return "webp";
	return is_svg(p, n) ? "svg" : NULL;
}

/* Declared dimensions over IMGSAN_MAX_PIXELS: the raster loaders
 * allocate the full image before scaling it, so such a picture is
 * refused before anything is allocated (a size of 0 stops them). */
static bool too_many_pixels;

/* Whether the raster picture's bytes reach its end marker. gdk-pixbuf's
 * progressive loaders hand back what they decoded of a cut-off picture
 * without an error; a truncated upload is refused instead. Trailing
 * bytes after the marker (some writers pad) are allowed. */
static bool complete(const char *type, const unsigned char *p, size_t n)
{
	size_t tail = n < 4096 ? n : 4096;
	const unsigned char *t = p + n - tail;

	if (!strcmp(type, "png"))
		return memmem(p, n, "IEND\xae\x42\x60\x82", 8) != NULL;
	if (!strcmp(type, "jpeg"))
		return memmem(t, tail, "\xff\xd9", 2) != NULL;
	if (!strcmp(type, "gif"))
		return memchr(t, 0x3b, tail) != NULL;
	if (!strcmp(type, "webp"))
		return n >= 12 &&
		       (uint64_t)(p[4] | p[5] << 8 | p[6] << 16 | (uint32_t)p[7] << 24) + 8 <= n;
	return true; /* SVG: the XML parser finds an unclosed document */
}

/* A WebP's declared canvas, from its first chunk. The WebP loader
 * allocates the full canvas whatever size is asked of it, so a WebP
 * over IMGSAN_MAX_PIXELS is refused from its header. */
static bool webp_size(const unsigned char *p, size_t n, int64_t *w, int64_t *h)
{
	if (n >= 30 && !memcmp(p + 12, "VP8 ", 4) && p[23] == 0x9d && p[24] == 0x01 &&
	    p[25] == 0x2a) {
		*w = (p[26] | p[27] << 8) & 0x3fff;
		*h = (p[28] | p[29] << 8) & 0x3fff;
		return true;
	}
	if (n >= 25 && !memcmp(p + 12, "VP8L", 4) && p[20] == 0x2f) {
		uint32_t b = p[21] | p[22] << 8 | p[23] << 16 | (uint32_t)p[24] << 24;

		*w = (b & 0x3fff) + 1;
		*h = ((b >> 14) & 0x3fff) + 1;
		return true;
	}
	if (n >= 30 && !memcmp(p + 12, "VP8X", 4)) {
		*w = (p[24] | p[25] << 8 | p[26] << 16) + 1;
		*h = (p[27] | p[28] << 8 | p[29] << 16) + 1;
		return true;
	}
	return false;
}

/* Scale while decoding, before the loader allocates the full image. */
static void on_size(GdkPixbufLoader *l, int w, int h, gpointer data)
{
	double s = 1.0;
	bool vector = data != NULL;

	if (w <= 0 || h <= 0)
		return;
	if (!vector && (int64_t)w * h > IMGSAN_MAX_PIXELS) {
		too_many_pixels = true;
		gdk_pixbuf_loader_set_size(l, 0, 0);
		return;
	}
	if (w > IMGSAN_MAX_SIDE || h > IMGSAN_MAX_SIDE)
		s = w > h ? (double)IMGSAN_MAX_SIDE / w : (double)IMGSAN_MAX_SIDE / h;
	if (s < 1.0)
		gdk_pixbuf_loader_set_size(l, w * s < 1 ? 1 : (int)(w * s),
					   h * s < 1 ? 1 : (int)(h * s));
}

static void limits(void)
{
	struct rlimit rl;

	rl.rlim_cur = HELPER_CPU_SECONDS;
	rl.rlim_max = HELPER_CPU_SECONDS + 1;
	setrlimit(RLIMIT_CPU, &rl);
	rl.rlim_cur = rl.rlim_max = 0;
	setrlimit(RLIMIT_FSIZE, &rl);
#ifndef UNDER_ASAN
	rl.rlim_cur = rl.rlim_max = HELPER_MEMORY;
	setrlimit(RLIMIT_AS, &rl);
#endif
}

int imgsan_main(void)
{
	unsigned char *in = malloc(IMGSAN_MAX_INPUT + 1);
	size_t n = 0;
	const char *type;
	GdkPixbufLoader *loader = NULL;
	GdkPixbuf *pb, *flat = NULL;
	GError *e = NULL;
	gchar *png = NULL;
	gsize png_len = 0;
	int status = 1;

	limits();
	if (!in) {
		fputs("out of memory\n", stderr);
		return 1;
	}
	for (;;) {
		ssize_t k = read(0, in + n, IMGSAN_MAX_INPUT + 1 - n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += (size_t)k;
		if (n > IMGSAN_MAX_INPUT)
			break;
	}
	if (n > IMGSAN_MAX_INPUT) {
		fprintf(stderr, "the picture is larger than %u MiB\n", IMGSAN_MAX_INPUT >> 20);
		goto out;
	}
	type = sniff(in, n);
	if (!type) {
		fputs("not a PNG, JPEG, GIF, WebP or SVG picture\n", stderr);
		status = IMGSAN_EXIT_FORMAT;
		goto out;
	}
	if (!strcmp(type, "webp")) {
		int64_t ww = 0, wh = 0;

		if (!webp_size(in, n, &ww, &wh)) {
			fputs("the WebP picture is damaged (no image header)\n", stderr);
			goto out;
		}
		if (ww * wh > IMGSAN_MAX_PIXELS) {
			fprintf(stderr, "the picture's dimensions are too large (over %u pixels)\n",
				IMGSAN_MAX_PIXELS);
			goto out;
		}
	}
	if (!complete(type, in, n)) {
		fprintf(stderr, "the %s picture is truncated\n", type);
		goto out;
	}
	loader = gdk_pixbuf_loader_new_with_type(type, &e);
	if (!loader) {
		/* The format's loader is missing on this machine. */
		fprintf(stderr, "%s pictures cannot be read on this server\n", type);
		status = IMGSAN_EXIT_FORMAT;
		goto out;
	}
	/* An SVG is rendered at the size asked for, so any declared size
	 * is fine; librsvg runs no script and, with no base address, loads
	 * no external reference (only data: URLs). */
	g_signal_connect(loader, "size-prepared", G_CALLBACK(on_size),
			 strcmp(type, "svg") ? NULL : (gpointer) "svg");
	if (!gdk_pixbuf_loader_write(loader, in, n, &e) || !gdk_pixbuf_loader_close(loader, &e))
		goto fail;
	pb = gdk_pixbuf_loader_get_pixbuf(loader);
	if (!pb || too_many_pixels) {
		if (too_many_pixels)
			goto fail;
		fputs("the picture could not be decoded\n", stderr);
		goto out;
	}
	/* A loader that ignored the size asked for still ends up bounded. */
	if (gdk_pixbuf_get_width(pb) > IMGSAN_MAX_SIDE ||
	    gdk_pixbuf_get_height(pb) > IMGSAN_MAX_SIDE) {
		int w = gdk_pixbuf_get_width(pb), h = gdk_pixbuf_get_height(pb);
		double s = w > h ? (double)IMGSAN_MAX_SIDE / w : (double)IMGSAN_MAX_SIDE / h;

		flat = gdk_pixbuf_scale_simple(pb, w * s < 1 ? 1 : (int)(w * s),
					       h * s < 1 ? 1 : (int)(h * s), GDK_INTERP_BILINEAR);
		if (!flat) {
			fputs("out of memory\n", stderr);
			goto out;
		}
		pb = flat;
	}
	/* Only pixels go out: no text chunks, no metadata of the original. */
	if (!gdk_pixbuf_save_to_buffer(pb, &png, &png_len, "png", &e, NULL))
		goto fail;
	if (fwrite(png, 1, png_len, stdout) != png_len || fflush(stdout) != 0) {
		fputs("cannot write the result\n", stderr);
		goto out;
	}
	status = 0;
	goto out;
fail:
	if (too_many_pixels)
		fprintf(stderr, "the picture's dimensions are too large (over %u pixels)\n",
			IMGSAN_MAX_PIXELS);
	else
		fprintf(stderr, "the picture could not be decoded: %s\n",
			e && e->message ? e->message : "damaged or unsupported");
out:
	if (e)
		g_error_free(e);
	g_free(png);
	if (flat)
		g_object_unref(flat);
	if (loader) {
		GError *ignored = NULL;

		gdk_pixbuf_loader_close(loader, &ignored);
		if (ignored)
			g_error_free(ignored);
		g_object_unref(loader);
	}
	free(in);
	return status;
}
