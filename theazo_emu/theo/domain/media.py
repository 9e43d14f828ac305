"""What the synchronous media routes make, and how they are booked: images, code, documents.

theo-api.md §1.1-§1.2. Every media request is admitted like a completion (the credits, 402;
the mode's rate cap, 429), then booked in one transaction: a ledger row (so /usage counts
it, by mode and model) and an audit entry (`image.created`, `code.created`,
`document.created`, `tts.created`, `stt.created`, `video.created`, `research.created`).
Outputs are pure functions of the seed and the request: images are placeholder URLs with
the enriched prompt; code is the mock engine's code answer; documents are real files of
their format (a one-page PDF, a CSV, minimal OOXML packages for docx, xlsx and pptx),
stored in theo_documents (which this module owns) and served by a signed URL of the
emulator that expires on the virtual clock. Audio is audio.py.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from typing import TYPE_CHECKING, Any

from theazo_emu.core.mock import count_tokens
from theazo_emu.theo.domain import audit, engines, ledger
from theazo_emu.theo.domain.answers import Ask
from theazo_emu.theo.domain.mock import generated
from theazo_emu.theo.domain.ratelimit import limiter

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant
    from theazo_emu.theo.domain.completion import Caller

DOCUMENTS = "theo_documents"
MEDIA_BASE = "https://cdn.hitheo.invalid/artifacts"
MIME = {"pdf": "application/pdf", "csv": "text/csv",
        "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation"}
FORMATS = tuple(MIME)
_ZIP_TIME = (2026, 3, 28, 0, 0, 0)  # fixed, so the same request gives the same bytes


def admit(t: "Tenant", caller: "Caller", mode: str) -> None:
    """402 without credits, 429 past the mode's cap; nothing is booked yet."""
    ledger.require_credits(t)
    limiter(t).check_mode(caller.key, mode, t.now_ms())


def book(t: "Tenant", caller: "Caller", *, kind: str, mode: str, model: str, entity_id: str, prompt: str,
         tokens_in: int = 0, tokens_out: int = 0, cost_units: int = 0,
         output: dict[str, Any] | None = None) -> int | None:
    """The ledger row and the audit entry of one media request (call inside its transaction)."""
    now = t.now_ms()
    balance = ledger.charge(t, {
        "id": entity_id, "tenant": t.name, "key_id": caller.key_id, "kind": kind,
        "route": caller.request.get("route"), "mode": mode, "resolved_mode": mode, "model": model,
        "prompt_tokens": tokens_in, "completion_tokens": tokens_out, "cost_units": cost_units, "cached": 0,
        "at_ms": now, "created_at": t.now_iso()})
    audit.append(t, action=f"{kind}.created", entity_type=kind, entity_id=entity_id,
                 key_id=caller.key_id, request=caller.request, status=200, mode=mode, model=model,
                 cost_units=cost_units, input_summary={**audit.prompt_summary(prompt), "mode": mode},
                 output_summary={"model": model, "costCents": engines.cents(cost_units), **(output or {})})
    limiter(t).book_tokens(caller.key, tokens_in + tokens_out, now)
    return balance


def enriched(prompt: str, style: str | None, aspect: str | None) -> str:
    parts = [" ".join(prompt.split())]
    if style:
        parts.append(f"in a {style} style")
    parts.append(f"{aspect or '1:1'} aspect ratio, high detail, balanced composition")
    return ", ".join(parts)


def images(ident: str, prompt: str, style: str | None, aspect: str | None, count: int) -> list[dict[str, Any]]:
    text = enriched(prompt, style, aspect)
    return [{"url": f"{MEDIA_BASE}/{ident}-{n}.png", "engine": "theo-vision", "model": "theo-1-create",
             "prompt": text, "aspect_ratio": aspect or "1:1"} for n in range(1, count + 1)]


def code_answer(seed: int, prompt: str, language: str | None, framework: str | None) -> Any:
    """The mock engine's code-mode answer, with the language and framework as hints."""
    hint = " ".join(filter(None, (prompt, f"in {language}" if language else None,
                                  f"with {framework}" if framework else None)))
    return generated(seed, Ask(prompt=hint, mode="code", resolved_mode="code", engine="theo-1-code"))


def document(seed: int, prompt: str, fmt: str) -> tuple[str, str, bytes, int, int]:
    """(title, content, file bytes, prompt tokens, completion tokens) of a document."""
    answer = generated(seed, Ask(prompt=prompt, mode="think", resolved_mode="think", engine="theo-1-reason"))
    title = " ".join(prompt.split())[:80] or "Document"
    content = answer.content
    return title, content, _FILES[fmt](title, content), answer.prompt_tokens, answer.completion_tokens


def document_cost(tokens_in: int, tokens_out: int) -> int:
    return engines.cost_units(engines.BY_ID["theo-1-reason"], tokens_in, tokens_out) + engines.units(1)


def store_document(t: "Tenant", ident: str, fmt: str, title: str, data: bytes) -> None:
    t.store.insert(DOCUMENTS, {"id": ident, "format": fmt, "title": title, "mime_type": MIME[fmt], "content": data,
                               "size": len(data), "created_at": t.now_iso()})


def code_tokens(text: str) -> int:
    return count_tokens(text)


# ---- the files ----

def _lines(text: str) -> list[str]:
    return [line for line in text.replace("\r", "").split("\n") if line.strip()] or [""]


