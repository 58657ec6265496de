"""CSV exports that spreadsheets open as they are: UTF-8 with a BOM, no cell run as a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import Response

MEDIA_TYPE = "text/csv; charset=utf-8"

# A cell starting with one of these is taken for a formula by Excel, LibreOffice and Google
# Sheets (OWASP "CSV injection"): a resident's text could otherwise run in an operator's sheet.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | None


def safe_cell(value: Cell) -> str | int | float:
    """Text prefixed with `'` when a spreadsheet would read it as a formula; numbers as they are."""
    if value is None:
        return ""
    if isinstance(value, int | float):
        return value
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def render(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    # The BOM makes Excel read UTF-8 (Polish and German letters) rather than a code page.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def csv_response(
    header: Sequence[str], rows: Iterable[Sequence[Cell]], *, filename: str
) -> Response:
    return Response(
        render(header, rows),
        media_type=MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def csv_responses(example: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entry of an operation answering a CSV file."""
    return {
        200: {
            "description": "A CSV file (UTF-8 with a byte order mark, comma-separated, "
            "a header row). Cells a spreadsheet would run as a formula start with `'`.",
            "content": {"text/csv": {"schema": {"type": "string"}, "example": example}},
            "headers": {
                "Content-Disposition": {
                    "description": "`attachment` with a file name.",
                    "schema": {"type": "string"},
                }
            },
        }
    }
