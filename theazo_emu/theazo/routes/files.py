"""Files: `theazo.files` (upload, get, list, delete) and signed download URLs served here.

Owns the `files` table: the bytes as uploaded, with the SDK's FileData fields. A file may
name the agent or session it belongs to (both must be the caller's); `autoIngest` also
adds a `knowledge` file to the user's knowledge (domain/knowledge.py), as one write.
`GET /v1/files/:id/url?expiresIn=` answers a URL of this emulator, `/v1/files/:id/content`
with `expires` (epoch ms, virtual clock) and `signature` (signing.url_signature): anyone
holding it may download the bytes until the virtual clock passes `expires`; a changed,
expired or missing signature is 403 `forbidden` and reveals nothing. A tenant holds at
most MAX_FILES files of MAX_BYTES together (409 past either).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from theazo_emu.core import durations, signing
from theazo_emu.core.clock import iso
from theazo_emu.core.errors import Conflict, Forbidden, NotFound, invalid
from theazo_emu.core.http import PAGE, Ctx, Where, api_route, public_row
from theazo_emu.theazo.bodies.knowledge import text_of
from theazo_emu.theazo.bodies.uploads import PURPOSES, UploadFile
from theazo_emu.theazo.domain import knowledge
from theazo_emu.theazo.surface import list_page

TABLE, KIND = "files", "file"
MAX_FILES = 10_000
MAX_BYTES = 256 * 1024 * 1024
MAX_BODY = 32 * 1024 * 1024  # a 24 MiB file, as base64 in JSON
DEFAULT_EXPIRY, MAX_EXPIRY_MS = "1h", 7 * 86_400_000
_COLUMNS = ("id, tenant, user_id, filename, mime_type, size, purpose, agent_id, session_id, collection, "
            "knowledge_source_id, created_at")  # everything but the bytes
_MIME = {"txt": "text/plain", "md": "text/markdown", "csv": "text/csv", "json": "application/json",
         "html": "text/html", "xml": "application/xml", "yaml": "application/yaml", "yml": "application/yaml",
         "pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
         "gif": "image/gif", "webp": "image/webp", "svg": "image/svg+xml", "zip": "application/zip",
         "py": "text/x-python", "js": "text/javascript", "ts": "text/plain", "docx":
         "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


def file_to_api(row: dict) -> dict[str, Any]:
    """The SDK's FileData, plus the knowledge it fed (when autoIngested)."""
    return {"id": row["id"], "filename": row["filename"], "mimeType": row["mime_type"], "size": row["size"],
            "purpose": row["purpose"], "userId": row["user_id"], "agentId": row["agent_id"],
            "sessionId": row["session_id"], "collection": row["collection"],
            "knowledgeSourceId": row["knowledge_source_id"], "createdAt": row["created_at"]}


def _mime(filename: str) -> str | None:
    """The type a file's extension names (a fixed table: the same answer on every machine)."""
    _, dot, extension = filename.rpartition(".")
    return _MIME.get(extension.lower()) if dot else None


def _owner(ctx: Ctx, body: UploadFile) -> tuple[str | None, str | None]:
    """(agentId, sessionId) the file belongs to: the caller's, and the same user's (404/422)."""
    session_id = body.sessionId
    if body.agentId is not None:
        agent = ctx.store.get("agents", body.agentId, "agent")
        if session_id is not None and session_id != agent["session_id"]:
            raise invalid("sessionId", f"agent {agent['id']} belongs to session {agent['session_id']}")
        session_id = agent["session_id"]
    if session_id is not None:
        session = ctx.store.get("sessions", session_id, "session")
        if session["user_id"] != body.userId:
            raise invalid("userId", f"session {session_id} belongs to another user")
    return body.agentId, session_id


def _check_room(ctx: Ctx, size: int) -> None:
    row = ctx.store.find(TABLE, order=None, columns="COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes")
    assert row is not None
    if row["n"] + 1 > MAX_FILES or row["bytes"] + size > MAX_BYTES:
        raise Conflict(f"The emulator keeps at most {MAX_FILES} files of {MAX_BYTES} bytes together per API key; "
                       "delete files first.", {"files": row["n"], "bytes": row["bytes"], "maxFiles": MAX_FILES,
                                               "maxBytes": MAX_BYTES})


