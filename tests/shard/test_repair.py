"""Crash safety: a writer killed at any moment leaves every block it completed recoverable.

The kill test runs a real writer in a child process and SIGKILLs it at random moments (a fork
server keeps it cheap: the interpreter and the library are imported once). The writer is
deterministic, so every killed file must be a byte prefix of the complete reference shard, and
the blocks that must come back are exactly those of the reference whose bytes all lie in it.
``ENCODER_KILLS`` sets the number of kills (default 20; 200 in the ``slow`` run).
"""
import json
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import encoder
from encoder.cli import main
from encoder.shard import format as fmt
from encoder.shard.repair import repair
from encoder.streams import Column, Stream

CLOCK = {"clock": {"source": "monotonic", "t0_us": 0, "unix_us_at_t0": 1_700_000_000_000_000}}
METRICS = Stream("app.metrics", (Column("t", "int64"), Column("load", "int32"), Column("blob", "binary"),
                                 Column("note", "string", nullable=True)))

# The workload of a killed writer: deterministic given its seed (the test recomputes it).
WORKLOAD = textwrap.dedent('''
    import numpy as np
    import encoder
    from encoder.streams import Column, Stream

    METRICS = Stream("app.metrics", (Column("t", "int64"), Column("load", "int32"), Column("blob", "binary"),
                                     Column("note", "string", nullable=True)))

    def workload(path, seed, report, steps=60, **options):
        """Write a session in ``steps`` bursts; after every 4th burst flush and report the blocks."""
        rng = np.random.default_rng(seed)
        w = encoder.ShardWriter(path, block_rows=256, flush_seconds=None,
                                metadata={"clock": {"source": "monotonic", "t0_us": 0,
                                                    "unix_us_at_t0": 1_700_000_000_000_000}}, **options)
        w.declare(METRICS)
        t = 0
        for step in range(steps):
            n = int(rng.integers(50, 400))
            ts = t + np.cumsum(rng.integers(1, 30, n)) * 1000
            t = int(ts[-1])
            w.write("pointer", {"t": ts, "x": np.cumsum(rng.integers(-9, 10, n)), "y": rng.integers(0, 1080, n)})
            k = int(rng.integers(1, 20))
            w.write("key", {"t": ts[:k], "code": rng.integers(0, 300, k), "pressed": rng.random(k) < 0.5,
                            "modifiers": rng.integers(0, 4, k), "text": [chr(97 + i % 26) for i in range(k)]})
            w.write("app.metrics", {"t": [t], "load": [step], "blob": [rng.bytes(int(rng.integers(0, 3000)))],
                                    "note": [None if step % 3 else f"step {step}"]})
            if step % 4 == 3:
                w.flush()
                report(w.blocks_written)
        w.close()
        report("closed")
''')

# A fork server: imports the library once, then forks one writer per request and kills it.
SERVER = WORKLOAD + textwrap.dedent('''
    import io, json, os, signal, sys, time

    # one short session here first: the children inherit whatever a writer sets up on first use
    # (a kill should land in the writing, not in that)
    workload(io.BytesIO(), 0, lambda n: None, steps=4, background=False)
    for line in sys.stdin:
        job = json.loads(line)
        r, wfd = os.pipe()
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:  # the writer
            os.close(r)
            try:
                workload(job["path"], job["seed"], lambda n: os.write(wfd, f"{n}\\n".encode()))
            finally:
                os._exit(0)
        os.close(wfd)
        reports = b""
        if job["after"] is not None:
            # wait for the writer's progress, not for a time: under load it starts and writes slower
            while reports.count(b"\\n") < job["after"]:
                chunk = os.read(r, 65536)
                if not chunk:
                    break
                reports += chunk
            time.sleep(job["delay"])
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        elapsed = time.monotonic() - start
        while True:
            chunk = os.read(r, 65536)
            if not chunk:
                break
            reports += chunk
        os.close(r)
        lines = reports.decode().split()
        flushed = max([int(x) for x in lines if x != "closed"], default=0)
        print(json.dumps({"flushed": flushed, "reports": len(lines), "closed": "closed" in lines,
                          "elapsed": elapsed, "killed": os.WIFSIGNALED(status)}), flush=True)
''')


class ForkServer:
    def __init__(self):
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        env.pop("ENCODER_KEY", None)
        env.pop("ENCODER_KEY_FILE", None)
        self.proc = subprocess.Popen([sys.executable, "-c", SERVER], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env)

    def run(self, path, seed, after=None, delay=0.0):
        """Write the workload; with ``after``, kill it ``delay`` s after its ``after``-th progress report."""
        job = {"path": str(path), "seed": seed, "after": after, "delay": delay}
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, "the fork server died"
        return json.loads(line)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)
        self.proc.stdout.close()


