/* preview — see preview.h. */
#include "api/preview.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <gdk-pixbuf/gdk-pixbuf.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "api/config.h"
#include "cas.h"
#include "db.h"
#include "http/jobs.h"
#include "http/log.h"
#include "previews.h"
#include "smallblob.h"

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#define SOFFICE_BIN "/usr/lib/libreoffice/program/soffice.bin"
#define PYTHON "/usr/bin/python3"
#define MAX_INPUT_IMAGE (64u << 20)
#define MAX_PDF_OUT (512ull << 20)
#define MAX_QUEUED 128
#define SOFFICE_MAX_USES 200 /* conversions before the converter is renewed */
#define MAX_CONVERTERS 16

/* --- the helper ------------------------------------------------------------------------ */

/* Leave the network: a new network namespace has only a loopback that is
 * down, so nothing the document names can be reached. */
static const char *isolate(void)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	char map[64];
	int fd;

	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (unshare(CLONE_NEWNET) == 0)
		return "network namespace";
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) != 0)
		return NULL;
	if ((fd = open("/proc/self/setgroups", O_WRONLY)) >= 0) {
		(void)!write(fd, "deny", 4);
		close(fd);
	}
	snprintf(map, sizeof map, "%u %u 1", (unsigned)uid, (unsigned)uid);
	if ((fd = open("/proc/self/uid_map", O_WRONLY)) >= 0) {
		(void)!write(fd, map, strlen(map));
		close(fd);
	}
	snprintf(map, sizeof map, "%u %u 1", (unsigned)gid, (unsigned)gid);
	if ((fd = open("/proc/self/gid_map", O_WRONLY)) >= 0) {
		(void)!write(fd, map, strlen(map));
		close(fd);
	}
	return "network namespace in a user namespace";
}

static void limit(int res, uint64_t v)
{
	struct rlimit rl = {.rlim_cur = (rlim_t)v, .rlim_max = (rlim_t)v};

	setrlimit(res, &rl);
}

/* Run a program with memory limit `mem`, its stdout into buf (cap
 * bytes, NUL-terminated), stderr dropped. Returns its wait status, -1
 * when it could not run. */
static int run_prog(char *const argv[], uint64_t mem, char *buf, size_t cap)
{
	int p[2];
	pid_t pid;
	size_t got = 0;
	int status = -1;

	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(p[1], 1);
		dup2(null, 2);
		if (mem)
			limit(RLIMIT_AS, mem);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		char tmp[4096];
		ssize_t k = read(p[0], tmp, sizeof tmp);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		if (buf && got < cap - 1) {
			size_t c = (size_t)k < cap - 1 - got ? (size_t)k : cap - 1 - got;

			memcpy(buf + got, tmp, c);
			got += c;
		}
	}
	if (buf)
		buf[got] = '\0';
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

static int fail(const char *why)
{
	fprintf(stderr, "%s\n", why);
	fflush(stderr);
	_exit(1);
}

static int render_pdf(const char *in, const char *out, int page, unsigned width, uint64_t mem)
{
	char info[8192], *pl, pagearg[16], widtharg[16], prefix[PATH_MAX];
	char *const pdfinfo[] = {"/usr/bin/pdfinfo", (char *)in, NULL};
	char *const pdftoppm[] = {"/usr/bin/pdftoppm",
				  "-png",
				  "-f",
				  pagearg,
				  "-l",
				  pagearg,
				  "-scale-to-x",
				  widtharg,
				  "-scale-to-y",
				  "-1",
				  "-singlefile",
				  (char *)in,
				  prefix,
				  NULL};
	int st, pages;
	size_t n = strlen(out);

	st = run_prog(pdfinfo, mem, info, sizeof info);
	if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
		fail(WIFSIGNALED(st) ? "the PDF could not be read within the limits"
				     : "the PDF cannot be read (damaged or encrypted)");
	pl = !strncmp(info, "Pages:", 6) ? info : strstr(info, "\nPages:");
	if (pl && *pl == '\n')
		pl++;
	if (!pl || (pages = atoi(pl + 6)) < 1)
		fail("the PDF has no pages");
	if (page > pages) {
		printf("pages %d\n", pages);
		fail("no such page");
	}
	if (n < 5 || strcmp(out + n - 4, ".png") || n - 4 >= sizeof prefix)
		fail("bad output name");
	snprintf(prefix, sizeof prefix, "%.*s", (int)(n - 4), out);
	snprintf(pagearg, sizeof pagearg, "%d", page);
	snprintf(widtharg, sizeof widtharg, "%u", width);
	st = run_prog(pdftoppm, mem, NULL, 0);
	if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
		fail(WIFSIGNALED(st) ? "the page could not be drawn within the limits"
				     : "the page could not be drawn");
	printf("pages %d\n", pages);
	return 0;
}

struct fit {
	unsigned width;
};

/* Scale while decoding (an SVG is drawn at that size): never wider than
 * asked, never taller than four times that. */
static void on_size(GdkPixbufLoader *l, int w, int h, gpointer data)
{
	const struct fit *f = data;
	double s = 1.0;

	if (w <= 0 || h <= 0)
		return;
	if ((unsigned)w > f->width)
		s = (double)f->width / w;
	if (h * s > 4.0 * f->width)
		s = 4.0 * f->width / h;
	if (s < 1.0)
		gdk_pixbuf_loader_set_size(l, w * s < 1 ? 1 : (int)(w * s),
					   h * s < 1 ? 1 : (int)(h * s));
}

