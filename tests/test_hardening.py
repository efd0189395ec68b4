"""Hostile shards at volume, and the documented limits on both sides.

The mutation test damages small seed shards (tests/fuzz/shards.py) in random ways
(tests/fuzz/mutate.py: bit flips, byte runs, truncations, insertions, blocks swapped or
replayed, foreign bytes, absurd lengths; and crafted edits with valid checksums: footer and
descriptor values replaced by huge counts or wrong types, index reordered, chunks replaced,
metadata changed) and reads every result through every reader entry point. The oracle:

* nothing but an :class:`encoder.EncoderError` ever escapes, and nothing hangs;
* raw damage (checksums untouched) is never silently wrong: whatever a read returns equals
  the original, and ``verify()`` rejects the shard;
* a crafted shard that decodes is self-consistent (row counts agree).

``ENCODER_MUTATIONS`` (default 10,000) and ``ENCODER_MUTATION_SEED`` (default 0) set the run;
``-m slow`` runs 100,000 with another seed.
"""
import io
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import encoder
from encoder.shard import format as fmt
from encoder.streams import Column, Stream

sys.path.insert(0, str(Path(__file__).parent))
from fuzz import mutate, shards, targets  # noqa: E402


@pytest.fixture(autouse=True)
def _slow_only_when_selected(request):
    """Long runs are opt-in: ``-m slow`` (or ``-m soak``) selects them (a plain ``pytest tests`` skips them)."""
    markexpr = request.config.getoption("markexpr") or ""
    if request.node.get_closest_marker("slow") and "slow" not in markexpr and "soak" not in markexpr:
        pytest.skip("long run: select it with -m slow")


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


@pytest.fixture(scope="module")
def seeds():
    """name -> (bytes, reader options, everything read from it)."""
    out = {}
    small = {k: v for k, v in shards._session().items() if k in ("pointer", "key", "focus", "app.metrics")}
    for name, data in shards.seeds().items():
        # keep the seeds small: a mutated copy must read in a millisecond or two
        if name in ("events", "encrypted", "unclosed"):
            data = shards._write(small, block_rows=160, encryption_key=shards.KEY if name == "encrypted" else False,
                                 close=name != "unclosed")
        options = {"encryption_key": shards.KEY if name == "encrypted" else False, "recover": name == "unclosed"}
        with encoder.ShardReader(data, **options) as r:
            out[name] = (data, options, targets.read_all(r))
    return out


#: How often each seed is mutated (frames decode slowly; the plain event seeds are the staple).
SEED_WEIGHTS = {"events": 8, "tiny": 3, "encrypted": 2, "unclosed": 2, "empty": 1, "frames": 1}


def check_one(mutated: bytes, original: bytes, options: dict, expected: dict, raw: bool) -> str:
    """Read ``mutated`` every way; returns the outcome ("error", "same", "crafted-ok") or raises
    AssertionError on a violation of the oracle."""
    recover = options["recover"]
    try:
        with encoder.ShardReader(mutated, **options) as reader:
            results = targets.read_all(reader, every_block=False)
            for name in reader.streams:  # self-consistency, for any shard that decodes
                assert results[name].num_rows == reader.num_rows(name) == sum(reader.block_rows(name))
            if raw:  # no silently wrong data: what was read is the original's
                for k, value in results.items():
                    if recover and isinstance(k, tuple) and k[1] == "range":
                        continue  # a recovered prefix has another time range
                    if recover and not isinstance(k, tuple):
                        assert value.equals(expected[k].slice(0, value.num_rows)), f"stream {k} differs"
                        continue
                    assert k in expected and targets.same(value, expected[k]), f"{k} differs from the original"
            counts = reader.verify()
            if raw and mutated != original and not recover:
                raise AssertionError(f"verify() passed a damaged shard ({counts})")
        return "same" if raw else "crafted-ok"
    except encoder.EncoderError as exc:
        cause = targets.wrapped_cause(exc)
        if cause is not None:
            return f"wrapped {type(cause).__name__}: {cause}"
        return "error"


