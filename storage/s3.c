/* s3 — see s3.h. */
#include "s3.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TRIES 5
#define BACKOFF_MS 100
#define XML_CAP (4u << 20)

struct s3 {
	char *endpoint;           /* scheme://host[:port], no trailing slash */
	char *scheme_host_bucket; /* the URL prefix of keys */
	char *sigv4;              /* "aws:amz:REGION:s3" */
	char *userpwd;
	char *ca_file;
	char *bucket;
	unsigned parallel_parts;
	CURLSH *share;
	pthread_mutex_t locks[CURL_LOCK_DATA_LAST];
	_Atomic uint64_t requests, errors, retries, bytes_up, bytes_down, micros;
	atomic_bool failing;
};

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access a, void *u)
{
	struct s3 *s = u;

	(void)h;
	(void)a;
	pthread_mutex_lock(&s->locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *u)
{
	struct s3 *s = u;

	(void)h;
	pthread_mutex_unlock(&s->locks[data]);
}

/* What one request sends and gets back. */
struct xfer {
	/* request body: from memory, or (src_fd >= 0 with from_fd) read
	 * from a file at src_off, so a part is never held in memory */
	const unsigned char *body;
	size_t body_len, body_off;
	bool from_fd;
	int src_fd;
	uint64_t src_off;
	const char *copy_source; /* "/bucket/key": a server-side copy */
	/* response body: into a fixed buffer (ranged GET) or a growing one */
	unsigned char *fixed;
	size_t fixed_cap;
	char *grow;
	size_t len, grow_cap;
	bool overflow;
	/* response headers we use */
	char etag[128];
	uint64_t content_length;
	bool have_length;
	int64_t last_modified;
};

/* Copy what fits of src[0..n) into dst (cap > 0), NUL-terminated. */
static void copy_cap(char *dst, size_t cap, const char *src, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = 0;
}

static size_t on_read(char *buf, size_t size, size_t n, void *u)
{
	struct xfer *x = u;
	size_t want = size * n, left = x->body_len - x->body_off;

	if (want > left)
		want = left;
	if (want == 0)
		return 0;
	if (x->from_fd) {
		ssize_t k;

		do
			k = pread(x->src_fd, buf, want, (off_t)(x->src_off + x->body_off));
		while (k < 0 && errno == EINTR);
		/* A short file is an error: the part would not match its MD5. */
		if (k <= 0)
			return CURL_READFUNC_ABORT;
		want = (size_t)k;
	} else {
		memcpy(buf, x->body + x->body_off, want);
	}
	x->body_off += want;
	return want;
}

static size_t on_write(char *data, size_t size, size_t n, void *u)
{
	struct xfer *x = u;
	size_t k = size * n;

	if (x->fixed) {
		if (k > x->fixed_cap - x->len) {
			x->overflow = true;
			return 0;
		}
		memcpy(x->fixed + x->len, data, k);
		x->len += k;
		return k;
	}
	if (x->len + k + 1 > x->grow_cap) {
		size_t cap = x->grow_cap ? x->grow_cap * 2 : 4096;
		char *p;

		while (cap < x->len + k + 1)
			cap *= 2;
		if (cap > XML_CAP) {
			x->overflow = true;
			return 0;
		}
		p = realloc(x->grow, cap);
		if (!p)
			return 0;
		x->grow = p;
		x->grow_cap = cap;
	}
	memcpy(x->grow + x->len, data, k);
	x->len += k;
	x->grow[x->len] = 0;
	return k;
}

static size_t on_header(char *data, size_t size, size_t n, void *u)
{
	struct xfer *x = u;
	size_t k = size * n;
	char line[512];

	if (k >= sizeof line)
		return k;
	memcpy(line, data, k);
	line[k] = 0;
	line[strcspn(line, "\r\n")] = 0;
	if (!strncasecmp(line, "etag:", 5)) {
		const char *v = line + 5;

		while (*v == ' ')
			v++;
		copy_cap(x->etag, sizeof x->etag, v, strlen(v));
	} else if (!strncasecmp(line, "content-length:", 15)) {
		x->content_length = strtoull(line + 15, NULL, 10);
		x->have_length = true;
	} else if (!strncasecmp(line, "last-modified:", 14)) {
		time_t t = curl_getdate(line + 14, NULL);

		if (t > 0)
			x->last_modified = (int64_t)t;
	} else if (!strncasecmp(line, "HTTP/", 5)) {
		/* A new response (after 100 Continue or a retry): start over. */
		x->etag[0] = 0;
		x->have_length = false;
		x->len = 0;
	}
	return k;
}

static void md5_b64(const void *data, size_t len, char out[32])
{
	unsigned char md[16];
	unsigned int mdlen = 0;

	EVP_Digest(data, len, md, &mdlen, EVP_md5(), NULL);
	EVP_EncodeBlock((unsigned char *)out, md, 16);
}

static bool retryable_status(long code, const struct xfer *x)
{
	if (code == 500 || code == 502 || code == 503 || code == 504)
		return true;
	/* Throttling can come as another status with code SlowDown. */
	return x->grow && strstr(x->grow, "<Code>SlowDown</Code>");
}

/* What every request to the store shares: signing, the connection
 * cache, timeouts and TLS verification. */
static void set_request(struct s3 *s, CURL *h, const char *url, struct curl_slist *hdr)
{
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_SHARE, s->share);
	curl_easy_setopt(h, CURLOPT_AWS_SIGV4, s->sigv4);
	curl_easy_setopt(h, CURLOPT_USERPWD, s->userpwd);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	/* A stalled store: fail rather than hold an upload forever. */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 30L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (s->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, s->ca_file);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* One request with retries. `path_query` follows the bucket URL
 * ("/key?x=y" or "?uploads="). *status gets the final HTTP status. */
static enum err request(struct s3 *s, const char *method, const char *path_query, struct xfer *x,
			const char *md5, long *status)
{
	char url[2048], md5h[64];
	enum err rc = ERR_OK;
	long code = 0;

	if ((size_t)snprintf(url, sizeof url, "%s%s", s->scheme_host_bucket, path_query) >=
	    sizeof url)
		return err_set(ERR_INVALID, "object store URL too long");
	for (int attempt = 0; attempt < TRIES; attempt++) {
		struct curl_slist *hdr = NULL;
		struct timespec t0, t1;
		CURL *h = curl_easy_init();
		CURLcode cc;

		if (!h)
			return err_set(ERR_NOMEM, "out of memory");
		if (attempt > 0) {
			atomic_fetch_add(&s->retries, 1);
			sleep_ms(BACKOFF_MS << (attempt - 1));
		}
		x->body_off = 0;
		x->len = 0;
		x->overflow = false;
		x->etag[0] = 0;
		x->have_length = false;
		x->last_modified = 0;
		hdr = curl_slist_append(hdr, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
		if (md5) {
			snprintf(md5h, sizeof md5h, "Content-MD5: %s", md5);
			hdr = curl_slist_append(hdr, md5h);
		}
		if (x->copy_source) {
			char src[512];

			snprintf(src, sizeof src, "x-amz-copy-source: %s", x->copy_source);
			hdr = curl_slist_append(hdr, src);
		}
		set_request(s, h, url, hdr);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
		curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
		if (!strcmp(method, "PUT")) {
			curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
			curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
			curl_easy_setopt(h, CURLOPT_READDATA, x);
			curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->body_len);
		} else if (!strcmp(method, "POST")) {
			curl_easy_setopt(h, CURLOPT_POST, 1L);
			curl_easy_setopt(h, CURLOPT_POSTFIELDS,
					 x->body ? (const char *)x->body : "");
			curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body_len);
		} else if (!strcmp(method, "HEAD")) {
			curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
		} else if (strcmp(method, "GET")) {
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
		}
		clock_gettime(CLOCK_MONOTONIC, &t0);
		cc = curl_easy_perform(h);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		atomic_fetch_add(&s->requests, 1);
		atomic_fetch_add(&s->micros, (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000 +
							(t1.tv_nsec - t0.tv_nsec) / 1000));
		code = 0;
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
		curl_slist_free_all(hdr);
		curl_easy_cleanup(h);
		if (cc == CURLE_OK && !x->overflow && !retryable_status(code, x)) {
			if ((x->body || x->from_fd) && !strcmp(method, "PUT"))
				atomic_fetch_add(&s->bytes_up, x->body_len);
			atomic_fetch_add(&s->bytes_down, x->len);
			atomic_store(&s->failing, false);
			*status = code;
			return ERR_OK;
		}
		atomic_fetch_add(&s->errors, 1);
		if (x->overflow)
			return err_set(ERR_IO, "object store answer too large for %s %s", method,
				       path_query);
		/* Not transient: no retry, and a detail that says what to do. */
		if (cc == CURLE_SSL_CACERT || cc == CURLE_PEER_FAILED_VERIFICATION ||
		    cc == CURLE_SSL_CACERT_BADFILE)
			return err_set(ERR_STORE_UNAVAILABLE,
				       "object store %s: its TLS certificate is not trusted (%s); "
				       "s3-ca-file names the CA that signed it",
				       s->endpoint, curl_easy_strerror(cc));
		if (cc == CURLE_SSL_CERTPROBLEM || cc == CURLE_UNSUPPORTED_PROTOCOL ||
		    cc == CURLE_URL_MALFORMAT)
			return err_set(ERR_STORE_UNAVAILABLE, "object store: %s",
				       curl_easy_strerror(cc));
		rc = cc != CURLE_OK ? err_set(ERR_STORE_UNAVAILABLE, "object store unreachable: %s",
					      curl_easy_strerror(cc))
				    : err_set(ERR_STORE_UNAVAILABLE,
					      "object store answered %ld to %s (after %d tries)",
					      code, method, attempt + 1);
	}
	atomic_store(&s->failing, true);
	return rc;
}