async def upload_file(ctx: Ctx) -> dict:
    """Upload a file (base64 `data`); with `autoIngest`, also into the user's knowledge."""
    body: UploadFile = ctx.body
    content = body.content()
    agent_id, session_id = _owner(ctx, body)
    _check_room(ctx, len(content))
    collection = (body.collection or knowledge.DEFAULT_COLLECTION) if body.autoIngest else None
    if collection is not None:
        try:
            text = text_of(body.data)
        except ValueError as exc:
            raise invalid("data", f"{exc} to be ingested") from None
        knowledge.check_quota(ctx.store, body.userId, [(body.filename, text)], collection)
    emu, now = ctx.emu, ctx.now_iso()
    with ctx.store.atomic():
        file_id = emu.new_id("file", ctx.tenant)
        source = (knowledge.ingest(ctx.t, body.userId, collection, body.filename, text,
                                   mime_type=body.mimeType or _mime(body.filename), file_id=file_id)
                  if collection is not None else None)
        row = ctx.store.insert(TABLE, {
            "id": file_id, "user_id": body.userId, "filename": body.filename,
            "mime_type": body.mimeType or _mime(body.filename), "size": len(content), "purpose": body.purpose,
            "agent_id": agent_id, "session_id": session_id, "content": content, "collection": collection,
            "knowledge_source_id": source["id"] if source else None, "created_at": now,
        })
    return file_to_api(row)


async def list_files(ctx: Ctx) -> dict:
    """Files, newest first (filters: userId, purpose, agentId, sessionId)."""
    where = (Where(ctx).eq("user_id", "userId").choice("purpose", "purpose", PURPOSES)
             .eq("agent_id", "agentId").eq("session_id", "sessionId"))
    return list_page(ctx, TABLE, where, KIND, file_to_api)


def _load(ctx: Ctx) -> dict:
    """The caller's file named in the path, without its bytes (404 otherwise)."""
    row = ctx.store.find(TABLE, "id = ?", [ctx.params["file_id"]], columns=_COLUMNS)
    if row is None:
        raise NotFound(KIND, ctx.params["file_id"])
    return row


async def get_file(ctx: Ctx) -> dict:
    """One file's metadata."""
    return file_to_api(_load(ctx))


async def delete_file(ctx: Ctx) -> dict:
    """Delete a file; its signed URLs answer 404 from now on (knowledge it fed stays)."""
    row = _load(ctx)
    ctx.store.delete(TABLE, "id = ?", [row["id"]])
    return {"id": row["id"], "deleted": True}


async def file_url(ctx: Ctx) -> dict:
    """A signed download URL of this emulator, valid for `expiresIn` (default 1h, at most 7d)."""
    row = _load(ctx)
    raw = ctx.query.get("expiresIn") or DEFAULT_EXPIRY
    try:
        lifetime = int(durations.to_ms(raw))
    except ValueError as exc:
        raise invalid("expiresIn", str(exc)) from None
    if not 1000 <= lifetime <= MAX_EXPIRY_MS:
        raise invalid("expiresIn", "must be between 1 second and 7 days")
    expires = ctx.now_ms() + lifetime
    signature = signing.url_signature(ctx.emu.settings.seed, ctx.tenant, row["id"], expires)
    base = str(ctx.request.base_url).rstrip("/")
    return {"url": f"{base}/v1/files/{row['id']}/content?expires={expires}&signature={signature}",
            "expiresAt": iso(expires)}


async def download_file(ctx: Ctx) -> Response:
    """Public: the file's bytes, for the holder of an unexpired signed URL."""
    row = public_row(ctx, TABLE, ctx.params["file_id"], KIND)
    expires, signature = ctx.query.get("expires", ""), ctx.query.get("signature", "")
    if not expires.isdigit() or len(expires) > 15 or not signing.url_signature_ok(
            ctx.emu.settings.seed, row["tenant"], row["id"], int(expires), signature):
        raise Forbidden("The URL's signature is missing or does not match; ask GET /v1/files/:id/url for a new one.")
    if ctx.now_ms() > int(expires):
        raise Forbidden(f"The URL expired at {iso(int(expires))} (virtual clock); ask GET /v1/files/:id/url "
                        "for a new one.", {"expiredAt": iso(int(expires))})
    return Response(row["content"], media_type=row["mime_type"] or "application/octet-stream",
                    headers={"Content-Disposition": _disposition(row["filename"]), "Cache-Control": "private"})


def _disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the exact one (RFC 6266, RFC 5987)."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


routes = [
    api_route("/v1/files", upload_file, "POST", body=UploadFile, status=201, max_body=MAX_BODY),
    api_route("/v1/files", list_files, query=("userId", "purpose", "agentId", "sessionId", *PAGE)),
    api_route("/v1/files/{file_id}", get_file),
    api_route("/v1/files/{file_id}", delete_file, "DELETE"),
    api_route("/v1/files/{file_id}/url", file_url, query=("expiresIn",)),
    api_route("/v1/files/{file_id}/content", download_file, public=True, query=("expires", "signature")),
]
