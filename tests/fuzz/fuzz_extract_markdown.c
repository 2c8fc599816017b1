/*
 * fuzz_extract_markdown — libFuzzer driver for the Markdown (title from the first heading, encoding
 * detection) extractor: the input is the file. See fuzz_extract.h.
 */
#include "fuzz_extract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_extract(data, size, "text/markdown", "a.md", NULL, 0);
}
