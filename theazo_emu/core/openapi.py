"""The OpenAPI 3.1 document of a surface, built from its route table and the body models.

Nothing here is written by hand per route: every `ApiRoute` contributes its path,
method, summary, public flag, success statuses and media type, query parameters (declared
with the route: `api_route(..., query=..., also=..., media=...)`) and body model, whose JSON
Schema pydantic produces. So the document cannot drift from what the server validates. The
kernel logs a success status a route does not declare (the project's tests fail on it), and
`answers` adds the errors the kernel and the surface's guards may answer on it, in the
surface's own statuses; any other error (a fault rule's, a 500) is the `default` answer.
Building it imports every family of the surface.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from theazo_emu.core import errors, lazy
from theazo_emu.core.errors import ApiError, Conflict, Forbidden, NotFound, PayloadTooLarge, RateLimited, \
    Unauthorized, Unprocessable
from theazo_emu.core.http import ApiRoute
from theazo_emu.core.version import __version__

if TYPE_CHECKING:
    from theazo_emu.core.http import Ctx
    from theazo_emu.core.surface import Surface

_CONVERTER = re.compile(r"\{(\w+)(?::\w+)?\}")

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "requestId"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "requestId"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {},
                           "requestId": {"type": "string"}},
        },
        "requestId": {"type": "string"},
    },
}


# The guards' refusals (core/surface.Surface.guards), for a route that takes a key.
_GUARDED: dict[str, type[ApiError]] = {"rate_limit": RateLimited, "scopes": Forbidden, "idempotency": Conflict}


def build(surface: "Surface") -> dict[str, Any]:
    paths: dict[str, dict] = {}
    schemas: dict[str, Any] = {"Error": dict(surface.error_schema or ERROR_SCHEMA)}
    for route in [*lazy.routes(surface), *lazy.declared_routes(surface, surface.core())]:
        path = _CONVERTER.sub(r"{\1}", route.path)
        for method in sorted(route.methods - {"HEAD"}):
            paths.setdefault(path, {})[method.lower()] = _operation(surface, route, path, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{surface.title} (theazo-emu)", "version": __version__},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": surface.key_format}},
        },
    }


_ERROR_BODY = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


def answers(surface: "Surface", route: ApiRoute) -> dict[int, str]:
    """Every status `route` may answer besides `default`, each with its code or "Success": its
    declared success statuses, then what the kernel refuses on it (a key, a path's record, a
    body or query, a unique value taken by a write) and what the surface's guards refuse."""
    declared = route.declared
    refusals: list[type[ApiError]] = []
    if not route.public:
        refusals += [Unauthorized, *(_GUARDED[g] for g in surface.guards if g in _GUARDED)]
    if _CONVERTER.search(route.path):
        refusals.append(NotFound)
    if declared.body is not None or declared.query:
        refusals.append(Unprocessable)
    if declared.method not in ("GET", "DELETE"):
        refusals += [PayloadTooLarge, Conflict]
    found = {status: "Success" for status in declared.successes}
    for error in refusals:
        status, code = errors.on(surface, error)
        found.setdefault(status, code)
    return dict(sorted(found.items()))


def _operation(surface: "Surface", route: ApiRoute, path: str, schemas: dict[str, Any]) -> dict[str, Any]:
    declared = route.declared
    success: dict[str, Any] = {"description": "Success"}
    if declared.media != "application/json":  # a page: JSON answers' shapes are not described yet
        success["content"] = {declared.media: {"schema": {"type": "string"}}}
    responses = {str(status): success if why == "Success" else {"description": why, "content": _ERROR_BODY}
                 for status, why in answers(surface, route).items()}
    op: dict[str, Any] = {
        "operationId": route.name,
        "summary": route.summary,
        "parameters": [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                       for name in _CONVERTER.findall(path)]
        + [{"name": name, "in": "query", "required": False, "schema": {"type": "string"}} for name in declared.query],
        "responses": responses | {"default": {"description": "Error", "content": _ERROR_BODY}},
    }
    op["security"] = [] if route.public else [{"bearer": []}]
    if route.body_model is not None:
        schema = route.body_model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        name = route.body_model.__name__
        schemas[name] = schema
        op["requestBody"] = {"required": False,
                             "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}
    return op


async def openapi_document(ctx: "Ctx") -> dict:
    """The OpenAPI 3.1 document of this API, built from its route declarations (the route's
    surface); the families' models load only when a document is asked for."""
    return build(ctx.request.scope["route"].surface)
