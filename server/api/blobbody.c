/* blobbody — see blobbody.h. */
#include "api/blobbody.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "cas.h"

static enum err blob_body_fill(struct http_req *req, struct evbuffer *out, size_t max, bool *done,
			       void *arg)
{
	struct blob_body *d = arg;
	struct evbuffer_iovec vec;
	uint64_t left = d->end - d->pos;
	size_t n = left < max ? (size_t)left : max, got = 0;
	enum err rc;

	(void)req;
	if (n > CAS_READ_WINDOW)
		n = CAS_READ_WINDOW;
	if (evbuffer_reserve_space(out, (ev_ssize_t)n, &vec, 1) < 1)
		return err_set(ERR_NOMEM, "out of memory");
	rc = cas_reader_read(d->r, d->pos, vec.iov_base, n, &got);
	if (rc)
		return rc;
	if (got == 0)
		return err_set(ERR_CORRUPT, "blob shorter than its version says");
	vec.iov_len = got;
	evbuffer_commit_space(out, &vec, 1);
	d->pos += got;
	*done = d->pos >= d->end;
	return ERR_OK;
}

static void blob_body_release(void *arg)
{
	struct blob_body *d = arg;

	cas_reader_close(d->r);
	free(d);
}

const struct http_body_source blob_body_ops = {blob_body_fill, blob_body_release};

void blob_body_attachment(struct http_req *req, const char *name)
{
	size_t n = strlen(name);
	char *ascii = http_req_alloc(req, n + 1);
	char *enc = http_req_alloc(req, 3 * n + 1);
	size_t e = 0;

	if (!ascii || !enc) {
		http_resp_header(req, "Content-Disposition", "attachment");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];

		ascii[i] =
			(c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '%') ? '_' : (char)c;
		if (isalnum(c) || strchr("!#$&+-.^_`|~", c))
			enc[e++] = (char)c;
		else
			e += (size_t)snprintf(enc + e, 4, "%%%02X", c);
	}
	ascii[n] = enc[e] = '\0';
	http_resp_headerf(req, "Content-Disposition",
			  "attachment; filename=\"%s\"; filename*=UTF-8''%s", ascii, enc);
}
