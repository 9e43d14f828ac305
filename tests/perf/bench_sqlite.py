"""The write anchor of the wrk benchmark (A2): bench_bare's app whose POST inserts a row with
sqlite-utils into a file database in WAL mode with `synchronous=NORMAL` (what a small app
that keeps its state would do), and whose GET reads it back by primary key. Served by
uvicorn exactly as `theazo-emu serve` is; the file is $BENCH_DB (bench_wrk.py sets it)."""

import itertools
import os

import sqlite_utils
from bench_bare import BODY, health
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

db = sqlite_utils.Database(os.environ.get("BENCH_DB", "bench-sqlite.db"))
db.enable_wal()
db.execute("PRAGMA synchronous=NORMAL")
sessions = db["sessions"]
sessions.create({"id": str, "user_id": str, "status": str}, pk="id", if_not_exists=True)
sessions.insert({"id": "ses_1", "user_id": "bench", "status": "active"}, replace=True)
_ids = itertools.count(2)


async def create(request: Request) -> JSONResponse:
    body = await request.json()
    row = {"id": f"ses_{next(_ids)}", "user_id": body.get("userId"), "status": "active"}
    sessions.insert(row)
    return JSONResponse({**BODY, "id": row["id"], "userId": row["user_id"]}, status_code=201)


async def read(request: Request) -> JSONResponse:
    row = sessions.get(request.path_params["session_id"])
    return JSONResponse({**BODY, "id": row["id"], "userId": row["user_id"], "status": row["status"]})


app = Starlette(routes=[Route("/_emu/health", health), Route("/v1/sessions", create, methods=["POST"]),
                        Route("/v1/sessions/{session_id}", read)])
