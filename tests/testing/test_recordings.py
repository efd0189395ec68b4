"""encoder.testing.recordings: the readers of the shared real recordings, and exact round trips of both
recordings through encode/decode and ShardWriter/ShardReader.

The recordings live outside the repository (research-only licences); every test that needs
them skips when ``shared_data_dir()`` finds nothing. The synthetic tests always run.
"""
import csv
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import pyarrow as pa
import pytest

import encoder
from encoder.testing import recordings
from encoder.streams import STREAMS
from encoder.streams.schema import KINDS
from common import assert_same_stream

BALABIT_ROWS = {"pointer": 308_026, "button": 42_072, "scroll": 6_454}  # 356,552 events


@pytest.fixture(scope="module")
def data_root():
    root = recordings.shared_data_dir()
    if root is None:
        pytest.skip("shared recordings not found (../shared/data or $ENCODER_SHARED_DATA)")
    return root


@pytest.fixture(scope="module")
def balabit(data_root):
    if not (data_root / recordings.BALABIT).is_dir():
        pytest.skip(f"{recordings.BALABIT} not in {data_root}")
    return recordings.load_balabit(data_root)


@pytest.fixture(scope="module")
def aalto(data_root):
    if not (data_root / recordings.AALTO).is_dir():
        pytest.skip(f"{recordings.AALTO} not in {data_root}")
    return recordings.load_aalto(data_root)


def check_dtypes(streams: dict) -> None:
    """Every column has the NumPy dtype (or the Arrow type, for strings) of its schema."""
    for name, columns in streams.items():
        spec = STREAMS[name]
        assert list(columns) == [c.name for c in spec.columns], name
        for col in spec.columns:
            values = columns[col.name]
            dtype, arrow_type = KINDS[col.kind]
            if dtype is None:
                assert isinstance(values, pa.Array) and values.type == arrow_type, (name, col.name)
            else:
                assert isinstance(values, np.ndarray), (name, col.name)
                assert values.dtype == dtype, (name, col.name, values.dtype)
            assert len(values) == len(columns["t"]), (name, col.name)


def check_same(streams: dict, tables: dict) -> None:
    """Decoded tables equal the source streams exactly: array_equal per column, equal text."""
    assert set(tables) == set(streams)
    for name, columns in streams.items():
        assert_same_stream(name, tables[name], columns)
        if "text" in columns:
            assert tables[name].column("text").to_pylist() == columns["text"].to_pylist()


# -- synthetic: always run ---------------------------------------------------------------
def test_decimal_seconds_exact_rounding():
    strings = ["0", "0.0", "0.155999999959", "1.1069999999", "2.0000005", "2.0000015", "2.00000050001",
               "7.", "-0.0000015", "123456.7894999999999999999", "999999999999.999999"]
    got = recordings.decimal_seconds_to_us(pa.array(strings))
    want = [int((Decimal(s) * 1_000_000).quantize(Decimal(1), ROUND_HALF_EVEN)) for s in strings]
    assert got.dtype == np.int64 and got.tolist() == want


@pytest.mark.parametrize("bad", ["1e-3", "", "1.2.3", " 1", "nan", "0x10", "1234567890123.0"])
def test_decimal_seconds_rejects(bad):
    with pytest.raises(ValueError, match="not plain decimal seconds"):
        recordings.decimal_seconds_to_us(pa.array(["1.0", bad]))


def test_modifier_state_x11_convention():
    # Shift down, 'A' down/up, Shift up, Ctrl down, Alt down, 'x' down, Alt up, Ctrl up,
    # then a stray Shift up that must not make the counter negative, then 'y'.
    code = np.array([16, 65, 65, 16, 17, 18, 88, 18, 17, 16, 89], np.uint32)
    pressed = np.array([1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 1], bool)
    got = recordings._modifier_state(code, pressed)
    assert got.dtype == np.uint16
    assert got.tolist() == [0, 1, 1, 1, 0, 4, 12, 12, 4, 0, 0]


