"""Theo's embeddable widgets over HTTP: /api/v1/iframes (create, list, patch, delete,
duplicate, preview-token, verify) and the embed page their snippet frames; bad inputs are
400 `validation_error` and store nothing, another tenant's ids are 404, preview tokens
expire on the virtual clock."""

from __future__ import annotations

import pytest
from conftest import advance
from theo_support import bearer, theo_error, theo_key

BASE = "http://testserver"


def new_key(client, key, **body):  # noqa: ANN001, ANN201
    made = client.post("/api/v1/keys", headers=bearer(key), json=body)
    assert made.status_code in (200, 201), made.text
    return made.json()


def widget(client, key, **body):  # noqa: ANN001, ANN201
    if "api_key_id" not in body:
        body["api_key_id"] = new_key(client, key)["id"]
    made = client.post("/api/v1/iframes", headers=bearer(key), json=body)
    assert made.status_code == 201, made.text
    return made.json()


def configs(client, key):  # noqa: ANN001, ANN201
    listed = client.get("/api/v1/iframes", headers=bearer(key))
    assert listed.status_code == 200, listed.text
    return listed.json()["configs"]


def test_create_defaults_and_the_snippet_frames_the_emulators_own_page(client):
    key = theo_key()
    api_key = new_key(client, key)
    made = widget(client, key, api_key_id=api_key["id"])
    assert made["id"].startswith("ifr_") and made["name"] == "My Widget" and made["status"] == "active"
    assert made["api_key_id"] == api_key["id"]
    assert (made["appearance"], made["behavior"]) == ({}, {})
    assert made["security"] == {"requireTurnstile": False, "allowedOrigins": []}
    assert made["verified_at"] is None
    page = f"{BASE}/api/v1/embed/iframes/{made['id']}"
    assert made["embed_url"] == page
    assert made["embed_snippet"].startswith(f'<iframe src="{page}" title="My Widget"')
    served = client.get(page)
    assert served.status_code == 200 and "My Widget" in served.text
    assert served.headers["content-security-policy"] == "frame-ancestors *"
    assert configs(client, key) == [made]


def test_create_with_every_field_then_list_newest_first(client):
    key = theo_key()
    first = widget(client, key)
    second = widget(client, key, name="Support <bot>", appearance={"theme": "dark", "accent": "#ff0066"},
                    behavior={"greeting": "Hi!", "openOnLoad": True},
                    security={"requireTurnstile": True,
                              "allowedOrigins": ["https://shop.example.com", "http://localhost:3000",
                                                 "https://shop.example.com"]})
    assert second["name"] == "Support <bot>" and second["behavior"]["openOnLoad"] is True
    assert second["security"] == {"requireTurnstile": True,
                                  "allowedOrigins": ["https://shop.example.com", "http://localhost:3000"]}
    assert 'title="Support &lt;bot&gt;"' in second["embed_snippet"]
    assert [c["id"] for c in configs(client, key)] == [second["id"], first["id"]]
    served = client.get(f"/api/v1/embed/iframes/{second['id']}")
    assert served.headers["content-security-policy"] == ("frame-ancestors https://shop.example.com "
                                                         "http://localhost:3000")
    assert "Support &lt;bot&gt;" in served.text and "<bot>" not in served.text


def test_patch_changes_the_fields_given(client):
    key = theo_key()
    made = widget(client, key, appearance={"theme": "dark"},
                  security={"requireTurnstile": True, "allowedOrigins": ["https://a.example"]})
    other_key = new_key(client, key)
    path = f"/api/v1/iframes/{made['id']}"
    changed = client.patch(path, headers=bearer(key), json={"name": "Renamed", "security": {
        "allowedOrigins": ["https://b.example"]}})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["name"] == "Renamed" and body["appearance"] == {"theme": "dark"}
    assert body["security"] == {"requireTurnstile": True, "allowedOrigins": ["https://b.example"]}
    again = client.patch(path, headers=bearer(key), json={"appearance": {"accent": "red"}, "status": "paused",
                                                          "api_key_id": other_key["id"]}).json()
    assert again["appearance"] == {"accent": "red"} and again["status"] == "paused"
    assert again["api_key_id"] == other_key["id"] and again["name"] == "Renamed"
    assert configs(client, key) == [again]
    assert client.patch(path, headers=bearer(key), json={}).json()["name"] == "Renamed"


