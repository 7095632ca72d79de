"""A column's converter remembers the values it gave (csv_import/parser.py `_remembering`):
the same text converts once, a text that does not convert fails every time, and the memory is
bounded."""

import pytest

from floorsync.csv_import import parser
from floorsync.csv_import.issues import Code
from floorsync.csv_import.values import CellError, ValueType, converter


def test_the_same_text_is_converted_once() -> None:
    calls: list[str] = []
    number = converter(ValueType.decimal, separator="comma")

    def counting(text: str) -> object:
        calls.append(text)
        return number(text)

    convert = parser._remembering(counting)
    assert [convert("1.234,5"), convert("1.234,5"), convert("0,75")] == [1234.5, 1234.5, 0.75]
    assert calls == ["1.234,5", "0,75"]


def test_a_bad_text_fails_every_time() -> None:
    convert = parser._remembering(converter(ValueType.integer, separator="comma"))
    for _ in range(2):
        with pytest.raises(CellError) as err:
            convert("twelve")
        assert err.value.code is Code.TYPE_INTEGER


def test_the_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parser, "REMEMBERED_VALUES", 3)
    calls: list[str] = []

    def counting(text: str) -> str:
        calls.append(text)
        return text.upper()

    convert = parser._remembering(counting)
    for text in ("a", "b", "c", "d", "a"):
        assert convert(text) == text.upper()
    assert calls == ["a", "b", "c", "d", "a"]  # full at "d": everything forgotten
