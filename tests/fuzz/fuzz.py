"""atheris (libFuzzer) targets for every decoder entry point.

    python tests/fuzz/fuzz.py TARGET [--unsealed] [libFuzzer flags...] [CORPUS_DIR...]

TARGET is one of:

* ``decode``   ``encoder.decode``
* ``reader``   ``ShardReader``: every stream read, every block, a time range, ``verify``
* ``frames``   the frame methods (``frame``, ``frames``, ``frame_at``) of shards with frames
* ``recover``  ``ShardReader(recover=True)`` (the repair scan) and ``encoder.shard.repair``
* ``crypto``   ``ShardReader(encryption_key=...)`` on encrypted shards
* ``cli``      ``encoder verify`` (``verify_one``) and ``repair`` on a file
* ``all``      all of the above on each input (the default)

Any exception other than ``encoder.EncoderError`` is a crash, and so is a CorruptShardError
that wraps another exception (a codec that did not check its input). A custom mutator mixes
libFuzzer's byte mutations with the structure-aware ones of :mod:`fuzz.mutate` (crafted JSON,
huge counts, re-sealed checksums), so inputs get past the checksums to the parsers and codecs.
``--unsealed`` goes further: checksums are not checked at all in this process (the library
offers no such switch; the harness replaces ``format.checksum_matches``).

Useful flags: ``-runs=N``, ``-max_total_time=S``, ``-timeout=10`` (a hang), ``-rss_limit_mb=3072``
(an allocation from an unchecked count), ``-max_len=65536``. The corpus comes from
``python tests/fuzz/make_corpus.py DIR``.
"""
from __future__ import annotations

import os
import sys

import atheris

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Numba compiles the kernels from their bytecode: instrumented bytecode would not compile.
_JIT = ["encoder.codecs._numba", "encoder.tiles._numba", "encoder.loader._numba"]
with atheris.instrument_imports(include=["encoder"], exclude=_JIT):
    import encoder  # noqa: F401
    from encoder.cli.verify import verify_one  # noqa: F401
    from encoder.shard import format as fmt
    from encoder.shard.repair import repair  # noqa: F401

import numpy as np  # noqa: E402

from fuzz import mutate, shards, targets  # noqa: E402


def _guard(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except encoder.EncoderError as exc:
        cause = targets.wrapped_cause(exc)
        if cause is not None:
            raise cause
        return None


def fuzz_decode(data: bytes) -> None:
    _guard(encoder.decode, data)


def fuzz_reader(data: bytes) -> None:
    _guard(targets.exercise, data)


def fuzz_frames(data: bytes) -> None:
    def frames_only():
        with encoder.ShardReader(data, encryption_key=False) as r:
            if hasattr(r, "frame"):
                r.configure_frame_cache(64 << 20, parallel=False)
                targets.read_all(r, every_block=False)
    _guard(frames_only)


def fuzz_recover(data: bytes) -> None:
    _guard(targets.exercise, data, recover=True)


def fuzz_crypto(data: bytes) -> None:
    _guard(targets.exercise, data, encryption_key=shards.KEY)


def fuzz_cli(data: bytes) -> None:
    targets.run_entry_points(data, encryption_key=shards.KEY, cli=True, strict=True)


def fuzz_all(data: bytes) -> None:
    targets.run_entry_points(data, encryption_key=shards.KEY, cli=False, strict=True)


TARGETS = {"decode": fuzz_decode, "reader": fuzz_reader, "frames": fuzz_frames, "recover": fuzz_recover,
           "crypto": fuzz_crypto, "cli": fuzz_cli, "all": fuzz_all}

_STRUCTURED = mutate.RAW + mutate.CRAFTED


def custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
    """Half libFuzzer's own byte mutations, half the structure-aware mutators (re-sealing)."""
    rng = np.random.default_rng(seed)
    if rng.random() < 0.5 or len(data) < 64:
        return atheris.Mutate(data, max_size)
    mutator = _STRUCTURED[int(rng.integers(len(_STRUCTURED)))]
    try:
        out = mutator(data, rng, shards.tiny()) if mutator is mutate.splice_foreign else mutator(data, rng)
    except Exception:  # noqa: BLE001 - a mutator that does not apply to this input
        out = None
    if out is None:
        return atheris.Mutate(data, max_size)
    return out[:max_size]


def main(argv: list[str]) -> None:
    args = list(argv[1:])
    name = "all"
    if args and not args[0].startswith("-") and args[0] in TARGETS:
        name = args.pop(0)
    if "--unsealed" in args:
        args.remove("--unsealed")
        fmt.checksum_matches = lambda data, digest: True
    target = TARGETS[name]
    atheris.Setup([argv[0]] + args, target, custom_mutator=custom_mutator)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