def test_delete_then_it_is_gone_everywhere(client):
    key = theo_key()
    made = widget(client, key)
    path = f"/api/v1/iframes/{made['id']}"
    assert client.delete(path, headers=bearer(key)).json() == {"deleted": True, "id": made["id"]}
    assert configs(client, key) == []
    theo_error(client.delete(path, headers=bearer(key)), 404, "not_found")
    theo_error(client.patch(path, headers=bearer(key), json={"name": "x"}), 404, "not_found")
    theo_error(client.get(f"/api/v1/embed/iframes/{made['id']}"), 404, "not_found")


def test_duplicate_is_a_copy_under_a_new_id(client):
    key = theo_key()
    made = widget(client, key, name="Sales", behavior={"greeting": "Hello"},
                  security={"allowedOrigins": ["https://a.example"]})
    copied = client.post(f"/api/v1/iframes/{made['id']}/duplicate", headers=bearer(key))
    assert copied.status_code == 201, copied.text
    copy = copied.json()
    assert copy["id"] != made["id"] and copy["name"] == "Sales (copy)"
    assert {k: copy[k] for k in ("status", "api_key_id", "appearance", "behavior", "security")} == {
        k: made[k] for k in ("status", "api_key_id", "appearance", "behavior", "security")}
    assert copy["embed_url"].endswith(copy["id"])
    assert [c["id"] for c in configs(client, key)] == [copy["id"], made["id"]]
    long = widget(client, key, name="n" * 200)
    assert client.post(f"/api/v1/iframes/{long['id']}/duplicate", headers=bearer(key)).json()["name"] == (
        "n" * 193 + " (copy)")


def test_a_preview_token_opens_the_page_until_it_expires_on_the_virtual_clock(client):
    key = theo_key()
    made = widget(client, key)
    client.patch(f"/api/v1/iframes/{made['id']}", headers=bearer(key), json={"status": "paused"})
    page = f"/api/v1/embed/iframes/{made['id']}"
    theo_error(client.get(page), 403, "widget_unavailable")
    minted = client.post(f"/api/v1/iframes/{made['id']}/preview-token", headers=bearer(key))
    assert minted.status_code == 200, minted.text
    token = minted.json()
    assert token["iframe_id"] == made["id"] and token["expires_at"].startswith("2025-05-01T00:15:00")
    assert token["preview_url"] == f"{BASE}{page}?preview_token={token['token']}"
    served = client.get(token["preview_url"])
    assert served.status_code == 200 and "(preview)" in served.text
    assert client.post(f"/api/v1/iframes/{made['id']}/preview-token", headers=bearer(key)).json() == token
    advance(client, 14 * 60)
    assert client.get(token["preview_url"]).status_code == 200
    advance(client, 61)
    error = theo_error(client.get(token["preview_url"]), 403, "invalid_token")
    assert "expired" in error["message"]
    fresh = client.post(f"/api/v1/iframes/{made['id']}/preview-token", headers=bearer(key)).json()
    assert fresh["token"] != token["token"] and client.get(fresh["preview_url"]).status_code == 200


@pytest.mark.parametrize("token", ["", "nope", "1.abc", "99999999999999.%s" % ("0" * 64), "%0D%0A.x",
                                   "%ED%A0%80", "1" * 16 + "." + "a" * 64])
def test_a_forged_preview_token_is_403(client, token):
    key = theo_key()
    made = widget(client, key)
    theo_error(client.get(f"/api/v1/embed/iframes/{made['id']}?preview_token={token}"), 403, "invalid_token")


def test_a_preview_token_opens_only_its_own_widget(client):
    key = theo_key()
    one, two = widget(client, key), widget(client, key)
    token = client.post(f"/api/v1/iframes/{one['id']}/preview-token", headers=bearer(key)).json()["token"]
    theo_error(client.get(f"/api/v1/embed/iframes/{two['id']}?preview_token={token}"), 403, "invalid_token")