@pytest.fixture(autouse=True)
def _slow_only_when_selected(request):
    """Long runs are opt-in: ``-m slow`` selects them (a plain ``pytest tests`` skips them)."""
    if request.node.get_closest_marker("slow") and "slow" not in (request.config.getoption("markexpr") or ""):
        pytest.skip("long run: select it with -m slow")


@pytest.fixture(scope="module")
def server():
    s = ForkServer()
    yield s
    s.close()


def block_extents(data: bytes) -> list:
    """(offset, end of its last byte that is not padding) of every block of a complete shard."""
    r = encoder.ShardReader(data)
    out = []
    for stream, blocks in r._blocks.items():
        for b in blocks:
            _, head = fmt.unpack_block_header(data, b["offset"], "ref")
            ends = [b["offset"] + head] + [b["offset"] + c[0] + c[1] for _, cs in b["columns"] for c in cs]
            out.append((b["offset"], max(ends), stream))
    return sorted(out)


def check_recovery(path, reference: bytes, extents: list, flushed: int, ref_reader) -> int:
    """Recover ``path`` and compare with the reference; returns the number of blocks recovered."""
    if not os.path.exists(path):  # killed before it created the file
        assert flushed == 0
        return 0
    data = path.read_bytes()
    assert reference.startswith(data), "the writer is deterministic: a killed file is a prefix"
    complete = [(o, s) for o, e, s in extents if e <= len(data)]
    assert flushed <= len(complete), "a block reported flushed is not complete in the file"
    if len(data) < 64 or data[:8] != fmt.MAGIC or len(data) < fmt.HEADER.size + int.from_bytes(data[12:16], "little"):
        assert not complete  # the header itself never reached the file: nothing was written
        with pytest.raises(encoder.CorruptShardError):
            encoder.ShardReader(path, recover=True)
        return 0
    with encoder.ShardReader(path, recover=True) as r:
        found = sorted(b.offset for b in r.blocks)
        assert found == [o for o, _ in complete], "recovered blocks differ from the completely written ones"
        for stream in r.streams:
            n = sum(1 for _, s in complete if s == stream)
            for i in range(n):
                got, want = r.read_block(stream, i), ref_reader.read_block(stream, i)
                assert got.equals(want), (stream, i)
        if r.recovered is None:
            assert len(data) == len(reference)
    return len(complete)


def kills() -> int:
    return int(os.environ.get("ENCODER_KILLS", "20"))


def run_kills(server, tmp_path, count: int, seed: int = 0):
    ref_path = tmp_path / "reference.enc"
    ref = server.run(ref_path, seed)
    assert ref["closed"] and not ref["killed"]
    reference = ref_path.read_bytes()
    extents = block_extents(reference)
    ref_reader = encoder.ShardReader(reference)
    rng = np.random.default_rng(seed)
    reports = ref["reports"]  # one after every 4th burst, and one at close
    interval = ref["elapsed"] / reports
    recovered, partial, inside = [], 0, 0
    for trial in range(count):
        path = tmp_path / f"killed-{trial}.enc"
        # after a random report, at a random moment of the interval that follows: mostly while writing,
        # a few before the first byte or after close
        after = int(rng.integers(0, reports))
        result = server.run(path, seed, after, float(rng.uniform(0.0, 1.1) * interval))
        recovered.append(check_recovery(path, reference, extents, result["flushed"], ref_reader))
        partial += not result["closed"]
        size = path.stat().st_size if path.exists() else 0
        inside += any(o < size < e for o, e, _ in extents)  # the kill cut a block short
        if trial % 5 == 0 and path.exists() and path.stat().st_size >= 64:  # the repaired file reads without recover=
            out = tmp_path / f"repaired-{trial}.enc"
            try:
                scan = repair(path, out)
            except encoder.CorruptShardError:  # the header did not make it: nothing to repair
                assert recovered[-1] == 0
            else:
                with encoder.ShardReader(out) as r:
                    assert len(r.blocks) == recovered[-1] and r.verify() == scan.rows
        path.unlink(missing_ok=True)
    print(f"\n{count} kills of a writer of {len(extents)} blocks: {partial} before close, {inside} inside a "
          f"block; blocks recovered per kill: min {min(recovered)}, median {int(np.median(recovered))}, "
          f"max {max(recovered)}; every completely written block recovered each time")
    return recovered, partial, len(extents)


