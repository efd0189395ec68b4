"""Format 1.2 changed built-in streams: old shards read and repair with the schemas of their version."""
import pathlib
import shutil
import struct
import sys

import numpy as np
import pytest

import encoder
from encoder.errors import SchemaError
from encoder.shard import format as fmt
from encoder.shard.repair import repair
from encoder.streams import BUILTIN_1_0, STREAMS, builtin_streams, validate
from common import assert_golden

GOLDEN = pathlib.Path(__file__).parents[1] / "golden"
sys.path.insert(0, str(GOLDEN))
from make_golden import METADATA, expected  # noqa: E402


def _without_footer(src, dst) -> None:
    """``src`` cut where its footer starts: what a writer killed before closing leaves."""
    data = pathlib.Path(src).read_bytes()
    footer_offset = struct.unpack_from("<Q", data, len(data) - fmt.TAIL.size)[0]
    pathlib.Path(dst).write_bytes(data[:footer_offset])


def test_versions_and_builtin_schemas():
    assert fmt.VERSION == fmt.ENCRYPTED_VERSION == (1, 3)
    assert builtin_streams((1, 3)) is STREAMS
    assert [c.name for c in BUILTIN_1_0["command"].columns] == ["t", "kind", "text"]
    assert [c.name for c in STREAMS["command"].columns] == ["t", "kind", "text", "cwd", "exit_code", "duration_us",
                                                            "pid", "terminal"]
    assert "element" not in BUILTIN_1_0 and builtin_streams((1, 1)) is BUILTIN_1_0
    for name in set(BUILTIN_1_0) - {"command"}:  # nothing else changed
        assert BUILTIN_1_0[name].to_json() == STREAMS[name].to_json()


def test_a_1_0_shard_reads_its_command_stream_exactly():
    with encoder.ShardReader(GOLDEN / "v1.0-session.enc") as r:
        assert r.version == (1, 0)
        assert r.streams["command"] == BUILTIN_1_0["command"].arrow_schema
        assert r.read("command").to_pydict() == {"t": [-2**63, 2**63 - 1], "kind": ["shell", "menu"],
                                                 "text": ["ls -la | wc -l", None]}


@pytest.mark.parametrize("version", ["v1.0", "v1.2", "v1.3"])
def test_a_shard_without_footer_reads_and_repairs_exactly(tmp_path, version):
    """The scan falls back on the built-in schemas *of the shard's version*: a 1.0 command
    block has 3 columns, a 1.2 one 8 (their descriptors carry no schema)."""
    path = tmp_path / "crashed.enc"
    _without_footer(GOLDEN / f"{version}-session.enc", path)
    with encoder.ShardReader(path, recover=True) as r:
        assert r.recovered is not None and r.recovered.stopped == ""
        assert_golden(r, METADATA, expected(r.version))
    scan = repair(path)
    assert scan.lost == [] and scan.rows["command"] == len(expected(scan_version(path))["command"]["t"])
    with encoder.ShardReader(path) as r:
        assert r.recovered is None
        assert_golden(r, METADATA, expected(r.version))
        assert len(r.streams["command"]) == (3 if version == "v1.0" else 8)


def scan_version(path):
    with encoder.ShardReader(path) as r:
        return r.version


def test_a_1_0_shard_with_a_damaged_block_salvages_its_command_rows(tmp_path):
    path = tmp_path / "damaged.enc"
    shutil.copy(GOLDEN / "v1.0-session.enc", path)
    with encoder.ShardReader(path) as r:
        pointer = min(b.offset for b in r.blocks if b.stream == "pointer")
    data = bytearray(path.read_bytes())
    data[pointer + 200] ^= 0xFF  # a chunk of the first pointer block
    _without_footer_bytes = bytes(data[:struct.unpack_from("<Q", data, len(data) - fmt.TAIL.size)[0]])
    path.write_bytes(_without_footer_bytes)
    repair(path, salvage=True)
    with encoder.ShardReader(path) as r:
        assert r.version == (1, 0) and r.read("command").to_pydict()["text"] == ["ls -la | wc -l", None]
        r.verify()


def test_command_rows_written_without_the_new_columns_get_their_defaults(tmp_path):
    path = tmp_path / "s.enc"
    with encoder.ShardWriter(path) as w:
        w.write("command", {"t": [1, 2], "kind": ["shell", "shell"], "text": ["ls", None]})
    with encoder.ShardReader(path) as r:
        assert r.version == (1, 3)
        assert r.read("command").to_pydict() == {
            "t": [1, 2], "kind": ["shell", "shell"], "text": ["ls", None], "cwd": [None, None],
            "exit_code": [-1, -1], "duration_us": [-1, -1], "pid": [-1, -1], "terminal": [None, None]}


def test_defaults_are_write_side_only():
    command = STREAMS["command"]
    assert command.column("exit_code").default == -1 and command.column("cwd").default is None
    assert encoder.Stream.from_json("command", command.to_json()) == command  # not in the JSON, not compared
    assert "-1" not in str(command.to_json())
    with pytest.raises(SchemaError, match="missing column"):
        validate(STREAMS["element"], {"t": [1], "event": ["click"], "role": ["push button"]})
    with pytest.raises(SchemaError, match="default"):
        encoder.Column("name", "string", default=0)


def test_a_plain_shard_reserves_the_format_metadata_key(tmp_path):
    with pytest.raises(SchemaError, match="reserved"):
        encoder.ShardWriter(tmp_path / "x.enc", metadata={"format": "mine"})
    assert not (tmp_path / "x.enc").exists()


def test_the_element_stream_is_declared_as_agreed():
    assert [(c.name, c.kind, c.nullable) for c in STREAMS["element"].columns] == [
        ("t", "int64", False), ("event", "string", False), ("role", "string", False), ("name", "string", True),
        ("path", "string", True), ("app", "string", True), ("x", "int32", False), ("y", "int32", False),
        ("width", "int32", False), ("height", "int32", False)]
    assert all(c.default is None for c in STREAMS["element"].columns)
    np.testing.assert_array_equal(validate(STREAMS["element"], expected((1, 2))["element"])["x"],
                                  [0, -1280, 2**31 - 1])