def test_verify_reports_each_check_and_stamps_a_verified_widget(client):
    key = theo_key()
    api_key = new_key(client, key, allowed_origins=["https://shop.example.com"])
    made = widget(client, key, api_key_id=api_key["id"],
                  security={"allowedOrigins": ["https://shop.example.com", "http://localhost:8080"]})
    path = f"/api/v1/iframes/{made['id']}/verify"
    first = client.post(path, headers=bearer(key))
    assert first.status_code == 200, first.text
    report = first.json()
    assert report["verified"] is False and [c["name"] for c in report["checks"]] == [
        "status", "api_key", "allowed_origins", "key_origins"]
    assert [c["passed"] for c in report["checks"]] == [True, True, True, False]
    assert report["problems"] == [report["checks"][3]["detail"]] and "http://localhost:8080" in report["problems"][0]
    assert configs(client, key)[0]["verified_at"] is None
    client.patch(f"/api/v1/iframes/{made['id']}", headers=bearer(key),
                 json={"security": {"allowedOrigins": ["https://shop.example.com"]}})
    ok = client.post(path, headers=bearer(key)).json()
    assert ok["verified"] is True and ok["problems"] == [] and all(c["passed"] for c in ok["checks"])
    assert configs(client, key)[0]["verified_at"] is not None


def test_verify_finds_a_revoked_key_a_paused_widget_and_plain_http_origins(client):
    key = theo_key()
    api_key = new_key(client, key)
    made = widget(client, key, api_key_id=api_key["id"], security={"allowedOrigins": ["http://shop.example.com"]})
    client.patch(f"/api/v1/iframes/{made['id']}", headers=bearer(key), json={"status": "paused"})
    revoked = client.delete(f"/api/v1/keys/{api_key['id']}", headers=bearer(key))
    assert revoked.status_code == 200, revoked.text
    report = client.post(f"/api/v1/iframes/{made['id']}/verify", headers=bearer(key)).json()
    assert report["verified"] is False
    assert [c["passed"] for c in report["checks"]] == [False, False, False, True]
    assert len(report["problems"]) == 3 and "revoked" in report["problems"][1]
    client.patch(f"/api/v1/iframes/{made['id']}", headers=bearer(key), json={"status": "active"})
    error = theo_error(client.get(f"/api/v1/embed/iframes/{made['id']}"), 403, "widget_unavailable")
    assert "revoked" in error["message"]


BAD_CREATE = [
    {},
    {"api_key_id": None},
    {"api_key_id": 5},
    {"api_key_id": ""},
    {"api_key_id": "key_\r\nX-Evil: 1"},
    {"api_key_id": "x" * 201},
    {"api_key_id": "key_unknown"},
    {"name": ""}, {"name": "   "}, {"name": 7}, {"name": None}, {"name": "x" * 201},
    {"name": "a\x00b"}, {"name": "line\r\nbreak"},
    {"appearance": []}, {"appearance": "dark"}, {"appearance": None}, {"behavior": 1},
    {"security": []}, {"security": {"requireTurnstile": "true"}}, {"security": {"requireTurnstile": 1}},
    {"security": {"allowedOrigins": "https://a.example"}},
    {"security": {"allowedOrigins": [5]}},
    {"security": {"allowedOrigins": ["not an origin"]}},
    {"security": {"allowedOrigins": ["https://a.example/path"]}},
    {"security": {"allowedOrigins": ["ftp://a.example"]}},
    {"security": {"allowedOrigins": ["https://a.example:99999"]}},
    {"security": {"allowedOrigins": ["https://a.example\r\n"]}},
    {"security": {"allowedOrigins": ["*"]}},
    {"security": {"allowedOrigins": ["https://a.example"] * 51}},
]


@pytest.mark.parametrize("body", BAD_CREATE)
def test_bad_creates_are_400_and_store_nothing(client, body):
    key = theo_key()
    real = new_key(client, key)["id"]
    sent = {"api_key_id": real, **body} if "api_key_id" not in body and body else body
    theo_error(client.post("/api/v1/iframes", headers=bearer(key), json=sent), 400, "validation_error")
    assert configs(client, key) == []


