/* clamd — see clamd.h. */
#include "api/clamd.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int connect_unix(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd;

	if (strlen(path) >= sizeof sa.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int connect_tcp(const char *address)
{
	char host[256];
	const char *colon = strrchr(address, ':');
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	size_t hl;
	int fd = -1;

	if (!colon || colon == address || (size_t)(colon - address) >= sizeof host) {
		errno = EINVAL;
		return -1;
	}
	hl = (size_t)(colon - address);
	if (address[0] == '[' && hl >= 2 && address[hl - 1] == ']') {
		memcpy(host, address + 1, hl - 2);
		host[hl - 2] = '\0';
	} else {
		memcpy(host, address, hl);
		host[hl] = '\0';
	}
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0 || !res) {
		errno = EHOSTUNREACH;
		return -1;
	}
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0 && !errno)
		errno = ECONNREFUSED;
	return fd;
}

static int open_conn(const struct clamd_addr *a)
{
	int fd = a->address[0] == '/' ? connect_unix(a->address) : connect_tcp(a->address);
	struct timeval tv;

	if (fd < 0)
		return -1;
	tv.tv_sec = a->timeout_ms / 1000;
	tv.tv_usec = (a->timeout_ms % 1000) * 1000;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	return fd;
}

static bool send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* Read clamd's answer up to its NUL (or the end of the connection). */
static bool read_reply(int fd, char *out, size_t cap)
{
	size_t len = 0;

	while (len + 1 < cap) {
		ssize_t n = recv(fd, out + len, cap - 1 - len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(out, '\0', len))
			break;
	}
	out[len] = '\0';
	while (len && (out[len - 1] == '\n' || out[len - 1] == '\0'))
		out[--len] = '\0';
	return len > 0;
}

static enum err simple_command(const struct clamd_addr *a, const char *cmd, char *out, size_t cap)
{
	int fd = open_conn(a);
	bool ok;

	if (fd < 0)
		return err_set(ERR_IO, "clamd at %s: %s", a->address, strerror(errno));
	ok = send_all(fd, cmd, strlen(cmd) + 1) && read_reply(fd, out, cap);
	close(fd);
	if (!ok)
		return err_set(ERR_IO, "clamd at %s did not answer %s", a->address, cmd + 1);
	return ERR_OK;
}

enum err clamd_version(const struct clamd_addr *a, char *out, size_t cap)
{
	return simple_command(a, "zVERSION", out, cap);
}

enum err clamd_reload(const struct clamd_addr *a)
{
	char reply[64];

	return simple_command(a, "zRELOAD", reply, sizeof reply);
}

/* "stream: Eicar-Test-Signature FOUND", "stream: OK",
 * "INSTREAM size limit exceeded. ERROR", "stream: ... ERROR". */
static enum clamd_result parse_reply(const char *reply, char *name)
{
	const char *p = reply;
	size_t len;

	if (!strncmp(p, "stream: ", 8))
		p += 8;
	len = strlen(p);
	if (!strcmp(p, "OK"))
		return CLAMD_CLEAN;
	if (len > 6 && !strcmp(p + len - 6, " FOUND")) {
		snprintf(name, CLAMD_REPLY_MAX + 1, "%.*s", (int)(len - 6), p);
		return CLAMD_FOUND;
	}
	snprintf(name, CLAMD_REPLY_MAX + 1, "%s", reply);
	if (strstr(reply, "size limit exceeded"))
		return CLAMD_TOO_LARGE;
	return CLAMD_SCAN_ERROR;
}

enum clamd_result clamd_instream(const struct clamd_addr *a, int fd, uint64_t size, char *name)
{
	static const char cmd[] = "zINSTREAM";
	unsigned char *buf = malloc(4 + CLAMD_CHUNK);
	char reply[CLAMD_REPLY_MAX + 1];
	uint64_t off = 0;
	bool sent = true;
	int s;

	name[0] = '\0';
	if (!buf) {
		snprintf(name, CLAMD_REPLY_MAX + 1, "out of memory");
		return CLAMD_UNREACHABLE;
	}
	s = open_conn(a);
	if (s < 0) {
		snprintf(name, CLAMD_REPLY_MAX + 1, "clamd at %s: %s", a->address, strerror(errno));
		free(buf);
		return CLAMD_UNREACHABLE;
	}
	if (!send_all(s, cmd, sizeof cmd))
		sent = false;
	while (sent && off < size) {
		size_t want = size - off < CLAMD_CHUNK ? (size_t)(size - off) : CLAMD_CHUNK;
		ssize_t got = pread(fd, buf + 4, want, (off_t)off);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			snprintf(name, CLAMD_REPLY_MAX + 1, "cannot read the content: %s",
				 got < 0 ? strerror(errno) : "short file");
			close(s);
			free(buf);
			return CLAMD_SCAN_ERROR;
		}
		buf[0] = (unsigned char)((uint32_t)got >> 24);
		buf[1] = (unsigned char)((uint32_t)got >> 16);
		buf[2] = (unsigned char)((uint32_t)got >> 8);
		buf[3] = (unsigned char)got;
		/* Past StreamMaxLength clamd answers and closes while we
		 * send: the send fails and its answer is read below. */
		sent = send_all(s, buf, 4 + (size_t)got);
		off += (uint64_t)got;
	}
	if (sent) {
		memset(buf, 0, 4);
		sent = send_all(s, buf, 4);
	}
	free(buf);
	if (!read_reply(s, reply, sizeof reply)) {
		close(s);
		snprintf(name, CLAMD_REPLY_MAX + 1,
			 "clamd at %s closed the connection without a verdict", a->address);
		return CLAMD_UNREACHABLE;
	}
	close(s);
	return parse_reply(reply, name);
}
