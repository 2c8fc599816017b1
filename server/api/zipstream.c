/* zipstream — see zipstream.h. Layout: PKWARE APPNOTE 6.3. */
#include "api/zipstream.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#define U32_MAX_FIELD 0xffffffffu
#define FLAGS 0x0808u /* data descriptor, UTF-8 names */

struct zip_entry {
	char *name;
	uint64_t size, offset;
	uint32_t crc;
	uint16_t time, date;
};

struct zipstream {
	struct zip_entry *e;
	size_t n, cap;
	uint64_t offset; /* bytes written so far */
	uint64_t got;    /* data bytes of the open entry */
	uLong crc;
};

struct zipstream *zip_new(void) { return calloc(1, sizeof(struct zipstream)); }

void zip_free(struct zipstream *z)
{
	if (!z)
		return;
	for (size_t i = 0; i < z->n; i++)
		free(z->e[i].name);
	free(z->e);
	free(z);
}

static unsigned char *put16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	return p + 2;
}

static unsigned char *put32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
	return p + 4;
}

static unsigned char *put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
	return p + 8;
}

static bool big(uint64_t v) { return v >= U32_MAX_FIELD; }

/* MS-DOS time and date, in UTC (zip has no zone; 1980 at the earliest). */
static void dos_time(int64_t t, uint16_t *time_out, uint16_t *date_out)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	if (tm.tm_year < 80) {
		*time_out = 0;
		*date_out = (1 << 5) | 1;
		return;
	}
	*time_out = (uint16_t)((tm.tm_hour << 11) | (tm.tm_min << 5) | (tm.tm_sec / 2));
	*date_out = (uint16_t)(((tm.tm_year - 80) << 9) | ((tm.tm_mon + 1) << 5) | tm.tm_mday);
}

enum err zip_entry_begin(struct zipstream *z, const char *name, uint64_t size, int64_t mtime,
			 unsigned char *out, size_t *len)
{
	size_t nlen = strlen(name);
	struct zip_entry *e;
	unsigned char *p = out;
	bool z64;

	if (nlen > 0xffff)
		return err_set(ERR_INVALID, "a name in the archive is too long");
	if (z->n == z->cap) {
		size_t cap = z->cap ? 2 * z->cap : 64;
		struct zip_entry *ne = realloc(z->e, cap * sizeof *ne);

		if (!ne)
			return err_set(ERR_NOMEM, "out of memory");
		z->e = ne;
		z->cap = cap;
	}
	e = &z->e[z->n];
	memset(e, 0, sizeof *e);
	e->name = strdup(name);
	if (!e->name)
		return err_set(ERR_NOMEM, "out of memory");
	z->n++;
	e->size = size;
	e->offset = z->offset;
	dos_time(mtime, &e->time, &e->date);
	z64 = big(size);
	p = put32(p, 0x04034b50);
	p = put16(p, z64 ? 45 : 20);
	p = put16(p, FLAGS);
	p = put16(p, 0); /* stored */
	p = put16(p, e->time);
	p = put16(p, e->date);
	p = put32(p, 0); /* CRC, sizes: in the descriptor */
	p = put32(p, z64 ? U32_MAX_FIELD : 0);
	p = put32(p, z64 ? U32_MAX_FIELD : 0);
	p = put16(p, (uint16_t)nlen);
	p = put16(p, z64 ? 20 : 0);
	memcpy(p, name, nlen);
	p += nlen;
	if (z64) {
		p = put16(p, 0x0001);
		p = put16(p, 16);
		p = put64(p, 0);
		p = put64(p, 0);
	}
	*len = (size_t)(p - out);
	z->offset += *len;
	z->got = 0;
	z->crc = crc32(0L, Z_NULL, 0);
	return ERR_OK;
}

void zip_entry_data(struct zipstream *z, const void *data, size_t len)
{
	const unsigned char *d = data;

	z->got += len;
	z->offset += len;
	/* zlib's crc32 takes a uInt length. */
	while (len) {
		uInt n = len > 0x40000000u ? 0x40000000u : (uInt)len;

		z->crc = crc32(z->crc, d, n);
		d += n;
		len -= n;
	}
}