def run_mutations(seeds, count: int, seed: int) -> Counter:
    rng = np.random.default_rng(seed)
    names = [n for n in SEED_WEIGHTS if n in seeds]
    seed_p = np.array([SEED_WEIGHTS[n] for n in names], float)
    mutators = list(mutate.WEIGHTS)
    mut_p = np.array([mutate.WEIGHTS[m] for m in mutators], float)
    foreign = seeds["tiny"][0]
    outcomes, slowest, findings = Counter(), (0.0, None), []
    previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        done = 0
        while done < count:
            name = names[rng.choice(len(names), p=seed_p / seed_p.sum())]
            mutator = mutators[rng.choice(len(mutators), p=mut_p / mut_p.sum())]
            original, options, expected = seeds[name]
            case_seed = int(rng.integers(1 << 62))
            case_rng = np.random.default_rng(case_seed)
            if mutator is mutate.splice_foreign:
                mutated = mutator(original, case_rng, foreign)
            else:
                mutated = mutator(original, case_rng)
            if mutated is None:
                continue
            done += 1
            raw = mutator in mutate.RAW
            where = f"seed shard {name!r}, {mutator.__name__}, case seed {case_seed}"
            start = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, 10.0)
            try:
                outcome = check_one(mutated, original, options, expected, raw)
            except Hang:
                raise AssertionError(f"{where}: no answer after 10 s") from None
            except AssertionError as exc:
                raise AssertionError(f"{where}: {exc}") from None
            except Exception as exc:  # noqa: BLE001 - the point of the test
                raise AssertionError(f"{where}: {type(exc).__name__} escaped: {exc}") from exc
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            elapsed = time.perf_counter() - start
            if elapsed > slowest[0]:
                slowest = (elapsed, where)
            if outcome.startswith("wrapped"):
                findings.append(f"{where}: {outcome}")
                outcome = "wrapped"
            outcomes[(mutator.__name__, outcome)] += 1
    finally:
        signal.signal(signal.SIGALRM, previous)
    print(f"\n{count} mutated shards: {dict(outcomes)}; slowest {slowest[0] * 1e3:.0f} ms ({slowest[1]})")
    for finding in findings[:20]:
        print("codec finding:", finding)
    assert slowest[0] < 10
    return outcomes


def test_mutated_shards(seeds):
    count = int(os.environ.get("ENCODER_MUTATIONS", "10000"))
    outcomes = run_mutations(seeds, count, int(os.environ.get("ENCODER_MUTATION_SEED", "0")))
    # the crafted mutators must reach past the checksums: some crafted shards decode
    assert sum(n for (m, o), n in outcomes.items() if o == "crafted-ok") > 0 or count < 500


@pytest.mark.slow
def test_mutated_shards_long(seeds):
    run_mutations(seeds, int(os.environ.get("ENCODER_MUTATIONS_LONG", "100000")), 1)


# -- limits, on write and on read ------------------------------------------------------------
def test_limits_are_the_documented_ones():
    doc = (Path(__file__).parent.parent / "docs" / "format.md").read_text()
    for value in ("131,072", "2 MiB", "4 MiB", "256 MiB", "64", "16,384"):
        assert value in doc
    assert (fmt.MAX_BLOCK_ROWS, fmt.MAX_CHUNK_RAW, fmt.MAX_VALUE_BYTES, fmt.MAX_STREAMS, fmt.MAX_COLUMNS) == \
        (131072, 2 << 20, 4 << 20, 64, 64)
    from encoder.codecs import MAX_SECTION
    assert MAX_SECTION == fmt.MAX_CHUNK_RAW


