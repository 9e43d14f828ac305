"""A schema-driven fuzzer against the three OpenAPI documents (Theazo, Theo, the admin API):
no server error, no answer that breaks the document (status, content type, schema, headers).

schemathesis reads each document from its own in-process app (so the admin API's resets,
recordings and clock moves disturb nothing else) and sends every operation a few generated
requests (a fixed seed, so CI runs the same ones every time), with a Theazo key on /v1 and a
Theo key on /api/v1. Endless SSE streams are left out: an in-process client would wait on
them forever (schemathesis itself skips each document's own operation, which
test_declared_statuses.py drives). A success status a route does not declare is the kernel's 500 (core/http.py),
so `not_a_server_error` catches it too. Also here: the document declares every query
parameter a route reads (a recording of what the routes read while the fuzzer drives them).
"""

from __future__ import annotations

import re

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
from theazo_emu.surfaces import ADMIN, THEAZO, THEO

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]
ENDLESS = r".*/stream$"  # SSE feeds that end only when the client leaves


def _document(surface, key: str | None):
    """The surface's served document on an app of its own, the headers to send, and the query
    parameters each operation declares."""
    app = create_app(Settings(clock="2025-05-01T00:00:00Z", seed=0))
    schema = schemathesis.openapi.from_asgi(surface.openapi, app).exclude(path_regex=ENDLESS)
    declared = {op["operationId"]: {p["name"] for p in op["parameters"] if p["in"] == "query"}
                for item in openapi.build(surface)["paths"].values() for op in item.values()}
    return schema, {"Authorization": f"Bearer {key}"} if key else {}, declared


THEAZO_DOC = _document(THEAZO, "th_test_fuzz")
THEO_DOC = _document(THEO, "theo_sk_test_fuzz")
ADMIN_DOC = _document(ADMIN, None)  # the admin API takes no key


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


def _fuzz(document, case, monkeypatch) -> None:
    _, headers, declared = document
    read: set[str] = set()
    monkeypatch.setattr(http.Ctx, "query", property(lambda ctx: _Recorded(ctx.request.query_params, read)))
    case.call_and_validate(headers=headers, checks=CHECKS)
    # Every query parameter the route read is one the document declares.
    assert read <= declared[case.operation.definition.raw["operationId"]], read


FUZZ = settings(max_examples=2, derandomize=True, deadline=None, database=None,
                phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))


@THEAZO_DOC[0].parametrize()
@FUZZ
def test_theazo_answers_nothing_outside_its_document(case, monkeypatch):
    _fuzz(THEAZO_DOC, case, monkeypatch)


@THEO_DOC[0].parametrize()
@FUZZ
def test_theo_answers_nothing_outside_its_document(case, monkeypatch):
    _fuzz(THEO_DOC, case, monkeypatch)


@ADMIN_DOC[0].parametrize()
@FUZZ
def test_the_admin_api_answers_nothing_outside_its_document(case, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    if case.path == "/_emu/record" and case.method == "POST" and isinstance(case.body, dict) \
            and isinstance(case.body.get("file"), str):
        # A cassette is a file the server writes: the generated name is kept, inside tmp_path.
        case.body["file"] = str(tmp_path / (re.sub(r"[^\w.-]", "_", case.body["file"])[:50] or "_"))
    _fuzz(ADMIN_DOC, case, monkeypatch)