def test_modifier_state_two_shift_keys():
    code = np.array([16, 16, 16, 65, 16, 65], np.uint32)  # left and right Shift overlap
    pressed = np.array([1, 1, 0, 1, 0, 1], bool)
    assert recordings._modifier_state(code, pressed).tolist() == [0, 1, 1, 1, 1, 0]


def test_shared_data_dir_env(tmp_path, monkeypatch):
    monkeypatch.setenv("ENCODER_SHARED_DATA", str(tmp_path))
    assert recordings.shared_data_dir() == tmp_path
    monkeypatch.setenv("ENCODER_SHARED_DATA", str(tmp_path / "missing"))
    assert recordings.shared_data_dir() is None  # an explicit setting never falls back


def test_loaders_want_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        recordings.load_balabit(tmp_path)
    with pytest.raises(FileNotFoundError):
        recordings.load_aalto(tmp_path)


def test_small_synthetic_files(tmp_path):
    """Both readers on tiny files written here, in each recording's format."""
    session = tmp_path / "training_files" / "user1" / "session_1"
    session.parent.mkdir(parents=True)
    session.write_text("record timestamp,client timestamp,button,state,x,y\n"
                       "0.0,0.0,NoButton,Move,10,20\n"
                       "0.1,0.0999999999,Left,Pressed,11,21\n"
                       "0.2,0.2,NoButton,Drag,65535,65535\n"
                       "0.3,0.3,Left,Released,12,22\n"
                       "0.4,0.4,Scroll,Up,12,22\n"
                       "0.5,0.5,Scroll,Down,12,22\n"
                       "0.6,0.6,Right,Pressed,1,2\n")
    mouse = recordings.load_balabit(tmp_path)
    check_dtypes(mouse)
    assert mouse["pointer"]["t"].tolist() == [0, 200_000]
    assert mouse["pointer"]["x"].tolist() == [10, 65535]
    assert mouse["button"]["t"].tolist() == [100_000, 300_000, 600_000]
    assert mouse["button"]["button"].tolist() == [1, 1, 3]
    assert mouse["button"]["pressed"].tolist() == [True, False, True]
    assert mouse["scroll"]["dy"].tolist() == [1, -1] and not mouse["scroll"]["dx"].any()
    session.write_text(session.read_text() + "0.7,0.7,Left,Sideways,1,2\n")
    with pytest.raises(ValueError, match="unknown kind"):
        recordings.load_balabit(tmp_path)

    keys = tmp_path / "keystroke-samples"
    keys.mkdir()
    header = "PARTICIPANT_ID\tTEST_SECTION_ID\tSENTENCE\tUSER_INPUT\tKEYSTROKE_ID\tPRESS_TIME\tRELEASE_TIME" \
             "\tLETTER\tKEYCODE\n"
    (keys / "2_keystrokes.txt").write_text(
        header + '2\t1\tSay "hi"\tSay "hi\t1\t1000\t1300\tSHIFT\t16\n'
        '2\t1\tSay "hi"\tSay "hi\t2\t1100\t1200\t"\t222\n'
        '2\t1\tSay "hi"\tSay "hi\t3\t1200\t1250\t \t32\n')
    (keys / "1_keystrokes.txt").write_text(header + "1\t9\tx\tx\t7\t5\t5\t\t88\n")
    key = recordings.load_aalto(tmp_path)["key"]
    check_dtypes({"key": key})
    # Path order: participant 1 first; a zero-length press keeps its down before its up.
    assert key["t"].tolist() == [5000, 5000, 1_000_000, 1_100_000, 1_200_000, 1_200_000, 1_250_000,
                                 1_300_000]
    assert key["code"].tolist() == [88, 88, 16, 222, 222, 32, 32, 16]
    assert key["pressed"].tolist() == [True, False, True, True, False, True, False, False]
    assert key["modifiers"].tolist() == [0, 0, 0, 1, 1, 1, 1, 1]
    assert key["text"].to_pylist() == ["", None, "SHIFT", '"', None, " ", None, None]