def test_write_limits():
    with pytest.raises(encoder.LimitError):
        encoder.ShardWriter(io.BytesIO(), block_rows=fmt.MAX_BLOCK_ROWS + 1)
    with pytest.raises(encoder.LimitError, match="metadata"):
        encoder.ShardWriter(io.BytesIO(), metadata={"x": "y" * fmt.MAX_METADATA})
    w = encoder.ShardWriter(io.BytesIO(), background=False)
    with pytest.raises(encoder.LimitError, match="exceeds"):  # one string value too long
        w.write("command", {"t": [0], "kind": ["x" * (fmt.MAX_VALUE_BYTES + 1)]})
    with pytest.raises(encoder.LimitError, match="columns"):
        w.declare(Stream("wide", tuple([Column("t", "int64")] + [Column(f"c{i}", "int32") for i in range(64)])))
    with pytest.raises(encoder.LimitError, match="columns"):
        w.declare(Stream("long", (Column("t", "int64"), Column("x" * 65, "int32"))))
    for bad in ("a" * 33, "trailing\n"):
        with pytest.raises(encoder.SchemaError, match="stream name"):
            w.declare(Stream(bad, (Column("t", "int64"),)))
    w.close()
    out = io.BytesIO()
    w = encoder.ShardWriter(out, background=False)
    for i in range(fmt.MAX_STREAMS):
        w.declare(Stream(f"s{i}", (Column("t", "int64"),)))
    with pytest.raises(encoder.LimitError, match="streams"):
        w.write("pointer", {"t": [1], "x": [1], "y": [1]})
    with pytest.raises(encoder.LimitError, match="streams"):
        w.declare(Stream("one.more", (Column("t", "int64"),)))
    w.write("s3", {"t": [5]})
    w.close()
    assert encoder.ShardReader(out.getvalue()).verify()["s3"] == 1


def test_big_values_cut_blocks_by_bytes():
    """Blocks stay near fmt.BLOCK_BYTES of data whatever block_rows says (bounded memory on read)."""
    value = "v" * (1 << 20)
    out = io.BytesIO()
    with encoder.ShardWriter(out, background=False, flush_seconds=None) as w:
        w.write("command", {"t": np.arange(100), "kind": [value[:-i - 1] for i in range(100)]})
    r = encoder.ShardReader(out.getvalue())
    sizes = r.block_rows("command")
    assert sum(sizes) == 100 and len(sizes) >= 3 and max(sizes) <= fmt.BLOCK_BYTES >> 20
    assert all(b.raw_bytes <= fmt.MAX_BLOCK_RAW for b in r.blocks)
    assert r.read("command").column("kind")[99].as_py() == value[:-100]


def test_a_block_beyond_the_raw_limit_is_refused(monkeypatch):
    monkeypatch.setattr(fmt, "MAX_BLOCK_RAW", 1000)
    w = encoder.ShardWriter(io.BytesIO(), background=False)
    with pytest.raises(encoder.LimitError, match="decompressed bytes"):
        rng = np.random.default_rng(0)
        w.write("pointer", {"t": np.arange(200), "x": rng.integers(0, 1 << 30, 200), "y": np.arange(200)})
        w.flush()


def _rebuilt(edit) -> bytes:
    """A shard whose footer index was edited by ``edit(descriptor)`` and re-sealed (the checks
    under test run when the reader opens the index, before any block is touched)."""
    data = shards.tiny()
    layout = mutate.Layout(data)
    footer = layout.footer
    for b in footer["blocks"]:
        edit(b)
    return mutate.reseal_footer(data, layout, footer)


