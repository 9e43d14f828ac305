"""Files over HTTP: upload, get, list with filters, delete, autoIngest into knowledge, and the
signed download URL (served here, expiring on the virtual clock, forged or stale: 403)."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import advance, assert_error, make_agent, make_session

OTHER = {"Authorization": "Bearer th_test_another_tenant"}


def b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()


def upload(client, auth, **fields) -> dict:
    body = {"userId": "u1", "filename": "report.csv", "purpose": "agent_input", "data": b64("a,b\n1,2\n"), **fields}
    response = client.post("/v1/files", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_upload_answers_the_sdk_file_data(client, auth):
    body = upload(client, auth)
    assert body["id"].startswith("file_")
    assert {k: body[k] for k in ("filename", "mimeType", "size", "purpose", "userId", "agentId", "sessionId")} == {
        "filename": "report.csv", "mimeType": "text/csv", "size": 8, "purpose": "agent_input", "userId": "u1",
        "agentId": None, "sessionId": None}
    assert body["createdAt"] == "2025-05-01T00:00:00.000Z"
    assert client.get(f"/v1/files/{body['id']}", headers=auth).json() == body


def test_mime_type_is_the_given_one_or_from_a_fixed_table(client, auth):
    assert upload(client, auth, filename="x.weird")["mimeType"] is None
    assert upload(client, auth, filename="noext")["mimeType"] is None
    assert upload(client, auth, filename="a.PNG")["mimeType"] == "image/png"
    assert upload(client, auth, filename="a.bin", mimeType="application/x-thing")["mimeType"] == "application/x-thing"


def test_a_file_may_belong_to_an_agent_and_its_session(client, auth):
    agent = make_agent(client, auth)
    body = upload(client, auth, agentId=agent["id"], userId="user_1")
    assert body["agentId"] == agent["id"] and body["sessionId"] == agent["sessionId"]


def test_a_file_of_another_users_session_or_another_tenants_agent_is_refused(client, auth):
    session = make_session(client, auth)  # user_1
    response = client.post("/v1/files", headers=auth, json={"userId": "u1", "filename": "a", "purpose": "agent_input",
                                                             "data": b64("x"), "sessionId": session["id"]})
    assert assert_error(response, 422, "unprocessable_entity")["error"]["details"]["fields"][0]["field"] == "userId"
    agent = make_agent(client, auth)
    response = client.post("/v1/files", headers=OTHER, json={"userId": "u1", "filename": "a", "purpose": "agent_input",
                                                              "data": b64("x"), "agentId": agent["id"]})
    assert_error(response, 404, "not_found")
    assert client.get("/v1/files", headers=auth).json()["data"] == []


def test_list_filters_and_pages_newest_first(client, auth):
    agent = make_agent(client, auth, make_session(client, auth, userId="u1")["id"])
    a = upload(client, auth, filename="a.txt")
    b = upload(client, auth, filename="b.txt", purpose="agent_output", agentId=agent["id"])
    c = upload(client, auth, filename="c.txt", userId="u2")
    everything = client.get("/v1/files", headers=auth).json()
    assert [f["id"] for f in everything["data"]] == [c["id"], b["id"], a["id"]]
    assert everything["hasMore"] is False
    assert [f["id"] for f in client.get("/v1/files", params={"userId": "u1"}, headers=auth).json()["data"]] == \
        [b["id"], a["id"]]
    assert [f["id"] for f in client.get("/v1/files", params={"purpose": "agent_output"},
                                        headers=auth).json()["data"]] == [b["id"]]
    assert [f["id"] for f in client.get("/v1/files", params={"agentId": agent["id"]}, headers=auth).json()["data"]] == \
        [b["id"]]
    assert [f["id"] for f in client.get("/v1/files", params={"sessionId": agent["sessionId"]},
                                        headers=auth).json()["data"]] == [b["id"]]
    first = client.get("/v1/files", params={"limit": 2}, headers=auth).json()
    assert first["hasMore"] is True and len(first["data"]) == 2
    rest = client.get("/v1/files", params={"limit": 2, "cursor": first["nextCursor"]}, headers=auth).json()
    assert [f["id"] for f in rest["data"]] == [a["id"]]
    assert_error(client.get("/v1/files", params={"purpose": "memes"}, headers=auth), 422, "unprocessable_entity")


def test_the_sdk_reads_data_and_has_more(client, auth):
    upload(client, auth)
    body = client.get("/v1/files", headers={**auth, "X-SDK-Version": "0.1.0"}).json()
    assert isinstance(body["data"], list) and body["hasMore"] is False


def test_delete_removes_the_file(client, auth):
    body = upload(client, auth)
    assert client.delete(f"/v1/files/{body['id']}", headers=auth).json() == {"id": body["id"], "deleted": True}
    assert_error(client.get(f"/v1/files/{body['id']}", headers=auth), 404, "not_found")
    assert_error(client.delete(f"/v1/files/{body['id']}", headers=auth), 404, "not_found")


def test_another_tenants_files_are_404(client, auth):
    body = upload(client, auth)
    for method, path in (("GET", f"/v1/files/{body['id']}"), ("DELETE", f"/v1/files/{body['id']}"),
                         ("GET", f"/v1/files/{body['id']}/url")):
        assert_error(client.request(method, path, headers=OTHER), 404, "not_found")
    assert client.get("/v1/files", headers=OTHER).json()["data"] == []
    assert client.get(f"/v1/files/{body['id']}", headers=auth).status_code == 200


def test_a_signed_url_serves_the_bytes_until_it_expires(client, auth):
    data = bytes(range(256))
    body = upload(client, auth, filename="blob.bin", data=b64(data))
    answer = client.get(f"/v1/files/{body['id']}/url", params={"expiresIn": "10m"}, headers=auth).json()
    assert answer["url"].startswith(f"http://testserver/v1/files/{body['id']}/content?expires=")
    assert answer["expiresAt"] == "2025-05-01T00:10:00.000Z"
    download = client.get(local(answer["url"]))  # no API key: the signature is the credential
    assert download.status_code == 200 and download.content == data
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"] == "attachment; filename=\"blob.bin\"; filename*=UTF-8''blob.bin"
    advance(client, 600)
    assert client.get(local(answer["url"])).status_code == 200  # valid through its expiry instant
    advance(client, 1)
    body = assert_error(client.get(local(answer["url"])), 403, "forbidden")
    assert "expired" in body["error"]["message"]


def test_a_changed_or_missing_signature_is_403(client, auth):
    body = upload(client, auth)
    url = local(client.get(f"/v1/files/{body['id']}/url", headers=auth).json()["url"])
    query = parse_qs(urlsplit(url).query)
    expires, signature = query["expires"][0], query["signature"][0]
    path = f"/v1/files/{body['id']}/content"
    for bad in (f"{path}?expires={int(expires) + 1}&signature={signature}",
                f"{path}?expires={expires}&signature={'0' * 64}", f"{path}?expires={expires}", path,
                f"{path}?expires=abc&signature={signature}", f"{path}?expires={expires}&signature=zz"):
        assert_error(client.get(bad), 403, "forbidden")
    other = upload(client, auth, filename="other.csv")
    assert_error(client.get(f"/v1/files/{other['id']}/content?expires={expires}&signature={signature}"), 403,
                 "forbidden")


def test_a_deleted_files_url_is_404(client, auth):
    body = upload(client, auth)
    url = local(client.get(f"/v1/files/{body['id']}/url", headers=auth).json()["url"])
    client.delete(f"/v1/files/{body['id']}", headers=auth)
    assert_error(client.get(url), 404, "not_found")


def test_non_ascii_names_download_with_an_ascii_fallback(client, auth):
    body = upload(client, auth, filename="résumé \"final\".md")
    download = client.get(local(client.get(f"/v1/files/{body['id']}/url", headers=auth).json()["url"]))
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"r_sum_ _final_.md\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.md")
    assert download.headers["content-type"].startswith("text/markdown")


@pytest.mark.parametrize("expires_in", ["0s", "8d", "soon", "-1h"])
def test_bad_expiry_is_422(client, auth, expires_in):
    body = upload(client, auth)
    response = client.get(f"/v1/files/{body['id']}/url", params={"expiresIn": expires_in}, headers=auth)
    assert assert_error(response, 422, "unprocessable_entity")["error"]["details"]["fields"][0]["field"] == "expiresIn"


def test_auto_ingest_puts_a_knowledge_file_into_the_users_knowledge(client, auth):
    body = upload(client, auth, filename="handbook.md", purpose="knowledge", autoIngest=True, collection="hr",
                  data=b64("Vacation policy: 25 days a year."))
    assert body["collection"] == "hr" and body["knowledgeSourceId"].startswith("ksrc_")
    results = client.post("/v1/knowledge/query", json={"userId": "u1", "query": "vacation days"}, headers=auth).json()
    assert results["data"][0]["source"] == "handbook.md" and results["data"][0]["collection"] == "hr"
    sources = client.get("/v1/knowledge/sources", params={"userId": "u1"}, headers=auth).json()["data"]
    assert sources[0]["fileId"] == body["id"]


def test_auto_ingest_of_binary_data_is_422_and_stores_nothing(client, auth):
    response = client.post("/v1/files", headers=auth, json={"userId": "u1", "filename": "x.pdf", "purpose": "knowledge",
                                                             "data": b64(b"\xff\xfe\xfd"), "autoIngest": True})
    assert assert_error(response, 422, "unprocessable_entity")["error"]["details"]["fields"][0]["field"] == "data"
    assert client.get("/v1/files", headers=auth).json()["data"] == []
    assert client.get("/v1/knowledge/stats", params={"userId": "u1"}, headers=auth).json()["sources"] == 0


BAD = [
    ({"filename": "a", "purpose": "agent_input", "data": b64("x")}, "userId"),
    ({"userId": "u1", "purpose": "agent_input", "data": b64("x")}, "filename"),
    ({"userId": "u1", "filename": "a", "data": b64("x")}, "purpose"),
    ({"userId": "u1", "filename": "a", "purpose": "agent_input"}, "data"),
    ({"userId": "u1", "filename": "a", "purpose": "memes", "data": b64("x")}, "purpose"),
    ({"userId": "u1", "filename": "a", "purpose": "agent_input", "data": "not base64!"}, "data"),
    ({"userId": "u1", "filename": "dir/a", "purpose": "agent_input", "data": b64("x")}, "filename"),
    ({"userId": "u1", "filename": "a", "purpose": "agent_input", "data": b64("x"), "autoIngest": True}, "body"),
    ({"userId": "u1", "filename": "a", "purpose": "knowledge", "data": b64("x"), "collection": "c"}, "body"),
    ({"userId": "u1", "filename": "a", "purpose": "agent_input", "data": b64("x"), "mimeType": "text"}, "mimeType"),
]


@pytest.mark.parametrize(("body", "field"), BAD, ids=[f"{f}-{i}" for i, (_, f) in enumerate(BAD)])
def test_bad_uploads_are_422_and_store_nothing(client, auth, body, field):
    error = assert_error(client.post("/v1/files", json=body, headers=auth), 422, "unprocessable_entity")["error"]
    assert field in {d["field"] for d in error["details"]["fields"]}
    assert client.get("/v1/files", headers=auth).json()["data"] == []


def test_an_upload_over_the_body_limit_is_413(client, auth):
    from theazo_emu.theazo.routes.files import MAX_BODY

    response = client.post("/v1/files", content=b"{" + b" " * MAX_BODY + b"}",
                           headers={**auth, "Content-Type": "application/json"})
    assert_error(response, 413, "payload_too_large")


def test_a_tenant_past_its_storage_is_409(client, auth, monkeypatch):
    from theazo_emu.theazo.routes import files

    monkeypatch.setattr(files, "MAX_FILES", 1)
    upload(client, auth)
    response = client.post("/v1/files", headers=auth, json={"userId": "u1", "filename": "b", "purpose": "agent_input",
                                                             "data": b64("y")})
    assert assert_error(response, 409, "conflict")["error"]["details"]["maxFiles"] == 1
    assert len(client.get("/v1/files", headers=auth).json()["data"]) == 1
