"""The anchor of the wrk benchmark: a bare Starlette app answering the same paths with a small
JSON body, served by uvicorn exactly as `theazo-emu serve` is (bench_wrk.py starts it)."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

BODY = {"id": "ses_1", "userId": "bench", "status": "active"}


async def session(request: Request) -> JSONResponse:
    if request.method == "POST":
        body = await request.json()
        return JSONResponse({**BODY, "userId": body.get("userId")}, status_code=201)
    return JSONResponse(BODY)


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


app = Starlette(routes=[Route("/_emu/health", health), Route("/v1/sessions", session, methods=["POST"]),
                        Route("/v1/sessions/{session_id}", session)])
