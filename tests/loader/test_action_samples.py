"""``sample='action'``: one sample per derived action, with its observation frame, fields,
tokens and history, beside the event window; partitioned, shuffled and resumable as any sample."""
from __future__ import annotations

import numpy as np
import pytest

import encoder
import encoder.testing.synthetic
from encoder.actions import KINDS, ActionTokenizer, derive
from encoder.loader import ShardDataset, ShardMapDataset
from encoder.loader.spec import SampleSpec
from loader.common import FRAME_H, FRAME_W, ident, same_sample, write_frames_shard


@pytest.fixture(scope="module")
def shard(tmp_path_factory):
    return str(write_frames_shard(tmp_path_factory.mktemp("actions") / "a.enc", seconds=12, frames=40))


def test_one_sample_per_action_with_its_fields_and_frame(shard):
    ds = ShardMapDataset(shard, sample="action", history=3)
    table = derive(shard)
    assert len(ds) == table.num_rows > 5
    rows = table.to_pylist()
    with encoder.ShardReader(shard) as reader:
        for i in range(len(ds)):
            sample, row = ds[i], rows[i]
            assert sample["t_us"] == row["t"] and sample["action.t"] == 0          # relative to the anchor
            assert KINDS[sample["action.kind"]] == row["kind"]
            assert sample["action.text"] == row["text"] and sample["action.count"] == row["count"]
            assert sample["action.frame"] == row["frame"]
            if row["frame"] >= 0:
                assert sample["frame_index"][0] == row["frame"]
                assert np.array_equal(sample["frames"][0], reader.frame(row["frame"]))
                assert sample["frame_t"][0] <= 0                                    # at or before the action
            else:
                assert sample["frame_index"][0] == -1 and not sample["frames"].any()
            # history: the previous actions, oldest first, padding first
            h = min(i, 3)
            assert sample["history.len"] == h
            want = [KINDS.index(r["kind"]) for r in rows[i - h:i]]
            assert sample["history.kind"][3 - h:].tolist() == want
            assert (sample["history.t"][3 - h:] <= 0).all()
            # tokens: the action's own sequence
            tokens = ActionTokenizer(screen=(FRAME_W, FRAME_H)).encode(table.slice(i, 1))
            n = sample["action.tokens_len"]
            assert n == min(len(tokens), 64) and np.array_equal(sample["action.tokens"][:n], tokens[:n])
            assert (sample["action.tokens"][n:] == 0).all()


def test_batches_and_resume_like_any_sample(shard):
    ds = ShardDataset(shard, sample="action", history=2, seed=3, batch_size=4, frames=False)
    batches = list(ds)
    assert sum(len(b["t_us"]) for b in batches) == len(derive(shard))
    assert batches[0]["history.kind"].shape == (4, 2) and batches[0]["action.tokens"].shape == (4, 64)
    ds2 = ShardDataset(shard, sample="action", history=2, seed=3, batch_size=4, frames=False)
    it = iter(ds2)
    next(it)
    state = ds2.state_dict()
    ds3 = ShardDataset(shard, sample="action", history=2, seed=3, batch_size=4, frames=False)
    ds3.load_state_dict(state)
    for a, b in zip(list(ds3), batches[1:]):
        assert a["t_us"].tolist() == b["t_us"].tolist()


def test_window_and_action_samples_differ_in_identity(shard):
    window = ShardMapDataset(shard)
    action = ShardMapDataset(shard, sample="action")
    assert window.index.digest() != action.index.digest()
    assert "action.kind" in action[0] and "action.kind" not in window[0]


def test_options_are_checked():
    with pytest.raises(ValueError, match="sample"):
        SampleSpec(sample="step")
    with pytest.raises(ValueError, match="history"):
        SampleSpec(sample="action", history=-1)
    with pytest.raises(TypeError, match="Rules"):
        SampleSpec(sample="action", rules={"multi_click_us": 1})


def test_rules_change_the_samples(shard):
    from encoder.actions import Rules
    strict = ShardMapDataset(shard, sample="action", rules=Rules(multi_click_us=1))
    assert len(strict) == derive(shard, rules=Rules(multi_click_us=1)).num_rows != len(ShardMapDataset(shard, sample="action"))


def test_tokens_need_a_screen_size(tmp_path):
    path = str(tmp_path / "events.enc")
    encoder.testing.synthetic.write_sample(path, seconds=5, seed=1)
    with encoder.ShardReader(path) as r:
        assert "screens" in r.metadata  # the synthetic session states its screens: tokens work
    assert ShardMapDataset(path, sample="action")[0]["action.tokens_len"] > 0
    bare = str(tmp_path / "bare.enc")
    with encoder.ShardReader(path) as r, encoder.ShardWriter(bare) as w:
        for name in ("pointer", "button", "key"):
            w.write(name, r.read(name))
    with pytest.raises(encoder.EncoderError, match="screen size"):
        ShardMapDataset(bare, sample="action")[0]
    assert ShardMapDataset(bare, sample="action", max_tokens=0)[0]["action.kind"] >= 0
