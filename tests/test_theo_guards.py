"""Theo's promises to a hostile caller of the same emulator: names unique per tenant (a name
taken is a 4xx, never a 500, and never another tenant's), replays only behind every guard a
fresh request passes, secrets shown once and never kept for a replay, account administration
only with an unrestricted key, and a CORS preflight that tells nothing of any key's origins.

The scope matrix is built from the served route table, so a route added later is covered."""

from __future__ import annotations

import re

import pytest
from theo_support import bearer, complete, held, theo_error, theo_key

from theazo_emu.core import lazy
from theazo_emu.theo.domain import keys, orgs
from theazo_emu.theo.surface import required_scopes

MANIFEST = {"name": "Shared", "slug": "shared-slug", "version": "1.0.0", "description": "Mine.",
            "category": "productivity", "author": {"name": "Ada"}, "systemPromptExtension": "Private words.",
            "tools": [], "permissions": [], "knowledge": []}
GRAPH = {"nodes": [{"id": "in", "type": "input"}, {"id": "p", "type": "prompt", "data": {"prompt": "Be brief."}},
                   {"id": "out", "type": "output"}],
         "edges": [{"source": "in", "target": "p"}, {"source": "p", "target": "out"}]}


# ---- unique names: per tenant, 409 within one, never a 500 ----

def _skill_create(client, key, slug):  # noqa: ANN001, ANN202
    return client.post("/api/v1/skills/create", headers=bearer(key), json={
        "name": f"Skill of {key}", "slug": slug, "category": "productivity", "system_prompt_ext": f"{key} private"})


def _skill_submit(client, key, slug):  # noqa: ANN001, ANN202
    return client.post("/api/v1/skills/submit", headers=bearer(key),
                       json={"manifest": {**MANIFEST, "slug": slug, "systemPromptExtension": f"{key} private"}})


def _canvas_publish(visibility):  # noqa: ANN001, ANN202
    def publish(client, key, slug):  # noqa: ANN001, ANN202
        made = client.post("/api/v1/evi/canvases", headers=bearer(key),
                           json={"name": "Helper", "description": "A helper", "graph_json": GRAPH})
        assert made.status_code == 201, made.text
        return client.post(f"/api/v1/evi/canvases/{made.json()['canvas']['id']}/publish", headers=bearer(key),
                           json={"slug": slug, "version": "1.0.0", "author": {"name": "Ada"},
                                 "visibility": visibility})
    return publish


def _org_slug(client, key, slug):  # noqa: ANN001, ANN202
    return client.post("/api/v1/orgs", headers=bearer(key), json={"name": f"Org {key}", "slug": slug})


def _org_name(client, key, slug):  # noqa: ANN001, ANN202
    return client.post("/api/v1/orgs", headers=bearer(key), json={"name": slug})


def _skill_id(answer: dict) -> str | None:
    return (answer.get("skill") or {}).get("id") or (answer.get("submission") or {}).get("skillId") or \
        answer.get("skillId") or answer.get("id")


# Every Theo create that takes a name or slug unique within the tenant; what taking it twice
# in one tenant answers (the docs' 409 for skill and org slugs; a resubmitted manifest must
# raise its version, so the same one again fails review).
UNIQUE = [("skills/create", _skill_create, 409, "conflict"),
          ("skills/submit", _skill_submit, 422, "review_failed"),
          ("canvas publish private", _canvas_publish("private"), 422, "review_failed"),
          ("canvas publish public", _canvas_publish("public"), 422, "review_failed"),
          ("orgs by slug", _org_slug, 409, "conflict"),
          ("orgs by name", _org_name, 409, "conflict")]


@pytest.mark.parametrize("create,status,code", [u[1:] for u in UNIQUE], ids=[u[0] for u in UNIQUE])
def test_two_tenants_may_take_the_same_name_and_one_tenant_cannot_take_it_twice(client, create, status, code):
    one, two = theo_key("one"), theo_key("two")
    first = create(client, one, "shared-slug")
    assert first.status_code == 201 or first.json().get("published") is True, first.text
    second = create(client, two, "shared-slug")
    assert second.status_code in (200, 201), second.text
    if first.request.url.path.startswith("/api/v1/orgs"):
        assert first.json()["id"] != second.json()["id"]
    else:
        mine, theirs = _skill_id(first.json()), _skill_id(second.json())
        assert mine and theirs and mine != theirs
        theo_error(client.get(f"/api/v1/skills/{theirs}", headers=bearer(one)), 404, "not_found")
        own = client.get(f"/api/v1/skills/{mine}", headers=bearer(one)).json()["skill"]
        assert own["slug"] == "shared-slug" and two not in own["systemPromptExtension"]
    before = held(client, one)
    theo_error(create(client, one, "shared-slug"), status, code)
    assert {k: v for k, v in held(client, one).items() if k != "audit"} == \
        {k: v for k, v in before.items() if k != "audit"}


