"""The examples of docs/codecs.md run (they need numcodecs and zarr)."""
from __future__ import annotations

import doctest
import pathlib

import pytest

pytest.importorskip("numcodecs")
pytest.importorskip("zarr", minversion="3")

PAGE = pathlib.Path(__file__).resolve().parents[2] / "docs" / "codecs.md"


def test_codecs_page_examples_run():
    result = doctest.testfile(str(PAGE), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0, result