@pytest.mark.parametrize("edit, words", [
    (lambda d: d.update(rows=fmt.MAX_BLOCK_ROWS + 1), "rows"),
    (lambda d: d["columns"][1][1][0].__setitem__(2, fmt.MAX_CHUNK_RAW + 1), "decompressed bytes"),
    (lambda d: d["columns"][1][1].extend([[c[0], c[1], c[2], c[3]] for c in d["columns"][1][1]]), "overlap"),
    (lambda d: d["columns"][1][1][0].__setitem__(2, 8 * 3 + fmt.MAX_CODEC_TABLES + 1), "bytes for 3 rows"),
    (lambda d: d["columns"][1][1][0].__setitem__(0, 0), "outside the block"),
    (lambda d: d.update(t=[5, 4]), "time range"),
    (lambda d: d.update(t=[0, 16000 + 1]), "descriptor says"),
    (lambda d: d.update(seq="x"), "seq"),
    (lambda d: d.update(schema=[["t", "int64", 0]]), "schema"),
])
def test_crafted_descriptors_are_refused_before_any_allocation(edit, words):
    with pytest.raises(encoder.CorruptShardError, match=words):
        targets.exercise(_rebuilt(edit))


def test_a_chunk_bomb_is_refused():
    """Many chunk entries pointing at one small frame that inflates to 1 MiB each: refused by the
    overlap and per-column checks before anything is decompressed."""
    def bomb(d):
        d["columns"][2] = [{"c": "dict", "n": 1, "idx": {"c": "const", "v": 0}, "len": {"c": "const", "v": 1},
                            "nb": 2000}, [d["columns"][1][1][0]] * 2000]
    with pytest.raises(encoder.CorruptShardError, match="overlap|decompressed"):
        targets.exercise(_rebuilt(bomb))


def test_crafted_footer_json_is_bounded_by_the_file_size():
    data = shards.tiny()
    layout = mutate.Layout(data)
    text = b"[" + b"0," * (3 << 20) + b"0]"  # 6 MiB of JSON compressing to a few hundred bytes
    import zstandard
    frame = zstandard.ZstdCompressor().compress(text)
    off = layout.footer_offset
    crafted = data[:off] + frame + fmt.TAIL.pack(off, len(frame), len(text), fmt.checksum(frame), fmt.END_MAGIC)
    with pytest.raises(encoder.CorruptShardError, match="more than a shard of this size"):
        encoder.ShardReader(crafted)


def test_read_side_value_and_stream_limits(monkeypatch):
    data = shards._write({"command": {"t": [0, 1], "kind": ["x" * 5000, "y"]}}, encryption_key=False)
    monkeypatch.setattr(fmt, "MAX_VALUE_BYTES", 4096)  # as if written by a writer with a larger limit
    with pytest.raises(encoder.CorruptShardError, match="exceeds the limit"):
        encoder.ShardReader(data).read("command")
    monkeypatch.undo()
    layout = mutate.Layout(data)
    footer = layout.footer
    footer["streams"].update({f"s{i}": [["t", "int64", 0]] for i in range(fmt.MAX_STREAMS)})
    with pytest.raises(encoder.CorruptShardError, match="lacks streams"):
        encoder.ShardReader(mutate.reseal_footer(data, layout, footer))
    footer = mutate.Layout(data).footer
    footer["streams"]["wide"] = [["t", "int64", 0]] + [[f"c{i}", "int32", 0] for i in range(fmt.MAX_COLUMNS)]
    with pytest.raises(encoder.CorruptShardError, match="columns"):
        encoder.ShardReader(mutate.reseal_footer(data, layout, footer))
    for bad in ("Bad", "bad\n", "x" * 33):
        footer = mutate.Layout(data).footer
        footer["streams"][bad] = [["t", "int64", 0]]
        with pytest.raises(encoder.CorruptShardError, match="not valid"):
            encoder.ShardReader(mutate.reseal_footer(data, layout, footer))


def test_frame_size_limit_on_write():
    if not hasattr(encoder.ShardWriter, "add_frame"):
        pytest.skip("no frame support in this build")
    from encoder.tiles.layout import MAX_SIDE
    assert MAX_SIDE == 16384
    w = encoder.ShardWriter(io.BytesIO(), background=False)
    with pytest.raises(encoder.LimitError):
        w.add_frame(0, np.zeros((1, MAX_SIDE + 1), np.uint8))
    w.close()


