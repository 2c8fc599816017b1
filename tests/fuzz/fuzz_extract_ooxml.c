/*
 * fuzz_extract_ooxml — libFuzzer driver for the OOXML extractor (DOCX, and by the
 * member names XLSX and PPTX): arbitrary archives and XML members. See
 * fuzz_extract.h.
 */
#include "fuzz_extract.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const docx[] = {"word/document.xml", "docProps/core.xml",
					   "word/header1.xml", "word/footnotes.xml",
					   "docProps/app.xml"};
	static const char *const xlsx[] = {"xl/workbook.xml", "xl/sharedStrings.xml",
					   "xl/worksheets/sheet1.xml", "docProps/core.xml"};
	static const char *const pptx[] = {"ppt/presentation.xml", "ppt/slides/slide1.xml",
					   "ppt/notesSlides/notesSlide1.xml", "docProps/core.xml"};
	unsigned kind = size ? (data[0] >> 1) % 3 : 0;

	if (kind == 1)
		return fuzz_extract(
			data, size,
			"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
			"a.xlsx", xlsx, 4);
	if (kind == 2)
		return fuzz_extract(
			data, size,
			"application/vnd.openxmlformats-officedocument.presentationml.presentation",
			"a.pptx", pptx, 4);
	return fuzz_extract(
		data, size,
		"application/vnd.openxmlformats-officedocument.wordprocessingml.document", "a.docx",
		docx, 5);
}
