"""Knowledge: the SDK's `session.knowledge` (upload, sync, query, stats, sources, delete).

Routes over domain/knowledge.py, which owns the tables, the chunking and the BM25 ranking.
Every route is scoped by the `userId` the SDK sends (in the body, or the query for GET and
DELETE): one user never sees another's documents, and a tenant never sees another's. An
upload is all or nothing: every file is checked (base64, UTF-8, quota) before anything is
stored. Upload and sync answer 201 with what they stored; the SDK ignores the body.
"""

from __future__ import annotations

from typing import Any

from theazo_emu.core.cron import compile_cron
from theazo_emu.core.errors import invalid
from theazo_emu.core.http import Ctx, api_route
from theazo_emu.theazo.bodies.core import check_user_id
from theazo_emu.theazo.bodies.knowledge import KnowledgeQuery, KnowledgeSync, KnowledgeUpload, check_collection
from theazo_emu.theazo.domain import knowledge
from theazo_emu.theazo.surface import one_page


def _user(ctx: Ctx) -> str:
    """The `userId` query value of the GET and DELETE routes (required)."""
    value = ctx.query.get("userId")
    if value is None:
        raise invalid("userId", "is required: whose knowledge (the SDK sends the session's user)")
    try:
        return check_user_id(value)
    except ValueError as exc:
        raise invalid("userId", str(exc)) from None


async def upload_knowledge(ctx: Ctx) -> dict:
    """Upload documents to a collection: chunked for retrieval; a same-named document is replaced."""
    body: KnowledgeUpload = ctx.body
    collection = body.collection or knowledge.DEFAULT_COLLECTION
    documents = [(f.filename, f.content()) for f in body.files]
    knowledge.check_quota(ctx.store, body.userId, documents, collection)
    with ctx.store.atomic():
        rows = [knowledge.ingest(ctx.t, body.userId, collection, name, text,
                                 mime_type=f.mimeType) for (name, text), f in zip(documents, body.files)]
    now = ctx.now_ms()
    return {"collection": collection, "sources": [knowledge.source_to_api(row, now) for row in rows]}


async def sync_knowledge(ctx: Ctx) -> dict:
    """Connect a source to sync into a collection (recorded; nothing is fetched offline)."""
    body: KnowledgeSync = ctx.body
    if body.syncSchedule is not None:
        try:
            compile_cron(body.syncSchedule, None)
        except ValueError as exc:
            raise invalid("syncSchedule", str(exc)) from None
    row = knowledge.add_sync(ctx.t, body.userId, body.collection or knowledge.DEFAULT_COLLECTION,
                             body.source.type, body.source.config, body.syncSchedule)
    return knowledge.source_to_api(row, ctx.now_ms())


async def query_knowledge(ctx: Ctx) -> dict:
    """The `topK` chunks that best match the query (BM25), best first."""
    body: KnowledgeQuery = ctx.body
    return {"data": knowledge.query(ctx.store, body.userId, body.query, body.collection, body.topK)}


async def knowledge_stats(ctx: Ctx) -> dict:
    """Collections, chunks, tokens and storage of a user's knowledge."""
    return knowledge.stats(ctx.store, _user(ctx))


async def list_knowledge_sources(ctx: Ctx) -> dict:
    """A user's sources, oldest first (`collection` narrows them)."""
    user_id, collection = _user(ctx), ctx.query.get("collection")
    try:
        check_collection(collection)
    except ValueError as exc:
        raise invalid("collection", str(exc)) from None
    where, params = "user_id = ?", [user_id]
    if collection is not None:
        where, params = f"{where} AND collection = ?", [*params, collection]
    now = ctx.now_ms()
    rows = ctx.store.rows(knowledge.SOURCES, where, params)
    return one_page([knowledge.source_to_api(row, now) for row in rows])


async def delete_knowledge_source(ctx: Ctx) -> dict[str, Any]:
    """Delete one source and its chunks."""
    source_id = ctx.params["source_id"]
    knowledge.delete_source(ctx.t, _user(ctx), source_id)
    return {"id": source_id, "deleted": True}


async def delete_knowledge_collection(ctx: Ctx) -> dict[str, Any]:
    """Delete a collection: every source in it and their chunks."""
    name = ctx.params["name"]
    deleted = knowledge.delete_collection(ctx.t, _user(ctx), name)
    return {"collection": name, "deleted": True, "sources": deleted}


routes = [
    api_route("/v1/knowledge/upload", upload_knowledge, "POST", body=KnowledgeUpload, status=201,
              max_body=knowledge.MAX_UPLOAD_BODY),
    api_route("/v1/knowledge/sync", sync_knowledge, "POST", body=KnowledgeSync, status=201),
    api_route("/v1/knowledge/query", query_knowledge, "POST", body=KnowledgeQuery),
    api_route("/v1/knowledge/stats", knowledge_stats, query=("userId",)),
    api_route("/v1/knowledge/sources", list_knowledge_sources, query=("userId", "collection")),
    api_route("/v1/knowledge/sources/{source_id}", delete_knowledge_source, "DELETE", query=("userId",)),
    api_route("/v1/knowledge/collections/{name}", delete_knowledge_collection, "DELETE", query=("userId",)),
]