/* The first <tag>value</tag> at or after p: value into out, returns
 * the position after it, or NULL. */
static const char *xml_get(const char *p, const char *tag, char *out, size_t cap)
{
	char open[64], close[64];
	const char *a, *b;

	snprintf(open, sizeof open, "<%s>", tag);
	snprintf(close, sizeof close, "</%s>", tag);
	a = p ? strstr(p, open) : NULL;
	if (!a)
		return NULL;
	a += strlen(open);
	b = strstr(a, close);
	if (!b)
		return NULL;
	copy_cap(out, cap, a, (size_t)(b - a));
	return b + strlen(close);
}

static int64_t iso_time(const char *s)
{
	struct tm tm = {0};

	if (sscanf(s, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
		   &tm.tm_min, &tm.tm_sec) != 6)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm);
}

static enum err status_err(long code, struct xfer *x, const char *what)
{
	char c[64] = "";

	if (x->grow)
		xml_get(x->grow, "Code", c, sizeof c);
	if (code == 404)
		return err_set(ERR_NOTFOUND, "%s: not in the object store", what);
	if (code == 403)
		return err_set(ERR_UNAUTHENTICATED, "%s: the object store refused the keys (%s)",
			       what, c[0] ? c : "403");
	if (code == 400 && !strcmp(c, "BadDigest"))
		return err_set(ERR_CHECKSUM, "%s: the object store received damaged content", what);
	return err_set(ERR_STORE_UNAVAILABLE, "%s: object store answered %ld %s", what, code, c);
}

