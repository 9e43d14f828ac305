"""docs/not-emulated.md's "Not emulated (yet)" list is exactly the catalogue minus our routes, and
catalogued endpoints we do not serve answer 501 rather than a bare 404."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import assert_error

from theazo_emu.app import api_routes
from theazo_emu.core import errors
from theazo_emu.core.catalog import endpoints

NOT_EMULATED = Path(__file__).resolve().parent.parent / "docs" / "not-emulated.md"


def _served(app) -> set[str]:  # noqa: ANN001
    """What the app answers: its routes (family routes still unloaded) as `METHOD /path/:_`."""
    return {f"{m} {re.sub(r'{[^}]+}', ':_', r.path)}" for r in api_routes(app) for m in r.methods - {"HEAD"}}


_PARAM = re.compile(r":\w+")


def _normal(method: str, path: str) -> str:
    return f"{method} {_PARAM.sub(':_', path)}"


def test_readme_not_emulated_list_is_the_catalogue_minus_the_routes(app) -> None:
    section = NOT_EMULATED.read_text().split("## Not emulated (yet)", 1)[1].split("\n## ", 1)[0]
    listed = {_normal(*item.split(" ", 1)) for item in re.findall(r"`((?:GET|POST|PUT|PATCH|DELETE) /v1/[^`]+)`", section)}
    missing = {_normal(m, p) for m, p, _ in endpoints()} - _served(app)
    assert listed == missing


def test_every_reference_endpoint_of_the_foundation_is_served(app) -> None:
    served = _served(app)
    for path in ("/v1/sessions", "/v1/sessions/by-user/:id", "/v1/sessions/:id/agents", "/v1/agents/:id/run",
                 "/v1/agents/:id/exec", "/v1/agents/:id/pause", "/v1/agents/:id/resume", "/v1/agents/:id/terminate",
                 "/v1/usage/summary"):
        method = "GET" if path == "/v1/usage/summary" else "POST"
        assert _normal(method, path) in served, path
    assert _normal("GET", "/v1/agents/:id/stream") in served


def test_a_catalogued_endpoint_not_emulated_answers_501(client, auth, monkeypatch) -> None:
    # Whatever the catalogue still lacks: an endpoint it names that no route serves.
    original = errors.known
    monkeypatch.setattr(errors, "known", lambda name, method, path: "/v1/widgets/:wid" if method == "POST"
                        and re.fullmatch(r"/v1/widgets/[^/]+", path) else original(name, method, path))
    body = assert_error(client.post("/v1/widgets/w_1", json={"content": "hi"}, headers=auth), 501, "not_implemented")
    assert body["error"]["details"] == {"endpoint": "POST /v1/widgets/:wid"}
    assert "docs/not-emulated.md" in body["error"]["message"]


def test_an_unknown_path_is_still_404(client, auth) -> None:
    assert_error(client.get("/v1/nothing-here", headers=auth), 404, "not_found")
