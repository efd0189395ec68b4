"""Shared helpers of the importer tests: the public recordings (when present) and small
synthetic recordings written to ``tmp_path``."""
from __future__ import annotations

import json
import pathlib

import pytest

#: The public recordings (research use only: read in place, never copied into the repository).
ANCHORS = pathlib.Path(__file__).resolve().parents[2].parent / "shared" / "anchors" / "actions"


def find_anchor(*parts: str) -> pathlib.Path:
    """A path under the shared recordings, or skip the test when they are not here."""
    path = ANCHORS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared recordings not present ({path})")
    return path


def write_jsonl(path, lines) -> pathlib.Path:
    """Write ``lines`` (dicts as JSON, strings as they are) one per line; returns the path."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for line in lines:
            f.write((line if isinstance(line, str) else json.dumps(line)) + "\n")
    return path


@pytest.fixture
def anchor():
    """``anchor(*parts)``: a path under the shared recordings; skips the test without them."""
    return find_anchor


@pytest.fixture
def recording():
    """``recording(folder, events, metadata=None, **files)``: write a raw recording."""
    def make(folder, events, metadata=None, **jsonl):
        folder = pathlib.Path(folder)
        write_jsonl(folder / "events.jsonl", events)
        if metadata is not None:
            (folder / "metadata.json").write_text(json.dumps(metadata))
        for name, lines in jsonl.items():
            write_jsonl(folder / f"{name}.jsonl", lines)
        return folder
    return make
