"""A schema-driven fuzzer against the Theazo OpenAPI document: no server error, no answer
that breaks the document (status, content type, schema, headers).

schemathesis reads /v1/openapi.json from the in-process app and sends every operation a
few generated requests (a fixed seed, so CI runs the same ones every time). Endless SSE
streams are left out: an in-process client would wait on them forever. Also here: the
document declares every success status and every query parameter a route reads (a
recording of what the routes read while the fuzzer drives them).
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from theazo_emu import create_app
from theazo_emu.core import http, openapi
from theazo_emu.settings import Settings
from theazo_emu.surfaces import THEAZO

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
AUTH = {"Authorization": "Bearer th_test_fuzz"}
APP = create_app(Settings(clock="2025-05-01T00:00:00Z", seed=0))
SCHEMA = schemathesis.openapi.from_asgi("/v1/openapi.json", APP).exclude(path_regex=r".*/stream$")
DECLARED = {op["operationId"]: {p["name"] for p in op["parameters"] if p["in"] == "query"}
            for item in openapi.build(THEAZO)["paths"].values() for op in item.values()}


class _Recorded:
    """The request's query, noting each name an endpoint reads."""

    def __init__(self, params, seen: set[str]) -> None:
        self.params, self.seen = params, seen

    def get(self, name, default=None):
        self.seen.add(name)
        return self.params.get(name, default)

    def __getitem__(self, name):
        self.seen.add(name)
        return self.params[name]

    def __contains__(self, name):
        self.seen.add(name)
        return name in self.params


@SCHEMA.parametrize()
@settings(max_examples=2, derandomize=True, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=list(HealthCheck))
def test_no_server_error_and_no_answer_outside_the_document(case, monkeypatch):
    read: set[str] = set()
    monkeypatch.setattr(http.Ctx, "query", property(lambda ctx: _Recorded(ctx.request.query_params, read)))
    case.call_and_validate(headers=AUTH, checks=CHECKS)
    # Every query parameter the route read is one the document declares.
    assert read <= DECLARED[case.operation.definition.raw["operationId"]], read


def test_every_success_status_is_declared():
    document = openapi.build(THEAZO)
    codes = {op["operationId"]: sorted(op["responses"]) for item in document["paths"].values() for op in item.values()}
    assert codes["set_secret"] == ["200", "201", "default"]
    assert codes["session_for_user"] == ["200", "201", "default"]
    assert codes["run_workflow"] == ["200", "201", "default"]
    assert codes["fire_trigger"] == ["202", "default"]
    parameters = {p["name"] for op in document["paths"]["/v1/sessions"].values() for p in op["parameters"]}
    assert parameters >= {"status", "userId", "createdAfter", "limit", "cursor"}
