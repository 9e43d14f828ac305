"""The Theazo surface (`/v1`): th_test_ keys, the Theazo envelope, and its wire dialect.

Errors render as `{"error": {code, message, details?, requestId}, "requestId"}` with the
same id in `X-Request-Id` (the SDK reads either); codes are the reference's "Error codes".
`details` is always an object: field-level problems are `{"fields": [{field, message, type}]}`.
Lists are `{data, nextCursor, cursor, hasMore}` (the reference's and the SDK's names, one
value) or, for the SDK where its types want one, a bare array: the dialect (DESIGN.md,
"Dialect") is `X-SDK-Version` on the request unless `--dialect` says otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from theazo_emu import registry
from theazo_emu.core import catalog
from theazo_emu.core.auth import theazo_key
from theazo_emu.core.errors import details_object
from theazo_emu.core.http import Ctx, Cursor, Json, Page, Where, api_route, rows_page
from theazo_emu.core.openapi import openapi_document
from theazo_emu.core.surface import Surface

if TYPE_CHECKING:
    from theazo_emu.core.host import Host


def authenticate(emu: "Host", authorization: str | None) -> tuple[str | None, str]:
    return theazo_key(authorization)


def render_error(request_id: str, status: int, code: str, message: str, details: Any,
                 headers: dict[str, str]) -> Json:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details_object(details)
    error["requestId"] = request_id
    return Json({"error": error, "requestId": request_id}, status_code=status,
                        headers={**headers, "X-Request-Id": request_id})


def is_sdk(ctx: Ctx) -> bool:
    """Whether to answer in the SDK's dialect where the two clients cannot share one body."""
    dialect = ctx.emu.settings.dialect
    return dialect == "sdk" or (dialect == "auto" and "x-sdk-version" in ctx.request.headers)


def page_body(page: Page, serialize: Callable[[Any], Any]) -> dict[str, Any]:
    """`{data, nextCursor, cursor, hasMore}`: the reference's and the SDK's names for one value;
    on the last page the reference's `nextCursor` is null and the SDK's `cursor` (typed
    `string`) is empty."""
    return {"data": [serialize(item) for item in page.items], "nextCursor": page.next_cursor,
            "cursor": page.next_cursor or "", "hasMore": page.has_more}


def one_page(data: list[Any]) -> dict[str, Any]:
    """A whole list as a single page (lists the API never pages)."""
    return {"data": data, "nextCursor": None, "cursor": "", "hasMore": False}


def omit_null(body: dict[str, Any], *names: str) -> dict[str, Any]:
    """`body` without those of `names` that are null: fields the SDK's types mark optional
    (`field?: string`) are absent rather than null, in the families only the SDK documents."""
    return {k: v for k, v in body.items() if v is not None or k not in names}


def list_page(ctx: Ctx, table: str, where: Where | None, cursor: Cursor | str, serialize: Callable[[dict], Any],
              *, default: int = 25, maximum: int = 100) -> dict[str, Any]:
    """The caller's rows of `table`, newest first, one page, in the Theazo envelope."""
    return page_body(rows_page(ctx, table, where, cursor, default=default, maximum=maximum), serialize)


def list_answer(ctx: Ctx, page: dict[str, Any]) -> Any:
    """A list in the caller's dialect: the SDK's bare array, or the reference's envelope
    (the one place where the two cannot share a body; DESIGN.md, "Dialect")."""
    return page["data"] if is_sdk(ctx) else page


THEAZO = Surface(
    name="theazo", prefix="/v1", title="Theazo API", families=registry.THEAZO,
    authenticate=authenticate, render_error=render_error,
    guards=("rate_limit", "scopes", "faults"), catalog=catalog.THEAZO, openapi="/v1/openapi.json",
    core=lambda: [api_route("/v1/openapi.json", openapi_document, public=True)],
)
