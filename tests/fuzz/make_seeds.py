#!/usr/bin/env python3
"""Seed corpora for the fuzz drivers added for issue 13 (tus, query, json,
basic, cookie, exanswer, extract_ooxml, extract_odf, extract_html,
extract_markdown, extract_csv), and names for
the rules issue 13 added to fuzz_name. Run from the
repository root; writes files named after their content's SHA-1 (as
libFuzzer names them) so reruns add nothing twice. The fuzzers grow the
corpora from these and `-merge=1` keeps the ones that add coverage."""
import base64, hashlib, io, os, struct, sys, zipfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(driver, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(ROOT, driver)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def b64(s):
    return base64.b64encode(s.encode()).decode()


# name: the look-alike rules (invisible, bidi, slash-alikes, device names)
for n in ["Rep\u200bort.pdf", "a\u061cb", "nul.txt", "COM\u00b9.log", "\uff52\uff45port.pdf",
          "\uff0e\uff0e", "a\u2044b", "x\ufe0f", "Files\u2168/a%E2%80%8B.txt", "/lead.txt"]:
    put("name", n)

# tus: lines are Upload-Metadata, Upload-Checksum, Upload-Length, Upload-Offset
put("tus", f"wp {b64('WP1')},path {b64('reports/a.pdf')},comment {b64('first')}\n"
    f"sha1 {base64.b64encode(bytes(20)).decode()}\n1024\n0")
put("tus", f"filename {b64('x.txt')},filetype,wp {b64('WP2')}\n"
    f"sha256 {base64.b64encode(bytes(32)).decode()}\n9999999999999999999\n00012")
put("tus", " , wp =,path !!\nmd5 abc\n-1\n1e3")
put("tus", f"path {b64('a' * 300)},,\nSHA1 ====\n\n18446744073709551615")

# query: first line the query string, the rest raw bytes to decode
put("query", "q=hello+world&wp=WP1&limit=20\n%41%42+c%2")
put("query", "path=%2Fa%2Fb%00&q=%e2%82%ac&&=&a=b=c\n%%%zz%0a%ff+")
put("query", "q\nplain")

# json: request bodies
put("json", '{"name":"Marta","note":"line\\nnext","count":3,"flag":true,"role":"writer"}')
put("json", '{"name":"\\u202eevil","count":1.0,"flag":"true"}')
put("json", '{"name":"a","name":"b"}')
put("json", '{"name":"' + "é" * 25 + '","role":"owner","extra":null,"count":-6}')
put("json", '[1,2,{"a":[]}]')

# basic: the part after "Basic "
put("basic", b64("marta@example.org:cst_" + "A" * 43))
put("basic", b64("no-colon"))
put("basic", b64("a\0b:c"))
put("basic", "!!!notbase64")
put("basic", b64("x" * 600 + ":y"))

# cookie: a Cookie header
put("cookie", "__Host-consort=" + "A" * 43)
put("cookie", "a=b; __Host-consort=abc ; c=d")
put("cookie", ";;; __Host-consort=;__Host-consort=x")
put("cookie", "__Host-consortX=1; __host-consort=2")

# exanswer: fields (tag, 4-byte big-endian length, bytes)
def field(tag, data):
    if isinstance(data, str):
        data = data.encode()
    return bytes([tag]) + struct.pack(">I", len(data)) + data

ok = (field(1, "0") + field(2, "") + field(3, "application/pdf") + field(4, "pdf") +
      field(5, "Report") + field(6, "Marta") + field(7, "1700000000") + field(8, "3") +
      field(9, "de") + field(10, "Die Krebsfrüherkennungsuntersuchungen"))
put("exanswer", ok)
put("exanswer", field(1, "-1") + field(10, "x"))
put("exanswer", field(1, "1") + field(10, b"a\0b") + field(5, "") + field(6, ""))
put("exanswer", field(10, b"\xff\xfe") + b"\x0a\x00\x00")
put("exanswer", field(2, "r" * 400) + field(3, "m" * 200) + field(9, "toolong"))

# zip families: first byte even = raw archive, odd = XML members
def zipped(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(name, data)
    return buf.getvalue()

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
docx_doc = (f'<?xml version="1.0"?><w:document {W}><w:body><w:p><w:pPr><w:pStyle w:val="Title"/>'
            '</w:pPr><w:r><w:rPr><w:lang w:val="de-DE"/></w:rPr><w:t>Bericht</w:t></w:r></w:p>'
            '<w:p><w:r><w:t xml:space="preserve">Die Krebsfrüherkennungsuntersuchungen </w:t>'
            '<w:tab/><w:t>wurden durchgeführt.</w:t></w:r></w:p></w:body></w:document>')
core = ('<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/'
        'package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/"><dc:title>T</dc:title><dc:creator>A</dc:creator>'
        '<dc:language>de-DE</dc:language><dcterms:created>2024-01-02T03:04:05Z</dcterms:created>'
        '</cp:coreProperties>')
sst = ('<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>Zelle</t>'
       '</si><si><r><t>rich</t></r></si></sst>')
sheet = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
         '<row><c t="s"><v>0</v></c><c t="inlineStr"><is><t>inline</t></is></c><c><v>3.5</v></c>'
         '</row></sheetData></worksheet>')
slide = ('<p:sld xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" '
         'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><p:cSld><p:spTree><p:sp>'
         '<p:txBody><a:p><a:r><a:rPr lang="fr-FR"/><a:t>Diapo</a:t></a:r></a:p></p:txBody></p:sp>'
         '</p:spTree></p:cSld></p:sld>')
sep = b"\n@@\n"
put("extract_ooxml", b"\x00" + zipped([("word/document.xml", docx_doc), ("docProps/core.xml", core)]))
put("extract_ooxml", b"\x02" + zipped([("xl/workbook.xml", "<workbook/>"), ("xl/sharedStrings.xml", sst),
                               ("xl/worksheets/sheet1.xml", sheet)]))
put("extract_ooxml", b"\x04" + zipped([("ppt/presentation.xml", "<p/>"), ("ppt/slides/slide1.xml", slide)]))
put("extract_ooxml", b"\x01" + sep.join([docx_doc.encode(), core.encode(), b"<w:hdr/>", b"<!DOCTYPE x [<!ENTITY a 'b'>]><x>&a;</x>"]))
put("extract_ooxml", b"\x03" + sep.join([b"<workbook/>", sst.encode(), sheet.encode()]))
put("extract_ooxml", b"\x05" + sep.join([b"<p/>", slide.encode()]))

ODF_NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
          'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
          'xmlns:dc="http://purl.org/dc/elements/1.1/" '
          'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0"')
