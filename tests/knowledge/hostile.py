"""Hostile files, built in memory: small uploads that expand into hours of work."""

from __future__ import annotations

import io
import zipfile

W_NS = b"http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def docx_with_body(body: bytes, doctype: bytes = b"") -> bytes:
    """A real DOCX (python-docx's template) whose document body is `body`, raw XML."""
    import docx

    template = io.BytesIO()
    docx.Document().save(template)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(template.getvalue())) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target,
    ):
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "word/document.xml":
                data = (
                    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                    + doctype
                    + b'<w:document xmlns:w="'
                    + W_NS
                    + b'"><w:body>'
                    + body
                    + b"</w:body></w:document>"
                )
            target.writestr(item, data)
    return out.getvalue()


def text_paragraph(text: str) -> bytes:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>".encode()


def empty_paragraphs_docx(megabytes: float = 1.0) -> bytes:
    """The issue's DOCX: a megabyte of `<w:p/>` (a few KB zipped) and one line of text."""
    count = int(megabytes * 1024 * 1024) // len(b"<w:p/>")
    return docx_with_body(b"<w:p/>" * count + text_paragraph("The end."))


def deep_docx(depth: int = 200_000) -> bytes:
    """XML nested 200,000 levels deep."""
    return docx_with_body(b"<w:p>" + b"<w:r>" * depth + b"</w:r>" * depth + b"</w:p>")


def entity_bomb_docx() -> bytes:
    """ "Billion laughs": ten levels of entities, each ten of the one below."""
    entities = [b'<!ENTITY a0 "' + b"ha" * 50 + b'">']
    for level in range(1, 10):
        entities.append(b'<!ENTITY a%d "%s">' % (level, b"&a%d;" % (level - 1) * 10))
    doctype = b"<!DOCTYPE w:document [" + b"".join(entities) + b"]>"
    return docx_with_body(text_paragraph("&a9;"), doctype)


def entity_bomb_in_a_renamed_part() -> bytes:
    """The entity bomb in `word/main.part`, which the package's relationships name as the
    document; a harmless `word/document.xml` stays beside it."""
    bomb = zipfile.ZipFile(io.BytesIO(entity_bomb_docx()))
    plain = zipfile.ZipFile(io.BytesIO(docx_with_body(text_paragraph("Harmless."))))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in plain.infolist():
            data = plain.read(item.filename)
            if item.filename == "_rels/.rels":
                data = data.replace(b"word/document.xml", b"word/main.part")
            elif item.filename == "[Content_Types].xml":
                data = data.replace(b"/word/document.xml", b"/word/main.part")
            target.writestr(item, data)
        target.writestr("word/main.part", bomb.read("word/document.xml"))
    return out.getvalue()


def shared_stream_pdf(pages: int = 50, chars_per_page: int = 240_000) -> bytes:
    """The issue's PDF: every page draws one compressed content stream of `chars_per_page`
    characters, so a file of a few KB extracts to `pages` times that."""
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, StreamObject

    writer = PdfWriter()
    line = "lorem ipsum " * 400
    shows = " ".join(f"({line}) Tj T*" for _ in range(max(1, chars_per_page // len(line))))
    stream = StreamObject()
    stream.set_data(f"BT /F1 12 Tf 14 TL 72 720 Td {shows} ET".encode("latin-1"))
    contents = writer._add_object(stream.flate_encode())
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    resources = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
    for _ in range(pages):
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = resources
        page[NameObject("/Contents")] = contents
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