def test_a_completion_names_the_callers_own_skill_of_a_shared_slug(client):
    one, two = theo_key(), theo_key()
    mine = _skill_create(client, one, "shared-slug").json()["skill"]
    theirs = _skill_create(client, two, "shared-slug").json()["skill"]
    active = complete(client, one, "hi", skills=["shared-slug"])["skills_active"]
    assert active == [{"id": mine["id"], "slug": "shared-slug", "name": mine["name"]}] and mine["id"] != theirs["id"]
    builtin = complete(client, one, "hi", skills=["web-research"])["skills_active"][0]
    market = {s["slug"]: s["id"] for s in client.get("/api/v1/skills", headers=bearer(one)).json()["skills"]}
    assert builtin["id"] == market["web-research"]


def test_a_unique_index_no_endpoint_checked_is_409_in_the_envelope_and_changes_nothing(client, monkeypatch):
    """The kernel's net under every route: a unique index refusing a write is the surface's 409."""
    key = theo_key()
    assert client.post("/api/v1/orgs", headers=bearer(key), json={"name": "Acme"}).status_code == 201
    monkeypatch.setattr(orgs, "slug_taken", lambda store, slug: False)  # as if the route forgot to look
    before = held(client, key)
    error = theo_error(client.post("/api/v1/orgs", headers=bearer(key), json={"name": "Acme"}), 409, "conflict")
    assert "already taken" in error["message"]
    assert held(client, key) == before
    assert len(client.get("/api/v1/orgs", headers=bearer(key)).json()["orgs"]) == 1


# ---- the scope matrix, with and without Idempotency-Key ----

ROUTES = [(e.method, re.sub(r"\{[^}]+\}", "x1", e.path)) for e in lazy.entries()
          if e.surface == "theo" and not e.public]
SCOPINGS = [[scope] for scope in keys.SCOPES] + [[]]


def _restricted(client, owner):  # noqa: ANN001, ANN202
    """Keys of the owner's tenant: one per scope, and one with none."""
    return {(scopes or ["none"])[0]: client.post("/api/v1/keys", headers=bearer(owner),
                                                 json={"scopes": scopes}).json()["secret"] for scopes in SCOPINGS}


def test_the_scope_matrix_holds_with_and_without_an_idempotency_key(client):
    """Each restricted key on every route: 403 `insufficient_scope` exactly where its scopes do
    not cover the route, whether or not it sends an Idempotency-Key; and a key lacking the scope
    that replays a full key's Idempotency-Key and body gets 403, never the stored answer."""
    owner = theo_key("owner")
    restricted = _restricted(client, owner)
    assert required_scopes("/api/v1/completions") == ("completions",)
    assert required_scopes("/api/v1/keys") == keys.EVERY and required_scopes("/api/v1/health") == ()
    probes = refused = replays = 0
    for n, (method, path) in enumerate(ROUTES):
        body = {} if method != "GET" else None
        idem = f"matrix-{n}"
        stored = None
        if method == "POST":
            stored = client.post(path, headers={**bearer(owner), "Idempotency-Key": idem}, json=body)
            assert stored.status_code not in (401, 403, 500), (path, stored.text)
        for name, secret in restricted.items():
            granted = [name] if name in keys.SCOPES else []
            allowed = keys.allows(granted, required_scopes(path))
            for extra in ({}, {"Idempotency-Key": f"{idem}-{name}"}, {"Idempotency-Key": idem}):
                if extra and method != "POST":
                    continue
                answer = client.request(method, path, headers={**bearer(secret), **extra}, json=body)
                probes += 1
                if not allowed:
                    theo_error(answer, 403, "insufficient_scope")
                    assert "x-idempotent-replay" not in answer.headers
                    refused += 1
                else:
                    assert answer.status_code not in (403, 500), (name, method, path, answer.text)
                    if extra.get("Idempotency-Key") == idem and stored is not None and stored.status_code < 429:
                        assert answer.headers.get("x-idempotent-replay") == "true", (name, path)
                        assert answer.content == stored.content
                        replays += 1
    assert len(ROUTES) >= 85 and probes >= 1200 and refused >= 1000 and replays >= 40, (probes, refused, replays)


