"""Knowledge bases: chunking, storage and deterministic ranked retrieval (the SDK's
`session.knowledge`; /v1/knowledge routes in theazo/routes/knowledge.py, and /v1/files with
`autoIngest`).

Knowledge belongs to a user of a tenant (the SDK sends the session's `userId`) and is
grouped in named collections (`default` when none is named). A source is one uploaded
document or one sync; its text is cut into chunks of about CHUNK_CHARS characters at
paragraph, then sentence, then word boundaries. Retrieval is BM25 (k1 1.2, b 0.75, the
always-positive idf) over the chunks in scope, so a query for a word in a document finds
it; ties are broken by source id and chunk number, so the same corpus and query always
rank the same way. Nothing is embedded and nothing leaves the process: a sync records its
source and fetches nothing. Owns the knowledge_sources and knowledge_chunks tables.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import TYPE_CHECKING, Any

from theazo_emu.core.clock import iso
from theazo_emu.core.errors import ApiError, NotFound

if TYPE_CHECKING:
    from theazo_emu.core.store import Scoped
    from theazo_emu.core.tenant import Tenant

SOURCES, CHUNKS = "knowledge_sources", "knowledge_chunks"
DEFAULT_COLLECTION = "default"
CHUNK_CHARS = 800
MAX_CHUNKS_PER_USER = 10_000
MAX_BYTES_PER_USER = 16 * 1024 * 1024
MAX_UPLOAD_BODY = 24 * 1024 * 1024  # a request body carrying a full quota as base64
SYNC_MS = 5_000  # a sync reads `syncing` for this long on the virtual clock
K1, B = 1.2, 0.75
_WORD = re.compile(r"[0-9a-z]+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_STOPWORDS = frozenset(
    "a an and are as at be by can do does for from has have how i if in into is it its of on or our "
    "so that the their then there these this to was we what when where which who why will with you your".split())


class KnowledgeQuotaExceeded(ApiError):
    status, code = 402, "knowledge_quota_exceeded"


def terms(text: str) -> list[str]:
    """The words retrieval compares: lower case, letters and digits, no stop words or single
    letters, a plural `s` dropped (so `docs` finds `doc`, and `classes` `classe`)."""
    out = []
    for word in _WORD.findall(text.lower()):
        if word in _STOPWORDS or (len(word) == 1 and word.isalpha()):
            continue
        if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out.append(word)
    return out


def token_count(text: str) -> int:
    """Model tokens of a text, by the mock engine's rule of thumb (four characters a token)."""
    return (len(text) + 3) // 4


def chunk_text(text: str) -> list[str]:
    """The text in chunks of at most about CHUNK_CHARS characters (none for blank text)."""
    pieces: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if len(paragraph) <= CHUNK_CHARS:
            pieces.append(paragraph)
            continue
        for sentence in _SENTENCE.split(paragraph):
            while len(sentence) > CHUNK_CHARS:  # a run-on sentence: cut at the last space that fits
                cut = sentence.rfind(" ", 0, CHUNK_CHARS)
                cut = cut if cut > 0 else CHUNK_CHARS
                pieces.append(sentence[:cut].strip())
                sentence = sentence[cut:].strip()
            if sentence:
                pieces.append(sentence)
    chunks: list[str] = []
    for piece in pieces:  # then join small neighbours up to the size
        if chunks and len(chunks[-1]) + 2 + len(piece) <= CHUNK_CHARS:
            chunks[-1] = f"{chunks[-1]}\n\n{piece}"
        else:
            chunks.append(piece)
    return chunks


def source_status(row: dict, now_ms: int) -> str:
    return "syncing" if now_ms < row["ready_ms"] else "active"


def source_to_api(row: dict, now_ms: int) -> dict[str, Any]:
    """The SDK's KnowledgeSourceData, plus the document's name and size."""
    body = {"id": row["id"], "source": row["origin"], "status": source_status(row, now_ms),
            "collection": row["collection"], "name": row["name"], "chunkCount": row["chunk_count"],
            "tokens": row["token_count"], "bytes": row["bytes"], "userId": row["user_id"],
            "createdAt": row["created_at"], "updatedAt": row["updated_at"]}
    if row["sync_schedule"]:
        body["syncSchedule"] = row["sync_schedule"]
    if row["file_id"]:
        body["fileId"] = row["file_id"]
    return body


