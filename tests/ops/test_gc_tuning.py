"""floorsync's commands run with the collector thresholds of kit/gc_tuning.py (a bulk load's
large live heap made CPython's defaults cost a sixth of a planning pull)."""

import gc
import sys
from collections.abc import Iterator

import pytest

from floorsync.cli.app import main
from floorsync.kit.gc_tuning import THRESHOLDS


@pytest.fixture
def defaults() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # CPython's
    yield
    gc.set_threshold(*before)


@pytest.mark.usefixtures("defaults")
def test_a_floorsync_command_sets_the_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["floorsync", "--help"])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 0
    assert gc.get_threshold() == THRESHOLDS


def test_the_thresholds_still_collect_cycles() -> None:
    young, *_ = THRESHOLDS
    assert 0 < young <= 100_000  # collection is delayed, never switched off
    assert gc.isenabled()
