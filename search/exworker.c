/* exworker — see exworker.h. */
#include "exworker.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_REQUEST (64 * 1024)

enum {
	REQ_PATH = 1,
	REQ_NAME,
	REQ_MAX_TEXT,
	REQ_MAX_EXPANDED,
	REQ_MAX_MEMBERS,
	REQ_CPU,
	REQ_MEMORY,
	REQ_PDFTOTEXT,
	REQ_MIME,
};

enum {
	RES_STATUS = 1,
	RES_REASON,
	RES_MIME,
	RES_TYPE,
	RES_TITLE,
	RES_AUTHOR,
	RES_CREATED,
	RES_PAGES,
	RES_LANG,
	RES_TEXT,
};

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* --- messages -------------------------------------------------------------------- */

struct msg {
	char *p;
	size_t len, cap;
	bool nomem;
};

static void put32(unsigned char *b, uint32_t v)
{
	b[0] = (unsigned char)(v >> 24);
	b[1] = (unsigned char)(v >> 16);
	b[2] = (unsigned char)(v >> 8);
	b[3] = (unsigned char)v;
}

static uint32_t get32(const unsigned char *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static void msg_field(struct msg *m, int tag, const void *data, size_t len)
{
	size_t need = m->len + 5 + len;

	if (m->nomem)
		return;
	if (need > m->cap) {
		size_t cap = m->cap ? m->cap : 256;
		char *p;

		while (cap < need)
			cap *= 2;
		p = realloc(m->p, cap);
		if (!p) {
			m->nomem = true;
			return;
		}
		m->p = p;
		m->cap = cap;
	}
	m->p[m->len] = (char)tag;
	put32((unsigned char *)m->p + m->len + 1, (uint32_t)len);
	if (len)
		memcpy(m->p + m->len + 5, data, len);
	m->len = need;
}

static void msg_str(struct msg *m, int tag, const char *s)
{
	msg_field(m, tag, s ? s : "", s ? strlen(s) : 0);
}

static void msg_num(struct msg *m, int tag, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof buf, "%" PRId64, v);
	msg_str(m, tag, buf);
}

/* Walk the fields of a message: returns false at the end or on a
 * malformed field (*bad set). */
static bool msg_next(const char *p, size_t len, size_t *pos, int *tag, const char **data,
		     size_t *dlen, bool *bad)
{
	uint32_t l;

	if (*pos == len)
		return false;
	if (len - *pos < 5) {
		*bad = true;
		return false;
	}
	*tag = (unsigned char)p[*pos];
	l = get32((const unsigned char *)p + *pos + 1);
	if (l > len - *pos - 5) {
		*bad = true;
		return false;
	}
	*data = p + *pos + 5;
	*dlen = l;
	*pos += 5 + l;
	return true;
}

static int64_t num_of(const char *d, size_t n)
{
	char buf[24];

	if (n >= sizeof buf)
		return 0;
	memcpy(buf, d, n);
	buf[n] = '\0';
	return strtoll(buf, NULL, 10);
}

static char *str_of(const char *d, size_t n)
{
	char *s = malloc(n + 1);

	if (s) {
		memcpy(s, d, n);
		s[n] = '\0';
	}
	return s;
}

static bool write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static bool write_frame(int fd, const struct msg *m)
{
	unsigned char hdr[4];

	put32(hdr, (uint32_t)m->len);
	return write_all(fd, hdr, 4) && write_all(fd, m->p, m->len);
}

