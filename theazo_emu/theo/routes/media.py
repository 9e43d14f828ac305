"""Synchronous media: POST /api/v1/images, /code and /documents, and the documents' downloads.

theo-api.md §1.1-§1.2; what is made and how it is booked is theo/domain/media.py. /images
answers `images[]` ({url, engine, model, prompt (enriched)}, `count` 1-4) and
`usage.cost_cents`; /code the mock engine's code answer with its artifacts; /documents a
real file of the asked format (pdf by default; docx, pptx, xlsx, csv) with its
`download_url`: a URL of this emulator, signed, valid for an hour of virtual time (403
`url_expired` after, 403 `invalid_signature` when altered), which anyone holding it may
fetch (GET /api/v1/documents/:id/download, no key).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from theazo_emu.core import signing
from theazo_emu.core.clock import iso
from theazo_emu.core.http import Ctx, api_route, public_row
from theazo_emu.theo.bodies.media import CreateCode, CreateDocument, CreateImages
from theazo_emu.theo.domain import engines, media
from theazo_emu.theo.domain.completion import Caller
from theazo_emu.theo.domain.errors import TheoError
from theazo_emu.theo.surface import key_facts, request_facts

DOWNLOAD_TTL_MS = 3_600_000


def caller(ctx: Ctx) -> Caller:
    return Caller(ctx.key, key_facts(ctx)[1], request_facts(ctx))


async def create_images(ctx: Ctx) -> dict:
    """Generate 1-4 images from a prompt (placeholder URLs, the enriched prompt)."""
    body: CreateImages = ctx.body
    who = caller(ctx)
    media.admit(ctx.t, who, "image")
    cost = engines.cost_units(engines.BY_ID["theo-1-create"], 0, 0, body.count)
    with ctx.store.atomic():
        ident = ctx.t.new_id("img")
        images = media.images(ident, body.prompt, body.style, body.aspect_ratio, body.count)
        media.book(ctx.t, who, kind="image", mode="image", model="theo-1-create", entity_id=ident,
                   prompt=body.prompt, cost_units=cost, output={"images": len(images)})
    return {"id": ident, "object": "image", "created": ctx.now_iso(), "images": images,
            "usage": {"cost_cents": engines.cents(cost)}}


async def create_code(ctx: Ctx) -> dict:
    """Generate code for a prompt (`language` and `framework` are hints)."""
    body: CreateCode = ctx.body
    who = caller(ctx)
    media.admit(ctx.t, who, "code")
    answer = media.code_answer(ctx.emu.settings.seed, body.prompt, body.language, body.framework)
    with ctx.store.atomic():
        ident = ctx.t.new_id("code")
        artifacts = [{"id": ctx.t.new_id("art"), **a} for a in answer.artifacts]
        media.book(ctx.t, who, kind="code", mode="code", model="theo-1-code", entity_id=ident, prompt=body.prompt,
                   tokens_in=answer.prompt_tokens, tokens_out=answer.completion_tokens, cost_units=answer.cost_units,
                   output={"artifacts": len(artifacts)})
    return {"id": ident, "object": "code", "created": ctx.now_iso(), "content": answer.content,
            "artifacts": artifacts, "tools_used": [{"name": "code", "status": "success"}],
            "usage": {"cost_cents": engines.cents(answer.cost_units), "prompt_tokens": answer.prompt_tokens,
                      "completion_tokens": answer.completion_tokens,
                      "total_tokens": answer.prompt_tokens + answer.completion_tokens}}


def download_url(ctx: Ctx, ident: str) -> tuple[str, int]:
    expires = ctx.now_ms() + DOWNLOAD_TTL_MS
    signature = signing.url_signature(ctx.emu.settings.seed, ctx.tenant, ident, expires)
    base = str(ctx.request.base_url).rstrip("/")
    return f"{base}/api/v1/documents/{ident}/download?expires={expires}&signature={signature}", expires


async def create_document(ctx: Ctx) -> dict:
    """Write a document (pdf, docx, pptx, xlsx or csv) with a download URL of the emulator."""
    body: CreateDocument = ctx.body
    who = caller(ctx)
    media.admit(ctx.t, who, "think")
    title, content, data, tokens_in, tokens_out = media.document(ctx.emu.settings.seed, body.prompt, body.format)
    cost = media.document_cost(tokens_in, tokens_out)
    with ctx.store.atomic():
        ident = ctx.t.new_id("doc")
        media.store_document(ctx.t, ident, body.format, title, data)
        media.book(ctx.t, who, kind="document", mode="document", model="theo-1-reason", entity_id=ident,
                   prompt=body.prompt, tokens_in=tokens_in, tokens_out=tokens_out, cost_units=cost,
                   output={"format": body.format, "sizeBytes": len(data)})
    url, expires = download_url(ctx, ident)
    return {"id": ident, "object": "document", "created": ctx.now_iso(), "format": body.format, "title": title,
            "download_url": url, "download_expires_at": iso(expires), "size_bytes": len(data), "content": content,
            "usage": {"cost_cents": engines.cents(cost)}}


async def download_document(ctx: Ctx) -> Response:
    """Public: a document's file, for the holder of an unexpired signed URL."""
    row = public_row(ctx, media.DOCUMENTS, ctx.params["document_id"], "document")
    expires, signature = ctx.query.get("expires", ""), ctx.query.get("signature", "")
    if not expires.isdigit() or len(expires) > 15 or not signing.url_signature_ok(
            ctx.emu.settings.seed, row["tenant"], row["id"], int(expires), signature):
        raise TheoError(403, "invalid_signature", "The download URL's signature is missing or does not match.")
    if ctx.now_ms() > int(expires):
        raise TheoError(403, "url_expired", f"The download URL expired at {iso(int(expires))} (virtual clock); "
                                            "create the document again for a new one.")
    headers: dict[str, Any] = {"Content-Disposition": f'attachment; filename="{row["id"]}.{row["format"]}"',
                               "Cache-Control": "private"}
    return Response(row["content"], media_type=row["mime_type"], headers=headers)


routes = [
    api_route("/api/v1/images", create_images, "POST", body=CreateImages),
    api_route("/api/v1/code", create_code, "POST", body=CreateCode),
    api_route("/api/v1/documents", create_document, "POST", body=CreateDocument),
    api_route("/api/v1/documents/{document_id}/download", download_document, public=True),
]