# -- the real recordings -----------------------------------------------------------------
def test_balabit_counts_and_dtypes(balabit):
    check_dtypes(balabit)
    assert {name: len(cols["t"]) for name, cols in balabit.items()} == BALABIT_ROWS
    assert sum(BALABIT_ROWS.values()) == 356_552
    button = balabit["button"]
    assert np.bincount(button["button"], minlength=4).tolist() == [0, 21_018 + 21_020, 0, 34]
    assert int(button["pressed"].sum()) == 21_018 + 17
    assert np.bincount(balabit["scroll"]["dy"] + 1).tolist() == [3_967, 0, 2_487]
    sentinels = sum(int((cols["x"] == 65535).sum()) for cols in balabit.values())
    assert sentinels == 47  # kept unchanged
    # Timestamps restart with each session: not monotonic, and kept in file order.
    assert (np.diff(balabit["pointer"]["t"]) < 0).any()


def test_balabit_timestamps_match_decimal_oracle(data_root, balabit):
    """The fast parser equals Python's Decimal rounding on every row of every session."""
    paths = sorted(p for p in (data_root / recordings.BALABIT).rglob("session_*") if p.is_file())
    want = {"pointer": [], "button": [], "scroll": []}
    kind = {"Move": "pointer", "Drag": "pointer", "Pressed": "button", "Released": "button",
            "Down": "scroll", "Up": "scroll"}
    for path in paths:
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                us = (Decimal(row["client timestamp"]) * 1_000_000).quantize(Decimal(1), ROUND_HALF_EVEN)
                want[kind[row["state"]]].append(int(us))
    for name, values in want.items():
        assert np.array_equal(balabit[name]["t"], np.array(values, np.int64)), name


def test_aalto_counts_and_dtypes(aalto):
    assert list(aalto) == ["key"]
    key = aalto["key"]
    check_dtypes(aalto)
    assert len(key["t"]) == 221_314
    assert int(key["pressed"].sum()) == 110_657
    text = key["text"]
    # text on every key-down (possibly ""), null on every key-up
    assert np.array_equal(text.is_valid().to_numpy(zero_copy_only=False), key["pressed"])
    assert not (key["modifiers"] & ~np.uint16(1 | 4 | 8)).any()
    assert int((key["modifiers"] & 1).astype(bool).sum()) > 0
    assert (key["t"] % 1000 == 0).all()  # millisecond clock
    # sorted within each of the 150 participants: t decreases only between participants
    assert int((np.diff(key["t"]) < 0).sum()) < 150


@pytest.mark.parametrize("block_rows", [65536, 4096])
def test_round_trip_encode_decode(balabit, aalto, block_rows):
    for streams in (balabit, aalto):
        shard = encoder.encode(streams, block_rows=block_rows)
        check_same(streams, encoder.decode(shard))


def test_round_trip_shard_files(tmp_path, balabit, aalto):
    for name, streams in (("balabit", balabit), ("aalto", aalto)):
        path = tmp_path / f"{name}.enc"
        with encoder.ShardWriter(path, metadata={"dataset": name}) as writer:
            for stream, columns in streams.items():
                n = len(columns["t"])
                for start in range(0, n, 100_000):  # several writes per stream, as a recorder would
                    writer.write(stream, {k: v[start:start + 100_000] for k, v in columns.items()})
        with encoder.ShardReader(path) as reader:
            assert reader.metadata["dataset"] == name
            assert set(reader.streams) == set(streams)
            assert sum(b.rows for b in reader.blocks) == sum(len(c["t"]) for c in streams.values())
            check_same(streams, {stream: reader.read(stream) for stream in streams})
        check_same(streams, encoder.decode(path.read_bytes()))
