"""Secrets as agents use them: sealing, the names an agent may ask for, and its environment.

Reference "Secrets". A secret is named within a scope: `org` (the whole tenant) or one
session's id. Values are sealed by the tenant's cipher (crypto.py) with tenant, scope and name as
associated data and never leave the store but as an exec's environment under `--exec
local`, where a session's secret wins over an org secret of the same name and every value
is masked as `***` in the output. The routes are theazo/routes/secrets.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from theazo_emu.core.clock import iso
from theazo_emu.core.crypto import DecryptError, associated_data
from theazo_emu.core.errors import InternalError, Unprocessable

if TYPE_CHECKING:
    from theazo_emu.core.tenant import Tenant

TABLE = "secrets"
ORG = "org"


MASK = "***"


def _aad(tenant: str, scope: str, name: str) -> bytes:
    return associated_data("secret", tenant, scope, name)


def put_secret(t: "Tenant", scope: str, name: str, value: str) -> tuple[dict, bool]:
    """Create or overwrite the secret `name` in `scope`; returns (row, created).
    Callers have validated name and value (theazo/bodies/secrets.py) and the scope's session."""
    now = iso(t.now_ms())
    sealed = t.cipher.seal(value.encode("utf-8"), _aad(t.name, scope, name))
    store = t.store
    with store.atomic():
        row = store.find("secrets", "scope = ? AND name = ?", [scope, name], order=None)
        if row is not None:
            store.update("secrets", row["id"], {"ciphertext": sealed, "updated_at": now})
            return {**row, "ciphertext": sealed, "updated_at": now}, False
        return store.insert("secrets", {
            "id": t.new_id("sec"), "tenant": t.name, "scope": scope, "name": name,
            "ciphertext": sealed, "created_at": now, "updated_at": now,
        }), True


def require_known(t: "Tenant", session_id: str, names: Iterable[str]) -> None:
    """422 naming every secret in `names` that neither the session nor the org holds."""
    names = list(dict.fromkeys(names))
    if not names:
        return
    known = {row["name"] for row in t.store.rows("secrets", "scope IN (?, ?)", [ORG, session_id], order=None,
                                                 columns="name")}
    missing = [name[:130] for name in names if name not in known]
    if missing:
        listed, them = ", ".join(f"'{name}'" for name in missing), "them" if len(missing) > 1 else "it"
        raise Unprocessable(
            f"Unknown secret{'s' if len(missing) > 1 else ''} {listed}: set {them} with POST /v1/secrets "
            f"(org-wide or for this session) before naming {them} on an agent.",
            [{"field": "secrets", "message": f"unknown secret '{name}'"} for name in missing])


def environment(t: "Tenant", agent: dict) -> dict[str, str]:
    """The agent's secrets by name, decrypted; a session secret shadows an org one.
    Secrets deleted since the agent was created are simply absent."""
    names = list(dict.fromkeys(agent.get("secrets") or []))
    if not names:
        return {}
    marks = ", ".join("?" for _ in names)
    rows = t.store.rows("secrets", f"scope IN (?, ?) AND name IN ({marks})", [ORG, agent["session_id"], *names],
                        order=None)
    env: dict[str, str] = {}
    for row in sorted(rows, key=lambda r: r["scope"] != ORG):  # org first, then the session's overwrite
        aad = _aad(row["tenant"], row["scope"], row["name"])
        try:
            env[row["name"]] = t.cipher.open(row["ciphertext"], aad).decode()
        except DecryptError:
            raise InternalError(f"Secret '{row['name']}' cannot be decrypted with this emulator's master key "
                                "(was it imported from a database with another key?).") from None
    return env


def mask(result: dict[str, Any], values: Iterable[str]) -> dict[str, Any]:
    """The exec result with every secret value in stdout/stderr replaced by `***`."""
    ordered = sorted({v for v in values if v}, key=len, reverse=True)
    if not ordered:
        return result
    masked = dict(result)
    for stream in ("stdout", "stderr"):
        text = masked.get(stream)
        if isinstance(text, str):
            for value in ordered:
                text = text.replace(value, MASK)
            masked[stream] = text
    return masked