static char *key_path(CURL *esc, const char *key)
{
	/* Keys are ours: hex, '/' and '-'; nothing needs escaping, but
	 * refuse anything else rather than sign a surprise. */
	(void)esc;
	for (const char *p = key; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || *p == '/' ||
		      *p == '-' || *p == '.' || *p == '_'))
			return NULL;
	char *out;

	if (asprintf(&out, "/%s", key) < 0)
		return NULL;
	return out;
}

enum err s3_head(struct s3 *s, const char *key, uint64_t *size, int64_t *mtime)
{
	struct xfer x = {0};
	char *path = key_path(NULL, key);
	long code;
	enum err rc;

	if (!path)
		return err_set(ERR_INVALID, "bad object key");
	rc = request(s, "HEAD", path, &x, NULL, &code);
	if (!rc && code != 200)
		rc = status_err(code, &x, key);
	if (!rc) {
		if (size)
			*size = x.content_length;
		if (mtime)
			*mtime = x.last_modified;
	}
	free(x.grow);
	free(path);
	return rc;
}

enum err s3_put_mem(struct s3 *s, const char *key, const void *data, size_t len)
{
	struct xfer x = {.body = data, .body_len = len};
	char *path = key_path(NULL, key), md5[32];
	long code;
	enum err rc;

