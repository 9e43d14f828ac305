"""Encryption at rest for secrets and provider credentials (DESIGN.md, "Persistence and safety").

AES-256-GCM (cryptography's AESGCM): a fresh 96-bit nonce per seal, and associated data
binding each ciphertext to where it belongs (tenant, kind, scope, name), so a row copied
elsewhere fails to open. The key comes from `--master-key` (64 hex characters or base64
of 32 bytes), else from `<db>.key` beside a file database (created with mode 0600), else,
for an in-memory database, a random per-process key. A key-check value sealed at creation
in `crypto_meta` of a database file makes a wrong key a clear startup error instead of
garbage later (an in-memory database is new with every process: nothing to check).
cryptography itself is imported on the first seal or open, not at start-up.
Invariant: plaintext never reaches the store, a log or a response; only `Cipher` sees it.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from theazo_emu.core.store import Store

KEY_BYTES = 32
NONCE_BYTES = 12
_VERSION = "v1:"
_HEX = re.compile(r"^[0-9a-fA-F]{64}$")
_CHECK_NAME = "key_check"
_CHECK_PLAINTEXT = b"theazo-emu master key check"
_CHECK_AAD = b"theazo-emu|key-check"
KEY_FORMAT = "64 hex characters, or base64 of 32 bytes"


class MasterKeyError(Exception):
    """The master key is malformed, missing or not the one the database was created with."""


class DecryptError(Exception):
    """A stored ciphertext does not open with this key and its associated data."""


def parse_key(text: str) -> bytes:
    """32 key bytes from 64 hex characters or base64 (standard or URL-safe) of 32 bytes."""
    text = text.strip()
    if _HEX.match(text):
        return bytes.fromhex(text)
    for altchars in (None, b"-_"):  # standard, then URL-safe base64
        try:
            raw = base64.b64decode(text.encode("ascii"), altchars=altchars, validate=True)
        except (binascii.Error, ValueError, UnicodeEncodeError):
            continue
        if len(raw) == KEY_BYTES:
            return raw
    # Never echo the text: it may be a real key with a typo.
    raise MasterKeyError(f"the master key must be {KEY_FORMAT} (got {len(text)} characters that are neither)")


def associated_data(*parts: str) -> bytes:
    """Unambiguous associated data from parts (length-prefixed, so no separator tricks)."""
    return b"".join(len(p.encode()).to_bytes(4, "big") + p.encode() for p in parts)


class Cipher:
    """Seals and opens values with one AES-256-GCM key."""

    def __init__(self, key: bytes, source: str) -> None:
        if len(key) != KEY_BYTES:
            raise MasterKeyError(f"the master key must be {KEY_BYTES} bytes")
        self._key = key
        self.source = source  # where the key came from, for messages: never the key itself

    @cached_property
    def _aead(self) -> Any:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        return AESGCM(self._key)

    def __repr__(self) -> str:
        return f"Cipher(source={self.source!r})"

    def seal(self, plaintext: bytes, aad: bytes) -> str:
        """`v1:` + base64(nonce || ciphertext || tag), as text (JSON- and export-safe)."""
        nonce = os.urandom(NONCE_BYTES)
        return _VERSION + base64.b64encode(nonce + self._aead.encrypt(nonce, plaintext, aad)).decode("ascii")

    def open(self, sealed: str, aad: bytes) -> bytes:
        from cryptography.exceptions import InvalidTag

        if not sealed.startswith(_VERSION):
            raise DecryptError("unknown ciphertext format")
        try:
            raw = base64.b64decode(sealed[len(_VERSION):], validate=True)
            return self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad)
        except (binascii.Error, ValueError, InvalidTag):
            raise DecryptError("ciphertext does not open with this key") from None


def _is_file_db(path: str) -> bool:
    return path not in ("", ":memory:")


def key_file_for(db_path: str) -> Path:
    return Path(f"{db_path}.key")


def _read_key_file(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise MasterKeyError(f"cannot read the key file {path}: {exc}") from None
    try:
        return parse_key(text)
    except MasterKeyError:
        raise MasterKeyError(f"the key file {path} does not hold a key ({KEY_FORMAT})") from None


def _create_key_file(path: Path) -> bytes:
    """A new random key in `path`, mode 0600. Written aside and then hard-linked into place,
    so a process starting at the same moment sees either no file or the whole key."""
    key = os.urandom(KEY_BYTES)
    draft = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(key.hex() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.link(draft, path)
    except FileExistsError:
        return _read_key_file(path)  # another process made it first: use theirs
    except OSError as exc:
        raise MasterKeyError(f"cannot create the key file {path}: {exc.strerror}") from None
    finally:
        draft.unlink(missing_ok=True)
    return key


def open_cipher(master_key: str | None, store: "Store") -> Cipher:
    """The cipher for this store's data, after checking the key against a database file."""
    file_db = _is_file_db(store.path)
    check = store.one("SELECT value FROM crypto_meta WHERE name = ?", [_CHECK_NAME]) if file_db else None
    if master_key:
        cipher = Cipher(parse_key(master_key), "--master-key")
    elif not file_db:
        cipher = Cipher(os.urandom(KEY_BYTES), "ephemeral")
    else:
        key_file = key_file_for(store.path)
        if key_file.exists():
            cipher = Cipher(_read_key_file(key_file), str(key_file))
        elif check is not None:
            raise MasterKeyError(
                f"the database {store.path} was created with a master key, but its key file {key_file} is missing; "
                "pass the key it was created with as --master-key (or THEAZO_EMU_MASTER_KEY)")
        else:
            cipher = Cipher(_create_key_file(key_file), str(key_file))
    if not file_db:
        return cipher  # a new in-memory database: nothing in it was sealed with another key
    if check is None:
        with store.atomic():
            store.db.execute("INSERT OR IGNORE INTO crypto_meta (name, value) VALUES (?, ?)",
                             [_CHECK_NAME, cipher.seal(_CHECK_PLAINTEXT, _CHECK_AAD)])
        check = store.one("SELECT value FROM crypto_meta WHERE name = ?", [_CHECK_NAME])
    assert check is not None
    try:
        ok = cipher.open(check["value"], _CHECK_AAD) == _CHECK_PLAINTEXT
    except DecryptError:
        ok = False
    if not ok:
        raise MasterKeyError(
            f"wrong master key for the database {store.path}: the key from {cipher.source} is not the one "
            "its secrets were encrypted with; start with the original key (--master-key or THEAZO_EMU_MASTER_KEY)")
    return cipher