def _usage(view: "Scoped", user_id: str) -> tuple[int, int]:
    row = view.find(SOURCES, "user_id = ?", [user_id], order=None,
                    columns="COALESCE(SUM(chunk_count), 0) AS chunks, COALESCE(SUM(bytes), 0) AS bytes")
    assert row is not None
    return row["chunks"], row["bytes"]


def check_quota(view: "Scoped", user_id: str, documents: list[tuple[str, str]], collection: str) -> None:
    """402 `knowledge_quota_exceeded` when these (name, text) documents would take the user's
    knowledge past its chunks or bytes (documents they replace no longer count)."""
    chunks, size = _usage(view, user_id)
    names = [name for name, _ in documents]
    marks = ", ".join("?" * len(names))
    replaced = view.find(SOURCES, f"user_id = ? AND collection = ? AND origin = 'upload' AND name IN ({marks})",
                         [user_id, collection, *names], order=None,
                         columns="COALESCE(SUM(chunk_count), 0) AS chunks, COALESCE(SUM(bytes), 0) AS bytes")
    assert replaced is not None
    chunks += sum(len(chunk_text(text)) for _, text in documents) - replaced["chunks"]
    size += sum(len(text.encode()) for _, text in documents) - replaced["bytes"]
    if chunks > MAX_CHUNKS_PER_USER or size > MAX_BYTES_PER_USER:
        raise KnowledgeQuotaExceeded(
            f"User '{user_id[:100]}' would hold {chunks} chunks and {size} bytes of knowledge; the emulator keeps "
            f"at most {MAX_CHUNKS_PER_USER} chunks and {MAX_BYTES_PER_USER} bytes per user. Delete sources or "
            "collections first.", {"userId": user_id, "chunks": chunks, "bytes": size,
                                   "maxChunks": MAX_CHUNKS_PER_USER, "maxBytes": MAX_BYTES_PER_USER})


def ingest(t: "Tenant", user_id: str, collection: str, name: str, text: str, *,
           mime_type: str | None = None, file_id: str | None = None) -> dict:
    """Store an uploaded document as a source and its chunks; a document of the same name in
    the same collection is replaced. Call inside a transaction, after check_quota."""
    view, now, tenant = t.store, t.now_ms(), t.name
    view.delete(CHUNKS, "source_id IN (SELECT id FROM knowledge_sources WHERE tenant = ? AND user_id = ? AND "
                        "collection = ? AND origin = 'upload' AND name = ?)", [tenant, user_id, collection, name])
    view.delete(SOURCES, "user_id = ? AND collection = ? AND origin = 'upload' AND name = ?",
                [user_id, collection, name])
    chunks = chunk_text(text)
    source_id = t.new_id("ksrc")
    rows = []
    for index, content in enumerate(chunks):
        words = terms(content)
        rows.append({"source_id": source_id, "chunk": index, "tenant": tenant, "user_id": user_id,
                     "collection": collection, "content": content, "terms": dict(sorted(Counter(words).items())),
                     "length": len(words), "tokens": token_count(content)})
    view.insert_many(CHUNKS, rows)
    return view.insert(SOURCES, {
        "id": source_id, "user_id": user_id, "collection": collection, "origin": "upload", "name": name,
        "mime_type": mime_type, "config": None, "sync_schedule": None, "file_id": file_id,
        "chunk_count": len(chunks), "token_count": sum(r["tokens"] for r in rows), "bytes": len(text.encode()),
        "ready_ms": now, "created_at": iso(now), "updated_at": iso(now),
    })