	if (!path)
		return err_set(ERR_INVALID, "bad object key");
	md5_b64(data, len, md5);
	rc = request(s, "PUT", path, &x, md5, &code);
	if (!rc && code != 200)
		rc = status_err(code, &x, key);
	free(x.grow);
	free(path);
	return rc;
}

static enum err read_full(int fd, unsigned char *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t k = pread(fd, buf + done, len - done, (off_t)(off + done));

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return err_from_errno(errno, "read content for the object store");
		if (k == 0)
			return err_set(ERR_IO, "content shrank while being stored");
		done += (size_t)k;
	}
	return ERR_OK;
}

static enum err multipart_abort(struct s3 *s, const char *path, const char *upload_id)
{
	struct xfer x = {0};
	char pq[1024];
	long code;
	enum err rc;

	snprintf(pq, sizeof pq, "%s?uploadId=%s", path, upload_id);
	rc = request(s, "DELETE", pq, &x, NULL, &code);
	free(x.grow);
	return rc;
}

/* The parts of one multipart upload, shared by its workers: each takes
 * the next part number, reads that part from the spool file by offset
 * (MD5 first, then the body streamed by the read callback: one part is
 * never in memory) and stores its ETag. The first failure stops the
 * others from starting more parts; the caller aborts the upload. */
struct parts {
	struct s3 *s;
	const char *key, *path, *upload_id;
	int fd;
	uint64_t size;
	size_t nparts;
	char (*etags)[128];
	pthread_mutex_t mu;
	size_t next;
	enum err rc;
	char detail[512];
};

static enum err part_md5(int fd, uint64_t off, size_t n, char out[32])
{
	enum { CHUNK = 256 * 1024 };
	unsigned char *buf = malloc(CHUNK), md[16];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	enum err rc = ERR_OK;

	if (!buf || !ctx || !EVP_DigestInit_ex(ctx, EVP_md5(), NULL))
		rc = err_set(ERR_NOMEM, "out of memory");
	for (size_t done = 0; !rc && done < n;) {
		size_t k = n - done < CHUNK ? n - done : CHUNK;

		rc = read_full(fd, buf, k, off + done);
		if (!rc)
			EVP_DigestUpdate(ctx, buf, k);
		done += k;
	}
	if (!rc) {
		EVP_DigestFinal_ex(ctx, md, &mdlen);
		EVP_EncodeBlock((unsigned char *)out, md, 16);
	}
	EVP_MD_CTX_free(ctx);
	free(buf);
	return rc;
}

static void *part_worker(void *arg)
{
	struct parts *pp = arg;

	for (;;) {
		struct xfer x = {.from_fd = true, .src_fd = pp->fd};
		char pq[1024], md5[32];
		uint64_t off;
		size_t i, n;
		long code;
		enum err rc;

		pthread_mutex_lock(&pp->mu);
		i = pp->next++;
		if (pp->rc || i >= pp->nparts) {
			pthread_mutex_unlock(&pp->mu);
			return NULL;
		}
		pthread_mutex_unlock(&pp->mu);
		off = (uint64_t)i * S3_PART_SIZE;
		n = pp->size - off < S3_PART_SIZE ? (size_t)(pp->size - off) : S3_PART_SIZE;
		rc = part_md5(pp->fd, off, n, md5);
		if (!rc) {
			x.src_off = off;
			x.body_len = n;
			snprintf(pq, sizeof pq, "%s?partNumber=%zu&uploadId=%s", pp->path, i + 1,
				 pp->upload_id);
			rc = request(pp->s, "PUT", pq, &x, md5, &code);
			if (!rc && code != 200)
				rc = status_err(code, &x, pp->key);
		}
		if (!rc)
			copy_cap(pp->etags[i], sizeof pp->etags[i], x.etag, strlen(x.etag));
		posix_fadvise(pp->fd, (off_t)off, (off_t)n, POSIX_FADV_DONTNEED);
		free(x.grow);
		if (rc) {
			pthread_mutex_lock(&pp->mu);
			if (!pp->rc) {
				pp->rc = rc;
				snprintf(pp->detail, sizeof pp->detail, "%s", err_detail());
			}
			pthread_mutex_unlock(&pp->mu);
			return NULL;
		}
	}
}

enum err s3_put_fd(struct s3 *s, const char *key, int fd, uint64_t size)
{
	char *path = key_path(NULL, key), upload_id[512] = "", pq[1024];
	unsigned char *part = NULL;
	char(*etags)[128] = NULL;
	char *done_xml = NULL;
	size_t nparts, xml_len = 0, xml_cap;
	struct xfer x = {0};
	long code;
	enum err rc;