@pytest.mark.parametrize("raw", [b'{"api_key_id": "KEY", "appearance": {"size": NaN}}',
                                 b'{"api_key_id": "KEY", "name": Infinity}',
                                 b'{"api_key_id": "KEY", "name": "\\ud800"}',
                                 b'{"api_key_id": "KEY", "behavior": {"a": -Infinity}}', b"[]", b'"x"', b"{"])
def test_bad_json_is_400_and_stores_nothing(client, raw):
    key = theo_key()
    real = new_key(client, key)["id"]
    response = client.post("/api/v1/iframes", headers={**bearer(key), "Content-Type": "application/json"},
                           content=raw.replace(b"KEY", real.encode()))
    theo_error(response, 400, "validation_error")
    assert configs(client, key) == []


def test_an_api_key_of_another_tenant_or_revoked_is_400(client):
    key, other = theo_key(), theo_key()
    foreign = new_key(client, other)["id"]
    theo_error(client.post("/api/v1/iframes", headers=bearer(key), json={"api_key_id": foreign}), 400,
               "validation_error")
    mine = new_key(client, key)["id"]
    client.delete(f"/api/v1/keys/{mine}", headers=bearer(key))
    theo_error(client.post("/api/v1/iframes", headers=bearer(key), json={"api_key_id": mine}), 400,
               "validation_error")
    assert configs(client, key) == [] and configs(client, other) == []


@pytest.mark.parametrize("body", [{"name": ""}, {"name": None}, {"status": "archived"}, {"status": True},
                                  {"appearance": None}, {"appearance": []}, {"api_key_id": "key_nope"},
                                  {"api_key_id": "a\r\nb"}, {"security": {"allowedOrigins": ["https://x/y"]}},
                                  {"security": {"requireTurnstile": "yes"}}, {"security": None},
                                  {"security": {"allowedOrigins": None}}, []])
def test_bad_patches_are_400_and_change_nothing(client, body):
    key = theo_key()
    made = widget(client, key, appearance={"theme": "dark"}, security={"allowedOrigins": ["https://a.example"]})
    theo_error(client.patch(f"/api/v1/iframes/{made['id']}", headers=bearer(key), json=body), 400,
               "validation_error")
    assert configs(client, key) == [made]


@pytest.mark.parametrize("ident", ["ifr_%0D%0AX-Evil:%201", "%ED%A0%80", "x" * 500, "..%2F..%2Fkeys", "ifr_nope"])
def test_unknown_and_hostile_ids_are_404_on_every_route(client, ident):
    key = theo_key()
    widget(client, key)
    path = f"/api/v1/iframes/{ident}"
    theo_error(client.patch(path, headers=bearer(key), json={"name": "x"}), 404, "not_found")
    theo_error(client.delete(path, headers=bearer(key)), 404, "not_found")
    for action in ("duplicate", "preview-token", "verify"):
        theo_error(client.post(f"{path}/{action}", headers=bearer(key)), 404, "not_found")
    theo_error(client.get(f"/api/v1/embed/iframes/{ident}"), 404, "not_found")
    assert len(configs(client, key)) == 1


def test_another_tenants_widget_is_404_and_untouched(client):
    key, other = theo_key(), theo_key()
    made = widget(client, key)
    path = f"/api/v1/iframes/{made['id']}"
    assert configs(client, other) == []
    theo_error(client.patch(path, headers=bearer(other), json={"name": "mine"}), 404, "not_found")
    theo_error(client.delete(path, headers=bearer(other)), 404, "not_found")
    for action in ("duplicate", "preview-token", "verify"):
        theo_error(client.post(f"{path}/{action}", headers=bearer(other)), 404, "not_found")
    assert configs(client, key) == [made] and configs(client, other) == []


def test_the_routes_take_a_theo_key(client):
    theo_error(client.get("/api/v1/iframes"), 401, "invalid_api_key")
    theo_error(client.post("/api/v1/iframes", json={"api_key_id": "k"}), 401, "invalid_api_key")
    theo_error(client.get("/api/v1/iframes", headers=bearer("theo_sk_live_nope")), 401, "invalid_api_key")
