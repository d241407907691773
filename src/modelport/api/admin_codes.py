"""`/admin/codes`: redemption codes with their status and who redeemed them (key and
account), disabling, deleting unredeemed ones, and a CSV export. Admin keys only.

Minting stays at `POST /admin/redemption-codes` (its answer is the only copy of the codes).
"""

from __future__ import annotations

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from ..accounting.redeem import CodeRecord
from ..protocol.accounts import CodeRow, CodeRows
from ..protocol.errors import APIError
from .admin import require_admin
from .deps import ServicesDep

router = APIRouter(prefix="/admin", dependencies=[Depends(require_admin)])
StatusQuery = Annotated[str | None, Query(pattern="^(unused|redeemed|disabled)$")]
BatchQuery = Annotated[str | None, Query(max_length=100)]
CSV_COLUMNS = (
    "id",
    "display",
    "batch",
    "tokens",
    "micros",
    "status",
    "created_at",
    "redeemed_at",
    "redeemed_by",
    "redeemed_user_id",
    "redeemed_username",
    "disabled_at",
)
# A cell starting with one of these is a formula to a spreadsheet (OWASP: CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _not_found(code_id: str) -> APIError:
    return APIError(404, f"No code with id {code_id}.", param="code_id", code="code_not_found")


def _row(record: CodeRecord) -> CodeRow:
    return CodeRow.model_validate(record)


@router.get("/codes")
async def list_codes(
    services: ServicesDep, batch: BatchQuery = None, status: StatusQuery = None
) -> CodeRows:
    return CodeRows(data=[_row(c) for c in await services.codes.list(batch, status)])


@router.get("/codes.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
async def export_codes(
    services: ServicesDep, batch: BatchQuery = None, status: StatusQuery = None
) -> Response:
    """The listing as CSV (UTF-8 with a BOM, for spreadsheets; formula-like cells quoted)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for record in await services.codes.list(batch, status):
        row = _row(record).model_dump(mode="json")
        writer.writerow([safe_cell(row[c]) for c in CSV_COLUMNS])
    return Response(
        ("\ufeff" + out.getvalue()).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="redemption-codes.csv"'},
    )


def safe_cell(value: object) -> str:
    """The cell's text; one a spreadsheet would run as a formula gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


@router.get("/codes/{code_id}")
async def get_code(code_id: str, services: ServicesDep) -> CodeRow:
    record = await services.codes.get(code_id)
    if record is None:
        raise _not_found(code_id)
    return _row(record)


@router.post("/codes/{code_id}/disable")
async def disable_code(code_id: str, services: ServicesDep) -> CodeRow:
    """Makes an unused code unredeemable; a redeemed one stays as it is (409)."""
    record = await services.codes.disable(code_id)
    if record is None:
        raise _not_found(code_id)
    if record.status == "redeemed":
        raise APIError(409, "This code was redeemed already.", code="code_redeemed")
    return _row(record)


@router.delete("/codes/{code_id}")
async def delete_code(code_id: str, services: ServicesDep) -> CodeRow:
    """Deletes an unredeemed code; a redeemed one is kept (who redeemed what), 409."""
    record = await services.codes.get(code_id)
    deleted = await services.codes.delete(code_id)
    if deleted is None or record is None:
        raise _not_found(code_id)
    if not deleted:
        raise APIError(
            409, "A redeemed code is kept: it records who redeemed it.", code="code_redeemed"
        )
    return _row(record)