def add_sync(t: "Tenant", user_id: str, collection: str, kind: str, config: dict,
             schedule: str | None) -> dict:
    """Record a synced source: `syncing` for SYNC_MS (none under --pace instant), then
    `active` with no chunks, since nothing is fetched offline."""
    now = t.now_ms()
    ready = now if t.settings.pace == "instant" else now + SYNC_MS
    with t.store.atomic():
        return t.store.insert(SOURCES, {
            "id": t.new_id("ksrc"), "user_id": user_id, "collection": collection, "origin": kind,
            "name": f"{kind} sync", "mime_type": None, "config": config, "sync_schedule": schedule,
            "file_id": None, "chunk_count": 0, "token_count": 0, "bytes": 0, "ready_ms": ready,
            "created_at": iso(now), "updated_at": iso(now),
        })


def delete_source(t: "Tenant", user_id: str, source_id: str) -> None:
    """Forget a source and its chunks (404 when the user has no such source)."""
    view = t.store
    with view.atomic():
        if not view.delete(SOURCES, "id = ? AND user_id = ?", [source_id, user_id]):
            raise NotFound("knowledge source", source_id)
        view.delete(CHUNKS, "source_id = ?", [source_id])


def delete_collection(t: "Tenant", user_id: str, collection: str) -> int:
    """Forget a collection's sources and chunks; returns how many sources went. A collection
    exists only through its sources, so deleting one that has none is not an error."""
    view = t.store
    with view.atomic():
        deleted = view.delete(SOURCES, "user_id = ? AND collection = ?", [user_id, collection])
        view.delete(CHUNKS, "user_id = ? AND collection = ?", [user_id, collection])
    return deleted


def query(view: "Scoped", user_id: str, text: str, collection: str | None, top_k: int) -> list[dict[str, Any]]:
    """The user's `top_k` best chunks for `text` by BM25 (only chunks sharing a term score)."""
    wanted = sorted(set(terms(text)))
    if not wanted:
        return []
    where, params = "user_id = ?", [user_id]
    if collection is not None:
        where, params = f"{where} AND collection = ?", [*params, collection]
    stats = view.find(CHUNKS, where, params, order=None, columns="COUNT(*) AS n, COALESCE(AVG(length), 0) AS avg")
    assert stats is not None
    count, average = stats["n"], stats["avg"] or 1.0
    rows = view.rows(CHUNKS, where, params, order="source_id, chunk",
                     columns="source_id, chunk, collection, content, terms, length")
    frequency = Counter(term for row in rows for term in wanted if term in row["terms"])
    idf = {term: math.log(1 + (count - frequency[term] + 0.5) / (frequency[term] + 0.5)) for term in wanted}
    scored = []
    for row in rows:
        score = 0.0
        for term in wanted:
            tf = row["terms"].get(term)
            if tf:
                score += idf[term] * tf * (K1 + 1) / (tf + K1 * (1 - B + B * row["length"] / average))
        if score > 0:
            scored.append((-round(score, 6), row["source_id"], row["chunk"], row))
    scored.sort(key=lambda item: item[:3])
    names = _source_names(view, {item[1] for item in scored[:top_k]})
    return [{"content": row["content"], "score": -negative, "source": names.get(source_id, source_id),
             "chunk": chunk, "sourceId": source_id, "collection": row["collection"]}
            for negative, source_id, chunk, row in scored[:top_k]]


def _source_names(view: "Scoped", ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    marks = ", ".join("?" * len(ids))
    return {row["id"]: row["name"] for row in view.rows(SOURCES, f"id IN ({marks})", sorted(ids),
                                                        columns="id, name")}


def stats(view: "Scoped", user_id: str) -> dict[str, Any]:
    """The SDK's KnowledgeStats over the user's sources (storage in decimal GB)."""
    row = view.find(SOURCES, "user_id = ?", [user_id], order=None,
                    columns="COUNT(DISTINCT collection) AS collections, COUNT(*) AS sources, "
                            "COALESCE(SUM(chunk_count), 0) AS chunks, COALESCE(SUM(token_count), 0) AS tokens, "
                            "COALESCE(SUM(bytes), 0) AS bytes")
    assert row is not None
    return {"collections": row["collections"], "sources": row["sources"], "totalChunks": row["chunks"],
            "totalTokens": row["tokens"], "storageGB": round(row["bytes"] / 1e9, 9), "storageBytes": row["bytes"]}
