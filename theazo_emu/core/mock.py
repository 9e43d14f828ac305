"""What both mock engines (theazo/mock, theo/domain/mock.py) are built from: text shaping,
seeded numbers, and finding the fixture script that answers a request.

Mocked answers are pure functions of the seed and the request, so every random choice
comes from a `random.Random` seeded with a BLAKE2b digest of both (`seeded`), and every
derived number from the same digest (`digest`, `draw`). The separator that joins the
parts is part of an answer's identity: each caller names its own and keeps it.

Fixture scripts are found the same way for every kind of entry (`first_match`): the
layers in force are tried in order (documents added by API, then the files), a layer or
an entry limited to one key is skipped for another key's tenant, and the first entry
whose spec matches wins. The layers and entries are taken as given (any objects with
`spec.match.key`), so nothing here depends on how fixtures are loaded.
"""

from __future__ import annotations

import hashlib
import random
from typing import Any, Callable, Iterable, Protocol, TypeVar

from theazo_emu.core.auth import tenant_of

Layer = TypeVar("Layer")
Spec = TypeVar("Spec")
Spec_co = TypeVar("Spec_co", covariant=True)


class Entry(Protocol[Spec_co]):
    """A declared item (fixtures/loader.Entry): its spec, and where it was declared."""

    @property
    def file(self) -> str: ...

    @property
    def path(self) -> str: ...

    @property
    def spec(self) -> Spec_co: ...


# ---- text ----

def shorten(text: str, limit: int) -> str:
    """`text` on one line (runs of whitespace as one space), cut to `limit` with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def count_tokens(*texts: str) -> int:
    """The emulator's token estimate: a token per four characters (started), text by text."""
    return sum((len(text) + 3) // 4 for text in texts if text)


# ---- seeded numbers ----

def digest(*parts: Any, sep: str = "|", size: int = 8) -> int:
    """The big-endian number of the BLAKE2b digest (`size` bytes) of the parts' text joined by `sep`."""
    joined = sep.join(str(part) for part in parts).encode()
    return int.from_bytes(hashlib.blake2b(joined, digest_size=size).digest(), "big")


def seeded(*parts: Any, sep: str = "|") -> random.Random:
    """A generator seeded with `digest(*parts)`: the same parts give the same choices."""
    return random.Random(digest(*parts, sep=sep))


def draw(*parts: Any, sep: str = "|") -> float:
    """A number in [0, 1) from `digest(*parts)`."""
    return digest(*parts, sep=sep) / 2**64


# ---- fixture scripts ----

def first_match(layers: Iterable[tuple[str | None, Layer]], tenant: str | None,
                entries: Callable[[Layer], Iterable["Entry[Spec]"]],
                matches: Callable[[Spec], bool]) -> "Entry[Spec] | None":
    """The first entry of `entries(layer)`, over the layers (tenant they are limited to or None,
    layer) in order, that `tenant` may use and whose spec `matches`; None if there is none."""
    for limited_to, layer in layers:
        if limited_to is not None and limited_to != tenant:
            continue
        for entry in entries(layer):
            key = entry.spec.match.key  # type: ignore[attr-defined]
            if (key is None or tenant_of(key) == tenant) and matches(entry.spec):
                return entry
    return None
