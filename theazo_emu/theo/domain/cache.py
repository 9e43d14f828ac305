"""Theo's semantic cache (docs/guides/semantic-caching.mdx): an identical request answers
from the cache, marked `_cached: true`, at zero cost.

Only `POST /api/v1/completions` without a conversation (no `conversation_id`, no inline
`conversation`) and without attachments is cached, and never research, image or video
(asked for or resolved). The key is a digest of everything the answer depends on (the
prompt, the mode, the active skill slugs, the inline tool definitions, and the persona,
branding and engine overrides the mock also answers from), never the prompt itself; it is
scoped to the user (the tenant) or, for an org key, to the key. An entry lives for its
mode's TTL on the virtual clock (`fast`/`auto` and the other quick modes 5 minutes, `think`
and `code` an hour) and is not extended by hits. Fixture scripts win over the cache, and
a scripted answer is never stored. `--theo-cache off` turns it off. Owns theo_cache.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, replace
from typing import TYPE_CHECKING, Any, NamedTuple

from theazo_emu.theo.domain.answers import Answer, Ask

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant

TABLE = "theo_cache"
MINUTE_MS = 60_000
NEVER = frozenset({"research", "image", "video", "stealth_image", "stealth_video"})
LONG = frozenset({"think", "code"})  # the docs' "minutes to hours"
SHORT_TTL_MS, LONG_TTL_MS = 5 * MINUTE_MS, 60 * MINUTE_MS
_TUPLES = ("chunks", "tools_used", "artifacts", "follow_ups", "tool_calls")  # an Answer's tuple fields


class Hit(NamedTuple):
    """A cached answer (zero tokens and cost, `cached`), with what its first request made of it."""

    answer: Answer
    artifacts: list[dict[str, Any]]
    conversation_id: str | None


def ttl_ms(mode: str) -> int:
    return LONG_TTL_MS if mode in LONG else SHORT_TTL_MS


def key(scope: str, ask: Ask, overrides: dict[str, str]) -> str | None:
    """The cache key of a request (None: never cached): a SHA-256 digest, never the prompt."""
    if ask.mode in NEVER or ask.resolved_mode in NEVER or ask.history or ask.attachments:
        return None
    parts = (scope, ask.prompt, ask.mode, ask.resolved_mode, ask.engine, ask.persona, ask.branding,
             tuple(sorted(ask.skills)), ask.tools, ask.image_model, tuple(sorted(overrides.items())))
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def lookup(t: "Tenant", cache_key: str) -> Hit | None:
    row = t.store.find(TABLE, "cache_key = ? AND expires_ms > ?", [cache_key, t.now_ms()], order=None)
    if row is None:
        return None
    entry = row["entry"]
    answer = Answer(**{name: tuple(value) if name in _TUPLES else value for name, value in entry["answer"].items()})
    return Hit(replace(answer, prompt_tokens=0, completion_tokens=0, cost_units=0, cached=True),
               entry["artifacts"], entry["conversation_id"])


def store(t: "Tenant", cache_key: str, scope: str, mode: str, answer: Answer, artifacts: list[dict[str, Any]],
          conversation_id: str | None) -> None:
    """Keep a fresh answer (call inside the completion's transaction); replaces an expired entry."""
    now = t.now_ms()
    t.store.execute(
        "INSERT INTO theo_cache (tenant, cache_key, scope, mode, entry, expires_ms, created_at) "
        "VALUES (:tenant, :key, :scope, :mode, :entry, :expires, :at) ON CONFLICT(tenant, cache_key) DO UPDATE SET "
        "entry = excluded.entry, expires_ms = excluded.expires_ms, created_at = excluded.created_at",
        key=cache_key, scope=scope, mode=mode, expires=now + ttl_ms(mode), at=t.now_iso(),
        entry=json.dumps({"answer": asdict(answer), "artifacts": artifacts, "conversation_id": conversation_id},
                         separators=(",", ":")))