content = (f'<?xml version="1.0"?><office:document-content {ODF_NS}><office:automatic-styles>'
           '<style:style style:name="P1"><style:text-properties fo:language="de" fo:country="DE"/>'
           '</style:style></office:automatic-styles><office:body><office:text><text:h>Titel</text:h>'
           '<text:p text:style-name="P1">Die Krebsfrüherkennungsuntersuchungen<text:s/>wurden'
           '<text:tab/>durchgeführt.</text:p><table:table><table:table-row><table:table-cell>'
           '<text:p>Zelle</text:p></table:table-cell></table:table-row></table:table>'
           '<draw:page/></office:text></office:body></office:document-content>')
meta = (f'<office:document-meta {ODF_NS}><office:meta><dc:title>Titel</dc:title>'
        '<dc:language>de-DE</dc:language><meta:initial-creator>M</meta:initial-creator>'
        '<meta:creation-date>2024-05-06T07:08:09</meta:creation-date></office:meta>'
        '</office:document-meta>')
styles = (f'<office:document-styles {ODF_NS}><office:styles><style:default-style>'
          '<style:text-properties fo:language="en" fo:country="GB"/></style:default-style>'
          '</office:styles></office:document-styles>')
for k, mt in enumerate(["text", "spreadsheet", "presentation"]):
    put("extract_odf", bytes([2 * k]) + zipped([("mimetype", "application/vnd.oasis.opendocument." + mt),
                                        ("content.xml", content), ("meta.xml", meta),
                                        ("styles.xml", styles)]))
put("extract_odf", b"\x01" + sep.join([content.encode(), meta.encode(), styles.encode(),
                               b"application/vnd.oasis.opendocument.text"]))
put("extract_odf", b"\x05" + sep.join([b"<a><b>&lt;&#x10FFFF;&#0;</b>", b"", b"<x fo:language='zz'/>"]))

put("extract_html", '<!doctype html><html lang="de-AT"><head><title>Titel</title><style>p{}</style>'
    '<script>var a="<p>";</script></head><body><h1>Kopf</h1><p>Die Krebsfrüherkennungs'
    'untersuchungen &amp; mehr&nbsp;<br>Zeile</p></body></html>')
put("extract_html", '<html><body><p>unclosed <b><i>tags</b> &#x1F600; &#99999999; <![CDATA[x]]>')
put("extract_html", b'<meta charset="windows-1252"><p>caf\xe9</p>')

put("extract_markdown", "# Titel\n\nText mit **fett** und `code`.\n\n- Liste\n- [Link](http://x)\n")
put("extract_markdown", "Title\n=====\n\n> quote\n\n```\ncode\n```\n")
put("extract_markdown", b"\xef\xbb\xbf# BOM title\n\xff\xfe broken")

put("extract_csv", "Name;Land;Betrag\nMarta;IT;1,5\n\"Zeile, mit\";\"\"\"\";\n")
put("extract_csv", b"\xff\xfeN\x00a\x00m\x00e\x00,\x00x\x00\n\x00")
put("extract_csv", b"a,b\nc\xe9,d\n")
