"""Bodies of the providers routes: the reference's `POST /v1/providers {provider,
credentials, isDefault?}` and the BYOI form `PUT /v1/providers/:provider {credentialRef?,
config?, credentials?, isDefault?}` (sdk-compat.md, "Secrets").

Configurable compute providers are e2b, fly and webhook (agents may also name `docker`
and `mock`, which need no configuration); the SDK README's bring-your-own-model providers
are anthropic and openai, whose `config.baseUrl` points at any OpenAI-compatible gateway.
Credentials are any non-empty JSON object; they are encrypted at rest and never returned.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal, get_args

from pydantic import Field, field_validator, model_validator

from theazo_emu.core.fields import check_http_url
from theazo_emu.theazo.bodies.core import Body
from theazo_emu.theazo.bodies.secrets import check_name

ConfigurableProvider = Literal["e2b", "fly", "webhook", "anthropic", "openai"]
CONFIGURABLE = get_args(ConfigurableProvider)


def check_config(config: dict[str, Any] | None) -> dict[str, Any] | None:
    """A gateway's `baseUrl`, when the config has one, is an http(s) URL."""
    if config is not None and "baseUrl" in config:
        url = config["baseUrl"]
        try:
            if not isinstance(url, str) or len(url) > 2000:
                raise ValueError
            check_http_url(url)
        except ValueError:
            raise ValueError("baseUrl must be an absolute http(s) URL of at most 2000 characters") from None
    return config


class CreateProvider(Body):
    """Configure (or reconfigure) a compute provider."""

    SECRET_FIELDS: ClassVar[tuple[str, ...]] = ("credentials",)

    provider: ConfigurableProvider
    credentials: dict[str, Any] = Field(min_length=1, max_length=100,
                                        description="Encrypted at rest; never returned.")
    isDefault: bool = False


class UpdateProvider(Body):
    """Configure a provider by path: credentials inline or a reference to an org secret."""

    SECRET_FIELDS: ClassVar[tuple[str, ...]] = ("credentials",)

    credentialRef: str | None = Field(default=None, description="Name of an org-wide secret.")
    config: dict[str, Any] | None = Field(default=None, max_length=100)
    credentials: dict[str, Any] | None = Field(default=None, min_length=1, max_length=100)
    isDefault: bool | None = None

    @field_validator("config")
    @classmethod
    def _config(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return check_config(value)

    @field_validator("credentialRef")
    @classmethod
    def _ref(cls, value: str | None) -> str | None:
        return None if value is None else check_name(value)

    @model_validator(mode="after")
    def _something(self) -> "UpdateProvider":
        if not self.model_fields_set:
            raise ValueError("give at least one of credentials, credentialRef, config, isDefault")
        return self

