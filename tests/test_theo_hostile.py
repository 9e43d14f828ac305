"""Hostile input on every Theo route: values JSON should not carry (NaN, huge numbers, lone
surrogates), bodies of the wrong type, fields of the wrong type, oversize strings, and path
ids with CR/LF, lone surrogates or 5,000 characters. Each answer is below 500 and, when
refused, in Theo's envelope; nothing a refused write sends is stored."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import START
from starlette.testclient import TestClient
from theo_support import bearer, held, theo_key

from theazo_emu import create_app
from theazo_emu.settings import Settings

ROOT = Path(__file__).parent.parent
ROUTES = [(cells[1], cells[2]) for cells in (line.split("\t") for line in
                                            (ROOT / "theazo_emu/core/routes.txt").read_text().splitlines())
          if len(cells) > 3 and cells[0] == "theo"]
WRITES = [(m, p) for m, p in ROUTES if m in ("POST", "PATCH", "PUT", "DELETE")]
RAW_BODIES = ["NaN", '{"prompt": NaN}', '{"x": Infinity}', '{"amount_cents": 1e999}', '{"count": ' + "9" * 400 + "}",
              '{"name": "\\ud800"}', '{"text": "x\\udc00y"}', "[]", '"string"', "5", "null", "{", '{"a":1}{}',
              "\xff\xfe"]
FIELDS = ("prompt", "name", "url", "text", "skillId", "id", "slug", "amount_cents", "event_types", "graph_json",
          "manifest", "timezone", "requested_tier", "eventType", "orgId", "message", "count", "format", "steps")
TYPED = [{f: value for f in FIELDS} for value in ([1, 2], {"a": 1}, True, -1, 2 ** 70, "x" * 70_000, "a\r\nb")]
IDS = ["%0D%0AX-Evil:%201", "%ED%A0%80", "x" * 5000, "..%2F..%2Fetc", "%00"]


def _path(path: str, ident: str) -> str:
    return re.sub(r"\{[a-z_]+\}", ident, path)


@pytest.fixture(scope="module")
def module_client():
    with TestClient(create_app(Settings(clock=START, seed=0))) as client:
        yield client


def _ok(response) -> None:  # noqa: ANN001
    assert response.status_code < 500, response.text
    if response.status_code >= 400 and response.headers.get("content-type", "").startswith("application/json"):
        body = response.json()
        assert set(body) == {"error"} or "compiled" in body, body
        assert {"message", "type", "code", "request_id"} <= set(body["error"]), body


@pytest.mark.parametrize("method,path", WRITES)
def test_every_theo_write_refuses_hostile_bodies_without_a_500(module_client, method, path):
    key = theo_key()
    target = _path(path, "00000000-0000-4000-8000-000000000000")
    before = held(module_client, key)
    for raw in RAW_BODIES:
        response = module_client.request(method, target, content=raw.encode("utf-8", "surrogatepass"),
                                         headers={**bearer(key), "Content-Type": "application/json"})
        _ok(response)
        if "{" in raw and raw not in ('{"a":1}{}', "{"):
            assert response.status_code >= 400, (raw, response.text)
    for body in TYPED:
        _ok(module_client.request(method, target, content=json.dumps(body).encode(),
                                  headers={**bearer(key), "Content-Type": "application/json"}))
    assert held(module_client, key)["conversations"] == before["conversations"]


@pytest.mark.parametrize("method,path", [(m, p) for m, p in ROUTES if "{" in p])
def test_every_theo_id_route_takes_hostile_ids_without_a_500(module_client, method, path):
    key = theo_key()
    for ident in IDS:
        response = module_client.request(method, _path(path, ident), headers=bearer(key),
                                         content=b"{}" if method != "GET" else None)
        _ok(response)
        assert response.status_code in (400, 403, 404, 405), (ident, response.status_code, response.text)
        assert "\r" not in "".join(f"{k}{v}" for k, v in response.headers.items())