static int render_image(const char *loader, const char *in, const char *out, unsigned width)
{
	struct fit f = {width};
	GdkPixbufLoader *l;
	GdkPixbuf *pb;
	GError *e = NULL;
	size_t total = 0;
	char buf[65536];
	int fd = open(in, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		fail("the picture cannot be read");
	l = gdk_pixbuf_loader_new_with_type(loader, &e);
	if (!l)
		fail("this picture format cannot be shown here (no loader installed)");
	g_signal_connect(l, "size-prepared", G_CALLBACK(on_size), &f);
	for (;;) {
		ssize_t k = read(fd, buf, sizeof buf);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		total += (size_t)k;
		if (total > MAX_INPUT_IMAGE)
			fail("the picture is larger than 64 MiB");
		if (!gdk_pixbuf_loader_write(l, (const guchar *)buf, (gsize)k, &e))
			fail("the picture is damaged or not of its stated type");
	}
	close(fd);
	if (!gdk_pixbuf_loader_close(l, &e) || !(pb = gdk_pixbuf_loader_get_pixbuf(l)))
		fail("the picture is damaged or not of its stated type");
	if ((unsigned)gdk_pixbuf_get_width(pb) > width ||
	    (unsigned)gdk_pixbuf_get_height(pb) > 4 * width) {
		int w = gdk_pixbuf_get_width(pb), h = gdk_pixbuf_get_height(pb);
		double s = (double)width / w;

		if (h * s > 4.0 * width)
			s = 4.0 * width / h;
		pb = gdk_pixbuf_scale_simple(pb, w * s < 1 ? 1 : (int)(w * s),
					     h * s < 1 ? 1 : (int)(h * s), GDK_INTERP_BILINEAR);
		if (!pb)
			fail("out of memory");
	}
	/* Only pixels go out: no metadata, no text of the original. */
	if (!gdk_pixbuf_save(pb, out, "png", &e, NULL))
		fail("the preview could not be written");
	printf("pages 1\n");
	return 0;
}

/* The UNO client: load read-only and hidden, never updating links or
 * running macros, and store as PDF with the filter of the document's
 * kind. Connecting waits for a converter that is starting. */
static const char uno_script[] =
	"import os, sys, time, uno\n"
	"from com.sun.star.beans import PropertyValue\n"
	"def pv(n, v):\n"
	"    p = PropertyValue(); p.Name = n; p.Value = v; return p\n"
	"pipe, src, dst, wait = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])\n"
	"local = uno.getComponentContext()\n"
	"res = local.ServiceManager.createInstanceWithContext("
	"'com.sun.star.bridge.UnoUrlResolver', local)\n"
	"end = time.time() + wait\n"
	"while True:\n"
	"    try:\n"
	"        ctx = res.resolve('uno:pipe,name=%s;urp;StarOffice.ComponentContext' % pipe)\n"
	"        break\n"
	"    except Exception:\n"
	"        if time.time() > end:\n"
	"            sys.stderr.write('the converter did not start\\n'); os._exit(3)\n"
	"        time.sleep(0.05)\n"
	"desk = ctx.ServiceManager.createInstanceWithContext('com.sun.star.frame.Desktop', ctx)\n"
	"props = (pv('Hidden', True), pv('ReadOnly', True), pv('UpdateDocMode', 0),\n"
	"         pv('MacroExecutionMode', 0), pv('Silent', True))\n"
	"try:\n"
	"    doc = desk.loadComponentFromURL(uno.systemPathToFileUrl(src), '_blank', 0, props)\n"
	"except Exception:\n"
	"    doc = None\n"
	"if doc is None:\n"
	"    sys.stderr.write('LibreOffice cannot open the document\\n'); os._exit(4)\n"
	"try:\n"
	"    if doc.supportsService('com.sun.star.sheet.SpreadsheetDocument'):\n"
	"        f = 'calc_pdf_Export'\n"
	"    elif doc.supportsService('com.sun.star.presentation.PresentationDocument'):\n"
	"        f = 'impress_pdf_Export'\n"
	"    elif doc.supportsService('com.sun.star.drawing.DrawingDocument'):\n"
	"        f = 'draw_pdf_Export'\n"
	"    else:\n"
	"        f = 'writer_pdf_Export'\n"
	"    doc.storeToURL(uno.systemPathToFileUrl(dst), (pv('FilterName', f),))\n"
	"except Exception:\n"
	"    sys.stderr.write('LibreOffice could not convert the document\\n'); sys.stderr.flush()\n"
	"    os._exit(5)\n"
	"try:\n"
	"    doc.close(True)\n"
	"except Exception:\n"
	"    pass\n"
	/* pyuno may crash tearing down its bridge: leave without it */
	"sys.stderr.flush()\n"
	"os._exit(0)\n";

int preview_worker_main(int argc, char **argv)
{
	const char *iso;

	if (argc < 1 || isatty(0)) {
		fprintf(stderr,
			"consort preview-worker: internal helper, started by consort serve\n");
		return 2;
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	iso = isolate();
	if (!strcmp(argv[0], "probe")) {
		printf("%s\n", iso ? iso : "none");
		fflush(stdout);
		_exit(0);
	}
	/* render pdf|image LOADER IN OUT PAGE WIDTH CPU MEM */
	if (!strcmp(argv[0], "render") && argc == 9) {
		uint64_t mem = strtoull(argv[8], NULL, 10);
		unsigned cpu = (unsigned)strtoul(argv[7], NULL, 10);
		int page = atoi(argv[5]);
		unsigned width = (unsigned)strtoul(argv[6], NULL, 10);
		int rc;

		limit(RLIMIT_CPU, cpu ? cpu : 30);
		limit(RLIMIT_FSIZE, PREVIEW_MAX_PNG);
		if (page < 1 || width < 16 || width > 4096)
			fail("bad request");
		if (!strcmp(argv[1], "pdf")) {
			rc = render_pdf(argv[3], argv[4], page, width, mem);
		} else {
#ifndef UNDER_ASAN
			limit(RLIMIT_AS, mem);
#endif
			if (page != 1)
				fail("no such page");
			rc = render_image(argv[2], argv[3], argv[4], width);
		}
		fflush(stdout);
		_exit(rc); /* no leak report of gdk-pixbuf's caches */
	}
	/* convert PIPE IN OUT WAIT_SECONDS */
	if (!strcmp(argv[0], "convert") && argc == 5) {
		char *const py[] = {PYTHON,  "-I",    "-c", (char *)uno_script, argv[1], argv[2],
				    argv[3], argv[4], NULL};

		execv(py[0], py);
		fail("python3 (with python3-uno) is not installed");
	}
	/* soffice PROFILE_URL PIPE MEM */
	if (!strcmp(argv[0], "soffice") && argc == 4) {
		char accept[256], env[PATH_MAX + 32];
		char *const so[] = {SOFFICE_BIN,
				    "--headless",
				    "--invisible",
				    "--nocrashreport",
				    "--nodefault",
				    "--nofirststartwizard",
				    "--nologo",
				    "--norestore",
				    "--nolockcheck",
				    accept,
				    env,
				    NULL};

		snprintf(accept, sizeof accept,
			 "--accept=pipe,name=%s;urp;StarOffice.ComponentContext", argv[2]);
		snprintf(env, sizeof env, "-env:UserInstallation=%s", argv[1]);
		/* Its temp files (copies of documents among them) go in the
		 * profile, which the server empties before each start: a
		 * killed soffice leaves them behind. */
		if (!strncmp(argv[1], "file://", 7)) {
			char tmp[PATH_MAX];

			snprintf(tmp, sizeof tmp, "%s/tmp", argv[1] + 7);
			setenv("TMPDIR", tmp, 1);
		}
		limit(RLIMIT_AS, strtoull(argv[3], NULL, 10));
		limit(RLIMIT_FSIZE, MAX_PDF_OUT);
		limit(RLIMIT_CORE, 0);
		setenv("SAL_USE_VCLPLUGIN", "svp", 1);
		execv(so[0], so);
		fail("LibreOffice (libreoffice-core-nogui) is not installed");
	}
	fprintf(stderr, "consort preview-worker: bad arguments\n");
	return 2;
}

/* --- the server side ------------------------------------------------------------------ */

struct queued {
	char hash[DIGEST_SHA256_HEX_LEN + 1];
	enum preview_kind kind;
	const char *loader;
	char *name;
};

static struct {
	bool started;
	char *data_dir;
	struct cas *cas;
	struct previews *cache;
	struct jobs *pool;
	unsigned wall_seconds;
	uint64_t memory;
	char isolation[96];
	/* the converters: a pool thread takes a free one (lo_mu) and then
	 * owns it alone until it gives it back */
	pthread_mutex_t lo_mu;
	pthread_cond_t lo_cv;
	unsigned lo_count, lo_seq;
	/* /metrics (preview_converter_stats) */
	atomic_uint lo_running;
	atomic_ullong lo_starts, lo_start_failures, converted, convert_failed, convert_late,
		convert_ms;
	struct converter {
		bool taken;
		unsigned index, uses;
		pid_t pid;
		char pipe[96];
		char profile[PATH_MAX];
	} lo[MAX_CONVERTERS];
	/* contents being prepared (one thread each) and queued */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char busy[64][DIGEST_SHA256_HEX_LEN + 1];
	char queued[MAX_QUEUED][DIGEST_SHA256_HEX_LEN + 1];
} pv = {.lo_mu = PTHREAD_MUTEX_INITIALIZER,
	.lo_cv = PTHREAD_COND_INITIALIZER,
	.mu = PTHREAD_MUTEX_INITIALIZER,
	.cv = PTHREAD_COND_INITIALIZER};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Start `consort preview-worker ARGS` in its own process group. */
static pid_t spawn(char *const argv[], int out_fd, int err_fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		/* async-signal-safe only: the server is multi-threaded */
		int null = open("/dev/null", O_RDWR);

		setpgid(0, 0);
		if (null < 0 || dup2(null, 0) < 0 || dup2(out_fd >= 0 ? out_fd : null, 1) < 0 ||
		    dup2(err_fd >= 0 ? err_fd : null, 2) < 0)
			_exit(126);
		syscall(SYS_close_range, 3u, ~0u, 0u);
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid > 0)
		setpgid(pid, pid);
	return pid;
}

/* Run a helper until it ends or `seconds` pass (then it and everything
 * it started are killed). Its stdout into out, stderr into why. 0 when
 * it succeeded, 1 when it failed (why says how), -1 when it could not
 * start. */
static int run_helper(char *const argv[], unsigned seconds, char *out, size_t out_cap, char *why,
		      size_t why_cap, bool *late)
{
	int po[2] = {-1, -1}, pe[2] = {-1, -1}, status = 0;
	size_t ol = 0, wl = 0;
	int64_t deadline = now_ms() + (int64_t)seconds * 1000;
	bool oo = true, eo = true;
	pid_t pid;

	*late = false;
	out[0] = why[0] = '\0';
	if (pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0) {
		for (int i = 0; i < 2; i++) {
			if (po[i] >= 0)
				close(po[i]);
			if (pe[i] >= 0)
				close(pe[i]);
		}
		snprintf(why, why_cap, "cannot start the preview helper");
		return -1;
	}
	pid = spawn(argv, po[1], pe[1]);
	close(po[1]);
	close(pe[1]);
	if (pid < 0) {
		close(po[0]);
		close(pe[0]);
		snprintf(why, why_cap, "cannot start the preview helper");
		return -1;
	}
	while (oo || eo) {
		struct pollfd p[2] = {{.fd = oo ? po[0] : -1, .events = POLLIN},
				      {.fd = eo ? pe[0] : -1, .events = POLLIN}};
		int64_t left = deadline - now_ms();
		char tmp[1024];

		if (left <= 0) {
			*late = true;
			break;
		}
		if (poll(p, 2, (int)left) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < 2; i++) {
			ssize_t k;
			char *dst = i ? why : out;
			size_t cap = i ? why_cap : out_cap, *len = i ? &wl : &ol;

			if (!p[i].revents)
				continue;
			k = read(p[i].fd, tmp, sizeof tmp);
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0) {
				if (i)
					eo = false;
				else
					oo = false;
				continue;
			}
			if (*len < cap - 1) {
				size_t c = (size_t)k < cap - 1 - *len ? (size_t)k : cap - 1 - *len;

				memcpy(dst + *len, tmp, c);
				*len += c;
				dst[*len] = '\0';
			}
		}
	}
	close(po[0]);
	close(pe[0]);
	if (*late)
		kill(-pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (*late) {
		snprintf(why, why_cap, "making the preview took longer than %u s", seconds);
		return 1;
	}
	while (wl && (why[wl - 1] == '\n' || why[wl - 1] == '\r'))
		why[--wl] = '\0';
	/* only the first line: the helper's own words */
	if (strchr(why, '\n'))
		*strchr(why, '\n') = '\0';
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		snprintf(why, why_cap, "%s",
			 WTERMSIG(status) == SIGXCPU
				 ? "making the preview exceeded the CPU limit"
				 : "the preview helper crashed on the document");
	else if (!*why)
		snprintf(why, why_cap, "the preview helper failed (exit status %d)",
			 WEXITSTATUS(status));
	return 1;
}

static const char *exe(void) { return "/proc/self/exe"; }

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;
}

