"""Every status a route answers is declared in its surface's OpenAPI document.

Three nets, none written by hand per route: the kernel refuses (500, logged) a success
status a route does not declare; each endpoint's own source is read for the statuses it
chooses at run time (`respond(body, 201 if created else 200)`, `RedirectResponse(...,
status_code=303)`), which its declaration must list; and each document lists, for every
route the server serves, what the declaration says and the errors the kernel and the
surface's guards answer on it, in that surface's statuses.
"""

from __future__ import annotations

import ast
import inspect
import json
import textwrap

import httpx
import pytest
from click.testing import CliRunner

from conftest import assert_error, make_agent
from theazo_emu.cli.main import main
from theazo_emu.core import lazy, openapi
from theazo_emu.core.http import ApiRoute
from theazo_emu.surfaces import SURFACES

DOCUMENTS = {surface.name: openapi.build(surface) for surface in SURFACES}
ROUTES = [(surface, route) for surface in SURFACES
          for route in [*lazy.routes(surface), *lazy.declared_routes(surface, surface.core())]]
AUTH = {"Authorization": "Bearer th_test_declared"}
_DEFAULT = {"RedirectResponse": 307}  # a response class's status when none is given (others: 200)


def _operation(surface, route: ApiRoute) -> dict:
    path = openapi._CONVERTER.sub(r"{\1}", route.path)
    return DOCUMENTS[surface.name]["paths"][path][route.declared.method.lower()]


def _chosen_statuses(endpoint) -> set[int]:
    """The success statuses an endpoint's own code answers with: the literal ints given as the
    status of `respond(...)`, `Json(...)` or any `...Response(...)` it builds, or their defaults."""
    found: set[int] = set()
    for node in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(endpoint)))):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", getattr(node.func, "attr", ""))
        if name not in ("respond", "Json") and not name.lower().endswith("response"):
            continue
        given = [kw.value for kw in node.keywords if kw.arg in ("status", "status_code")]
        if name in ("respond", "Json") and len(node.args) > 1:
            given.append(node.args[1])
        literals = {c.value for g in given for c in ast.walk(g) if isinstance(c, ast.Constant)
                    and isinstance(c.value, int)}
        found |= literals if given else {_DEFAULT.get(name, 200)}
    return {status for status in found if status < 400}


@pytest.mark.parametrize("surface,route", ROUTES, ids=[f"{r.declared.method} {r.path}" for _, r in ROUTES])
def test_every_status_a_route_answers_is_in_its_document(surface, route):
    declared = route.declared
    responses = _operation(surface, route)["responses"]
    assert _chosen_statuses(declared.endpoint) <= set(declared.successes), "declare it: api_route(..., also=...)"
    assert {str(status) for status in openapi.answers(surface, route)} | {"default"} == set(responses)
    assert {str(status) for status in declared.successes} <= set(responses)


def test_the_source_reading_sees_run_time_choices():
    # It would be toothless if it missed the shapes endpoints use to choose a status.
    async def upsert(ctx):
        return respond({}, 201 if ctx else 200)  # noqa: F821 (read, never run)

    async def redirect(ctx):
        return RedirectResponse("/", status_code=303)  # noqa: F821

    async def page(ctx):
        return HTMLResponse("")  # noqa: F821

    assert (_chosen_statuses(upsert), _chosen_statuses(redirect), _chosen_statuses(page)) == ({200, 201}, {303}, {200})


def test_guards_and_kernel_errors_are_declared_in_each_surfaces_own_statuses():
    theazo, theo, admin = (DOCUMENTS[name]["paths"] for name in ("theazo", "theo", "admin"))
    ports = theazo["/v1/agents/{agent_id}/ports"]["post"]["responses"]
    assert sorted(ports) == ["200", "201", "401", "403", "404", "409", "413", "422", "429", "default"]
    assert ports["422"]["description"] == "unprocessable_entity"
    keys = theo["/api/v1/keys"]["post"]["responses"]  # Theo: validation is 400
    assert {"201", "400", "401", "403", "409", "413", "429"} <= set(keys) and "422" not in keys
    clock = admin["/_emu/clock/advance"]["post"]["responses"]  # no key, no guard
    assert sorted(clock) == ["200", "409", "413", "422", "default"]
    assert theazo["/v1/billing/checkout/{checkout_id}"]["post"]["responses"].keys() >= {"303"}
    assert admin["/_emu/ui"]["get"]["responses"]["200"]["content"] == {"text/html": {"schema": {"type": "string"}}}
    successes = {op["operationId"]: sorted(code for code in op["responses"] if code < "300")
                 for item in theazo.values() for op in item.values()}
    assert successes["set_secret"] == successes["session_for_user"] == successes["run_workflow"] == ["200", "201"]
    assert successes["fire_trigger"] == ["202"]
    parameters = {p["name"] for op in theazo["/v1/sessions"].values() for p in op["parameters"]}
    assert parameters >= {"status", "userId", "createdAfter", "limit", "cursor"}


