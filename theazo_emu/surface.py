"""Surfaces: one declaration per product the emulator serves, each mounted on its own prefix.

A `Surface` says everything that differs between products: its prefix, how an API key
authenticates to a tenant, how an error renders (envelope and codes, and how the kernel's
own failures map to them), which guards run before its endpoints, its catalogue of
endpoints (what answers 501), its OpenAPI document, its families and its middleware.
`mount()` turns one into a Starlette `Mount` whose router holds that surface's routes and
whose exception handlers render that surface's envelope, so an unknown path under
`/api/v1` gets Theo's 404 and one under `/v1` gets Theazo's, with no path tests anywhere.
The declarations are in surfaces/; the families in registry.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Mapping

from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.responses import Response
from starlette.routing import Mount, Router

from . import lazy
from .errors import handlers

if TYPE_CHECKING:
    from .emulator import Emulator
    from .http import ApiRoute, Declared
    from .registry import Family

# (emulator, request headers) -> (API key, tenant); raises the surface's 401/403.
Authenticate = Callable[["Emulator", Headers], tuple[str | None, str]]
# (request id, status, code, message, details, headers) -> the error response.
RenderError = Callable[[str, int, str, str, Any, dict[str, str]], Response]


@dataclass(frozen=True)
class Surface:
    name: str
    prefix: str
    title: str
    families: tuple["Family", ...]
    authenticate: Authenticate
    render_error: RenderError
    # The kernel's failures by kind (errors.ApiError.kind) -> this surface's (status, code).
    generic: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    guards: tuple[str, ...] = ()  # names in emulator.GUARD_ORDER that run before its endpoints
    catalog: str | None = None  # data file of the endpoints its clients may call
    openapi: str | None = None  # where its OpenAPI document is served
    middleware: tuple[Middleware, ...] = ()
    # Routes every instance serves from the start (no family to load): declared in the kernel.
    core: Callable[[], list["Declared"]] = list


def mount(surface: Surface, emu: "Emulator") -> Mount:
    """The surface as a Mount: its routes (family routes from the table, then its core ones)."""
    guards = emu.guards_for(surface)
    routes: list[ApiRoute] = [*lazy.routes(surface, guards), *lazy.declared_routes(surface, surface.core(), guards)]
    router = Router(routes=routes)
    middleware = [*surface.middleware,
                  Middleware(ExceptionMiddleware, handlers=handlers(surface, lambda: router.routes))]
    return Mount(surface.prefix, app=router, middleware=middleware, name=surface.name)
