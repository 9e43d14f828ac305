"""The journal: every request answered and every server-side event, for assertions.

DESIGN.md "Admin API" (`/_emu/requests`, served by admin/state.py; entries for requests are
written by front.py). A bounded ring in memory
(`--journal-size`, default 10,000, oldest dropped first), in virtual time. Entries hold the
tenant id (a digest), never the key, and bodies only after `Redactor` blanked their secrets.
Other families add events with `record_event(emu, kind, **fields)` ("sse", "fault",
"schedule", "webhook"...); during a request they also get its requestId and tenant.
For the newest DETAILS requests the journal also keeps what the inspector shows when a row
is opened (`details`): the request's headers and the response's status, headers and body
(up to 64 KiB, not streams), held as received and redacted only when shown (inspector.py).
"""

from __future__ import annotations

from collections import Counter, deque
from contextvars import ContextVar
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any, Iterable

from theazo_emu.core.clock import iso
from theazo_emu.core.redaction import Redactor

if TYPE_CHECKING:
    from theazo_emu.core.host import Host

DEFAULT_SIZE = 10_000
QUIET_PATHS = ("/_emu/requests", "/_emu/health", "/_emu/ui", "/favicon.ico")  # admin reads: never journaled
DETAILS = 200  # newest requests whose full exchange is kept for the inspector
MAX_DETAIL_BODY = 64 * 1024


@dataclass(frozen=True)
class Query:
    """Filters over the journal; None means "any"."""

    kinds: frozenset[str] | None = None
    method: str | None = None
    path: str | None = None
    tenant: str | None = None
    statuses: tuple[str, ...] | None = None  # "201", "4xx"
    request_id: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None

    def matches(self, entry: dict[str, Any]) -> bool:
        if self.kinds is not None and entry["kind"] not in self.kinds:
            return False
        if self.method is not None and entry.get("method") != self.method:
            return False
        if self.path is not None and not _path_matches(entry.get("path"), self.path):
            return False
        if self.tenant is not None and entry.get("tenant") != self.tenant:
            return False
        if self.statuses is not None and not _status_matches(entry.get("status"), self.statuses):
            return False
        if self.request_id is not None and entry.get("requestId") != self.request_id:
            return False
        if self.since_ms is not None and entry["atMs"] < self.since_ms:
            return False
        return self.until_ms is None or entry["atMs"] <= self.until_ms


def _path_matches(path: str | None, pattern: str) -> bool:
    if path is None:
        return False
    if any(c in pattern for c in "*?["):
        return fnmatchcase(path, pattern)
    return path.startswith(pattern)


def _status_matches(status: int | None, wanted: tuple[str, ...]) -> bool:
    if status is None:
        return "pending" in wanted
    text = str(status)
    return any(w == text or (len(w) == 3 and w.endswith("xx") and text[0] == w[0]) for w in wanted)


class Journal:
    """The ring of entries, numbered by `seq` (never reused, so cursors stay valid)."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.entries: deque[dict[str, Any]] = deque(maxlen=max(1, size))
        self.seq = 0
        self.dropped = 0
        self.redactor = Redactor()
        self.details: dict[int, dict[str, Any]] = {}  # seq -> the exchange, newest DETAILS only
        # The request being handled, per asyncio context (one ContextVar per journal, so two
        # emulators in one process never see each other's requests).
        self.current: ContextVar[dict[str, Any] | None] = ContextVar(f"theazo_emu_journal_{id(self)}", default=None)

    def add(self, entry: dict[str, Any]) -> dict[str, Any]:
        self.seq += 1
        if len(self.entries) == self.entries.maxlen:
            self.dropped += 1
        entry = {"seq": self.seq, **entry}
        self.entries.append(entry)
        return entry

    def keep_detail(self, seq: int, detail: dict[str, Any]) -> None:
        self.details[seq] = detail
        if len(self.details) > DETAILS:
            del self.details[next(iter(self.details))]  # dicts keep insertion order: the oldest

    def select(self, query: Query) -> list[dict[str, Any]]:
        """The matching entries as the journal shows them (`at` rendered from `atMs` here, not
        on the request path)."""
        return [{"seq": e["seq"], "kind": e["kind"], "at": iso(e["atMs"]), **e} for e in self.entries if query.matches(e)]

    def clear(self, tenant: str | None = None) -> int:
        """Forget every entry, or one tenant's; returns how many went."""
        before = len(self.entries)
        if tenant is None:
            self.entries.clear()
            self.details.clear()
        else:
            kept = [e for e in self.entries if e.get("tenant") != tenant]
            self.entries.clear()
            self.entries.extend(kept)
        return before - len(self.entries)


def record_event(emu: "Host", kind: str, **fields: Any) -> dict[str, Any]:
    """Journal something the server did (an SSE frame sent, a schedule firing, a webhook
    call, a fault fired...). `fields` must be JSON values; secret fields are redacted.
    Inside a request the entry also gets that request's requestId and tenant (unless given)."""
    journal, now = emu.journal, emu.clock.now_ms()
    entry: dict[str, Any] = {"kind": kind, "atMs": now}
    current = journal.current.get()
    if current is not None:
        entry.update(current)
    entry.update(journal.redactor.value(fields))
    return journal.add(entry)


def counts(entries: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Totals by kind, status and method, for quick assertions."""
    kinds, statuses, methods = Counter(), Counter(), Counter()
    total = 0
    for e in entries:
        total += 1
        kinds[e["kind"]] += 1
        if e["kind"] == "request":
            statuses[str(e["status"]) if e["status"] is not None else "pending"] += 1
            methods[e["method"]] += 1
    return {"total": total, "byKind": dict(sorted(kinds.items())), "byStatus": dict(sorted(statuses.items())),
            "byMethod": dict(sorted(methods.items()))}