def test_exposing_a_port_twice_answers_the_two_statuses_its_document_declares(client, auth):
    agent = make_agent(client, auth)
    first = client.post(f"/v1/agents/{agent['id']}/ports", json={"port": 1}, headers=auth)
    again = client.post(f"/v1/agents/{agent['id']}/ports", json={"port": 1}, headers=auth)
    document = client.get("/v1/openapi.json").json()
    declared = document["paths"]["/v1/agents/{agent_id}/ports"]["post"]["responses"]
    assert (first.status_code, again.status_code) == (201, 200) and {"200", "201"} <= set(declared)


def test_an_undeclared_success_status_fails_the_projects_tests_and_is_logged_for_a_user(
        app, client, auth, caplog, monkeypatch):
    route = _served(app, "/v1/agents/{agent_id}/ports")
    agent = make_agent(client, auth)
    assert client.post(f"/v1/agents/{agent['id']}/ports", json={"port": 2}, headers=auth).status_code == 201
    route._declared = route.declared._replace(also=())  # as the route was declared before
    error = assert_error(client.post(f"/v1/agents/{agent['id']}/ports", json={"port": 2}, headers=auth),
                         500, "internal_error")  # the suite runs strict (conftest)
    assert "traceback" not in json.dumps(error).lower()
    assert "expose_port answered 200, which its route does not declare" in caplog.text
    caplog.clear()
    monkeypatch.setattr(ApiRoute, "strict_statuses", False)  # as a user runs it: the answer goes out, logged
    assert client.post(f"/v1/agents/{agent['id']}/ports", json={"port": 2}, headers=auth).status_code == 200
    assert "expose_port answered 200, which its route does not declare" in caplog.text


def _served(app, path: str) -> ApiRoute:
    for mount in app.router.routes:
        for route in getattr(mount.app, "routes", ()):
            if isinstance(route, ApiRoute) and route.path == path:
                return route
    raise LookupError(path)


def test_the_admin_document_is_served_and_printed_alike_and_lists_every_admin_route(client):
    served = client.get("/_emu/openapi.json")
    printed = json.loads(CliRunner().invoke(main, ["openapi", "--surface", "admin"]).output)
    assert served.status_code == 200 and served.json() == printed
    listed = {tuple(line.split()[:2]) for line in CliRunner().invoke(main, ["routes"]).output.splitlines()}
    admin = {(method, path) for method, path in listed if path.startswith("/_emu/")}
    documented = {(method.upper(), path) for path, item in printed["paths"].items() for method in item}
    assert admin == {(m, openapi._CONVERTER.sub(r"{\1}", p)) for m, p in admin} == documented
    assert len(admin) >= 35 and ("GET", "/_emu/openapi.json") in documented
    assert printed["info"]["title"] == "theazo-emu admin API (theazo-emu)"
    assert all(op["security"] == [] for item in printed["paths"].values() for op in item.values())
    reset = printed["paths"]["/_emu/reset"]["post"]
    assert reset["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ResetBody"}
    assert "required" in printed["components"]["schemas"]["Error"]


def test_the_admin_document_answers_head_a_theo_key_and_stray_queries_and_refuses_other_methods(client):
    whole = client.get("/_emu/openapi.json").content
    head = client.head("/_emu/openapi.json")
    assert head.status_code == 200 and head.content == b"" and head.headers["content-length"] == str(len(whole))
    assert client.get("/_emu/openapi.json?surface=theo&x", headers={
        "Authorization": "Bearer theo_sk_test_abc"}).content == whole
    for method in ("OPTIONS", "POST", "DELETE"):
        response = client.request(method, "/_emu/openapi.json")
        assert assert_error(response, 405, "method_not_allowed")["error"]["message"] == \
            f"Method {method} is not allowed on /_emu/openapi.json." and response.headers["allow"] == "GET, HEAD"


@pytest.mark.server
def test_a_running_server_serves_each_document_as_the_cli_prints_it(server):
    for surface in SURFACES:
        printed = json.loads(CliRunner().invoke(main, ["openapi", "--surface", surface.name]).output)
        served = httpx.get(f"{server}{surface.openapi}")
        assert served.status_code == 200 and served.headers["content-type"] == "application/json"
        assert served.json() == printed
    agent = httpx.post(f"{server}/v1/sessions", json={"userId": "u"}, headers=AUTH).json()
    agent = httpx.post(f"{server}/v1/sessions/{agent['id']}/agents", json={}, headers=AUTH).json()
    answers = [httpx.post(f"{server}/v1/agents/{agent['id']}/ports", json={"port": 1}, headers=AUTH).status_code
               for _ in range(2)]
    declared = httpx.get(f"{server}/v1/openapi.json").json()["paths"]["/v1/agents/{agent_id}/ports"]["post"]
    assert answers == [201, 200] and {"200", "201"} <= declared["responses"].keys()
