"""Theo browser sessions over HTTP: create, list, get (a fresh embed URL), live, end (its
duration and cost in the ledger); three live sessions per tenant (429
`browser_session_limit`), the 20-minute expiry on the virtual clock and keep_alive, the
embed page and its token, bad inputs and another tenant's ids."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import advance
from theo_support import bearer, held, theo_error, theo_key

BASE = "/api/v1/browser/sessions"


def start(client, key, **body):  # noqa: ANN001, ANN201
    response = client.post(BASE, headers=bearer(key), json=body)
    assert response.status_code == 201, response.text
    return response.json()


def local(url: str) -> str:
    return url.removeprefix("http://testserver")


def test_a_session_from_start_to_end(client):
    key = theo_key()
    made = start(client, key, url="https://example.com/docs", region="eu-central-1", proxies=True)
    assert made["session_id"].startswith("bb_sess_") and made["region"] == "eu-central-1" and made["proxies"] is True
    assert made["started_at"] == "2025-05-01T00:00:00.000Z" and made["expires_at"] == "2025-05-01T00:20:00.000Z"
    assert made["current_url"] == "https://example.com/docs" and made["current_title"] == "example.com"
    assert made["embed_url"].startswith(f"http://testserver/api/v1/embed/browser/{made['session_id']}?token=")
    assert [s["session_id"] for s in client.get(BASE, headers=bearer(key)).json()["sessions"]] == [made["session_id"]]
    advance(client, 90)
    got = client.get(f"{BASE}/{made['session_id']}", headers=bearer(key)).json()
    assert got["embed_url"] != made["embed_url"] and got["last_active_at"] == "2025-05-01T00:01:30.000Z"
    assert got["expires_at"] == made["expires_at"]  # no keep_alive
    live = client.get(f"{BASE}/{made['session_id']}/live", headers=bearer(key)).json()
    assert live["live_view_version"] == 1 and live["pages"][0]["url"] == "https://example.com/docs"
    forced = client.get(f"{BASE}/{made['session_id']}/live?force=1", headers=bearer(key)).json()
    assert forced["live_view_version"] == 2
    ended = client.delete(f"{BASE}/{made['session_id']}", headers=bearer(key)).json()
    assert ended == {"session_id": made["session_id"], "duration_seconds": 90, "proxy_bytes": 0, "cost_cents": 4}
    theo_error(client.get(f"{BASE}/{made['session_id']}", headers=bearer(key)), 404, "session_not_found")
    theo_error(client.delete(f"{BASE}/{made['session_id']}", headers=bearer(key)), 404, "session_not_found")
    assert client.get(BASE, headers=bearer(key)).json()["sessions"] == []
    usage = client.get("/api/v1/usage?from=2025-01-01", headers=bearer(key)).json()
    assert usage["totals"]["cost_cents"] == pytest.approx(4)


def test_three_live_sessions_per_tenant_then_429(client):
    key = theo_key()
    made = [start(client, key)["session_id"] for _ in range(3)]
    response = client.post(BASE, headers=bearer(key), json={})
    error = theo_error(response, 429, "browser_session_limit")
    assert "3" in error["message"] and response.headers["retry-after"] == "60"
    assert len(client.get(BASE, headers=bearer(key)).json()["sessions"]) == 3
    assert start(client, theo_key())["session_id"]  # another tenant has its own three
    client.delete(f"{BASE}/{made[0]}", headers=bearer(key))
    assert start(client, key)["session_id"] not in made


def test_sessions_expire_after_twenty_virtual_minutes_unless_kept_alive(client):
    key = theo_key()
    plain = start(client, key)["session_id"]
    kept = start(client, key, keep_alive=True)["session_id"]
    advance(client, 19 * 60)
    assert client.get(f"{BASE}/{plain}", headers=bearer(key)).status_code == 200
    assert client.get(f"{BASE}/{kept}", headers=bearer(key)).json()["expires_at"] == "2025-05-01T00:39:00.000Z"
    advance(client, 60)
    theo_error(client.get(f"{BASE}/{plain}", headers=bearer(key)), 404, "session_not_found")
    theo_error(client.get(f"{BASE}/{plain}/live", headers=bearer(key)), 404, "session_not_found")
    assert [s["session_id"] for s in client.get(BASE, headers=bearer(key)).json()["sessions"]] == [kept]
    for _ in range(2):  # the expired one no longer counts against the limit
        start(client, key)
    advance(client, 20 * 60)
    assert client.get(BASE, headers=bearer(key)).json()["sessions"] == []


def test_the_embed_page_opens_with_its_token_only(client):
    key = theo_key()
    made = start(client, key, url="https://example.com/<b>")
    page = client.get(local(made["embed_url"]))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == "frame-ancestors *" and "<b>" not in page.text
    path = urlsplit(made["embed_url"]).path
    token = parse_qs(urlsplit(made["embed_url"]).query)["token"][0]
    for bad in ("", "x", token[:-1] + ("0" if token[-1] != "0" else "1"), "9" * 40 + ".ab"):
        theo_error(client.get(path, params={"token": bad}), 403, "invalid_token")
    theo_error(client.get(f"{path}?token=%ED%A0%80.%0D%0A"), 403, "invalid_token")
    other = start(client, key)
    theo_error(client.get(urlsplit(other["embed_url"]).path, params={"token": token}), 403, "invalid_token")
    advance(client, 3601)  # the token lives an hour; the session is gone sooner
    theo_error(client.get(local(made["embed_url"])), 404, "session_not_found")
    theo_error(client.get("/api/v1/embed/browser/bb_sess_nope?token=1.2"), 404, "session_not_found")


@pytest.mark.parametrize("body,status,code", [
    ({"url": "http://127.0.0.1:8080/"}, 400, "url_blocked"), ({"url": "http://169.254.169.254/latest"}, 400,
                                                               "url_blocked"),
    ({"url": "http://10.0.0.1/"}, 400, "url_blocked"), ({"url": "ftp://example.com"}, 400, "validation_error"),
    ({"region": "mars-1"}, 400, "validation_error"), ({"keep_alive": "yes"}, 400, "validation_error"),
    ({"proxies": 1}, 400, "validation_error"), ({"url": 5}, 400, "validation_error"),
    ({"url": "https://" + "a" * 5000 + ".com"}, 400, "validation_error"), ([], 400, "validation_error")])
def test_bad_sessions_are_refused_and_start_nothing(client, body, status, code):
    key = theo_key()
    before = held(client, key)
    theo_error(client.post(BASE, headers=bearer(key), json=body), status, code)
    assert held(client, key) == before and client.get(BASE, headers=bearer(key)).json()["sessions"] == []


def test_another_tenants_session_is_404(client):
    made = start(client, theo_key())["session_id"]
    other = bearer(theo_key())
    for method, path in (("GET", ""), ("GET", "/live"), ("DELETE", "")):
        theo_error(client.request(method, f"{BASE}/{made}{path}", headers=other), 404, "session_not_found")
    for ident in ("x" * 5000, "bb_sess_%0d%0aX-Evil:%201", "%ED%A0%80"):
        theo_error(client.get(f"{BASE}/{ident}", headers=other), 404, "session_not_found")