/* The profile a converter starts with: macros off, no links followed,
 * and an empty tmp/ for its temp files (the last one may have been
 * killed). */
static void write_profile(const char *dir)
{
	char path[PATH_MAX + 64];
	FILE *f;
	static const char xcu[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<oor:items xmlns:oor=\"http://openoffice.org/2001/registry\" "
		"xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" "
		"xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
		"<item oor:path=\"/org.openoffice.Office.Common/Security/Scripting\"><prop "
		"oor:name=\"MacroSecurityLevel\" oor:op=\"fuse\"><value>3</value></prop></item>\n"
		"<item oor:path=\"/org.openoffice.Office.Common/Security/Scripting\"><prop "
		"oor:name=\"DisableMacrosExecution\" oor:op=\"fuse\"><value>true</value></prop></item>\n"
		"<item oor:path=\"/org.openoffice.Office.Common/Security/Scripting\"><prop "
		"oor:name=\"BlockUntrustedRefererLinks\" "
		"oor:op=\"fuse\"><value>true</value></prop></item>\n"
		"<item oor:path=\"/org.openoffice.Office.Writer/Content/Update\"><prop "
		"oor:name=\"Link\" oor:op=\"fuse\"><value>2</value></prop></item>\n"
		"<item oor:path=\"/org.openoffice.Office.Calc/Content/Update\"><prop "
		"oor:name=\"Link\" oor:op=\"fuse\"><value>2</value></prop></item>\n"
		"<item oor:path=\"/org.openoffice.Office.Common/Misc\"><prop "
		"oor:name=\"UseLocking\" oor:op=\"fuse\"><value>false</value></prop></item>\n"
		"</oor:items>\n";

	snprintf(path, sizeof path, "%s/tmp", dir);
	nftw(path, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	mkdir(dir, 0700);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/user", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/user/registrymodifications.xcu", dir);
	if ((f = fopen(path, "w"))) {
		fputs(xcu, f);
		fclose(f);
	}
}

/* Where LibreOffice makes converter `c`'s pipe (sal's osl pipes live in
 * /tmp whatever TMPDIR says). */
static void pipe_socket(const struct converter *c, char *out, size_t size)
{
	snprintf(out, size, "/tmp/OSL_PIPE_%u_%s", (unsigned)getuid(), c->pipe);
}

static void lo_kill(struct converter *c)
{
	char sock[256];
	int status;

	if (c->pid > 0) {
		kill(-c->pid, SIGKILL);
		while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
			;
		atomic_fetch_sub(&pv.lo_running, 1);
		/* A killed soffice cannot remove its pipe, and every start
		 * names a new one: a converter renewed every 200 conversions
		 * would leave a socket in /tmp each time. */
		pipe_socket(c, sock, sizeof sock);
		unlink(sock);
	}
	c->pid = 0;
}

/* Converter `c`, taken by the caller, running: started when needed. */
static bool lo_running(struct converter *c)
{
	char url[PATH_MAX + 16], mem[24];
	int status;

	if (c->pid > 0) {
		if (c->uses < SOFFICE_MAX_USES && waitpid(c->pid, &status, WNOHANG) == 0)
			return true;
		lo_kill(c);
	}
	write_profile(c->profile);
	pthread_mutex_lock(&pv.lo_mu);
	snprintf(c->pipe, sizeof c->pipe, "consort-preview-%d-%u", (int)getpid(), ++pv.lo_seq);
	pthread_mutex_unlock(&pv.lo_mu);
	snprintf(url, sizeof url, "file://%s", c->profile);
	snprintf(mem, sizeof mem, "%llu",
		 (unsigned long long)(pv.memory < (2ull << 30) ? (2ull << 30) : pv.memory));
	{
		char *const argv[] = {(char *)exe(), "preview-worker", "soffice", url, c->pipe, mem,
				      NULL};

		/* A fresh profile makes soffice.bin exit with 81 once, asking to
		 * be started again; wait until its pipe is there. */
		for (int tries = 0; tries < 3; tries++) {
			char sock[256];
			int64_t until = now_ms() + (int64_t)pv.wall_seconds * 1000;
			bool again = false;

			c->pid = spawn(argv, -1, -1);
			if (c->pid <= 0)
				break;
			pipe_socket(c, sock, sizeof sock);
			while (now_ms() < until && access(sock, F_OK) != 0) {
				if (waitpid(c->pid, &status, WNOHANG) == c->pid) {
					c->pid = 0;
					again = WIFEXITED(status) && WEXITSTATUS(status) == 81;
					break;
				}
				usleep(20000);
			}
			if (!again)
				break;
		}
	}
	c->uses = 0;
	if (c->pid > 0) {
		atomic_fetch_add(&pv.lo_running, 1);
		atomic_fetch_add(&pv.lo_starts, 1);
		log_event(LOG_INFO, "preview", "converter %u started (pid %d)", c->index + 1,
			  (int)c->pid);
	} else {
		atomic_fetch_add(&pv.lo_start_failures, 1);
	}
	return c->pid > 0;
}

/* A free converter, waiting for one if all are converting. A running one
 * is preferred, so that a second LibreOffice starts only when two
 * documents are converted at the same time. */
static struct converter *lo_take(void)
{
	struct converter *c = NULL;

	pthread_mutex_lock(&pv.lo_mu);
	for (;;) {
		for (unsigned i = 0; i < pv.lo_count; i++)
			if (!pv.lo[i].taken && (!c || (c->pid <= 0 && pv.lo[i].pid > 0)))
				c = &pv.lo[i];
		if (c)
			break;
		pthread_cond_wait(&pv.lo_cv, &pv.lo_mu);
	}
	c->taken = true;
	pthread_mutex_unlock(&pv.lo_mu);
	return c;
}

static void lo_give_back(struct converter *c)
{
	pthread_mutex_lock(&pv.lo_mu);
	c->taken = false;
	pthread_cond_signal(&pv.lo_cv);
	pthread_mutex_unlock(&pv.lo_mu);
}

/* A file holding content `hash` for a helper to read: the blob file, or
 * a private copy (*temp: unlink it) of small content from the database
 * or of a blob in an object store. Runs on a pool thread, which has no
 * database connection of its own: one is opened for the lookup. */
static enum err source_file(const char *hash, char *path, size_t cap, bool *temp)
{
	struct db *db = NULL;
	char db_path[PATH_MAX];
	enum err rc;

	*temp = false;
	snprintf(db_path, sizeof db_path, "%s/consort.db", pv.data_dir);
	rc = db_open(db_path, &db);
	if (!rc)
		rc = smallblob_export(db, pv.data_dir, hash, path, cap, temp);
	db_close(db);
	if (!rc && !*temp)
		rc = cas_local_file(pv.cas, hash, path, cap, temp);
	return rc;
}

static const char *office_ext(const char *name)
{
	static const char *const ok[] = {"docx", "xlsx", "pptx", "doc", "xls",  "ppt",  "odt",
					 "ods",  "odp",  "odg",  "rtf", "docm", "xlsm", "pptm"};
	const char *dot = name ? strrchr(name, '.') : NULL;

	if (dot)
		for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
			if (!strcasecmp(dot + 1, ok[i]))
				return ok[i];
	return NULL;
}

/* The office document's PDF in the cache; converted on a free converter. 0 ok,
 * 1 the document failed (why), -1 no converter. */
static int office_pdf(const char *hash, const char *name, char *why, size_t cap)
{
	char link[PATH_MAX], out[PATH_MAX], blob[PATH_MAX], wait[16], res[256];
	const char *ext = office_ext(name);
	bool late, temp = false;
	struct converter *c;
	int64_t t0;
	int r;

	if (previews_has(pv.cache, hash, ".pdf"))
		return 0;
	c = lo_take();
	if (previews_has(pv.cache, hash, ".pdf")) {
		lo_give_back(c);
		return 0;
	}
	if (source_file(hash, blob, sizeof blob, &temp)) {
		lo_give_back(c);
		snprintf(why, cap, "the content cannot be read: %s", err_detail());
		err_clear();
		return -1;
	}
	/* LibreOffice tells formats by content, helped by the name's extension. */
	{
		char e[16];

		snprintf(e, sizeof e, ".%s", ext ? ext : "bin");
		previews_tmp_path(pv.cache, e, link, sizeof link);
	}
	previews_tmp_path(pv.cache, ".pdf", out, sizeof out);
	if (symlink(blob, link) != 0 || !lo_running(c)) {
		unlink(link);
		if (temp)
			unlink(blob);
		lo_give_back(c);
		snprintf(why, cap, "the converter cannot start");
		return -1;
	}
	snprintf(wait, sizeof wait, "%u", pv.wall_seconds);
	{
		char *const argv[] = {
			(char *)exe(), "preview-worker", "convert", c->pipe, link, out, wait, NULL};

		t0 = now_ms();
		r = run_helper(argv, pv.wall_seconds, res, sizeof res, why, cap, &late);
		atomic_fetch_add(&pv.convert_ms, (unsigned long long)(now_ms() - t0));
	}
	c->uses++;
	unlink(link);
	if (temp)
		unlink(blob);
	if (late || r != 0) {
		/* A converter stuck on a document, or that crashed, is not
		 * trusted with the next: it starts afresh. */
		lo_kill(c);
		if (late)
			snprintf(why, cap, "converting the document took longer than %u s",
				 pv.wall_seconds);
	}
	if (r == 0) {
		char head[8] = "";
		FILE *f = fopen(out, "rb");

		if (!f || fread(head, 1, 5, f) != 5 || memcmp(head, "%PDF-", 5)) {
			snprintf(why, cap, "LibreOffice made no PDF of the document");
			r = 1;
		}
		if (f)
			fclose(f);
	}
	if (r == 0 && previews_put_file(pv.cache, out, hash, ".pdf") != ERR_OK) {
		snprintf(why, cap, "the preview cache cannot store the PDF");
		r = -1;
	}
	if (r != 0)
		unlink(out);
	lo_give_back(c);
	atomic_fetch_add(late ? &pv.convert_late : r == 0 ? &pv.converted : &pv.convert_failed, 1);
	if (!strcmp(why, "the converter did not start"))
		r = -1;
	return r;
}

/* Render one page of content `hash` into the cache. 0 ok (with *pages),
 * 1 failed (why), 2 no such page, -1 helper could not run. */
static int render(const char *hash, enum preview_kind kind, const char *loader, const char *name,
		  int page, unsigned width, int *pages, char *why, size_t cap)
{
	char in[PATH_MAX], out[PATH_MAX], pg[16], wd[16], cpu[16], mem[24], res[256];
	char suffix[48];
	bool late, temp = false;
	int r;

	if (kind == PREVIEW_OFFICE) {
		r = office_pdf(hash, name, why, cap);
		if (r)
			return r;
		previews_path(pv.cache, hash, ".pdf", in, sizeof in);
	} else if (source_file(hash, in, sizeof in, &temp)) {
		snprintf(why, cap, "the content cannot be read: %s", err_detail());
		err_clear();
		return -1;
	}
	previews_tmp_path(pv.cache, ".png", out, sizeof out);
	snprintf(pg, sizeof pg, "%d", page);
	snprintf(wd, sizeof wd, "%u", width);
	snprintf(cpu, sizeof cpu, "%u", pv.wall_seconds);
	snprintf(mem, sizeof mem, "%llu", (unsigned long long)pv.memory);
	{
		char *const argv[] = {(char *)exe(),
				      "preview-worker",
				      "render",
				      kind == PREVIEW_IMAGE ? "image" : "pdf",
				      (char *)(loader ? loader : "-"),
				      in,
				      out,
				      pg,
				      wd,
				      cpu,
				      mem,
				      NULL};

		r = run_helper(argv, pv.wall_seconds, res, sizeof res, why, cap, &late);
	}
	if (temp)
		unlink(in);
	*pages = !strncmp(res, "pages ", 6) ? atoi(res + 6) : 0;
	if (r != 0) {
		unlink(out);
		if (r == 1 && !strcmp(why, "no such page"))
			return 2;
		return r;
	}
	snprintf(suffix, sizeof suffix, "-p%d-w%u.png", page, width);
	if (*pages < 1 || previews_put_file(pv.cache, out, hash, suffix) != ERR_OK) {
		unlink(out);
		snprintf(why, cap, "the preview could not be stored");
		return -1;
	}
	return 0;
}

static void busy_claim(const char *hash)
{
	pthread_mutex_lock(&pv.mu);
	for (;;) {
		int free_slot = -1;
		bool taken = false;

		for (int i = 0; i < 64; i++) {
			if (!strcmp(pv.busy[i], hash))
				taken = true;
			else if (!pv.busy[i][0] && free_slot < 0)
				free_slot = i;
		}
		if (!taken && free_slot >= 0) {
			memcpy(pv.busy[free_slot], hash, DIGEST_SHA256_HEX_LEN + 1);
			break;
		}
		pthread_cond_wait(&pv.cv, &pv.mu);
	}
	pthread_mutex_unlock(&pv.mu);
}

static void busy_release(const char *hash)
{
	pthread_mutex_lock(&pv.mu);
	for (int i = 0; i < 64; i++)
		if (!strcmp(pv.busy[i], hash))
			pv.busy[i][0] = '\0';
	pthread_cond_broadcast(&pv.cv);
	pthread_mutex_unlock(&pv.mu);
}

enum err preview_state(const char *hash, int *pages, char *reason, size_t cap)
{
	char *meta = NULL;
	size_t len;
	enum err rc;

	*pages = 0;
	if (reason && cap)
		reason[0] = '\0';
	if (!pv.started)
		return err_set(ERR_BUSY, "previews are not running");
	rc = previews_get(pv.cache, hash, ".meta", 4096, false, &meta, &len);
	if (rc)
		return rc;
	if (!strncmp(meta, "pages ", 6) && atoi(meta + 6) > 0) {
		*pages = atoi(meta + 6);
	} else {
		char *nl;

		if ((nl = strchr(meta, '\n')))
			*nl = '\0';
		snprintf(reason, cap, "%s", !strncmp(meta, "failed ", 7) ? meta + 7 : "unknown");
	}
	free(meta);
	return ERR_OK;
}

enum err preview_prepare(const char *hash, enum preview_kind kind, const char *loader,
			 const char *name)
{
	char why[256] = "", meta[300];
	int pages = 0, r;
	enum err rc;

	if (!pv.started)
		return err_set(ERR_BUSY, "previews are not running");
	if (kind == PREVIEW_NONE)
		return err_set(ERR_UNSUPPORTED, "no preview for this type of document");
	busy_claim(hash);
	if (preview_state(hash, &pages, why, sizeof why) == ERR_OK) {
		busy_release(hash);
		return ERR_OK;
	}
	r = render(hash, kind, loader, name, 1, PREVIEW_DEFAULT_WIDTH, &pages, why, sizeof why);
	if (r < 0) {
		busy_release(hash);
		return err_set(ERR_BUSY, "%s", why);
	}
	if (r == 0)
		snprintf(meta, sizeof meta, "pages %d\n", pages);
	else
		snprintf(meta, sizeof meta, "failed %s\n",
			 r == 2 ? "the document has no pages" : why);
	rc = previews_put(pv.cache, hash, ".meta", meta, strlen(meta));
	busy_release(hash);
	return rc;
}

enum err preview_page(const char *hash, enum preview_kind kind, const char *loader,
		      const char *name, int page, unsigned width, char **png, size_t *len)
{
	char suffix[48], why[256];
	int pages = 0, r;
	enum err rc;

	*png = NULL;
	*len = 0;
	if (!pv.started)
		return err_set(ERR_BUSY, "previews are not running");
	snprintf(suffix, sizeof suffix, "-p%d-w%u.png", page, width);
	rc = previews_get(pv.cache, hash, suffix, PREVIEW_MAX_PNG, true, png, len);
	if (rc != ERR_NOTFOUND)
		return rc;
	rc = preview_prepare(hash, kind, loader, name);
	if (!rc)
		rc = preview_state(hash, &pages, why, sizeof why);
	if (rc)
		return rc;
	if (pages == 0)
		return err_set(ERR_UNSUPPORTED, "%s", why);
	if (page > pages)
		return err_set(ERR_NOTFOUND, "the document has %d page%s", pages,
			       pages == 1 ? "" : "s");
	busy_claim(hash);
	rc = previews_get(pv.cache, hash, suffix, PREVIEW_MAX_PNG, false, png, len);
	if (rc == ERR_NOTFOUND) {
		r = render(hash, kind, loader, name, page, width, &pages, why, sizeof why);
		if (r == 0)
			rc = previews_get(pv.cache, hash, suffix, PREVIEW_MAX_PNG, false, png, len);
		else if (r == 2)
			rc = err_set(ERR_NOTFOUND, "no such page");
		else if (r < 0)
			rc = err_set(ERR_BUSY, "%s", why);
		else
			rc = err_set(ERR_UNSUPPORTED, "%s", why);
	}
	busy_release(hash);
	return rc;
}

static void queued_drop(const char *hash)
{
	pthread_mutex_lock(&pv.mu);
	for (int i = 0; i < MAX_QUEUED; i++)
		if (!strcmp(pv.queued[i], hash))
			pv.queued[i][0] = '\0';
	pthread_mutex_unlock(&pv.mu);
}

static void prepare_job(void *arg)
{
	struct queued *q = arg;

	if (preview_prepare(q->hash, q->kind, q->loader, q->name) != ERR_OK)
		log_event(LOG_WARN, "preview", "preview of %.12s not made: %s", q->hash,
			  err_detail());
	queued_drop(q->hash);
	free(q->name);
	free(q);
}

enum err preview_prepare_async(const char *hash, enum preview_kind kind, const char *loader,
			       const char *name)
{
	struct queued *q;
	int slot = -1;
	enum err rc;

	if (!pv.started)
		return err_set(ERR_BUSY, "previews are not running");
	pthread_mutex_lock(&pv.mu);
	for (int i = 0; i < MAX_QUEUED; i++) {
		if (!strcmp(pv.queued[i], hash)) {
			pthread_mutex_unlock(&pv.mu);
			return ERR_OK;
		}
		if (!pv.queued[i][0] && slot < 0)
			slot = i;
	}
	if (slot < 0) {
		pthread_mutex_unlock(&pv.mu);
		return err_set(ERR_LIMIT, "too many previews are being made");
	}
	memcpy(pv.queued[slot], hash, DIGEST_SHA256_HEX_LEN + 1);
	pthread_mutex_unlock(&pv.mu);
	q = calloc(1, sizeof *q);
	if (!q || !(q->name = strdup(name ? name : ""))) {
		free(q);
		queued_drop(hash);
		return err_set(ERR_NOMEM, "out of memory");
	}
	memcpy(q->hash, hash, sizeof q->hash);
	q->kind = kind;
	q->loader = loader;
	rc = jobs_post(pv.pool, prepare_job, q);
	if (rc) {
		queued_drop(hash);
		free(q->name);
		free(q);
	}
	return rc;
}

enum preview_kind preview_kind_of(const char *mime, const char *name, const char **loader)
{
	static const struct {
		const char *mime, *loader;
	} images[] = {
		{"image/png", "png"},   {"image/jpeg", "jpeg"}, {"image/gif", "gif"},
		{"image/tiff", "tiff"}, {"image/webp", "webp"}, {"image/svg+xml", "svg"},
		{"image/bmp", "bmp"},
	};
	static const char *const office[] = {
		"application/vnd.openxmlformats-officedocument.",
		"application/vnd.oasis.opendocument.text",
		"application/vnd.oasis.opendocument.spreadsheet",
		"application/vnd.oasis.opendocument.presentation",
		"application/vnd.oasis.opendocument.graphics",
		"application/msword",
		"application/vnd.ms-excel",
		"application/vnd.ms-powerpoint",
		"application/rtf",
		"text/rtf",
	};

	*loader = NULL;
	if (!mime)
		mime = "";
	if (!strcmp(mime, "application/pdf"))
		return PREVIEW_PDF;
	for (size_t i = 0; i < sizeof images / sizeof images[0]; i++)
		if (!strcmp(mime, images[i].mime)) {
			*loader = images[i].loader;
			return PREVIEW_IMAGE;
		}
	for (size_t i = 0; i < sizeof office / sizeof office[0]; i++)
		if (!strncmp(mime, office[i], strlen(office[i])))
			return PREVIEW_OFFICE;
	/* libmagic calls some office files by their container */
	if ((!strcmp(mime, "application/zip") || !strcmp(mime, "application/octet-stream") ||
	     !strcmp(mime, "application/CDFV2") || !strcmp(mime, "application/x-ole-storage")) &&
	    office_ext(name))
		return PREVIEW_OFFICE;
	return PREVIEW_NONE;
}

bool preview_width_ok(unsigned width)
{
	return width == 200 || width == 400 || width == 800 || width == 1200 || width == 1600;
}

struct jobs *preview_pool(void) { return pv.started ? pv.pool : NULL; }
struct previews *preview_cache(void) { return pv.started ? pv.cache : NULL; }
const char *preview_isolation(void) { return pv.isolation; }

static void probe(void)
{
	char out[96], why[256];
	char *const argv[] = {(char *)exe(), "preview-worker", "probe", NULL};
	bool late;

	if (run_helper(argv, 10, out, sizeof out, why, sizeof why, &late) != 0) {
		snprintf(pv.isolation, sizeof pv.isolation, "none: the helper did not run");
		return;
	}
	if (strchr(out, '\n'))
		*strchr(out, '\n') = '\0';
	snprintf(pv.isolation, sizeof pv.isolation, "%s", out);
	if (!strcmp(out, "none"))
		snprintf(pv.isolation, sizeof pv.isolation,
			 "none: no network namespace can be made (not root, user namespaces off)");
}

void preview_converter_stats(struct preview_converter_stats *out)
{
	memset(out, 0, sizeof *out);
	out->converters = pv.lo_count;
	pthread_mutex_lock(&pv.lo_mu);
	for (unsigned i = 0; i < pv.lo_count; i++)
		out->busy += pv.lo[i].taken;
	pthread_mutex_unlock(&pv.lo_mu);
	out->running = atomic_load(&pv.lo_running);
	out->starts = atomic_load(&pv.lo_starts);
	out->start_failures = atomic_load(&pv.lo_start_failures);
	out->converted = atomic_load(&pv.converted);
	out->failed = atomic_load(&pv.convert_failed);
	out->timed_out = atomic_load(&pv.convert_late);
	out->seconds = (double)atomic_load(&pv.convert_ms) / 1000.0;
}

unsigned preview_converters(const struct config *cfg)
{
	unsigned n = cfg->preview_converters;

	/* Each LibreOffice holds a few hundred MiB and a core while it
	 * converts; on a small machine a second one would slow the server
	 * more than it speeds previews. */
	if (n == 0)
		n = sysconf(_SC_NPROCESSORS_ONLN) <= 2 ? 1 : 2;
	if (n > cfg->preview_threads) /* more could never be busy at once */
		n = cfg->preview_threads;
	return n > MAX_CONVERTERS ? MAX_CONVERTERS : n;
}

enum err preview_start(const struct config *cfg, struct cas *cas)
{
	enum err rc;

	if (pv.started)
		return ERR_OK;
	pv.data_dir = strdup(cfg->data_dir);
	if (!pv.data_dir)
		return err_set(ERR_NOMEM, "out of memory");
	pv.cas = cas;
	pv.wall_seconds = cfg->preview_seconds;
	pv.memory = cfg->preview_memory;
	pv.lo_count = preview_converters(cfg);
	for (unsigned i = 0; i < pv.lo_count; i++) {
		pv.lo[i].index = i;
		/* the first keeps the directory of the single converter before */
		if (i == 0)
			snprintf(pv.lo[i].profile, sizeof pv.lo[i].profile, "%s/converter",
				 cfg->data_dir);
		else
			snprintf(pv.lo[i].profile, sizeof pv.lo[i].profile, "%s/converter-%u",
				 cfg->data_dir, i + 1);
	}
	rc = previews_open(cfg->data_dir, cfg->preview_cache_size, cas, &pv.cache);
	if (!rc)
		rc = jobs_start(cfg->preview_threads, MAX_QUEUED, &pv.pool);
	if (rc) {
		previews_close(pv.cache);
		pv.cache = NULL;
		free(pv.data_dir);
		pv.data_dir = NULL;
		return rc;
	}
	probe();
	if (!strncmp(pv.isolation, "none", 4))
		log_event(LOG_WARN, "preview",
			  "preview helpers cannot leave the network (%s): documents are still "
			  "converted with links never updated, but nothing stops a converter "
			  "from connecting",
			  pv.isolation);
	else
		log_event(LOG_INFO, "preview", "preview helpers run in a %s", pv.isolation);
	log_event(LOG_INFO, "preview", "%u office converter%s (LibreOffice, started on first need)",
		  pv.lo_count, pv.lo_count == 1 ? "" : "s");
	pv.started = true;
	return ERR_OK;
}

void preview_stop(void)
{
	if (!pv.started)
		return;
	jobs_stop(pv.pool);
	pv.pool = NULL;
	/* the pool has stopped: no converter is taken any more */
	for (unsigned i = 0; i < pv.lo_count; i++)
		lo_kill(&pv.lo[i]);
	previews_close(pv.cache);
	pv.cache = NULL;
	free(pv.data_dir);
	pv.data_dir = NULL;
	pv.started = false;
}