def test_a_refusal_is_never_stored_so_the_right_key_runs_the_request(client):
    owner = theo_key()
    skills_only = client.post("/api/v1/keys", headers=bearer(owner), json={"scopes": ["skills"]}).json()["secret"]
    headers = {"Idempotency-Key": "retry-me"}
    theo_error(client.post("/api/v1/completions", headers={**bearer(skills_only), **headers}, json={"prompt": "hi"}),
               403, "insufficient_scope")
    ran = client.post("/api/v1/completions", headers={**bearer(owner), **headers}, json={"prompt": "hi"})
    assert ran.status_code == 200 and "x-idempotent-replay" not in ran.headers
    again = client.post("/api/v1/completions", headers={**bearer(skills_only), **headers}, json={"prompt": "hi"})
    theo_error(again, 403, "insufficient_scope")  # the stored completion is still not for this key
    theo_error(client.post("/api/v1/completions", headers={**bearer("theo_sk_nope"), **headers},
                           json={"prompt": "hi"}), 401, "invalid_api_key")


# ---- secrets shown once, never kept for a replay ----

def _twice(client, key, path, body, idem):  # noqa: ANN001, ANN202
    headers = {**bearer(key), "Idempotency-Key": idem}
    first, again = (client.post(path, headers=headers, json=body) for _ in range(2))
    assert "x-idempotent-replay" not in first.headers and again.headers["x-idempotent-replay"] == "true"
    return first.json(), again.json()


def test_a_replay_of_a_created_key_never_shows_its_secret_and_the_store_never_held_it(client, emu):
    owner = theo_key()
    first, again = _twice(client, owner, "/api/v1/keys", {"name": "ci"}, "make-key")
    assert first["secret"].startswith("theo_sk_test_") and again["secret"] is None
    assert again["id"] == first["id"] and "shown once" in again["_note"]
    assert {k: v for k, v in again.items() if k not in ("secret", "_note")} == \
        {k: v for k, v in first.items() if k not in ("secret", "_note")}
    rows = emu.store.db.execute("SELECT * FROM theo_idempotency").fetchall()
    assert rows and first["secret"] not in repr(rows) and first["secret"][13:] not in repr(rows)
    assert first["secret"] not in client.get("/_emu/state/export").text
    assert client.get("/api/v1/models", headers=bearer(first["secret"])).status_code == 200  # the key works


@pytest.mark.parametrize("given", [None, "a-signing-secret-of-mine-0123456789"])
def test_a_replay_of_a_webhook_or_its_rotation_never_shows_the_secret(client, emu, given):
    owner = theo_key()
    body = {"url": "https://hooks.example.com/theo", "event_types": ["completion.created"]}
    first, again = _twice(client, owner, "/api/v1/webhooks", {**body, "secret": given} if given else body, "hook")
    assert first["signing_secret"] and first["signingSecret"] == first["signing_secret"]
    assert again["signing_secret"] is None and again["signingSecret"] is None and again["id"] == first["id"]
    rotated, replayed = _twice(client, owner, f"/api/v1/webhooks/{first['id']}/rotate-secret", None, "rotate")
    assert rotated["signing_secret"] not in (None, first["signing_secret"]) and replayed["signing_secret"] is None
    stored = repr(emu.store.db.execute("SELECT * FROM theo_idempotency").fetchall())
    for secret in (first["signing_secret"], rotated["signing_secret"]):
        assert secret not in stored and secret not in client.get("/_emu/state/export").text


def test_a_replay_is_refused_to_a_revoked_creator(client):
    owner = theo_key()
    creator = client.post("/api/v1/keys", headers=bearer(owner), json={"name": "creator"}).json()
    headers = {**bearer(creator["secret"]), "Idempotency-Key": "by-creator"}
    assert client.post("/api/v1/keys", headers=headers, json={"name": "child"}).status_code == 201
    assert client.delete(f"/api/v1/keys/{creator['id']}", headers=bearer(owner)).status_code == 200
    theo_error(client.post("/api/v1/keys", headers=headers, json={"name": "child"}), 401, "invalid_api_key")


# ---- account administration needs an unrestricted key ----

@pytest.mark.parametrize("method,path,body", [
    ("GET", "/api/v1/keys", None), ("POST", "/api/v1/keys", {"scopes": ["skills"]}),
    ("POST", "/api/v1/orgs", {"name": "Mine now"}), ("GET", "/api/v1/orgs", None),
    ("GET", "/api/v1/iframes", None), ("POST", "/api/v1/iframes", {"api_key_id": "key_x"}),
    ("GET", "/api/v1/settings", None), ("PATCH", "/api/v1/settings", {"default_mode": "code"})])
def test_account_administration_needs_an_unrestricted_key(client, method, path, body):
    owner = theo_key()
    nearly = client.post("/api/v1/keys", headers=bearer(owner), json={"scopes": list(keys.SCOPES[:-1])}).json()
    before = held(client, owner)
    error = theo_error(client.request(method, path, headers=bearer(nearly["secret"]), json=body), 403,
                       "insufficient_scope")
    assert "unrestricted key" in error["message"]
    assert held(client, owner) == before
    assert client.request(method, path, headers=bearer(owner), json=body).status_code not in (401, 403, 500)
