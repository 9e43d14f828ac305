"""Bodies of the secrets routes: the reference's `{name, value, sessionId?}` and the SDK's
bare `{NAME: value, ...}` map (sdk-compat.md, "Secrets").

Names are 1 to 128 letters, digits, `_` and `-`. Values are non-empty strings of at most
64 KiB without NUL characters, because agents receive them as environment variables
(Linux caps one environment string at 128 KiB, and NUL cannot be in one). No error message
ever quotes a value.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pydantic import ConfigDict, Field, field_validator

from theazo_emu.theazo.bodies.core import Body

MAX_NAME = 128
MAX_VALUE_BYTES = 64 * 1024
_NAME = re.compile(rf"^[A-Za-z0-9_-]{{1,{MAX_NAME}}}$")


def name_problem(name: str) -> str | None:
    """Why `name` is not a valid secret name, or None."""
    if _NAME.match(name):
        return None
    return f"must be 1 to {MAX_NAME} letters, digits, '_' or '-'"


def value_problem(value: Any) -> str | None:
    """Why `value` is not a storable secret value, or None (never quoting the value)."""
    if not isinstance(value, str):
        return "must be a string"
    if not value:
        return "must not be empty"
    if "\x00" in value:
        return "must not contain NUL characters (agents receive secrets as environment variables)"
    if len(value.encode("utf-8")) > MAX_VALUE_BYTES:
        return f"must be at most {MAX_VALUE_BYTES} bytes (agents receive secrets as environment variables)"
    return None


def check_name(name: str) -> str:
    problem = name_problem(name)
    if problem:
        raise ValueError(problem)
    return name


class SecretMap(Body):
    """A body that is the map itself, `{NAME: value, ...}` (the SDK's session routes, and the
    BYOI README's `POST /v1/secrets`).

    Entries are checked by `problems()` so that each error names its secret (pydantic's
    error locations would drop upper-case keys).
    """

    model_config = ConfigDict(extra="allow", defer_build=True,
                              json_schema_extra={"additionalProperties": {"type": "string"}})
    # Every value is a secret, whatever its key: "*" asks cassette.Redactor to blank them all.
    SECRET_FIELDS: ClassVar[tuple[str, ...]] = ("*",)

    def entries(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    def problems(self) -> list[dict[str, str]]:
        """Field-level details for every bad name or value (empty when all are fine)."""
        details = []
        for name, value in self.entries().items():
            problem = name_problem(name)
            if problem:
                details.append({"field": name[:200], "message": f"secret name {problem}"})
            problem = value_problem(value)
            if problem:
                details.append({"field": name[:200], "message": f"value {problem}"})
        return details


class SetSecret(Body):
    """One secret, org-wide or scoped to `sessionId` (the reference's `POST /v1/secrets`)."""

    SECRET_FIELDS: ClassVar[tuple[str, ...]] = ("value",)  # blanked by cassette.Redactor in journal and cassettes

    name: str = Field(description="Letters, digits, '_' and '-'.")
    value: str = Field(description="Encrypted at rest; never returned.")
    sessionId: str | None = Field(default=None, min_length=1, max_length=200)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_name(value)

    @field_validator("value")
    @classmethod
    def _value(cls, value: str) -> str:
        problem = value_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class SetSecrets(SecretMap):
    """`POST /v1/secrets`: the reference's one secret `{name, value, sessionId?}` (SetSecret),
    or the SDK README's map `{NAME: value, ...}` (bring your own infrastructure), org-wide
    or scoped to `sessionId`. A body naming `name` or `value`, or an empty one, is the
    reference's form (`named()` checks it), so `{"name", "value"}` is never two secrets."""

    # Every value is a secret but those of `name` and `sessionId` (cassette.Redactor).
    SECRET_FIELDS: ClassVar[tuple[str, ...]] = ("*", "!name", "!sessionId")

    name: Any = None
    value: Any = None
    sessionId: str | None = Field(default=None, min_length=1, max_length=200)

    @property
    def is_map(self) -> bool:
        return not ({"name", "value"} & self.model_fields_set) and bool(self.entries())

    def named(self) -> dict[str, Any]:
        """The reference-form fields as sent, for SetSecret to check."""
        return {name: getattr(self, name) for name in ("name", "value", "sessionId") if name in self.model_fields_set}


class SessionSecrets(SecretMap):
    """`POST /v1/sessions/:id/secrets`: the body is the map itself, `{NAME: value, ...}`."""
