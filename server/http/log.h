/*
 * log — one line per event on stderr (journald picks it up), plain text
 * or JSON objects by configuration. Lines are written with a single
 * write(2) so lines from several threads never interleave.
 *
 * Never pass a secret (password, token, cookie, TOTP code) to a log
 * function; requests are logged by path without their query string.
 */
#ifndef CONSORT_LOG_H
#define CONSORT_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_json(bool json);

/* A notable event: `event` is a short fixed word ("start", "reload"...),
 * the message is free text. */
void log_event(enum log_level level, const char *event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The access-log line for one request. */
void log_access(const char *peer, const char *method, const char *path, int status, uint64_t bytes,
		uint64_t duration_us, const char *user);

#endif
