/* log — see log.h. */
#include "http/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 2048

static bool json_lines;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_json(bool json) { json_lines = json; }

/* Appends to line[*len], always leaving room for "\n". */
static void put(char *line, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void put(char *line, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= LINE_MAX_BYTES - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line + *len, LINE_MAX_BYTES - 1 - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len += (size_t)n < LINE_MAX_BYTES - 1 - *len ? (size_t)n
							      : LINE_MAX_BYTES - 2 - *len;
}

static void put_json_string(char *line, size_t *len, const char *s)
{
	put(line, len, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			put(line, len, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			put(line, len, "\\u%04x", *p);
		else
			put(line, len, "%c", *p);
	}
	put(line, len, "\"");
}

/* Plain lines replace control characters so a hostile path cannot forge
 * a log line. */
static void put_plain(char *line, size_t *len, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		put(line, len, "%c", (*p < 0x20 || *p == 0x7f) ? '?' : *p);
}

static void put_time(char *line, size_t *len)
{
	struct timeval tv;
	struct tm tm;
	char buf[32];

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
	if (json_lines)
		put(line, len, "{\"time\":\"%s.%03ldZ\"", buf, (long)tv.tv_usec / 1000);
	else
		put(line, len, "%s.%03ldZ", buf, (long)tv.tv_usec / 1000);
}

static void emit(char *line, size_t len)
{
	line[len++] = '\n';
	/* One write per line; a short write to stderr is not retried. */
	if (write(STDERR_FILENO, line, len) < 0)
		return;
}

void log_event(enum log_level level, const char *event, const char *fmt, ...)
{
	char line[LINE_MAX_BYTES], msg[1024];
	size_t len = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	put_time(line, &len);
	if (json_lines) {
		put(line, &len, ",\"level\":\"%s\",\"event\":", level_names[level]);
		put_json_string(line, &len, event);
		put(line, &len, ",\"msg\":");
		put_json_string(line, &len, msg);
		put(line, &len, "}");
	} else {
		put(line, &len, " %s %s ", level_names[level], event);
		put_plain(line, &len, msg);
	}
	emit(line, len);
}

void log_access(const char *peer, const char *method, const char *path, int status, uint64_t bytes,
		uint64_t duration_us, const char *user)
{
	char line[LINE_MAX_BYTES];
	size_t len = 0;

	put_time(line, &len);
	if (json_lines) {
		put(line, &len, ",\"level\":\"info\",\"event\":\"request\",\"peer\":");
		put_json_string(line, &len, peer);
		put(line, &len, ",\"method\":");
		put_json_string(line, &len, method);
		put(line, &len, ",\"path\":");
		put_json_string(line, &len, path);
		put(line, &len, ",\"status\":%d,\"bytes\":%llu,\"us\":%llu,\"user\":", status,
		    (unsigned long long)bytes, (unsigned long long)duration_us);
		put_json_string(line, &len, user ? user : "");
		put(line, &len, "}");
	} else {
		put(line, &len, " info request %s ", peer);
		put_plain(line, &len, method);
		put(line, &len, " ");
		put_plain(line, &len, path);
		put(line, &len, " %d %llu %.3fms ", status, (unsigned long long)bytes,
		    (double)duration_us / 1000.0);
		put_plain(line, &len, user && *user ? user : "-");
	}
	emit(line, len);
}