enum err zip_entry_end(struct zipstream *z, unsigned char *out, size_t *len)
{
	struct zip_entry *e = &z->e[z->n - 1];
	unsigned char *p = out;

	if (z->got != e->size)
		return err_set(ERR_INTERNAL, "'%s' changed size while it was archived", e->name);
	e->crc = (uint32_t)z->crc;
	p = put32(p, 0x08074b50);
	p = put32(p, e->crc);
	if (big(e->size)) {
		p = put64(p, e->size);
		p = put64(p, e->size);
	} else {
		p = put32(p, (uint32_t)e->size);
		p = put32(p, (uint32_t)e->size);
	}
	*len = (size_t)(p - out);
	z->offset += *len;
	return ERR_OK;
}

enum err zip_finish(struct zipstream *z, unsigned char **out, size_t *len)
{
	size_t cap = 22 + 56 + 20;
	uint64_t cd_start = z->offset, cd_size;
	unsigned char *buf, *p;
	bool z64_end;

	for (size_t i = 0; i < z->n; i++)
		cap += 46 + strlen(z->e[i].name) + 28;
	buf = malloc(cap);
	if (!buf)
		return err_set(ERR_NOMEM, "out of memory");
	p = buf;
	for (size_t i = 0; i < z->n; i++) {
		const struct zip_entry *e = &z->e[i];
		size_t nlen = strlen(e->name);
		bool bs = big(e->size), bo = big(e->offset);
		uint16_t extra = (uint16_t)((bs ? 16 : 0) + (bo ? 8 : 0));

		p = put32(p, 0x02014b50);
		p = put16(p, (3 << 8) | 45); /* made by: Unix, 4.5 */
		p = put16(p, bs || bo ? 45 : 20);
		p = put16(p, FLAGS);
		p = put16(p, 0);
		p = put16(p, e->time);
		p = put16(p, e->date);
		p = put32(p, e->crc);
		p = put32(p, bs ? U32_MAX_FIELD : (uint32_t)e->size);
		p = put32(p, bs ? U32_MAX_FIELD : (uint32_t)e->size);
		p = put16(p, (uint16_t)nlen);
		p = put16(p, extra ? (uint16_t)(extra + 4) : 0);
		p = put16(p, 0); /* comment */
		p = put16(p, 0); /* disk */
		p = put16(p, 0); /* internal attributes */
		p = put32(p, 0100644u << 16);
		p = put32(p, bo ? U32_MAX_FIELD : (uint32_t)e->offset);
		memcpy(p, e->name, nlen);
		p += nlen;
		if (extra) {
			p = put16(p, 0x0001);
			p = put16(p, extra);
			if (bs) {
				p = put64(p, e->size);
				p = put64(p, e->size);
			}
			if (bo)
				p = put64(p, e->offset);
		}
	}
	cd_size = (uint64_t)(p - buf);
	z64_end = z->n >= 0xffff || big(cd_start) || big(cd_size);
	if (z64_end) {
		uint64_t rec = cd_start + cd_size;

		p = put32(p, 0x06064b50);
		p = put64(p, 44);
		p = put16(p, (3 << 8) | 45);
		p = put16(p, 45);
		p = put32(p, 0);
		p = put32(p, 0);
		p = put64(p, z->n);
		p = put64(p, z->n);
		p = put64(p, cd_size);
		p = put64(p, cd_start);
		p = put32(p, 0x07064b50);
		p = put32(p, 0);
		p = put64(p, rec);
		p = put32(p, 1);
	}
	p = put32(p, 0x06054b50);
	p = put16(p, 0);
	p = put16(p, 0);
	p = put16(p, z->n >= 0xffff ? 0xffff : (uint16_t)z->n);
	p = put16(p, z->n >= 0xffff ? 0xffff : (uint16_t)z->n);
	p = put32(p, big(cd_size) ? U32_MAX_FIELD : (uint32_t)cd_size);
	p = put32(p, big(cd_start) ? U32_MAX_FIELD : (uint32_t)cd_start);
	p = put16(p, 0);
	*out = buf;
	*len = (size_t)(p - buf);
	z->offset += *len;
	return ERR_OK;
}
