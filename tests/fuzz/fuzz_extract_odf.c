/*
 * fuzz_extract_odf — libFuzzer driver for the ODF extractor (ODT, ODS, ODP):
 * arbitrary archives and XML members (content.xml, meta.xml, styles.xml).
 * See fuzz_extract.h.
 */
#include "fuzz_extract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const members[] = {"content.xml", "meta.xml", "styles.xml", "mimetype"};
	static const char *const mimes[] = {"application/vnd.oasis.opendocument.text",
					    "application/vnd.oasis.opendocument.spreadsheet",
					    "application/vnd.oasis.opendocument.presentation"};
	static const char *const names[] = {"a.odt", "a.ods", "a.odp"};
	unsigned kind = size ? (data[0] >> 1) % 3 : 0;

	return fuzz_extract(data, size, mimes[kind], names[kind], members, 4);
}