def test_sigkill_at_random_moments_loses_no_completed_block(server, tmp_path):
    recovered, partial, total = run_kills(server, tmp_path, kills())
    assert partial >= kills() // 2, "most kills should land while the writer runs"
    assert len(set(recovered)) > 3, f"kills did not spread over the file: {recovered}"


@pytest.mark.slow
def test_sigkill_200_times(server, tmp_path):
    recovered, partial, total = run_kills(server, tmp_path, max(200, kills()), seed=1)
    assert partial >= 100


def reference_shard(steps: int = 12, **options) -> bytes:
    """A complete shard of the kill workload, written in this process."""
    namespace = {}
    exec(compile(WORKLOAD, "workload", "exec"), namespace)
    import io
    out = io.BytesIO()  # a file object: the writer leaves it open
    namespace["workload"](out, 7, lambda n: None, steps=steps, background=False, **options)
    return out.getvalue()


def test_every_truncation_recovers_exactly_the_complete_blocks(tmp_path):
    data = reference_shard(steps=5)
    extents = block_extents(data)
    ref = encoder.ShardReader(data)
    first = fmt.unpack_header(data, "x")[2]
    assert len(extents) >= 8
    for cut in range(first, len(data) + 1, 7):
        complete = [o for o, e, _ in extents if e <= cut]
        with encoder.ShardReader(data[:cut], recover=True) as r:
            assert [b.offset for b in r.blocks] == complete, cut
            if cut % 99 == 0:  # decode some of them too
                for stream in r.streams:
                    assert r.read(stream).equals(ref.read(stream).slice(0, r.num_rows(stream))), (cut, stream)


def test_recovered_shard_with_garbage_tail_and_zeroed_end(tmp_path):
    data = reference_shard()
    extents = block_extents(data)
    cut = (extents[5][1] + extents[6][1]) // 2  # inside block 6
    complete = [o for o, e, _ in extents if e <= cut]
    for junk in (bytes(5000), os.urandom(5000), data[extents[2][0]:extents[4][1]]):
        # a power cut can leave zeros (a size update without data) or stale bytes after the end
        broken = data[:cut] + junk
        with encoder.ShardReader(broken, recover=True) as r:
            assert [b.offset for b in r.blocks] == complete
            assert r.recovered.stopped and r.recovered.dropped_bytes > 0


def test_salvage_skips_a_damaged_block():
    data = bytearray(reference_shard())
    extents = block_extents(bytes(data))
    victim = extents[3]
    data[victim[1] - 5] ^= 0x40  # a chunk of block 3 rots
    with encoder.ShardReader(bytes(data), recover=True) as r:
        assert len(r.blocks) == len(extents)  # the footer is sound: it is used; the block fails on read
    body = bytes(data[:extents[-1][1]])  # as if the writer died after the last block
    strict = encoder.ShardReader(body, recover=True)
    assert [b.offset for b in strict.blocks] == [o for o, _, _ in extents[:3]]
    from encoder.shard.scan import scan_blocks
    scan = scan_blocks(memoryview(body), strict._first, "x", salvage=True)
    assert [b["offset"] for b in scan.blocks] == [o for o, _, _ in extents if o != victim[0]]
    assert [s[0] for s in scan.skipped] == [victim[0]]


def test_repair_cli(tmp_path, capsys):
    data = reference_shard()
    extents = block_extents(data)
    path = tmp_path / "crashed.enc"
    path.write_bytes(data[:extents[7][1] + 10])
    assert main(["repair", str(path), "--out", str(tmp_path / "fixed.enc")]) == 1  # damage found, removed
    assert "REPAIRED" in capsys.readouterr().out and path.stat().st_size == extents[7][1] + 10
    assert len(encoder.ShardReader(tmp_path / "fixed.enc").blocks) == 8
    assert main(["repair", str(path)]) == 1  # in place
    with encoder.ShardReader(path) as r:
        assert len(r.blocks) == 8 and r.verify()
    assert main(["repair", str(path)]) == 0  # sound now
    assert "nothing to repair" in capsys.readouterr().out
    (tmp_path / "junk").write_bytes(b"hello")
    assert main(["repair", str(tmp_path / "junk")]) == 2
    assert main(["verify", str(path)]) == 0


