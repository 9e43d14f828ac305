"""Theo skills over HTTP: the marketplace and installed lists, install and uninstall
(installed skills join completions), create, submit with its review tiers, submissions,
versions, reviews and the sandbox; and E.V.I. canvases: CRUD, compile, test, publish."""

from __future__ import annotations

import pytest
from theo_support import bearer, complete, held, theo_error, theo_key

MANIFEST = {"name": "Standup Helper", "slug": "standup-helper", "version": "1.0.0", "description": "Runs standups.",
            "category": "productivity", "author": {"name": "Ada"}, "systemPromptExtension": "Keep it short.",
            "tools": [], "permissions": ["read:conversations"], "knowledge": [], "license": "MIT", "keywords": []}


def marketplace(client, key):  # noqa: ANN001, ANN201
    return client.get("/api/v1/skills", headers=bearer(key)).json()["skills"]


def test_install_joins_completions_and_uninstall_leaves(client):
    key = theo_key()
    skills = marketplace(client, key)
    assert len(skills) == 6 and {"id", "slug", "name", "category", "isPublic", "installCount", "version"} <= set(
        skills[0])
    research = next(s for s in skills if s["slug"] == "web-research")
    response = client.post("/api/v1/skills", headers=bearer(key), json={"skillId": research["id"]})
    assert response.status_code == 201 and response.json()["installed"] is True
    installed = client.get("/api/v1/skills?filter=installed", headers=bearer(key)).json()["skills"]
    assert [s["id"] for s in installed] == [research["id"]] and installed[0]["installCount"] == \
        research["installCount"] + 1
    body = complete(client, key, "What is new?")
    assert body["skills_active"] == [{"id": research["id"], "slug": "web-research", "name": "Web Research"}]
    assert "web-research skill" in body["content"]
    tools = client.get("/api/v1/tools", headers=bearer(key)).json()["tools"]
    assert tools[-1]["name"] == "web_search" and tools[-1]["skillId"] == research["id"]
    uninstall = {"skillId": research["id"]}
    assert client.request("DELETE", "/api/v1/skills", headers=bearer(key), json=uninstall).json() == {
        "uninstalled": True, "skillId": research["id"], "slug": "web-research"}
    assert "skills_active" not in complete(client, key, "What is new?")
    kinds = [e["type"] for e in client.get("/_emu/theo/events", params={"key": key}).json()["data"]]
    assert "skill.installed" in kinds and "skill.uninstalled" in kinds
    theo_error(client.request("DELETE", "/api/v1/skills", headers=bearer(key), json=uninstall), 404, "not_found")


@pytest.mark.parametrize("body,status,code", [({}, 400, "validation_error"), ({"skillId": "web-research"}, 400,
                                                                                "validation_error"),
                                              ({"skillId": 5}, 400, "validation_error"),
                                              ({"skillId": "00000000-0000-4000-8000-000000000000"}, 404,
                                               "not_found")])
def test_bad_installs(client, body, status, code):
    key = theo_key()
    before = held(client, key)
    theo_error(client.post("/api/v1/skills", headers=bearer(key), json=body), status, code)
    assert held(client, key) == before
    theo_error(client.get("/api/v1/skills?filter=mine", headers=bearer(key)), 400, "validation_error")


def test_create_a_skill_and_its_slug_conflicts(client):
    key = theo_key()
    response = client.post("/api/v1/skills/create", headers=bearer(key), json={
        "name": "Lead Scorer", "slug": "lead-scorer", "category": "automation", "system_prompt_ext": "Score leads.",
        "tool_definitions": [{"name": "score_lead", "description": "Score one lead"}], "is_public": True})
    assert response.status_code == 201, response.text
    skill = response.json()["skill"]
    assert skill["slug"] == "lead-scorer" and skill["isPublic"] is True and skill["version"] == "1.0.0"
    assert skill["id"] in [s["id"] for s in marketplace(client, key)]
    assert skill["id"] not in [s["id"] for s in marketplace(client, theo_key())]  # another tenant's
    for slug in ("lead-scorer", "web-research"):
        theo_error(client.post("/api/v1/skills/create", headers=bearer(key), json={
            "name": "x", "slug": slug, "category": "automation", "system_prompt_ext": "x"}), 409, "conflict")
    theo_error(client.post("/api/v1/skills/create", headers=bearer(key), json={
        "name": "x", "slug": "ok-slug", "category": "games", "system_prompt_ext": "x"}), 400, "validation_error")
    versions = client.get(f"/api/v1/skills/{skill['id']}/versions", headers=bearer(key)).json()["versions"]
    assert [v["version"] for v in versions] == ["1.0.0"] and versions[0]["status"] == "active"
    detail = client.get(f"/api/v1/skills/{skill['id']}", headers=bearer(key)).json()["skill"]
    assert detail["systemPromptExt"] == detail["systemPromptExtension"] == "Score leads."
    # The get page's fields, each of its type.
    assert (detail["declaredPermissions"], detail["reviewStatus"], detail["license"], detail["keywords"]) == (
        [], "approved", "MIT", [])
    assert {"toolDefinitions", "installCount", "authorUserId", "readme", "createdAt", "updatedAt"} <= set(detail)
    theo_error(client.get(f"/api/v1/skills/{skill['id']}", headers=bearer(theo_key())), 404, "not_found")


