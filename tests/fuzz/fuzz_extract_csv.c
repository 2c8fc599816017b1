/*
 * fuzz_extract_csv — libFuzzer driver for the CSV (encoding detected with ICU and converted to
 * UTF-8) extractor: the input is the file. See fuzz_extract.h.
 */
#include "fuzz_extract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_extract(data, size, "text/csv", "a.csv", NULL, 0);
}