def test_unclosed_writer_is_readable_with_recover(tmp_path):
    path = tmp_path / "open.enc"
    w = encoder.ShardWriter(path, flush_seconds=None)
    w.declare(METRICS)
    w.write("app.metrics", {"t": [1, 2], "load": [3, 4], "blob": [b"a", b""], "note": ["x", None]})
    w.write("pointer", {"t": [1], "x": [1], "y": [1]})
    w.flush()
    with pytest.raises(encoder.CorruptShardError, match="repair"):
        encoder.ShardReader(path)
    r = encoder.ShardReader(path, recover=True)
    assert r.recovered.rows == {"app.metrics": 2, "pointer": 1}  # a declared stream: schema from its blocks
    assert r.read("app.metrics").column("note").to_pylist() == ["x", None]
    assert r.verify() == {"app.metrics": 2, "pointer": 1}
    w.close()


@pytest.mark.parametrize("policy", ["none", "block", 0.05, True, False])
def test_fsync_policies_write_the_same_shard(tmp_path, policy):
    path = tmp_path / "s.enc"
    with encoder.ShardWriter(path, fsync=policy, block_rows=100, metadata=CLOCK) as w:
        for i in range(5):
            w.write("pointer", {"t": np.arange(100) + 100 * i, "x": np.arange(100), "y": np.arange(100)})
            w.flush()
            time.sleep(0.01)
    assert encoder.ShardReader(path).verify() == {"pointer": 500}
    with pytest.raises(ValueError, match="fsync"):
        encoder.ShardWriter(tmp_path / "x.enc", fsync="sometimes")


def test_flush_waits_for_the_background_writer(tmp_path, monkeypatch):
    """flush() returns only once every block is in the file, even when writing is slow."""
    from encoder.shard import writer as writer_module
    original = writer_module.ShardWriter._write_block

    def slow(self, stream, columns):
        time.sleep(0.05)
        original(self, stream, columns)

    monkeypatch.setattr(writer_module.ShardWriter, "_write_block", slow)
    path = tmp_path / "slow.enc"
    w = encoder.ShardWriter(path, block_rows=10, flush_seconds=None, max_pending=2)
    w.write("pointer", {"t": np.arange(50), "x": np.arange(50), "y": np.arange(50)})
    w.flush()
    assert w.blocks_written == 5
    assert [b.rows for b in encoder.ShardReader(path, recover=True).blocks] == [10] * 5
    w.close()


def test_frames_survive_a_crash(tmp_path):
    """Tile pages and frame rows are a declared and a built-in stream: both come back."""
    if not hasattr(encoder.ShardWriter, "add_frame"):
        pytest.skip("no frame support")
    path = tmp_path / "frames.enc"
    w = encoder.ShardWriter(path, flush_seconds=None)
    w.configure_frames(tile=8, block_frames=2)
    image = np.zeros((24, 40, 4), np.uint8)
    frames = []
    for i in range(5):
        image[i * 3:i * 3 + 2, i:i + 9] = 50 + i
        w.add_frame(i * 100_000, image)
        frames.append(image.copy())
    w.flush()  # frames included
    crashed = tmp_path / "crashed.enc"
    crashed.write_bytes(path.read_bytes())  # what a SIGKILL here would leave
    w.close()
    r = encoder.ShardReader(crashed, recover=True)
    r.configure_frame_cache(parallel=False)
    assert r.frame_count() == 5 and all((r.frame(i) == f).all() for i, f in enumerate(frames))
    repair(crashed)
    assert encoder.ShardReader(crashed).verify()["frame"] == 5


# -- damage in the middle of a shard whose index is sound ------------------------------------
def damaged_session(tmp_path, frames_n=60):
    """Events and frames whose tile pages are small (many pages): returns (path, frames, rows)."""
    path = tmp_path / "session.enc"
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (96, 128, 4), np.uint8)
    frames, pointer = [], []
    with encoder.ShardWriter(path, block_rows=500, metadata=CLOCK) as w:
        w.configure_frames(page_bytes=16 * 16 * 4 * 20, block_frames=8)
        for k in range(frames_n):
            t = np.arange(100) + k * 100
            w.write("pointer", {"t": t, "x": t % 7, "y": t % 5})
            pointer.append(t)
            image[rng.integers(0, 96, 5), rng.integers(0, 128, 5)] = rng.integers(0, 255, 4)
            frames.append(image.copy())
            w.add_frame(k * 1000, image)
    return path, frames, np.concatenate(pointer)


def flip(path, out, *offsets) -> None:
    data = bytearray(path.read_bytes())
    for at in offsets:
        data[at] ^= 0xFF
    out.write_bytes(bytes(data))


