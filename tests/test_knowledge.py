"""Knowledge over HTTP: upload (base64 and text), chunking, BM25 query, sources, collections,
stats, sync; per-user and per-tenant isolation; bad bodies change nothing."""

from __future__ import annotations

import base64

import pytest
from conftest import advance, assert_error

from theazo_emu.theazo.domain.knowledge import CHUNK_CHARS, chunk_text, terms

SDK = {"X-SDK-Version": "0.1.0"}
PRICING = "# Pricing\n- Free: 500 credits/mo, 1 agent\n- Pro: $99/mo, 5000 credits, unlimited agents\n"
FAQ = "# FAQ\nQ: What runtimes are supported?\nA: Python, Node.js, and Go sandboxes.\n\nQ: How does billing work?\n" \
      "A: Per-session in integer cents."
ARCH = "# Architecture\nThe platform uses a session-based isolation model.\nEach user gets their own sandbox."


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def upload(client, auth, user="u1", collection=None, **files: str) -> dict:
    body = {"userId": user, "files": [{"filename": name.replace("_", "."), "data": b64(text)}
                                      for name, text in files.items()]}
    if collection:
        body["collection"] = collection
    response = client.post("/v1/knowledge/upload", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def query(client, auth, text, user="u1", **extra) -> list[dict]:
    response = client.post("/v1/knowledge/query", json={"userId": user, "query": text, **extra}, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def stats(client, auth, user="u1") -> dict:
    response = client.get("/v1/knowledge/stats", params={"userId": user}, headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def test_upload_answers_the_sources_it_stored(client, auth):
    body = upload(client, auth, collection="product-docs", pricing_md=PRICING, faq_md=FAQ)
    assert body["collection"] == "product-docs"
    assert [s["name"] for s in body["sources"]] == ["pricing.md", "faq.md"]
    source = body["sources"][0]
    assert source["source"] == "upload" and source["status"] == "active" and source["chunkCount"] == 1
    assert source["id"].startswith("ksrc_") and source["bytes"] == len(PRICING.encode())


def test_a_query_finds_the_document_holding_its_words(client, auth):
    upload(client, auth, collection="product-docs", pricing_md=PRICING, faq_md=FAQ)
    results = query(client, auth, "What is the Pro plan pricing?", collection="product-docs", topK=3)
    assert results[0]["source"] == "pricing.md"
    assert results[0]["content"].startswith("# Pricing") and results[0]["chunk"] == 0
    assert isinstance(results[0]["score"], float) and results[0]["score"] > 0


def test_without_a_collection_the_query_searches_every_collection(client, auth):
    upload(client, auth, collection="product-docs", pricing_md=PRICING, faq_md=FAQ)
    upload(client, auth, collection="engineering-docs", architecture_md=ARCH)
    results = query(client, auth, "How does session isolation work?", topK=3)
    assert results[0]["source"] == "architecture.md" and results[0]["collection"] == "engineering-docs"
    assert query(client, auth, "isolation", collection="product-docs") == []


def test_results_are_ranked_best_first_and_cut_at_top_k(client, auth):
    upload(client, auth, a_txt="apple banana", b_txt="apple apple apple banana", c_txt="cherry")
    results = query(client, auth, "apple", topK=1)
    assert [r["source"] for r in results] == ["b.txt"]
    both = query(client, auth, "apple")
    assert [r["source"] for r in both] == ["b.txt", "a.txt"]
    assert both[0]["score"] > both[1]["score"]


def test_a_query_of_only_stop_words_or_unknown_words_finds_nothing(client, auth):
    upload(client, auth, a_txt="apple banana")
    assert query(client, auth, "what is the") == []
    assert query(client, auth, "zebra") == []


def test_text_files_are_accepted_as_well_as_base64(client, auth):
    response = client.post("/v1/knowledge/upload", headers=auth, json={
        "userId": "u1", "files": [{"filename": "notes.txt", "text": "The quarterly roadmap mentions Kubernetes."}]})
    assert response.status_code == 201
    assert query(client, auth, "kubernetes")[0]["source"] == "notes.txt"


def test_long_documents_are_chunked_and_every_chunk_is_searchable():
    text = "\n\n".join(f"Paragraph {n} talks about topic{n} " + "filler words " * 30 for n in range(20))
    chunks = chunk_text(text)
    assert len(chunks) > 1 and all(len(c) <= CHUNK_CHARS for c in chunks)
    assert " ".join(chunks).count("Paragraph") == 20
    assert chunk_text("one " * 1000)  # a run-on sentence is cut at spaces
    assert all(len(c) <= CHUNK_CHARS for c in chunk_text("x" * 3000))
    assert chunk_text("  \n\n  ") == []


def test_terms_drop_stop_words_and_plural_s():
    assert terms("What are the Docs of GrowthCo's classes?") == ["doc", "growthco", "classe"]


def test_a_chunked_upload_counts_its_chunks_in_stats(client, auth):
    long = "\n\n".join(f"Section {n}: " + "the platform scales agents " * 40 for n in range(5))
    source = upload(client, auth, long_md=long)["sources"][0]
    assert source["chunkCount"] == len(chunk_text(long)) > 1
    result = query(client, auth, "section scales", topK=50)
    assert {r["chunk"] for r in result} == set(range(source["chunkCount"]))
    assert stats(client, auth)["totalChunks"] == source["chunkCount"]


def test_uploading_a_same_named_document_replaces_it(client, auth):
    upload(client, auth, doc_txt="old words about llamas")
    upload(client, auth, doc_txt="new words about alpacas")
    assert query(client, auth, "llamas") == []
    assert query(client, auth, "alpacas")[0]["content"] == "new words about alpacas"
    assert len(client.get("/v1/knowledge/sources", params={"userId": "u1"}, headers=auth).json()["data"]) == 1


def test_stats_sum_the_users_sources(client, auth):
    upload(client, auth, collection="a", x_txt="alpha beta gamma", y_txt="delta")
    upload(client, auth, collection="b", z_txt="epsilon")
    body = stats(client, auth)
    assert body["collections"] == 2 and body["totalChunks"] == 3 and body["sources"] == 3
    assert body["totalTokens"] > 0 and body["storageBytes"] == len("alpha beta gammadeltaepsilon")
    assert body["storageGB"] == pytest.approx(body["storageBytes"] / 1e9)
    assert stats(client, auth, user="nobody") == {"collections": 0, "sources": 0, "totalChunks": 0, "totalTokens": 0,
                                                  "storageGB": 0, "storageBytes": 0}


def test_sources_list_in_the_sdk_shape_and_narrow_by_collection(client, auth):
    upload(client, auth, x_txt="alpha")
    upload(client, auth, collection="c2", y_txt="beta")
    everything = client.get("/v1/knowledge/sources", params={"userId": "u1"}, headers={**auth, **SDK}).json()
    assert [s["collection"] for s in everything["data"]] == ["default", "c2"]  # {data} for the SDK too
    only = client.get("/v1/knowledge/sources", params={"userId": "u1", "collection": "c2"}, headers=auth).json()
    assert [s["name"] for s in only["data"]] == ["y.txt"]


def test_deleting_a_source_removes_its_chunks(client, auth):
    source = upload(client, auth, x_txt="alpha", y_txt="alpha beta")["sources"][0]
    response = client.delete(f"/v1/knowledge/sources/{source['id']}", params={"userId": "u1"}, headers=auth)
    assert response.json() == {"id": source["id"], "deleted": True}
    assert [r["source"] for r in query(client, auth, "alpha")] == ["y.txt"]
    again = client.delete(f"/v1/knowledge/sources/{source['id']}", params={"userId": "u1"}, headers=auth)
    assert_error(again, 404, "not_found")


def test_deleting_a_collection_keeps_the_others(client, auth):
    upload(client, auth, collection="product-docs", a_txt="alpha")
    upload(client, auth, collection="keep", b_txt="alpha")
    response = client.delete("/v1/knowledge/collections/product-docs", params={"userId": "u1"}, headers=auth)
    assert response.json() == {"collection": "product-docs", "deleted": True, "sources": 1}
    assert [r["collection"] for r in query(client, auth, "alpha")] == ["keep"]
    assert stats(client, auth)["collections"] == 1
    again = client.delete("/v1/knowledge/collections/product-docs", params={"userId": "u1"}, headers=auth)
    assert again.json() == {"collection": "product-docs", "deleted": True, "sources": 0}  # it exists only by sources


def test_sync_records_a_source_that_syncs_then_is_active(client, auth):
    response = client.post("/v1/knowledge/sync", headers=auth, json={
        "userId": "u1", "source": {"type": "notion", "config": {"databaseId": "abc123"}}, "collection": "team-wiki",
        "syncSchedule": "0 */6 * * *"})
    assert response.status_code == 201, response.text
    source = response.json()
    assert source["source"] == "notion" and source["status"] == "syncing" and source["chunkCount"] == 0
    assert source["syncSchedule"] == "0 */6 * * *" and source["collection"] == "team-wiki"
    advance(client, 5)
    listed = client.get("/v1/knowledge/sources", params={"userId": "u1"}, headers=auth).json()["data"]
    assert listed[0]["status"] == "active"
    assert stats(client, auth)["collections"] == 1


def test_users_never_see_each_others_knowledge(client, auth):
    upload(client, auth, user="pro", playbook_md="GrowthCo sales playbook: mid-market SaaS")
    assert query(client, auth, "playbook", user="free") == []
    assert stats(client, auth, user="free")["totalChunks"] == 0
    source = client.get("/v1/knowledge/sources", params={"userId": "pro"}, headers=auth).json()["data"][0]
    response = client.delete(f"/v1/knowledge/sources/{source['id']}", params={"userId": "free"}, headers=auth)
    assert_error(response, 404, "not_found")
    assert query(client, auth, "playbook", user="pro")


def test_tenants_never_see_each_others_knowledge(client, auth):
    source = upload(client, auth, secret_md="confidential merger plans")["sources"][0]
    other = {"Authorization": "Bearer th_test_another_tenant"}
    assert query(client, other, "merger") == []
    assert_error(client.delete(f"/v1/knowledge/sources/{source['id']}", params={"userId": "u1"}, headers=other),
                 404, "not_found")
    assert client.delete("/v1/knowledge/collections/default", params={"userId": "u1"},
                         headers=other).json()["sources"] == 0
    assert query(client, auth, "merger")


BAD_UPLOADS = [
    ({"files": [{"filename": "a", "data": b64("x")}]}, "userId"),
    ({"userId": "u1", "files": []}, "files"),
    ({"userId": "u1"}, "files"),
    ({"userId": "u1", "files": [{"filename": "a", "data": "%%% not base64"}]}, "files.0.data"),
    ({"userId": "u1", "files": [{"filename": "a.pdf", "data": base64.b64encode(b"\xff\xfe\x00").decode()}]},
     "files.0.data"),
    ({"userId": "u1", "files": [{"filename": "a"}]}, "files.0"),
    ({"userId": "u1", "files": [{"filename": "a", "data": b64("x"), "text": "x"}]}, "files.0"),
    ({"userId": "u1", "files": [{"filename": "", "data": b64("x")}]}, "files.0.filename"),
    ({"userId": "u1", "files": [{"filename": "a", "data": b64("x")}, {"filename": "a", "data": b64("y")}]}, "files"),
    ({"userId": "u1", "collection": "a/b", "files": [{"filename": "a", "data": b64("x")}]}, "collection"),
    ({"userId": "", "files": [{"filename": "a", "data": b64("x")}]}, "userId"),
    ({"userId": "u1", "files": "a"}, "files"),
]


@pytest.mark.parametrize(("body", "field"), BAD_UPLOADS, ids=[f for _, f in BAD_UPLOADS])
def test_bad_uploads_are_422_naming_the_field_and_store_nothing(client, auth, body, field):
    response = client.post("/v1/knowledge/upload", json=body, headers=auth)
    error = assert_error(response, 422, "unprocessable_entity")["error"]
    assert field in {d["field"] for d in error["details"]["fields"]}
    assert stats(client, auth)["sources"] == 0


def test_a_bad_file_among_good_ones_stores_none_of_them(client, auth):
    body = {"userId": "u1", "files": [{"filename": "good", "data": b64("alpha")}, {"filename": "bad", "data": "!!"}]}
    assert_error(client.post("/v1/knowledge/upload", json=body, headers=auth), 422, "unprocessable_entity")
    assert stats(client, auth)["sources"] == 0


@pytest.mark.parametrize(("body", "field"), [
    ({"userId": "u1"}, "query"), ({"userId": "u1", "query": ""}, "query"), ({"query": "x"}, "userId"),
    ({"userId": "u1", "query": "x", "topK": 0}, "topK"), ({"userId": "u1", "query": "x", "topK": 51}, "topK"),
    ({"userId": "u1", "query": "x", "topK": "five"}, "topK"), ({"userId": "u1", "query": 5}, "query"),
])
def test_bad_queries_are_422(client, auth, body, field):
    error = assert_error(client.post("/v1/knowledge/query", json=body, headers=auth), 422, "unprocessable_entity")
    assert field in {d["field"] for d in error["error"]["details"]["fields"]}


@pytest.mark.parametrize(("body", "field"), [
    ({"userId": "u1", "source": {"type": "dropbox", "config": {}}}, "source.type"),
    ({"userId": "u1"}, "source"),
    ({"userId": "u1", "source": {"type": "url", "config": []}}, "source.config"),
    ({"userId": "u1", "source": {"type": "url"}, "syncSchedule": "every day"}, "syncSchedule"),
    ({"userId": "u1", "source": {"type": "url"}, "syncSchedule": "61 * * * *"}, "syncSchedule"),
])
def test_bad_syncs_are_422_and_store_nothing(client, auth, body, field):
    error = assert_error(client.post("/v1/knowledge/sync", json=body, headers=auth), 422, "unprocessable_entity")
    assert field in {d["field"] for d in error["error"]["details"]["fields"]}
    assert stats(client, auth)["sources"] == 0


@pytest.mark.parametrize("path", ["/v1/knowledge/stats", "/v1/knowledge/sources"])
def test_reads_need_a_user_id(client, auth, path):
    error = assert_error(client.get(path, headers=auth), 422, "unprocessable_entity")["error"]
    assert error["details"]["fields"][0]["field"] == "userId"
    assert_error(client.get(path, params={"userId": "a\x01b"}, headers=auth), 422, "unprocessable_entity")


def test_a_user_past_the_quota_gets_402_and_nothing_is_stored(client, auth, monkeypatch):
    from theazo_emu.theazo.domain import knowledge

    monkeypatch.setattr(knowledge, "MAX_CHUNKS_PER_USER", 2)
    upload(client, auth, a_txt="alpha", b_txt="beta")
    response = client.post("/v1/knowledge/upload", headers=auth,
                           json={"userId": "u1", "files": [{"filename": "c", "text": "gamma"}]})
    body = assert_error(response, 402, "knowledge_quota_exceeded")
    assert body["error"]["details"]["maxChunks"] == 2
    assert stats(client, auth)["sources"] == 2
    upload(client, auth, a_txt="replacing a document stays within the quota")  # replaced chunks do not count


def test_the_same_requests_give_the_same_bytes(app, client, auth):
    from starlette.testclient import TestClient

    from theazo_emu import create_app
    from theazo_emu.settings import Settings

    def scenario(test_client) -> list:
        upload(test_client, auth, collection="c", a_txt=PRICING, b_txt=FAQ)
        return [query(test_client, auth, "pro plan pricing billing"), stats(test_client, auth)]

    first = scenario(client)
    with TestClient(create_app(Settings(clock="2025-05-01T00:00:00Z", seed=0, heartbeat_s=0.5))) as again:
        assert scenario(again) == first


@pytest.mark.parametrize("raw", [b'{"userId": "u\\ud800", "files": [{"filename": "a", "text": "x"}]}',
                                 b'{"userId": "u1", "files": [{"filename": "a", "text": "x\\ud800"}]}',
                                 b'{"userId": "u1", "files": [{"filename": "a\\udc00", "text": "x"}]}'])
def test_lone_surrogates_are_422_not_500(client, auth, raw):
    response = client.post("/v1/knowledge/upload", content=raw, headers={**auth, "Content-Type": "application/json"})
    assert_error(response, 422, "unprocessable_entity")
    assert stats(client, auth)["sources"] == 0
