/*
 * fuzz_extract_html — libFuzzer driver for the HTML (libxml2's HTML parser, scripts and styles
 * dropped) extractor: the input is the file. See fuzz_extract.h.
 */
#include "fuzz_extract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_extract(data, size, "text/html", "a.html", NULL, 0);
}