def test_index_order_is_checked():
    data = shards.events()
    layout = mutate.Layout(data)
    footer = layout.footer
    footer["blocks"] = footer["blocks"][1:] + footer["blocks"][:1]
    with pytest.raises(encoder.CorruptShardError, match="file order"):
        encoder.ShardReader(mutate.reseal_footer(data, layout, footer))
    footer = mutate.Layout(data).footer
    footer["blocks"].insert(1, footer["blocks"][0])
    with pytest.raises(encoder.CorruptShardError, match="file order|twice"):
        encoder.ShardReader(mutate.reseal_footer(data, layout, footer))


def test_footer_rows_must_agree_with_blocks():
    data = shards.tiny()
    layout = mutate.Layout(data)
    footer = layout.footer
    footer["rows"]["pointer"] += 1
    with pytest.raises(encoder.CorruptShardError, match="row counts"):
        encoder.ShardReader(mutate.reseal_footer(data, layout, footer)).verify()


def test_codec_errors_never_escape_as_other_exceptions(monkeypatch):
    """The container's last line of defence: a codec bug on bad input becomes CorruptShardError."""
    from encoder.shard import blocks

    def broken(*args, **kwargs):
        raise IndexError("index 7 is out of bounds")

    monkeypatch.setattr(blocks, "decode_column", broken)
    with pytest.raises(encoder.CorruptShardError, match="undecodable column") as info:
        encoder.ShardReader(shards.tiny()).read("pointer")
    assert isinstance(info.value.__cause__, IndexError) and info.value.stream == "pointer"


def test_huge_header_counts_do_not_allocate():
    """A few bytes claiming gigabytes: refused from the lengths alone (msgspec's test, here)."""
    import struct
    for size in (0xFFFFFFFF, fmt.MAX_METADATA + 1):
        head = struct.pack("<8sHHIQ", fmt.MAGIC, 1, 0, size, 0)
        with pytest.raises(encoder.CorruptShardError, match="metadata length"):
            encoder.ShardReader(head + bytes(40))
    data = shards.tiny()
    tail = bytearray(data[-fmt.TAIL.size:])
    struct.pack_into("<I", tail, 12, 0xFFFFFFFF)  # footer raw length
    with pytest.raises(encoder.CorruptShardError, match="footer declares"):
        encoder.ShardReader(data[:-fmt.TAIL.size] + bytes(tail))
    block = bytearray(data)
    first = mutate.Layout(data).blocks[0][0]
    struct.pack_into("<I", block, first + 8, 0xFFFFFFF0)  # descriptor length
    with pytest.raises(encoder.CorruptShardError, match="descriptor length"):
        encoder.ShardReader(bytes(block)).verify()


# -- fuzzing (atheris) -----------------------------------------------------------------------
FUZZ = Path(__file__).parent / "fuzz" / "fuzz.py"


