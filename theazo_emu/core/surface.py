"""Surfaces: one declaration per product the emulator serves, each mounted on its own prefix.

A `Surface` says everything that differs between products: its prefix, how an API key
authenticates to a tenant, how an error renders (envelope and codes, and how the kernel's
own failures map to them), which guards run before its endpoints, its catalogue of
endpoints (what answers 501), its OpenAPI document (core/openapi.openapi_document serves any surface's),
its families and its middleware.
`mount()` turns one into a Starlette `Mount` whose router holds that surface's routes and
renders every failure in that surface's envelope, so an unknown path under `/api/v1` gets
Theo's 404 and one under `/v1` gets Theazo's, with no path tests anywhere.
The declarations are in surfaces/; the families in registry.py.
"""

from __future__ import annotations

from collections import defaultdict
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, Mapping, NamedTuple

from starlette.datastructures import URL
from starlette.middleware import Middleware
from starlette.responses import RedirectResponse, Response
from starlette.routing import Match, Mount, Router
from starlette.types import Receive, Scope, Send

from theazo_emu.core import errors, lazy

if TYPE_CHECKING:
    from theazo_emu.core.host import Host
    from theazo_emu.core.http import ApiRoute, Ctx, Declared, Guard
    from theazo_emu.registry import Family

# (emulator, the Authorization header's value) -> (API key, tenant); raises the surface's 401/403.
Authenticate = Callable[["Host", str | None], tuple[str | None, str]]
# (request id, status, code, message, details, headers) -> the error response.
RenderError = Callable[[str, int, str, str, Any, dict[str, str]], Response]


class Surface(NamedTuple):  # not a dataclass: building one costs start-up time
    name: str
    prefix: str
    title: str
    families: tuple["Family", ...]
    authenticate: Authenticate
    render_error: RenderError
    # The kernel's failures by kind (errors.ApiError.kind) -> this surface's (status, code).
    generic: Mapping[str, tuple[int, str]] = MappingProxyType({})
    guards: tuple[str, ...] = ()  # names in emulator.GUARD_ORDER that run before its endpoints
    # The surface's own implementation of a guard it names (its rate limit, its scopes), by name;
    # a name not here runs the emulator's.
    own_guards: Mapping[str, "Guard"] = MappingProxyType({})
    catalog: str | None = None  # data file of the endpoints its clients may call
    openapi: str | None = None  # where its OpenAPI document is served
    middleware: tuple[Middleware, ...] = ()
    key_format: str = "th_test_..."  # how its keys look, for its OpenAPI document
    error_schema: Mapping[str, Any] | None = None  # its error envelope's JSON Schema (None: Theazo's)
    # Routes every instance serves from the start (no family to load): declared in the kernel.
    core: Callable[[], list["Declared"]] = list


def mount(surface: Surface, emu: "Host") -> Mount:
    """The surface as a Mount: its routes (family routes from the table, then its core ones)."""
    guards = emu.guards_for(surface)
    routes: list[ApiRoute] = [*lazy.routes(surface, guards), *lazy.declared_routes(surface, surface.core(), guards)]
    return Mount(surface.prefix, app=SurfaceRouter(surface, routes), middleware=list(surface.middleware),
                 name=surface.name)


class SurfaceRouter(Router):
    """A surface's router. It tries, in declaration order, only the routes of the request's
    method whose first path segment below the prefix is the request's (`GET /v1/fleets/...`
    never meets the sessions routes, nor the fleets' POSTs); a request none of them takes goes through the whole table, as Starlette's Router
    would, and what nothing takes is answered here in the surface's envelope (errors.no_route:
    404, 405 with `Allow`, or 501), with no exception middleware in between."""

    def __init__(self, surface: Surface, routes: list["ApiRoute"]) -> None:
        super().__init__(routes=routes)
        self.surface = surface
        self._depth = surface.prefix.count("/") + 1
        self._by_segment: dict[tuple[str, str], list[ApiRoute]] = defaultdict(list)
        for route in routes:
            for method in route.methods:
                self._by_segment[route.path.split("/")[self._depth], method].append(route)

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().app(scope, receive, send)
            return
        parts = scope["path"].split("/", self._depth + 1)
        key = (parts[self._depth], scope["method"]) if len(parts) > self._depth else None
        candidates = self._by_segment.get(key, ())
        for route in candidates:
            match, child = route.matches(scope)
            if match is Match.FULL:
                scope["route"] = route
                scope.update(child)
                await route.handle(scope, receive, send)
                return
        allowed: set[str] = set()
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is not Match.NONE:
                allowed |= route.methods or set()
        if not allowed and scope["path"] != self.surface.prefix + "/":
            target = scope["path"].rstrip("/") if scope["path"].endswith("/") else scope["path"] + "/"
            if any(route.matches({**scope, "path": target})[0] is not Match.NONE for route in self.routes):
                await RedirectResponse(str(URL(scope={**scope, "path": target})))(scope, receive, send)
                return
        error = errors.no_route(self.surface, scope, allowed, self.routes)
        await errors.render(self.surface, scope, error)(scope, receive, send)


class Dispatcher(Router):
    """The app's top-level router: a request goes to the surface whose prefix its path is under
    (a string test per surface, where a Mount list would match a regex and build a scope per
    mount), and a path under no prefix answers the fallback surface's 404 itself; `GET /` (a
    person who opened the server's URL) is sent on to `home`, the inspector."""

    def __init__(self, mounts: list[Mount], fallback: Surface, lifespan: Any, home: str | None = None) -> None:
        super().__init__(routes=mounts, lifespan=lifespan)
        self._prefixes = [(mount.path + "/", mount) for mount in mounts]
        self.fallback, self.home = fallback, home

    async def app(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().app(scope, receive, send)
            return
        path, root_path = scope["path"], scope.get("root_path", "")
        for prefix, mount in self._prefixes:
            if path.startswith(prefix, len(root_path)):
                scope.update(app_root_path=scope.get("app_root_path", root_path), root_path=root_path + mount.path,
                             path_params={})
                await mount.app(scope, receive, send)
                return
        if self.home and path == root_path + "/" and scope["method"] in ("GET", "HEAD"):
            await RedirectResponse(root_path + self.home, status_code=307)(scope, receive, send)
            return
        error = errors.no_route(self.fallback, scope, set())
        await errors.render(self.fallback, scope, error)(scope, receive, send)
