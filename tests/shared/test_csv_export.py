"""CSV exports: read back as written, Excel-friendly, and never a formula."""

import csv
import io

from shared.csv_export import render


def read(data: bytes) -> list[list[str]]:
    assert data.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_rows_come_back_as_written():
    data = render(
        ["id", "tekst"], [["1", 'Ławka, "złamana"\nobok'], [2, None], [3.5, "żółw"]]
    )
    assert read(data) == [
        ["id", "tekst"],
        ["1", 'Ławka, "złamana"\nobok'],
        ["2", ""],
        ["3.5", "żółw"],
    ]


def test_cells_that_would_be_formulas_are_defused():
    texts = ["=1+1", "+48 123", "-2", "@SUM(A1)", "\tx", "\rx", "a=b", "'quoted"]
    [header, row] = read(render(["=header"], [texts]))
    assert header == ["'=header"]
    assert row == [
        "'=1+1",
        "'+48 123",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "'\rx",
        "a=b",
        "'quoted",
    ]


def test_numbers_stay_numbers():
    [_, row] = read(render(["n"], [[-5]]))
    assert row == ["-5"]
