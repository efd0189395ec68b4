"""The sample ids of a dataset: which samples each shard holds, numbered 0..N-1.

Sample id ``i`` of a dataset is sample ``i - offsets[s]`` of shard ``s`` (shards in the order
:func:`~encoder.loader.shard_files.expand` gives). A shard's samples are its anchors, in order:

* **frame anchors**: every ``frame_step``-th frame of ``screen`` (when the shard has frames
  and ``anchor`` is ``'auto'`` or ``'frames'``); the sample's time is the frame's time;
* **event anchors** otherwise: the distinct times of the ``anchor_streams`` rows, at most one
  per ``anchor_gap_us`` bucket (the first event in it);
* **action anchors** (``sample='action'``): the actions :func:`encoder.actions.derive` finds,
  at their start; the frame index is the action's observation (-1 before the first frame).

Building the index opens every shard once (footer and anchor columns only) and closes it
again, so the index can be built before workers fork and travels to them by ``fork`` or by
pickling; every rank builds the same index from the same shard files. A shard that cannot be
opened raises an error naming it, or with ``on_error='skip'`` is left out, logged and listed
in :attr:`ShardIndex.skipped`.
"""
from __future__ import annotations

import hashlib
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from ..errors import EncoderError
from .._deprecation import renamed_arguments, renamed_attribute
from .shard_files import close_quietly, open_shard

log = logging.getLogger("encoder.loader")


def shard_anchors(reader, options: dict) -> tuple[np.ndarray, np.ndarray | None]:
    """``(times, frame indices or None)`` of the samples of one open shard.

    ``options`` is :meth:`SampleSpec.anchor_options`. Times are int64 microseconds.
    """
    mode, screen = options["anchor"], options["screen"]
    if mode == "actions":  # one sample per derived action, at its observation frame
        from ..actions import Rules, derive
        rules = options.get("rules")
        if rules is not None:
            rules = Rules(**{k: v for k, v in rules.items() if k != "version"})
        table = derive(reader, screen=screen, rules=rules)
        return (table.column("t").to_numpy().astype(np.int64),
                table.column("frame").to_numpy().astype(np.int64))
    if mode in ("auto", "frames") and "frame" in reader.streams:
        n = reader.frame_count(screen)
        if n:
            index = np.arange(0, n, options["frame_step"], dtype=np.int64)
            return reader.frame_times(screen)[index].astype(np.int64), index
    if mode == "frames":
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    times = [reader.read(s, ["t"]).column("t").to_numpy().astype(np.int64)
             for s in options["anchor_streams"] if s in reader.streams]
    t = np.unique(np.concatenate(times)) if times else np.zeros(0, np.int64)
    gap = options["anchor_gap_us"]
    if gap > 0 and len(t) > 1:
        bucket = (t - t[0]) // gap
        t = t[np.concatenate([[True], bucket[1:] != bucket[:-1]])]
    return t, None


@dataclass
class ShardIndex:
    """Samples of every shard of a dataset (see the module docstring).

    Attributes
    ----------
    shards : list of str
        Names (paths, URLs) of the shards that hold samples, in sample id order (skipped
        shards are not here).
    times : list of numpy.ndarray
        Anchor time (int64 µs) of each sample, per shard.
    frames : list of numpy.ndarray or None
        Frame index of each sample, per shard (``None``: anchored on events).
    offsets : numpy.ndarray
        ``offsets[s]`` is the sample id of shard ``s``'s first sample; ``offsets[-1]`` the total.
    skipped : list of (str, str)
        Shards left out by ``on_error='skip'`` and why.
    """

    shards: list
    times: list
    frames: list
    options: dict
    skipped: list = field(default_factory=list)

    sources = renamed_attribute("sources", "shards")

    def __post_init__(self):
        counts = np.array([len(t) for t in self.times], np.int64)
        self.offsets = np.zeros(len(counts) + 1, np.int64)
        np.cumsum(counts, out=self.offsets[1:])

    @classmethod
    def build(cls, names: list, options: dict, *, on_error: str = "raise", open_options: dict | None = None,
              reader_options: dict | None = None, threads: int = 4) -> "ShardIndex":
        """Open every shard of ``names`` once and collect its anchors."""
        if on_error not in ("raise", "skip"):
            raise ValueError(f"on_error must be 'raise' or 'skip', not {on_error!r}")

        def one(name):
            handle = None
            try:
                reader, handle = open_shard(name, open_options, reader_options)
                try:
                    return shard_anchors(reader, options)
                finally:
                    reader.close()
            except EncoderError as exc:
                return exc.located(shard=name)
            finally:
                close_quietly(handle)

        if threads > 1 and len(names) > 1:
            with ThreadPoolExecutor(min(threads, len(names)), thread_name_prefix="encoder-index") as pool:
                results = list(pool.map(one, names))
        else:
            results = [one(n) for n in names]
        shards, times, frames, skipped = [], [], [], []
        for name, result in zip(names, results):
            if isinstance(result, EncoderError):
                if on_error == "raise":
                    raise result
                log.warning("skipping shard %s: %s", name, result)
                skipped.append((name, str(result)))
                continue
            shards.append(name)
            times.append(result[0])
            frames.append(result[1])
        return cls(shards, times, frames, dict(options), skipped)

    @property
    def total(self) -> int:
        """Samples in the dataset (N)."""
        return int(self.offsets[-1])

    def __len__(self) -> int:
        return self.total

    def counts(self) -> np.ndarray:
        return np.diff(self.offsets)

    @renamed_arguments(keys="sample_ids")
    def locate(self, sample_ids) -> tuple[np.ndarray, np.ndarray]:
        """``(shard, sample within the shard)`` of each sample id (int64 arrays)."""
        sample_ids = np.asarray(sample_ids, np.int64)
        if sample_ids.size and (sample_ids.min() < 0 or sample_ids.max() >= self.total):
            bad = sample_ids[(sample_ids < 0) | (sample_ids >= self.total)][0]
            raise IndexError(f"sample {int(bad)} is outside [0, {self.total})")
        shard = np.searchsorted(self.offsets, sample_ids, side="right") - 1
        return shard, sample_ids - self.offsets[shard]

    @renamed_arguments(key="sample_id")
    def shard_of(self, sample_id: int) -> tuple[int, int]:
        """``(shard, sample within the shard)`` of one sample id (not checked: see :meth:`locate`)."""
        shard = int(np.searchsorted(self.offsets, sample_id, side="right")) - 1
        return shard, int(sample_id - self.offsets[shard])

    def time(self, shard: int, local: int) -> int:
        return int(self.times[shard][local])

    def digest(self) -> str:
        """A short hash of what the sample ids mean (shards, their sample counts, anchor options):
        a state saved with another index is refused instead of resuming the wrong samples."""
        text = json.dumps([self.shards, self.counts().tolist(), self.options], sort_keys=True)
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


# ShardIndex(sources=...) still builds, with a warning.
ShardIndex.__init__ = renamed_arguments(sources="shards")(ShardIndex.__init__)

__all__ = ["ShardIndex", "shard_anchors"]
