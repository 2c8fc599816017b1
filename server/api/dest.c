/* dest — see dest.h. */
#include "api/dest.h"

#include <string.h>
#include <strings.h>

enum err dest_parse(const char *value, const char *host, struct dest_header *out)
{
	const char *p = value, *seg, *slash;

	memset(out, 0, sizeof *out);
	if (!strncasecmp(p, "https://", 8) || !strncasecmp(p, "http://", 7)) {
		const char *auth = strstr(p, "//") + 2;
		size_t alen = strcspn(auth, "/?#");

		if (!host || strlen(host) != alen || strncasecmp(auth, host, alen))
			return err_set(ERR_UNSUPPORTED, "the Destination is on another server");
		p = auth + alen;
	}
	if (strpbrk(p, "?#"))
		return err_set(ERR_INVALID, "the Destination must not have a query or fragment");
	if (strncmp(p, "/dav/", 5))
		return err_set(ERR_UNSUPPORTED,
			       "the Destination is outside this WebDAV share (/dav/)");
	seg = p + 5;
	slash = strchr(seg, '/');
	out->wp = seg;
	out->wp_len = slash ? (size_t)(slash - seg) : strlen(seg);
	out->path = slash ? slash + 1 : "";
	if (out->wp_len == 0) {
		memset(out, 0, sizeof *out);
		return err_set(ERR_FORBIDDEN, "the list of work packages cannot be a Destination");
	}
	return ERR_OK;
}