/* Blocking read of exactly len bytes; false on EOF or error. */
static bool read_all(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* --- the helper (child) side ---------------------------------------------------------- */

static void apply_limits(int64_t cpu, int64_t memory)
{
	struct rusage ru;
	struct rlimit rl;

	/* RLIMIT_CPU counts the process's whole life: the budget for this
	 * document starts from what was used so far. */
	if (cpu > 0 && getrusage(RUSAGE_SELF, &ru) == 0) {
		rlim_t used = (rlim_t)ru.ru_utime.tv_sec + (rlim_t)ru.ru_stime.tv_sec + 1;

		rl.rlim_cur = used + (rlim_t)cpu;
		rl.rlim_max = rl.rlim_cur + 2;
		if (setrlimit(RLIMIT_CPU, &rl) != 0 && getrlimit(RLIMIT_CPU, &rl) == 0) {
			rl.rlim_cur =
				used + (rlim_t)cpu < rl.rlim_max ? used + (rlim_t)cpu : rl.rlim_max;
			setrlimit(RLIMIT_CPU, &rl);
		}
	}
#ifndef UNDER_ASAN
	if (memory > 0) {
		rl.rlim_cur = rl.rlim_max = (rlim_t)memory;
		setrlimit(RLIMIT_AS, &rl);
	}
#else
	(void)memory;
#endif
}

int exworker_main(void)
{
	for (;;) {
		unsigned char hdr[4];
		uint32_t len;
		char *req = NULL;
		size_t pos = 0, dlen;
		const char *data;
		int tag;
		bool bad = false;
		char *path = NULL, *name = NULL, *pdftotext = NULL, *mime = NULL;
		struct extract_limits lim;
		int64_t memory = 0;
		struct extract_result res;
		struct msg m = {0};
		bool ok;

		if (!read_all(0, hdr, 4))
			return 0; /* the server closed the pipe: done */
		len = get32(hdr);
		if (len > MAX_REQUEST || !(req = malloc(len ? len : 1)) || !read_all(0, req, len)) {
			fprintf(stderr, "extract-worker: bad request frame\n");
			return 2;
		}
		extract_limits_default(&lim);
		while (msg_next(req, len, &pos, &tag, &data, &dlen, &bad)) {
			switch (tag) {
			case REQ_PATH:
				free(path);
				path = str_of(data, dlen);
				break;
			case REQ_NAME:
				free(name);
				name = str_of(data, dlen);
				break;
			case REQ_MAX_TEXT: lim.max_text = (uint64_t)num_of(data, dlen); break;
			case REQ_MAX_EXPANDED:
				lim.max_expanded = (uint64_t)num_of(data, dlen);
				break;
			case REQ_MAX_MEMBERS: lim.max_members = (unsigned)num_of(data, dlen); break;
			case REQ_CPU: lim.cpu_seconds = (unsigned)num_of(data, dlen); break;
			case REQ_MEMORY: memory = num_of(data, dlen); break;
			case REQ_PDFTOTEXT:
				free(pdftotext);
				pdftotext = str_of(data, dlen);
				break;
			case REQ_MIME:
				free(mime);
				mime = str_of(data, dlen);
				break;
			default: break;
			}
		}
		free(req);
		if (bad || !path || !name) {
			fprintf(stderr, "extract-worker: malformed request\n");
			free(path);
			free(name);
			free(pdftotext);
			free(mime);
			return 2;
		}
		if (pdftotext && *pdftotext)
			lim.pdftotext = pdftotext;
		lim.max_memory = (uint64_t)memory;
		apply_limits(lim.cpu_seconds, memory);
		if (extract_file(path, name, mime, &lim, &res) != ERR_OK) {
			/* Out of memory for the result itself: say so and go on. */
			extract_result_free(&res);
			memset(&res, 0, sizeof res);
			res.status = EXTRACT_FAILED;
			snprintf(res.reason, sizeof res.reason,
				 "out of memory (limit %" PRId64 " MiB)", memory >> 20);
		}
		msg_num(&m, RES_STATUS, res.status);
		msg_str(&m, RES_REASON, res.reason);
		msg_str(&m, RES_MIME, res.mime);
		msg_str(&m, RES_TYPE, res.type);
		msg_str(&m, RES_TITLE, res.title);
		msg_str(&m, RES_AUTHOR, res.author);
		msg_num(&m, RES_CREATED, res.created);
		msg_num(&m, RES_PAGES, res.pages);
		msg_str(&m, RES_LANG, res.lang);
		msg_field(&m, RES_TEXT, res.text ? res.text : "", res.text_len);
		extract_result_free(&res);
		free(path);
		free(name);
		free(pdftotext);
		free(mime);
		ok = !m.nomem && write_frame(1, &m);
		free(m.p);
		if (!ok)
			return m.nomem ? 3 : 0;
	}
}

/* --- the server (parent) side ------------------------------------------------------- */

struct exworker {
	char **argv;
	struct extract_limits lim;
	char *pdftotext;
	pid_t pid;
	int to, from; /* our ends of the pipes */
	int intr[2];  /* exworker_interrupt writes here to wake a waiting read */
	_Atomic bool interrupted;
	unsigned starts;
};

static void free_argv(char **argv)
{
	if (!argv)
		return;
	for (size_t i = 0; argv[i]; i++)
		free(argv[i]);
	free(argv);
}

enum err exworker_new(char *const argv[], const struct extract_limits *lim, struct exworker **out)
{
	struct exworker *w = calloc(1, sizeof *w);
	size_t n = 0;
	struct sigaction sa;

	*out = NULL;
	if (!w)
		return err_set(ERR_NOMEM, "out of memory");
	while (argv[n])
		n++;
	w->argv = calloc(n + 1, sizeof *w->argv);
	w->pdftotext = strdup(lim->pdftotext ? lim->pdftotext : "pdftotext");
	if (!w->argv || !w->pdftotext)
		goto nomem;
	for (size_t i = 0; i < n; i++)
		if (!(w->argv[i] = strdup(argv[i])))
			goto nomem;
	w->lim = *lim;
	w->lim.pdftotext = w->pdftotext;
	w->to = w->from = -1;
	if (pipe2(w->intr, O_CLOEXEC | O_NONBLOCK) != 0) {
		enum err rc = err_from_errno(errno, "pipe");

		free_argv(w->argv);
		free(w->pdftotext);
		free(w);
		return rc;
	}
	/* A helper that died makes our next write fail with EPIPE; that must
	 * not kill the process. */
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
	*out = w;
	return ERR_OK;
nomem:
	free_argv(w->argv);
	free(w->pdftotext);
	free(w);
	return err_set(ERR_NOMEM, "out of memory");
}

void exworker_set_time(struct exworker *w, unsigned cpu_seconds, unsigned wall_seconds)
{
	if (cpu_seconds)
		w->lim.cpu_seconds = cpu_seconds;
	if (wall_seconds)
		w->lim.wall_seconds = wall_seconds;
}

pid_t exworker_pid(const struct exworker *w) { return w->pid; }
unsigned exworker_starts(const struct exworker *w) { return w->starts; }

/* Reap the helper; returns its wait status. */
static int reap(struct exworker *w, bool kill_it)
{
	int status = 0;

	if (w->to >= 0)
		close(w->to);
	if (w->from >= 0)
		close(w->from);
	w->to = w->from = -1;
	if (w->pid > 0) {
		if (kill_it)
			kill(w->pid, SIGKILL);
		while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	w->pid = 0;
	return status;
}

static enum err spawn(struct exworker *w)
{
	int req[2] = {-1, -1}, resp[2] = {-1, -1};
	pid_t pid;

	if (pipe2(req, O_CLOEXEC) != 0 || pipe2(resp, O_CLOEXEC) != 0) {
		enum err rc = err_from_errno(errno, "pipe");

		for (int i = 0; i < 2; i++) {
			if (req[i] >= 0)
				close(req[i]);
			if (resp[i] >= 0)
				close(resp[i]);
		}
		return rc;
	}
	pid = fork();
	if (pid < 0) {
		enum err rc = err_from_errno(errno, "fork");

		close(req[0]);
		close(req[1]);
		close(resp[0]);
		close(resp[1]);
		return rc;
	}
	if (pid == 0) {
		/* Only async-signal-safe calls between fork and exec: the
		 * server is multi-threaded. */
		if (dup2(req[0], 0) < 0 || dup2(resp[1], 1) < 0)
			_exit(126);
		syscall(SYS_close_range, 3u, ~0u, 0u);
		execv(w->argv[0], w->argv);
		_exit(127);
	}
	close(req[0]);
	close(resp[1]);
	w->pid = pid;
	w->to = req[1];
	w->from = resp[0];
	w->starts++;
	return ERR_OK;
}

static void died_reason(int status, const struct extract_limits *lim, struct extract_result *res)
{
	res->status = EXTRACT_FAILED;
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);

		if (sig == SIGXCPU)
			snprintf(res->reason, sizeof res->reason,
				 "extraction exceeded the CPU limit (%u s)", lim->cpu_seconds);
		else
			snprintf(res->reason, sizeof res->reason,
				 "extractor crashed (signal %d, %s)", sig, strsignal(sig));
	} else if (WIFEXITED(status)) {
		/* It never exits by itself while a request is open: a nonzero
		 * status is a crash caught by a handler (sanitizers do that). */
		snprintf(res->reason, sizeof res->reason, "extractor crashed (exit status %d)",
			 WEXITSTATUS(status));
	} else {
		snprintf(res->reason, sizeof res->reason, "extractor stopped");
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void exworker_interrupt(struct exworker *w)
{
	ssize_t n;

	atomic_store(&w->interrupted, true);
	n = write(w->intr[1], "x", 1);

	(void)n; /* a full pipe already says it */
}

/* Read exactly len bytes before the deadline. 1 done, 0 EOF/error,
 * -1 deadline passed, -2 interrupted. */
static int read_until(int fd, int intr, void *buf, size_t len, int64_t deadline)
{
	char *p = buf;

	while (len) {
		struct pollfd pfd[2] = {{.fd = fd, .events = POLLIN},
					{.fd = intr, .events = POLLIN}};
		int64_t left = deadline - now_ms();
		ssize_t n;

		if (left <= 0)
			return -1;
		if (poll(pfd, 2, (int)(left > 60000 ? 60000 : left)) < 0) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		if (pfd[1].revents & POLLIN)
			return -2;
		if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = read(fd, p, len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return 0;
		p += n;
		len -= (size_t)n;
	}
	return 1;
}

/* Text the helper sends: UTF-8 (its contract, extract.h) with no NUL,
 * so that every reader of the result can take it as a C string. */
static bool answer_text_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		size_t n = c < 0x80         ? 1
			   : (c >> 5) == 6  ? 2
			   : (c >> 4) == 14 ? 3
			   : (c >> 3) == 30 ? 4
					    : 0;

		if (!c || !n || len - i < n)
			return false;
		for (size_t k = 1; k < n; k++)
			if (((unsigned char)s[i + k] & 0xc0) != 0x80)
				return false;
		i += n;
	}
	return true;
}

enum err exworker_decode(const char *p, size_t len, struct extract_result *res)
{
	size_t pos = 0, dlen;
	const char *data;
	int tag;
	bool bad = false;

	while (!bad && msg_next(p, len, &pos, &tag, &data, &dlen, &bad)) {
		switch (tag) {
		case RES_STATUS:
			/* read as text first: a number outside the enum is no status */
			if (dlen != 1 || data[0] < '0' || data[0] > '0' + EXTRACT_FAILED)
				bad = true;
			else
				res->status = (enum extract_status)(data[0] - '0');
			break;
		case RES_REASON:
			snprintf(res->reason, sizeof res->reason, "%.*s", (int)dlen, data);
			break;
		case RES_MIME:
			snprintf(res->mime, sizeof res->mime, "%.*s", (int)dlen, data);
			break;
		case RES_TYPE:
			snprintf(res->type, sizeof res->type, "%.*s", (int)dlen, data);
			break;
		case RES_TITLE:
		case RES_AUTHOR:
		case RES_TEXT:
			if (!answer_text_ok(data, dlen)) {
				bad = true;
				break;
			}
			if (tag == RES_TITLE) {
				free(res->title);
				res->title = str_of(data, dlen);
			} else if (tag == RES_AUTHOR) {
				free(res->author);
				res->author = str_of(data, dlen);
			} else {
				free(res->text);
				res->text = str_of(data, dlen);
				res->text_len = res->text ? dlen : 0;
			}
			break;
		case RES_CREATED: res->created = num_of(data, dlen); break;
		case RES_PAGES: res->pages = (int)num_of(data, dlen); break;
		case RES_LANG:
			snprintf(res->lang, sizeof res->lang, "%.*s", (int)dlen, data);
			break;
		default: break;
		}
	}
	if (bad)
		return err_set(ERR_CORRUPT, "malformed answer from the extraction helper");
	if (!res->text || !res->title || !res->author) {
		if (!res->text)
			res->text_len = 0;
		return err_set(ERR_NOMEM, "out of memory");
	}
	return ERR_OK;
}

enum err exworker_extract(struct exworker *w, const char *path, const char *name, const char *mime,
			  struct extract_result *res)
{
	struct msg m = {0};
	unsigned char hdr[4];
	char *body = NULL;
	uint32_t len = 0;
	int64_t deadline;
	enum err rc = ERR_OK;
	int r;

	memset(res, 0, sizeof *res);
	if (atomic_load(&w->interrupted)) {
		reap(w, true);
		return err_set(ERR_CONFLICT, "interrupted");
	}
	msg_str(&m, REQ_PATH, path);
	msg_str(&m, REQ_NAME, name);
	msg_num(&m, REQ_MAX_TEXT, (int64_t)w->lim.max_text);
	msg_num(&m, REQ_MAX_EXPANDED, (int64_t)w->lim.max_expanded);
	msg_num(&m, REQ_MAX_MEMBERS, w->lim.max_members);
	msg_num(&m, REQ_CPU, w->lim.cpu_seconds);
	msg_num(&m, REQ_MEMORY, (int64_t)w->lim.max_memory);
	msg_str(&m, REQ_PDFTOTEXT, w->lim.pdftotext);
	msg_str(&m, REQ_MIME, mime);
	if (m.nomem || m.len > MAX_REQUEST) {
		rc = m.nomem ? err_set(ERR_NOMEM, "out of memory")
			     : err_set(ERR_TOOLARGE,
				       "path or name too long for the extraction helper");
		goto out;
	}
	/* A helper that died while idle shows up as a failed write: start
	 * another and send again, once. */
	for (int attempt = 0;; attempt++) {
		if (w->pid <= 0) {
			rc = spawn(w);
			if (rc)
				goto out;
		}
		if (write_frame(w->to, &m))
			break;
		reap(w, true);
		if (attempt == 1) {
			rc = err_set(ERR_IO, "cannot talk to the extraction helper");
			goto out;
		}
	}
	deadline = now_ms() + (int64_t)w->lim.wall_seconds * 1000;
	r = read_until(w->from, w->intr[0], hdr, 4, deadline);
	if (r == 1) {
		len = get32(hdr);
		if (len > w->lim.max_text + 64 * 1024) {
			reap(w, true);
			res->status = EXTRACT_FAILED;
			snprintf(res->reason, sizeof res->reason,
				 "extractor answer too large (%u bytes)", len);
			goto fill;
		}
		body = malloc(len ? len : 1);
		if (!body) {
			reap(w, true);
			rc = err_set(ERR_NOMEM, "out of memory");
			goto out;
		}
		r = read_until(w->from, w->intr[0], body, len, deadline);
	}
	if (r == -2) {
		reap(w, true);
		rc = err_set(ERR_CONFLICT, "interrupted");
		goto out;
	}
	if (r == -1) {
		reap(w, true);
		res->status = EXTRACT_FAILED;
		snprintf(res->reason, sizeof res->reason, "extraction did not finish within %u s",
			 w->lim.wall_seconds);
		goto fill;
	}
	if (r == 0) {
		died_reason(reap(w, false), &w->lim, res);
		goto fill;
	}
	rc = exworker_decode(body, len, res);
	if (rc == ERR_CORRUPT) {
		/* A helper that says nonsense is not trusted with more work. */
		reap(w, true);
		extract_result_free(res);
		res->status = EXTRACT_FAILED;
		snprintf(res->reason, sizeof res->reason, "malformed answer from the extractor");
		rc = ERR_OK;
		goto fill;
	}
	goto out;
fill:
	/* A failed document still gets the empty strings a result promises. */
	if (!res->title)
		res->title = strdup("");
	if (!res->author)
		res->author = strdup("");
	if (!res->text)
		res->text = strdup("");
	res->text_len = 0;
	if (!res->title || !res->author || !res->text)
		rc = err_set(ERR_NOMEM, "out of memory");
out:
	free(body);
	free(m.p);
	return rc;
}

void exworker_free(struct exworker *w)
{
	if (!w)
		return;
	/* Closing its stdin ends the helper's loop; a helper busy with a
	 * document is not waited for. */
	if (w->pid > 0) {
		int64_t until = now_ms() + 2000;
		int status;

		close(w->to);
		w->to = -1;
		while (waitpid(w->pid, &status, WNOHANG) == 0 && now_ms() < until)
			usleep(5000);
		if (waitpid(w->pid, &status, WNOHANG) == 0)
			reap(w, true);
		else {
			w->pid = 0;
			reap(w, false);
		}
	}
	close(w->intr[0]);
	close(w->intr[1]);
	free_argv(w->argv);
	free(w->pdftotext);
	free(w);
}
