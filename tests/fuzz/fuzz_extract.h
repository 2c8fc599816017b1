/*
 * fuzz_extract — shared body of the extractor drivers (search/extract.c
 * run in-process, as the helper runs it). The input is written to a
 * file and extracted as the given type. For the zip family the first
 * byte chooses: even, the rest is the archive itself (arbitrary zips);
 * odd, the rest is split at "\n@@\n" into XML members stored under the
 * names the extractor reads, so the mutations reach the XML parsers.
 * Invariants: a result always comes back with a known status, and its
 * text is NUL-terminated UTF-8 of text_len bytes within the cap.
 */
#ifndef CONSORT_FUZZ_EXTRACT_H
#define CONSORT_FUZZ_EXTRACT_H

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

#include "extract.h"

static char fuzz_extract_path[64];

static void fuzz_extract_cleanup(void)
{
	if (fuzz_extract_path[0])
		unlink(fuzz_extract_path);
}

static const char *fuzz_extract_file(void)
{
	if (!fuzz_extract_path[0]) {
		int fd;

		snprintf(fuzz_extract_path, sizeof fuzz_extract_path, "/tmp/fuzz_extract_XXXXXX");
		fd = mkstemp(fuzz_extract_path);
		if (fd < 0)
			abort();
		close(fd);
		atexit(fuzz_extract_cleanup);
	}
	return fuzz_extract_path;
}

static bool fuzz_write_raw(const char *path, const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	bool ok = f && fwrite(data, 1, size, f) == size;

	if (f && fclose(f) != 0)
		ok = false;
	return ok;
}

/* Members from `data` separated by "\n@@\n", named members[0..]. */
static bool fuzz_write_zip(const char *path, const uint8_t *data, size_t size,
			   const char *const *members, size_t n)
{
	int zerr;
	zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr);
	size_t pos = 0;

	if (!za)
		return false;
	for (size_t i = 0; i < n && pos <= size; i++) {
		const uint8_t *end = NULL;
		size_t len;
		zip_source_t *src;
		zip_int64_t idx;

		for (size_t j = pos; j + 4 <= size; j++)
			if (!memcmp(data + j, "\n@@\n", 4)) {
				end = data + j;
				break;
			}
		len = end ? (size_t)(end - (data + pos)) : size - pos;
		src = zip_source_buffer(za, data + pos, len, 0);
		if (!src)
			break;
		idx = zip_file_add(za, members[i], src, ZIP_FL_OVERWRITE);
		if (idx < 0) {
			zip_source_free(src);
			break;
		}
		zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
		if (!end)
			break;
		pos += len + 4;
	}
	if (zip_close(za) != 0) {
		zip_discard(za);
		return false;
	}
	return true;
}

static bool fuzz_utf8_ok(const char *s, size_t len)
{
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		size_t n = c < 0x80         ? 1
			   : (c >> 5) == 6  ? 2
			   : (c >> 4) == 14 ? 3
			   : (c >> 3) == 30 ? 4
					    : 0;

		if (!n || i + n > len)
			return false;
		for (size_t k = 1; k < n; k++)
			if (((unsigned char)s[i + k] & 0xc0) != 0x80)
				return false;
		i += n;
	}
	return true;
}

/* Extract `data` as `mime`/`name`; for zip types (members != NULL) the
 * first byte chooses raw archive or XML members. */
static int fuzz_extract(const uint8_t *data, size_t size, const char *mime, const char *name,
			const char *const *members, size_t n)
{
	const char *path = fuzz_extract_file();
	struct extract_limits lim;
	struct extract_result res;
	bool ok;

	extract_limits_default(&lim);
	lim.max_text = 64 * 1024;
	lim.max_expanded = 8 << 20;
	if (members && size > 0)
		ok = data[0] & 1 ? fuzz_write_zip(path, data + 1, size - 1, members, n)
				 : fuzz_write_raw(path, data + 1, size - 1);
	else
		ok = fuzz_write_raw(path, data, size);
	if (!ok)
		return 0;
	if (extract_file(path, name, mime, &lim, &res) == ERR_OK) {
		assert(res.status <= EXTRACT_FAILED);
		assert(res.text && strlen(res.text) == res.text_len);
		assert(res.text_len <= lim.max_text);
		assert(fuzz_utf8_ok(res.text, res.text_len));
		assert(res.title && res.author);
	}
	extract_result_free(&res);
	return 0;
}

#endif