def test_repair_finds_damage_behind_a_sound_footer_and_its_result_verifies(tmp_path, capsys):
    path, frames, t = damaged_session(tmp_path)
    with encoder.ShardReader(path) as r:
        pointer = [b for b in r.blocks if b.stream == "pointer"]
        pages = [b for b in r.blocks if b.stream == "tile"]
    bad, fixed = tmp_path / "bad.enc", tmp_path / "fixed.enc"
    flip(path, bad, pointer[3].offset + pointer[3].stored_bytes // 2 + 100,
         pages[len(pages) // 2].offset + 3000)
    with encoder.ShardReader(bad) as r:  # the footer is sound, so it opens; the damage is found block by block
        assert [(d.stream, d.block) for d in r.check_blocks()] == [("pointer", 3), ("tile", len(pages) // 2)]
        with pytest.raises(encoder.CorruptShardError):
            r.verify()
    assert main(["repair", str(bad), "--out", str(fixed)]) == 1
    out = capsys.readouterr().out
    assert "REPAIRED" in out and "dropped pointer block of 500 rows" in out and "dropped tile block" in out
    assert "frames need tiles of dropped pages" in out
    assert main(["verify", str(fixed)]) == 0
    with encoder.ShardReader(fixed) as r:
        assert [(region["stream"], region["rows"]) for region in r.lost] == [("pointer", 500), ("tile", 1)]
        kept = r.read("pointer").column("t").to_numpy()
        assert np.array_equal(kept, np.delete(t, np.s_[1500:2000]))  # every other row, exactly
        assert r.frame_count() == len(frames) and np.array_equal(r.frame_times(), np.arange(len(frames)) * 1000)
        lost = r.lost_frames()
        assert 0 < len(lost) < len(frames)
        for i, frame in enumerate(frames):
            if i in lost:
                with pytest.raises(encoder.CorruptShardError, match=f"frame {i} of screen 0 needs .* lost page"):
                    r.frame(i)
                got, mask = r.frame_with_mask(i, fill=7)
                assert mask.any() and (got[mask] == 7).all() and np.array_equal(got[~mask], frame[~mask])
            else:
                assert np.array_equal(r.frame(i), frame)
                assert not r.frame_with_mask(i)[1].any()
        stats = r.frame_stats()
        assert stats["frames"] == len(frames) and stats["lost_pages"] >= 1
    assert main(["repair", str(fixed)]) == 0  # sound now: a second repair finds nothing


def test_salvage_of_a_cut_shard_that_lost_a_page_keeps_every_other_frame(tmp_path):
    path, frames, _ = damaged_session(tmp_path)
    with encoder.ShardReader(path) as r:
        pages = [b for b in r.blocks if b.stream == "tile"]
    data = bytearray(path.read_bytes())[: int(path.stat().st_size * 0.8)]  # the writer died
    data[pages[len(pages) // 2].offset + 3000] ^= 0xFF  # and a page rotted
    cut = tmp_path / "cut.enc"
    cut.write_bytes(bytes(data))
    scan = repair(cut, tmp_path / "strict.enc")  # stops at the damaged page
    assert scan.dropped_bytes > 0
    scan = repair(cut, tmp_path / "salvaged.enc", salvage=True)
    assert [region["stream"] for region in scan.lost] == ["tile"] and scan.lost_frames
    with encoder.ShardReader(tmp_path / "strict.enc") as strict, encoder.ShardReader(tmp_path / "salvaged.enc") as r:
        r.verify()
        assert r.frame_count() > strict.frame_count()  # salvage kept the blocks after the damage
        lost = set(r.lost_frames().tolist())
        assert len(lost) == scan.lost_frames[0]
        exact = [i for i in range(r.frame_count()) if i not in lost]
        assert exact and all(np.array_equal(r.frame(i), frames[i]) for i in exact)


def test_stray_bytes_in_padding_are_repaired_not_called_sound(tmp_path):
    path, _, t = damaged_session(tmp_path, frames_n=8)
    with encoder.ShardReader(path) as r:
        first = r.blocks[0]
    data = bytearray(path.read_bytes())
    data[first.offset - 1] = 0x55  # the header's alignment padding: no checksum covers it
    bad = tmp_path / "stray.enc"
    bad.write_bytes(bytes(data))
    with encoder.ShardReader(bad) as r:
        assert r.check_blocks() == [] and r.read("pointer").num_rows == len(t)
        with pytest.raises(encoder.CorruptShardError, match="stray bytes"):
            r.verify()
    scan = repair(bad, tmp_path / "fixed.enc")
    assert scan.stopped == "stray bytes"
    with encoder.ShardReader(tmp_path / "fixed.enc") as r:
        r.verify()
        assert np.array_equal(r.read("pointer").column("t").to_numpy(), t)