def _pdf(title: str, content: str) -> bytes:
    """A one-page PDF 1.4 with the title and the text (Helvetica, Latin-1)."""
    def esc(line: str) -> str:
        line = line.encode("latin-1", "replace").decode("latin-1")
        return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    words = " ".join(_lines(content)).split()
    rows, row = [], ""
    for word in words:
        if len(row) + len(word) + 1 > 90:
            rows.append(row)
            row = word
        else:
            row = f"{row} {word}".strip()
    rows.append(row)
    text = [f"BT /F1 16 Tf 72 750 Td ({esc(title)}) Tj ET"]
    text += [f"BT /F1 11 Tf 72 {720 - 16 * i} Td ({esc(r)}) Tj ET" for i, r in enumerate(rows[:40])]
    stream = "\n".join(text).encode("latin-1")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _csv(title: str, content: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["line", "text"])
    for number, line in enumerate(_lines(content), 1):
        writer.writerow([number, line])
    return out.getvalue().encode()


def _xml(text: str) -> str:
    text = re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _zip(parts: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, text in parts.items():
            package.writestr(zipfile.ZipInfo(name, _ZIP_TIME), text)
    return out.getvalue()


_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006"


def _types(overrides: dict[str, str]) -> str:
    items = "".join(f'<Override PartName="{name}" ContentType="{kind}"/>' for name, kind in overrides.items())
    return (f'{_XML}<Types xmlns="{_PKG}/content-types"><Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            f'<Default Extension="xml" ContentType="application/xml"/>{items}</Types>')


def _rels(*targets: tuple[str, str]) -> str:
    items = "".join(f'<Relationship Id="rId{i}" Type="{_REL}/{kind}" Target="{target}"/>'
                    for i, (kind, target) in enumerate(targets, 1))
    return f'{_XML}<Relationships xmlns="{_PKG}/relationships">{items}</Relationships>'


def _docx(title: str, content: str) -> bytes:
    ns = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    paragraphs = "".join(f"<w:p><w:r><w:t xml:space=\"preserve\">{_xml(line)}</w:t></w:r></w:p>"
                         for line in [title, *_lines(content)])
    return _zip({
        "[Content_Types].xml": _types({"/word/document.xml": "application/vnd.openxmlformats-officedocument."
                                                             "wordprocessingml.document.main+xml"}),
        "_rels/.rels": _rels(("officeDocument", "word/document.xml")),
        "word/document.xml": f'{_XML}<w:document xmlns:w="{ns}"><w:body>{paragraphs}</w:body></w:document>'})


def _xlsx(title: str, content: str) -> bytes:
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rows = "".join(f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>{_xml(line)}</t></is></c></row>'
                   for i, line in enumerate([title, *_lines(content)], 1))
    return _zip({
        "[Content_Types].xml": _types({
            "/xl/workbook.xml": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
            "/xl/worksheets/sheet1.xml": "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"}),
        "_rels/.rels": _rels(("officeDocument", "xl/workbook.xml")),
        "xl/workbook.xml": f'{_XML}<workbook xmlns="{ns}" xmlns:r="{_REL}"><sheets><sheet name="Sheet1" '
                           'sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": _rels(("worksheet", "worksheets/sheet1.xml")),
        "xl/worksheets/sheet1.xml": f'{_XML}<worksheet xmlns="{ns}"><sheetData>{rows}</sheetData></worksheet>'})


def _pptx(title: str, content: str) -> bytes:
    ns = 'xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" ' \
         'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" ' \
         f'xmlns:r="{_REL}"'
    text = "".join(f"<a:p><a:r><a:t>{_xml(line)}</a:t></a:r></a:p>" for line in [title, *_lines(content)])
    slide = (f'{_XML}<p:sld {ns}><p:cSld><p:spTree><p:nvGrpSpPr><p:cNvPr id="1" name=""/><p:cNvGrpSpPr/>'
             '<p:nvPr/></p:nvGrpSpPr><p:grpSpPr/><p:sp><p:nvSpPr><p:cNvPr id="2" name="Text"/><p:cNvSpPr/>'
             f'<p:nvPr/></p:nvSpPr><p:spPr/><p:txBody><a:bodyPr/>{text}</p:txBody></p:sp></p:spTree></p:cSld>'
             '</p:sld>')
    kind = "application/vnd.openxmlformats-officedocument.presentationml"
    return _zip({
        "[Content_Types].xml": _types({"/ppt/presentation.xml": f"{kind}.presentation.main+xml",
                                       "/ppt/slides/slide1.xml": f"{kind}.slide+xml"}),
        "_rels/.rels": _rels(("officeDocument", "ppt/presentation.xml")),
        "ppt/presentation.xml": f'{_XML}<p:presentation {ns}><p:sldIdLst><p:sldId id="256" r:id="rId1"/>'
                                '</p:sldIdLst><p:sldSz cx="9144000" cy="6858000"/><p:notesSz cx="6858000" '
                                'cy="9144000"/></p:presentation>',
        "ppt/_rels/presentation.xml.rels": _rels(("slide", "slides/slide1.xml")),
        "ppt/slides/slide1.xml": slide})


_FILES = {"pdf": _pdf, "csv": _csv, "docx": _docx, "xlsx": _xlsx, "pptx": _pptx}