def test_submit_reviews_tiers_and_auto_approves(client):
    key = theo_key()
    response = client.post("/api/v1/skills/submit", headers=bearer(key), json={"manifest": MANIFEST})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["submission"]["status"] == "approved" and body["submission"]["autoApproved"] is True
    assert body["review"]["passed"] is True and body["review"]["tier"] == "auto"
    skill_id = body["submission"]["skillId"]
    update = client.post("/api/v1/skills/submit", headers=bearer(key),
                         json={"manifest": {**MANIFEST, "version": "1.1.0", "changelog": "Faster."}}).json()
    assert update["submission"]["skillId"] == skill_id
    versions = client.get(f"/api/v1/skills/{skill_id}/versions", headers=bearer(key)).json()["versions"]
    assert [(v["version"], v["status"]) for v in versions] == [("1.1.0", "active"), ("1.0.0", "superseded")]
    staff = client.post("/api/v1/skills/submit", headers=bearer(key), json={"manifest": {
        **MANIFEST, "slug": "with-tools", "tools": [{"name": "do_it", "description": "Does it"}]}}).json()
    assert staff["submission"]["status"] == "pending_review" and staff["review"]["tier"] == "staff"
    security = client.post("/api/v1/skills/submit", headers=bearer(key), json={"manifest": {
        **MANIFEST, "slug": "calls-out", "permissions": ["external:http", "write:notes"]}}).json()
    assert security["review"]["tier"] == "security"
    pending = client.get("/api/v1/skills/submissions?status=pending_review", headers=bearer(key)).json()
    assert [s["slug"] for s in pending["submissions"]] == ["calls-out", "with-tools"]
    assert len(client.get("/api/v1/skills/submissions", headers=bearer(key)).json()["submissions"]) == 4
    kinds = [e["type"] for e in client.get("/_emu/theo/events", params={"key": key}).json()["data"]]
    assert kinds.count("skill.submitted") == 4 and kinds.count("skill.approved") == 2


@pytest.mark.parametrize("change", [{"slug": "Bad Slug"}, {"version": "1.0"}, {"category": "games"},
                                    {"systemPromptExtension": ""}, {"tools": [{"name": "Bad-Name"}]},
                                    {"permissions": ["root"]}, {"slug": "web-research"}, {"name": None}])
def test_a_manifest_that_fails_review_is_422(client, change):
    key = theo_key()
    before = held(client, key)
    error = theo_error(client.post("/api/v1/skills/submit", headers=bearer(key),
                                   json={"manifest": {**MANIFEST, **change}}), 422, "review_failed")
    assert "failed review" in error["message"]
    assert held(client, key) == before
    assert client.get("/api/v1/skills/submissions", headers=bearer(key)).json()["submissions"] == []


def test_a_version_must_increase(client):
    key = theo_key()
    client.post("/api/v1/skills/submit", headers=bearer(key), json={"manifest": {**MANIFEST, "version": "2.0.0"}})
    theo_error(client.post("/api/v1/skills/submit", headers=bearer(key), json={"manifest": MANIFEST}), 422,
               "review_failed")


