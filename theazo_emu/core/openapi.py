"""The OpenAPI 3.1 document of a surface, built from its route table and the body models.

Nothing here is written by hand per route: every `ApiRoute` contributes its path,
method, summary, public flag, success statuses, query parameters (declared with the
route: `api_route(..., query=..., also=...)`) and body model, whose JSON Schema pydantic
produces. So
the document cannot drift from what the server validates. Building it imports every
family of the surface.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from theazo_emu.core import lazy
from theazo_emu.core.http import ApiRoute
from theazo_emu.core.version import __version__

if TYPE_CHECKING:
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


def build(surface: "Surface") -> dict[str, Any]:
    paths: dict[str, dict] = {}
    schemas: dict[str, Any] = {"Error": dict(surface.error_schema or ERROR_SCHEMA)}
    for route in [*lazy.routes(surface), *lazy.declared_routes(surface, surface.core())]:
        path = _CONVERTER.sub(r"{\1}", route.path)
        for method in sorted(route.methods - {"HEAD"}):
            paths.setdefault(path, {})[method.lower()] = _operation(route, path, schemas)
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


_ERROR = {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def _operation(route: ApiRoute, path: str, schemas: dict[str, Any]) -> dict[str, Any]:
    declared = route.declared
    successes = sorted({route.success_status, *declared.also})
    op: dict[str, Any] = {
        "operationId": route.name,
        "summary": route.summary,
        "parameters": [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                       for name in _CONVERTER.findall(path)]
        + [{"name": name, "in": "query", "required": False, "schema": {"type": "string"}} for name in declared.query],
        "responses": {**{str(status): {"description": "Success"} for status in successes}, "default": _ERROR},
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