def fuzz(tmp_path, runs: int, *args: str, timeout: int = 600, seconds: int | None = None) -> dict:
    """Run tests/fuzz/fuzz.py in a subprocess on a fresh seed corpus; returns libFuzzer's stats.

    ``runs`` executions, or with ``seconds`` as many as fit in that time (at least ``runs``).
    Crash inputs are written to ``tmp_path`` and printed in base64 (a CI machine keeps no files).
    """
    pytest.importorskip("atheris")
    import subprocess
    from fuzz import make_corpus
    corpus, work = tmp_path / "corpus", tmp_path / "work"
    make_corpus.main(str(corpus))
    work.mkdir()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).parent.parent)] + sys.path))
    env.pop("ENCODER_KEY", None)
    env.pop("ENCODER_KEY_FILE", None)
    budget = [f"-max_total_time={seconds}"] if seconds is not None else [f"-runs={runs}"]
    if seconds is not None:
        timeout = seconds + 300  # libFuzzer stops itself; this only catches a harness that hangs
    cmd = [sys.executable, str(FUZZ), *args, *budget, "-timeout=20", "-rss_limit_mb=3072",
           "-max_len=65536", "-print_final_stats=1", f"-artifact_prefix={tmp_path}/", str(work), str(corpus)]
    # libFuzzer's memory limit reads ru_maxrss, which Linux carries across fork and exec: started
    # from pytest, the fuzzer would begin at pytest's peak (3.2 GB once in CI, a false out-of-memory).
    # A shell forks it from its own small process instead (`; exit` keeps sh from exec'ing it).
    cmd = ["sh", "-c", '"$@"; exit $?', "sh", *cmd]
    # one log: libFuzzer reports on stderr, atheris prints a crash's Python traceback on stdout
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=timeout)
    log = "\n".join(line for line in proc.stdout.splitlines() if not line.startswith("INFO: Instrumenting"))
    if proc.returncode != 0:
        import base64
        found = [f for f in sorted(tmp_path.iterdir()) if f.is_file()]  # crash-*, timeout-*, oom-*
        inputs = "".join(f"\n{f.name} ({f.stat().st_size} bytes), base64:\n"
                         f"{base64.b64encode(f.read_bytes()).decode()}" for f in found)
        pytest.fail(f"the fuzzer found a crash, timeout or out-of-memory: exit {proc.returncode} (inputs in "
                    f"{tmp_path}; replay: base64 -d to FILE, `python tests/fuzz/fuzz.py {' '.join(args)} FILE`)\n"
                    f"{log[-8000:]}{inputs}")
    import re
    stats = dict(re.findall(r"^stat::(\w+):\s*(\d+)", log, re.M))
    assert int(stats["number_of_executed_units"]) >= runs
    print(f"\nfuzz {' '.join(args)}: {stats}")
    return stats


def test_fuzz_short(tmp_path):
    """A short run of every entry point (`all`) and of the reader without checksums."""
    fuzz(tmp_path / "all", int(os.environ.get("ENCODER_FUZZ_RUNS", "2000")), "all")
    fuzz(tmp_path / "unsealed", 500, "reader", "--unsealed")


def fuzz_targets() -> list[str]:
    """The target names of tests/fuzz/fuzz.py (its ``TARGETS``), read from its source: importing it
    would instrument the library in this process. A target added there is fuzzed here, unasked."""
    import ast
    for node in ast.parse(FUZZ.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "TARGETS" for t in node.targets):
            return [key.value for key in node.value.keys]
    raise AssertionError(f"no TARGETS in {FUZZ}")


@pytest.mark.slow
@pytest.mark.parametrize("args", [(name,) for name in fuzz_targets()] + [("all", "--unsealed")],
                         ids=lambda args: "-".join(a.strip("-") for a in args))
def test_fuzz_every_target(tmp_path, args):
    """``ENCODER_FUZZ_SECONDS`` (default 30) of each fuzz target, and of all of them with checksums off
    (CI's slow job runs these on every submission; docs/hardening.md)."""
    seconds = int(os.environ.get("ENCODER_FUZZ_SECONDS", "30"))
    # at least 200 executions: the fuzzer mutated inputs, it did not just replay the seeds
    fuzz(tmp_path, 200, *args, seconds=seconds)


@pytest.mark.slow
@pytest.mark.soak
def test_fuzz_long(tmp_path):
    """1,000,000 executions of every entry point (30-60 min on 2 busy cores; ``-m soak``, not in CI)."""
    fuzz(tmp_path, int(os.environ.get("ENCODER_FUZZ_RUNS_LONG", "1000000")), "all", timeout=6 * 3600)


def test_what_the_fuzzer_found_stays_fixed():
    """Every input a fuzz run once crashed on (tests/fuzz/crashes/, a file each, named for what it
    holds) now goes through every entry point with a clean EncoderError or a result."""
    from fuzz import targets
    from fuzz.shards import KEY
    crashes = sorted((Path(__file__).parent / "fuzz" / "crashes").iterdir())
    assert crashes
    for path in crashes:
        targets.run_entry_points(path.read_bytes(), encryption_key=KEY, cli=True, strict=True)