def test_reviews_and_the_sandbox(client):
    key = theo_key()
    skill = marketplace(client, key)[1]
    base = f"/api/v1/skills/{skill['id']}/reviews"
    assert client.post(base, headers=bearer(key), json={"rating": 5, "body": "Great"}).status_code == 201
    client.post(base, headers=bearer(key), json={"rating": 2})
    reviews = client.get(base, headers=bearer(key)).json()
    assert reviews["count"] == 2 and reviews["average_rating"] == 3.5 and reviews["reviews"][0]["rating"] == 2
    for body in ({"rating": 0}, {"rating": 6}, {"rating": 3, "body": "x" * 2001}, {}):
        theo_error(client.post(base, headers=bearer(key), json=body), 400, "validation_error")
    theo_error(client.get("/api/v1/skills/00000000-0000-4000-8000-000000000000/reviews", headers=bearer(key)), 404,
               "not_found")
    run = client.post("/api/v1/skills/sandbox", headers=bearer(key), json={"slug": "code-review",
                                                                          "message": "Review this"}).json()
    assert "code-review skill" in run["response"] and run["usage"]["cost_cents"] == 0
    draft = client.post("/api/v1/skills/sandbox", headers=bearer(key), json={"manifest": MANIFEST,
                                                                            "message": "hi"}).json()
    assert draft["skill"]["slug"] == "standup-helper" and draft["review"]["passed"] is True
    theo_error(client.post("/api/v1/skills/sandbox", headers=bearer(key), json={"message": "hi"}), 400,
               "validation_error")
    theo_error(client.post("/api/v1/skills/sandbox", headers=bearer(key), json={"slug": "nope", "message": "x"}),
               404, "not_found")


def test_skills_need_the_skills_scope(client):
    owner = theo_key()
    narrow = client.post("/api/v1/keys", headers=bearer(owner), json={"scopes": ["completions"]}).json()["secret"]
    theo_error(client.get("/api/v1/skills", headers=bearer(narrow)), 403, "insufficient_scope")
    theo_error(client.get("/api/v1/evi/canvases", headers=bearer(narrow)), 403, "insufficient_scope")


# ---- E.V.I. canvases ----

GRAPH = {"nodes": [{"id": "in", "type": "input"}, {"id": "p", "type": "prompt", "data": {"prompt": "Be brief."}},
                   {"id": "m", "type": "model"}, {"id": "t", "type": "tool", "data": {"name": "lookup"}},
                   {"id": "out", "type": "output"}],
         "edges": [{"source": "in", "target": "p"}, {"source": "p", "target": "m"}, {"source": "m", "target": "t"},
                   {"source": "t", "target": "out"}]}


def canvas(client, key, graph=GRAPH):  # noqa: ANN001, ANN201
    response = client.post("/api/v1/evi/canvases", headers=bearer(key),
                           json={"name": "Helper", "description": "A helper", "graph_json": graph})
    assert response.status_code == 201, response.text
    return response.json()["canvas"]


def test_canvas_lifecycle_compile_test_publish(client):
    key = theo_key()
    made = canvas(client, key)
    assert made["status"] == "draft" and made["graphJson"]["nodes"][0]["id"] == "in" and made["isPublic"] is False
    assert [c["id"] for c in client.get("/api/v1/evi/canvases", headers=bearer(key)).json()["canvases"]] == [
        made["id"]]
    base = f"/api/v1/evi/canvases/{made['id']}"
    compiled = client.post(f"{base}/compile", headers=bearer(key)).json()
    assert compiled["compiled"] is True and compiled["errors"] == []
    assert compiled["manifest"]["systemPromptExtension"] == "Be brief." and compiled["manifest"]["tools"][0][
        "name"] == "lookup"
    assert [s["nodeId"] for s in compiled["steps"]] == ["in", "p", "m", "t", "out"]
    assert client.get(base, headers=bearer(key)).json()["canvas"]["status"] == "testing"
    tested = client.post(f"{base}/test", headers=bearer(key), json={
        "message": "hello", "history": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]})
    assert tested.json()["response"] and tested.json()["cost_cents"] > 0
    published = client.post(f"{base}/publish", headers=bearer(key), json={
        "slug": "helper-bot", "version": "1.0.0", "author": {"name": "Ada"}, "visibility": "public"}).json()
    assert published["published"] is False and published["submission"]["status"] == "pending_review"  # has a tool
    renamed = client.patch(base, headers=bearer(key), json={"name": "Renamed", "graph_json": {
        "nodes": [{"id": "in", "type": "input"}, {"id": "out", "type": "output"}],
        "edges": [{"source": "in", "target": "out"}]}}).json()["canvas"]
    assert renamed["name"] == "Renamed" and renamed["status"] == "draft" and renamed["compiledManifest"] is None
    ok = client.post(f"{base}/publish", headers=bearer(key), json={
        "slug": "renamed-bot", "version": "1.0.0", "author": {"name": "Ada"}}).json()
    assert ok["published"] is True and ok["skillId"] and ok["visibility"] == "private"
    assert client.get(base, headers=bearer(key)).json()["canvas"]["publishedSkillId"] == ok["skillId"]
    assert client.delete(base, headers=bearer(key)).status_code == 200
    theo_error(client.get(base, headers=bearer(key)), 404, "not_found")


