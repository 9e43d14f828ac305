"""Rate limits: a sliding one-minute window per API key on the virtual clock, off by default.

In-process tests build the app with `rate_limit` set and move the clock past windows with
`advance()`; one real-process test checks the headers over the wire and the CLI option.
"""

from __future__ import annotations

import httpx
import pytest
from click.testing import CliRunner
from conftest import START, advance, assert_error, serve_process
from starlette.testclient import TestClient

from theazo_emu import create_app
from theazo_emu.cli.main import main
from theazo_emu.core.ratelimit import parse_limit
from theazo_emu.settings import Settings


@pytest.fixture
def settings() -> Settings:
    return Settings(clock=START, seed=0, heartbeat_s=0.5, rate_limit="3")


def _get(client, auth, path: str = "/v1/sessions"):
    return client.get(path, headers=auth)


def _limits(response) -> tuple[str, str, str]:
    h = response.headers
    return h["x-ratelimit-limit"], h["x-ratelimit-remaining"], h["x-ratelimit-reset"]


def test_successful_answers_carry_the_limit_headers(client, auth):
    assert [_limits(_get(client, auth)) for _ in range(3)] == [("3", "2", "60"), ("3", "1", "60"), ("3", "0", "60")]


def test_over_the_limit_is_429_with_retry_after(client, auth):
    for _ in range(3):
        assert _get(client, auth).status_code == 200
    advance(client, 20)
    response = _get(client, auth)
    body = assert_error(response, 429, "rate_limited")
    assert response.headers["retry-after"] == "40"
    assert body["error"]["details"] == {"retryAfter": 40, "limit": 3, "windowSeconds": 60}
    assert body["error"]["message"] == "Too many requests. Retry after 40 seconds."
    assert _limits(response) == ("3", "0", "40")


def test_the_window_slides_with_the_virtual_clock(client, auth):
    _get(client, auth)
    advance(client, 30)
    _get(client, auth)
    _get(client, auth)
    advance(client, 29)
    assert _get(client, auth).headers["retry-after"] == "1"
    advance(client, 1)  # the first request has left the window; the other two have not
    assert _limits(_get(client, auth)) == ("3", "0", "30")
    assert _get(client, auth).status_code == 429


def test_refused_requests_do_not_count(client, auth):
    for _ in range(10):
        _get(client, auth)
    advance(client, 60)
    assert [_get(client, auth).status_code for _ in range(4)] == [200, 200, 200, 429]


def test_a_refused_request_runs_nothing(client, auth):
    for _ in range(3):
        _get(client, auth)
    assert_error(client.post("/v1/sessions", json={"userId": "u"}, headers=auth), 429, "rate_limited")
    advance(client, 60)
    assert _get(client, auth).json()["data"] == []


def test_each_key_has_its_own_window(client, auth):
    for _ in range(3):
        _get(client, auth)
    assert _get(client, auth).status_code == 429
    assert _get(client, {"Authorization": "Bearer th_test_other"}).status_code == 200


def test_admin_routes_are_never_limited(client, auth):
    for _ in range(3):
        _get(client, auth)
    for _ in range(5):
        response = client.get("/_emu/clock", headers=auth)
        assert response.status_code == 200
        assert "x-ratelimit-limit" not in response.headers


def test_a_missing_key_is_401_not_429(client, auth):
    for _ in range(3):
        _get(client, auth)
    assert_error(client.get("/v1/sessions"), 401, "unauthorized")


def test_a_per_key_limit_overrides_the_default(client, auth, emu, key):
    emu.rate_limiter.set_limit(key, 1)
    _get(client, auth)
    assert_error(_get(client, auth), 429, "rate_limited")
    assert _limits(_get(client, {"Authorization": "Bearer th_test_other"}))[0] == "3"


def test_a_per_key_off_exempts_that_key(client, auth, emu, key):
    emu.rate_limiter.set_limit(key, "off")
    responses = [_get(client, auth) for _ in range(10)]
    assert {r.status_code for r in responses} == {200}
    assert "x-ratelimit-limit" not in responses[-1].headers


def test_off_by_default(key):
    with TestClient(create_app(Settings(clock=START))) as client:
        responses = [client.get("/v1/sessions", headers={"Authorization": f"Bearer {key}"}) for _ in range(70)]
    assert {r.status_code for r in responses} == {200}
    assert "x-ratelimit-limit" not in responses[-1].headers


def test_per_key_limits_apply_when_the_default_is_off(key):
    app = create_app(Settings(clock=START))
    app.state.emu.rate_limiter.set_limit(key, "free")
    with TestClient(app) as client:
        statuses = [client.get("/v1/sessions", headers={"Authorization": f"Bearer {key}"}).status_code
                    for _ in range(61)]
    assert statuses.count(200) == 60 and statuses[-1] == 429


@pytest.mark.parametrize(("value", "per_minute"), [("free", 60), ("cloud", 300), ("team", 1000), ("25", 25),
                                                   (None, None), ("off", None), ("", None)])
def test_plans_and_numbers(value, per_minute):
    assert parse_limit(value) == per_minute


@pytest.mark.parametrize("value", ["0", "-5", "enterprise", "1.5", "10" * 10])
def test_bad_settings_are_refused(value):
    with pytest.raises(ValueError):
        parse_limit(value)


@pytest.mark.parametrize("args,env", [(["--rate-limit", "lots"], {}), ([], {"THEAZO_EMU_RATE_LIMIT": "0"})])
def test_the_cli_refuses_a_bad_rate_limit(args, env):
    result = CliRunner(env=env).invoke(main, ["call", "--in-process", "GET", "/v1/sessions", *args])
    assert result.exit_code == 2
    assert "Invalid value for '--rate-limit'" in result.output


@pytest.mark.server
def test_serve_limits_over_real_sockets_from_the_environment():
    with serve_process("--clock", START, env={"THEAZO_EMU_RATE_LIMIT": "2"}) as url:
        headers = {"Authorization": "Bearer th_test_ratelimit_server"}
        with httpx.Client(base_url=url, headers=headers, timeout=10) as http:
            answers = [http.get("/v1/sessions") for _ in range(3)]
            assert [r.status_code for r in answers] == [200, 200, 429]
            assert answers[2].headers["retry-after"] == "60"
            assert answers[1].headers["x-ratelimit-remaining"] == "0"
            assert http.post("/_emu/clock/advance", json={"seconds": 60}).status_code == 200
            assert http.get("/v1/sessions").status_code == 200


def test_reset_empties_the_window_of_the_key_it_names_or_of_every_key(client, auth):
    other = {"Authorization": "Bearer th_test_rate_other"}
    for headers in (auth, other):
        for _ in range(3):
            assert _get(client, headers).status_code == 200
    assert client.post("/_emu/reset", json={"tenant": other["Authorization"][7:]}).status_code == 200
    assert _get(client, auth).status_code == 429  # not the key reset named
    assert _limits(_get(client, other)) == ("3", "2", "60")
    assert client.post("/_emu/reset", json={}).status_code == 200
    assert _limits(_get(client, auth)) == ("3", "2", "60")