	if (!path)
		return err_set(ERR_INVALID, "bad object key");
	if (size <= S3_PART_SIZE) {
		part = malloc(size ? size : 1);
		rc = part ? read_full(fd, part, (size_t)size, 0)
			  : err_set(ERR_NOMEM, "out of memory");
		if (!rc)
			rc = s3_put_mem(s, key, part, (size_t)size);
		goto out;
	}
	nparts = (size_t)((size + S3_PART_SIZE - 1) / S3_PART_SIZE);
	etags = calloc(nparts, sizeof *etags);
	xml_cap = 128 + nparts * 200;
	done_xml = malloc(xml_cap);
	if (!etags || !done_xml) {
		rc = err_set(ERR_NOMEM, "out of memory");
		goto out;
	}
	snprintf(pq, sizeof pq, "%s?uploads=", path);
	rc = request(s, "POST", pq, &x, NULL, &code);
	if (!rc && code != 200)
		rc = status_err(code, &x, key);
	if (!rc && !xml_get(x.grow, "UploadId", upload_id, sizeof upload_id))
		rc = err_set(ERR_STORE_UNAVAILABLE, "object store gave no upload id");
	free(x.grow);
	x.grow = NULL;
	x.grow_cap = 0;
	if (rc)
		goto out;
	{
		struct parts pp = {.s = s,
				   .key = key,
				   .path = path,
				   .upload_id = upload_id,
				   .fd = fd,
				   .size = size,
				   .nparts = nparts,
				   .etags = etags};
		pthread_t tid[S3_MAX_PARALLEL_PARTS];
		size_t nthreads = 0, want = s->parallel_parts;

		if (want > nparts)
			want = nparts;
		pthread_mutex_init(&pp.mu, NULL);
		/* The caller is one of the workers; a thread that cannot be
		 * started only makes the upload less parallel. */
		while (nthreads + 1 < want &&
		       pthread_create(&tid[nthreads], NULL, part_worker, &pp) == 0)
			nthreads++;
		part_worker(&pp);
		for (size_t i = 0; i < nthreads; i++)
			pthread_join(tid[i], NULL);
		pthread_mutex_destroy(&pp.mu);
		rc = pp.rc;
		if (rc)
			err_set(rc, "%s", pp.detail);
	}
	if (!rc) {
		xml_len = (size_t)snprintf(done_xml, xml_cap, "<CompleteMultipartUpload>");
		for (size_t i = 0; i < nparts; i++)
			xml_len +=
				(size_t)snprintf(done_xml + xml_len, xml_cap - xml_len,
						 "<Part><PartNumber>%zu</PartNumber><ETag>%s</ETag>"
						 "</Part>",
						 i + 1, etags[i]);
		xml_len += (size_t)snprintf(done_xml + xml_len, xml_cap - xml_len,
					    "</CompleteMultipartUpload>");
		x.body = (unsigned char *)done_xml;
		x.body_len = xml_len;
		snprintf(pq, sizeof pq, "%s?uploadId=%s", path, upload_id);
		rc = request(s, "POST", pq, &x, NULL, &code);
		/* A retried complete whose first try succeeded finds the
		 * upload gone: the object being there with our size settles it. */
		if (!rc && code == 404) {
			uint64_t have = 0;

			if (s3_head(s, key, &have, NULL) == ERR_OK && have == size)
				code = 200;
		}
		if (!rc && (code != 200 || (x.grow && strstr(x.grow, "<Error>"))))
			rc = status_err(code == 200 ? 500 : code, &x, key);
		free(x.grow);
		x.grow = NULL;
	}
	if (rc) {
		enum err keep = rc;
		char detail[512];

		snprintf(detail, sizeof detail, "%s", err_detail());
		/* Nothing half-stored stays; what this cannot abort (store
		 * down) s3_abort_stale removes later. */
		multipart_abort(s, path, upload_id);
		rc = err_set(keep, "%s", detail);
	}
out:
	free(done_xml);
	free(etags);
	free(part);
	free(path);
	return rc;
}