@pytest.mark.parametrize("graph,code", [
    ({"nodes": [{"id": "a", "type": "output"}], "edges": []}, "input_count"),
    ({"nodes": [{"id": "i", "type": "input"}, {"id": "o", "type": "output"}, {"id": "x", "type": "prompt"}],
      "edges": [{"source": "i", "target": "o"}]}, "unreachable_node"),
    ({"nodes": [{"id": "i", "type": "input"}, {"id": "p", "type": "prompt"}], "edges": [{"source": "i",
                                                                                        "target": "p"}]},
     "no_output"),
    ({"nodes": [{"id": "i", "type": "input"}, {"id": "a", "type": "prompt"}, {"id": "b", "type": "condition"},
                {"id": "o", "type": "output"}],
      "edges": [{"source": "i", "target": "a"}, {"source": "a", "target": "b"}, {"source": "b", "target": "a"},
                {"source": "b", "target": "o"}]}, "cycle_detected"),
    ({"nodes": [{"id": "i", "type": "input"}, {"id": "m", "type": "model"}, {"id": "o", "type": "output"}],
      "edges": [{"source": "i", "target": "m"}, {"source": "m", "target": "o"}]}, "model_no_prompt"),
    ({"nodes": [{"id": "i", "type": "input"}, {"id": "z", "type": "teleport"}, {"id": "o", "type": "output"}],
      "edges": [{"source": "i", "target": "z"}, {"source": "z", "target": "o"}]}, "invalid_node_type"),
    ({"nodes": [{"id": "i", "type": "input"}, {"id": "o", "type": "output"}],
      "edges": [{"source": "i", "target": "o"}, {"source": "i", "target": "ghost"}]}, "unknown_node")])
def test_compile_failures_are_422_with_their_errors(client, graph, code):
    key = theo_key()
    made = canvas(client, key, graph)
    for action, body in (("compile", None), ("test", {"message": "x"}),
                         ("publish", {"slug": "a-b", "version": "1.0.0", "author": {"name": "A"}})):
        response = client.post(f"/api/v1/evi/canvases/{made['id']}/{action}", headers=bearer(key), json=body)
        assert response.status_code == 422, response.text
        answer = response.json()
        assert answer["error"]["code"] == "compile_failed" and answer["error"]["message"]
        assert answer["compiled"] is False and code in [e["code"] for e in answer["errors"]]
    assert client.get(f"/api/v1/evi/canvases/{made['id']}", headers=bearer(key)).json()["canvas"]["status"] == "draft"


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x" * 129}, {"name": "x", "description": "d" * 501},
                                  {"name": "x", "graph_json": {"nodes": "n"}}])
def test_bad_canvases_are_400(client, body):
    key = theo_key()
    theo_error(client.post("/api/v1/evi/canvases", headers=bearer(key), json=body), 400, "validation_error")
    assert client.get("/api/v1/evi/canvases", headers=bearer(key)).json()["canvases"] == []


def test_another_tenants_canvas_is_404(client):
    made = canvas(client, theo_key())
    other = bearer(theo_key())
    for method, path, body in (("GET", "", None), ("PATCH", "", {"name": "x"}), ("DELETE", "", None),
                               ("POST", "/compile", None), ("POST", "/test", {"message": "x"}),
                               ("POST", "/publish", {"slug": "a-b", "version": "1.0.0", "author": {"name": "A"}})):
        theo_error(client.request(method, f"/api/v1/evi/canvases/{made['id']}{path}", headers=other, json=body), 404,
                   "not_found")
