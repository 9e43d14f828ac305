"""An agent's files: write, read and list (sdk-compat.md, "Agent instance": `agent.files`).

The sandbox's files live in the `agent_files` table as the bytes written, with the
encoding they were written in, which is the one a read answers in. A directory is any
path prefix; listing one shows its files and its subdirectories. Writing needs a usable
agent (409 once it is terminated or its session stopped); reading does not. An agent
holds at most MAX_FILES files of MAX_BYTES together (409 past either), which also bounds
what its checkpoints copy. Mock and `--exec local` exec do not see these files.
"""

from __future__ import annotations

import base64
from typing import Any

from theazo_emu.core.errors import Conflict, NotFound, invalid
from theazo_emu.core.http import Ctx, api_route
from theazo_emu.theazo.bodies.files import WriteFile, normal_path
from theazo_emu.theazo.domain.agents import require_usable
from theazo_emu.theazo.routes.agents import load
from theazo_emu.theazo.surface import list_answer, one_page

TABLE = "agent_files"
MAX_FILES = 1000  # per agent
MAX_BYTES = 16 * 1024 * 1024  # per agent, all files together (checkpoints copy them)
DEFAULT_DIR = "/data"  # the SDK's default for list()


def _path(value: str, field: str) -> str:
    """A sandbox path from the request, normalised; 422 naming `field` when it is not one."""
    try:
        return normal_path(value)
    except ValueError as exc:
        raise invalid(field, str(exc)) from None


def _text(data: bytes, encoding: str) -> str:
    return base64.b64encode(data).decode("ascii") if encoding == "base64" else data.decode("utf-8")


async def write_file(ctx: Ctx) -> dict[str, Any]:
    """Write a file into the agent's sandbox (replacing one at the same path)."""
    body: WriteFile = ctx.body
    agent = load(ctx)
    require_usable(ctx.t, agent)
    store, now = ctx.store, ctx.now_iso()
    key = [agent["id"], body.path]
    content = body.content()
    others = store.find(TABLE, "agent_id = ? AND path != ?", key, order=None,
                        columns="COUNT(*) AS files, COALESCE(SUM(size), 0) AS bytes")
    if others["files"] >= MAX_FILES:
        raise Conflict(f"Agent {agent['id']} already holds {MAX_FILES} files.", {"limit": MAX_FILES})
    if others["bytes"] + len(content) > MAX_BYTES:
        raise Conflict(f"Agent {agent['id']}'s files would exceed {MAX_BYTES} bytes.",
                       {"limit": MAX_BYTES, "used": others["bytes"], "requested": len(content)})
    with store.atomic():
        store.delete(TABLE, "agent_id = ? AND path = ?", key)
        store.insert(TABLE, {"agent_id": agent["id"], "path": body.path, "content": content,
                             "encoding": body.encoding, "size": len(content), "modified_at": now})
    return {"path": body.path, "size": len(content), "encoding": body.encoding, "modified": now}


async def read_file(ctx: Ctx) -> dict[str, Any]:
    """Read a file: `{data, encoding}` in the encoding it was written in."""
    agent = load(ctx)
    path = _path(ctx.params["path"], "path")
    row = ctx.store.find(TABLE, "agent_id = ? AND path = ?", [agent["id"], path], order=None,
                         columns="content, encoding")
    if row is None:
        raise NotFound("file", path)
    return {"path": path, "data": _text(row["content"], row["encoding"]), "encoding": row["encoding"]}


async def list_files(ctx: Ctx) -> Any:
    """List a directory (`dir`, default /data): its files, then its subdirectories, by name."""
    agent = load(ctx)
    wanted = ctx.query.get("dir") or DEFAULT_DIR
    directory = "" if not wanted.strip("/") else _path(wanted, "dir")  # "" is the root
    prefix = directory + "/"
    rows = ctx.store.rows(TABLE, "agent_id = ? AND substr(path, 1, ?) = ?", [agent["id"], len(prefix), prefix],
                          order="path", columns="path, size, modified_at")
    files, subdirectories = [], {}
    for row in rows:
        name, _, deeper = row["path"][len(prefix):].partition("/")
        if deeper:
            latest = subdirectories.get(name)
            subdirectories[name] = max(latest or "", row["modified_at"])
        else:
            files.append({"name": name, "path": row["path"], "type": "file", "size": row["size"],
                          "modified": row["modified_at"]})
    folders = [{"name": name, "path": f"{directory}/{name}", "type": "directory", "size": 0, "modified": modified}
               for name, modified in sorted(subdirectories.items())]
    return list_answer(ctx, one_page(files + folders))


routes = [
    api_route("/v1/agents/{agent_id}/files", write_file, "POST", body=WriteFile, status=201),
    api_route("/v1/agents/{agent_id}/files", list_files, query=("dir",)),
    api_route("/v1/agents/{agent_id}/files/{path:path}", read_file),
]