enum err s3_get_range(struct s3 *s, const char *key, uint64_t off, void *buf, size_t len,
		      size_t *got)
{
	struct xfer x = {.fixed = buf, .fixed_cap = len};
	char *path = key_path(NULL, key);
	long code;
	enum err rc;

	*got = 0;
	if (!path)
		return err_set(ERR_INVALID, "bad object key");
	if (len == 0) {
		free(path);
		return ERR_OK;
	}
	/* The range goes in as a header through a per-request option. */
	{
		char url[2048], range[96];
		struct curl_slist *hdr = NULL;
		CURL *h;
		CURLcode cc = CURLE_OK;
		struct timespec t0, t1;

		snprintf(url, sizeof url, "%s%s", s->scheme_host_bucket, path);
		snprintf(range, sizeof range, "Range: bytes=%llu-%llu", (unsigned long long)off,
			 (unsigned long long)(off + len - 1));
		rc = ERR_OK;
		for (int attempt = 0; attempt < TRIES; attempt++) {
			h = curl_easy_init();
			if (!h) {
				rc = err_set(ERR_NOMEM, "out of memory");
				break;
			}
			if (attempt > 0) {
				atomic_fetch_add(&s->retries, 1);
				sleep_ms(BACKOFF_MS << (attempt - 1));
			}
			x.len = 0;
			x.overflow = false;
			hdr = curl_slist_append(NULL, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
			hdr = curl_slist_append(hdr, range);
			set_request(s, h, url, hdr);
			curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
			curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
			clock_gettime(CLOCK_MONOTONIC, &t0);
			cc = curl_easy_perform(h);
			clock_gettime(CLOCK_MONOTONIC, &t1);
			atomic_fetch_add(&s->requests, 1);
			atomic_fetch_add(&s->micros, (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000 +
								(t1.tv_nsec - t0.tv_nsec) / 1000));
			code = 0;
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
			curl_slist_free_all(hdr);
			curl_easy_cleanup(h);
			if (cc == CURLE_OK && code != 500 && code != 502 && code != 503 &&
			    code != 504)
				break;
			atomic_fetch_add(&s->errors, 1);
			rc = err_set(ERR_STORE_UNAVAILABLE, "object store: %s",
				     cc ? curl_easy_strerror(cc) : "server error");
		}
		if (cc == CURLE_OK && (code == 206 || code == 200)) {
			rc = ERR_OK;
			atomic_fetch_add(&s->bytes_down, x.len);
			*got = x.len;
		} else if (cc == CURLE_OK && code == 416) {
			rc = ERR_OK;
		} else if (cc == CURLE_OK && code == 404) {
			rc = err_set(ERR_NOTFOUND, "blob %s is missing from the object store", key);
		} else if (cc == CURLE_OK && !rc) {
			rc = err_set(ERR_STORE_UNAVAILABLE, "object store answered %ld", code);
		} else if (!rc) {
			rc = err_set(ERR_STORE_UNAVAILABLE, "object store: %s",
				     curl_easy_strerror(cc));
		}
	}
	free(path);
	return rc;
}

enum err s3_copy_object(struct s3 *s, const char *src_bucket, const char *key)
{
	struct xfer x = {0};
	char *path = key_path(NULL, key), src[512];
	long code;
	enum err rc;

	if (!path)
		return err_set(ERR_INVALID, "bad object key");
	if ((size_t)snprintf(src, sizeof src, "/%s%s", src_bucket, path) >= sizeof src) {
		free(path);
		return err_set(ERR_INVALID, "object key too long");
	}
	x.copy_source = src;
	rc = request(s, "PUT", path, &x, NULL, &code);
	/* A copy that fails after it started is a 200 with an <Error> body. */
	if (!rc && (code != 200 || !x.grow || !strstr(x.grow, "CopyObjectResult")))
		rc = status_err(code == 200 ? 500 : code, &x, key);
	free(x.grow);
	free(path);
	return rc;
}

enum err s3_delete(struct s3 *s, const char *key)
{
	struct xfer x = {0};
	char *path = key_path(NULL, key);
	long code;
	enum err rc;

	if (!path)
		return err_set(ERR_INVALID, "bad object key");
	rc = request(s, "DELETE", path, &x, NULL, &code);
	if (!rc && code != 204 && code != 200 && code != 404)
		rc = status_err(code, &x, key);
	free(x.grow);
	free(path);
	return rc;
}

enum err s3_list(struct s3 *s, const char *prefix, s3_list_fn fn, void *ctx)
{
	char token[1024] = "", pq[2048];
	enum err rc = ERR_OK;
	CURL *esc = curl_easy_init();
	char *pfx;

	if (!esc)
		return err_set(ERR_NOMEM, "out of memory");
	/* Query values percent-encoded, as SigV4's canonical form has them. */
	pfx = curl_easy_escape(esc, prefix, 0);
	if (!pfx) {
		curl_easy_cleanup(esc);
		return err_set(ERR_NOMEM, "out of memory");
	}
	for (;;) {
		struct xfer x = {0};
		char trunc[16] = "", key[1100], size[32], lm[64];
		const char *p;
		long code;

		if (token[0]) {
			char *t = curl_easy_escape(esc, token, 0);

			snprintf(pq, sizeof pq, "?continuation-token=%s&list-type=2&prefix=%s",
				 t ? t : "", pfx);
			curl_free(t);
		} else {
			snprintf(pq, sizeof pq, "?list-type=2&prefix=%s", pfx);
		}
		rc = request(s, "GET", pq, &x, NULL, &code);
		if (!rc && code != 200)
			rc = status_err(code, &x, "list");
		for (p = x.grow; !rc && p && (p = strstr(p, "<Contents>"));) {
			const char *end = strstr(p, "</Contents>");

			if (!end)
				break;
			key[0] = size[0] = lm[0] = 0;
			xml_get(p, "Key", key, sizeof key);
			xml_get(p, "Size", size, sizeof size);
			xml_get(p, "LastModified", lm, sizeof lm);
			rc = fn(ctx, key, strtoull(size, NULL, 10), iso_time(lm));
			p = end;
		}
		token[0] = 0;
		if (!rc && x.grow) {
			xml_get(x.grow, "IsTruncated", trunc, sizeof trunc);
			xml_get(x.grow, "NextContinuationToken", token, sizeof token);
		}
		free(x.grow);
		if (rc || strcmp(trunc, "true") || !token[0])
			break;
	}
	curl_free(pfx);
	curl_easy_cleanup(esc);
	return rc;
}

enum err s3_abort_stale(struct s3 *s, const char *prefix, int64_t min_age, uint64_t *aborted)
{
	struct xfer x = {0};
	char pq[1024], key[1100], id[512], init[64];
	const char *p;
	long code;
	enum err rc;
	int64_t now = (int64_t)time(NULL);

	{
		CURL *esc = curl_easy_init();
		char *pfx = esc ? curl_easy_escape(esc, prefix, 0) : NULL;

		snprintf(pq, sizeof pq, "?prefix=%s&uploads=", pfx ? pfx : "");
		curl_free(pfx);
		if (esc)
			curl_easy_cleanup(esc);
	}
	rc = request(s, "GET", pq, &x, NULL, &code);
	if (!rc && code != 200)
		rc = status_err(code, &x, "list multipart uploads");
	for (p = x.grow; !rc && p && (p = strstr(p, "<Upload>"));) {
		const char *end = strstr(p, "</Upload>");
		char *path;

		if (!end)
			break;
		key[0] = id[0] = init[0] = 0;
		xml_get(p, "Key", key, sizeof key);
		xml_get(p, "UploadId", id, sizeof id);
		xml_get(p, "Initiated", init, sizeof init);
		p = end;
		if (!key[0] || !id[0] || iso_time(init) > now - min_age)
			continue;
		path = key_path(NULL, key);
		if (!path)
			continue;
		if (multipart_abort(s, path, id) == ERR_OK && aborted)
			(*aborted)++;
		free(path);
	}
	free(x.grow);
	return rc;
}

void s3_get_stats(const struct s3 *s, struct s3_stats *out)
{
	struct s3 *m = (struct s3 *)s;

	out->requests = atomic_load(&m->requests);
	out->errors = atomic_load(&m->errors);
	out->retries = atomic_load(&m->retries);
	out->bytes_up = atomic_load(&m->bytes_up);
	out->bytes_down = atomic_load(&m->bytes_down);
	out->seconds = (double)atomic_load(&m->micros) / 1e6;
	out->failing = atomic_load(&m->failing);
}

static bool is_loopback_http(const char *ep)
{
	return !strncmp(ep, "http://127.", 11) || !strncmp(ep, "http://localhost", 16) ||
	       !strncmp(ep, "http://[::1]", 12);
}

enum err s3_open(const struct s3_config *cfg, struct s3 **out)
{
	struct s3 *s;
	struct xfer x = {0};
	const char *host;
	size_t eplen;
	long code;
	enum err rc = ERR_OK;

	*out = NULL;
	if (!cfg->endpoint || !cfg->endpoint[0])
		return err_set(ERR_INVALID, "s3-endpoint is not set");
	if (strncmp(cfg->endpoint, "https://", 8) && !is_loopback_http(cfg->endpoint))
		return err_set(ERR_INVALID,
			       "s3-endpoint must be https:// (plain http only on loopback)");
	if (!cfg->bucket || !cfg->bucket[0] ||
	    strspn(cfg->bucket, "abcdefghijklmnopqrstuvwxyz"
				"0123456789-.") != strlen(cfg->bucket))
		return err_set(ERR_INVALID, "s3-bucket must be a lower-case bucket name");
	if (!cfg->access_key || !cfg->access_key[0] || !cfg->secret_key || !cfg->secret_key[0])
		return err_set(ERR_INVALID, "no S3 credentials (s3-credentials-file or "
					    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)");
	s = calloc(1, sizeof *s);
	if (!s)
		return err_set(ERR_NOMEM, "out of memory");
	eplen = strlen(cfg->endpoint);
	while (eplen && cfg->endpoint[eplen - 1] == '/')
		eplen--;
	s->endpoint = strndup(cfg->endpoint, eplen);
	s->bucket = strdup(cfg->bucket);
	host = strstr(s->endpoint, "://") + 3;
	if (cfg->virtual_host)
		rc = asprintf(&s->scheme_host_bucket, "%.*s%s.%s", (int)(host - s->endpoint),
			      s->endpoint, cfg->bucket, host) < 0
			     ? ERR_NOMEM
			     : ERR_OK;
	else
		rc = asprintf(&s->scheme_host_bucket, "%s/%s", s->endpoint, cfg->bucket) < 0
			     ? ERR_NOMEM
			     : ERR_OK;
	if (rc ||
	    asprintf(&s->sigv4, "aws:amz:%s:s3",
		     cfg->region && cfg->region[0] ? cfg->region : "us-east-1") < 0 ||
	    asprintf(&s->userpwd, "%s:%s", cfg->access_key, cfg->secret_key) < 0) {
		s3_close(s);
		return err_set(ERR_NOMEM, "out of memory");
	}
	s->ca_file = cfg->ca_file && cfg->ca_file[0] ? strdup(cfg->ca_file) : NULL;
	s->parallel_parts = S3_PARALLEL_PARTS;
	for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
		pthread_mutex_init(&s->locks[i], NULL);
	s->share = curl_share_init();
	curl_share_setopt(s->share, CURLSHOPT_LOCKFUNC, share_lock);
	curl_share_setopt(s->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
	curl_share_setopt(s->share, CURLSHOPT_USERDATA, s);
	curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);

	/* The bucket: HEAD it, create it when missing. */
	rc = request(s, "HEAD", "", &x, NULL, &code);
	if (!rc && code == 404) {
		free(x.grow);
		memset(&x, 0, sizeof x);
		rc = request(s, "PUT", "", &x, NULL, &code);
		if (!rc && code != 200)
			rc = status_err(code, &x, "create bucket");
	} else if (!rc && code != 200) {
		rc = status_err(code, &x, "bucket");
	}
	free(x.grow);
	if (rc) {
		s3_close(s);
		return rc;
	}
	*out = s;
	return ERR_OK;
}

void s3_set_parallel_parts(struct s3 *s, unsigned n)
{
	s->parallel_parts = n < 1 ? 1 : n > S3_MAX_PARALLEL_PARTS ? S3_MAX_PARALLEL_PARTS : n;
}

void s3_close(struct s3 *s)
{
	if (!s)
		return;
	if (s->share) {
		curl_share_cleanup(s->share);
		for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
			pthread_mutex_destroy(&s->locks[i]);
	}
	free(s->endpoint);
	free(s->scheme_host_bucket);
	free(s->sigv4);
	free(s->userpwd);
	free(s->ca_file);
	free(s->bucket);
	free(s);
}
