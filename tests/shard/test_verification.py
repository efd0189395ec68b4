"""verify (all or nothing) and check_blocks (every block on its own, damage listed, not raised)."""
import numpy as np
import pytest

import encoder
from encoder.shard.repair import repair


def write(path, blocks=6, rows=300):
    t = np.arange(blocks * rows, dtype=np.int64) * 1000
    with encoder.ShardWriter(path, block_rows=rows) as w:
        w.write("pointer", {"t": t, "x": t % 1920, "y": t % 1080})
    return t


def flipped(path, out, at):
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    out.write_bytes(bytes(data))
    return out


def test_sound_shard_has_no_damage(tmp_path):
    path = tmp_path / "a.enc"
    write(path)
    with encoder.ShardReader(path) as r:
        assert r.check_blocks() == [] and r.check_blocks(deep=True) == [] and r.lost == []


@pytest.mark.parametrize("where, reason", [(70, "descriptor checksum"), (-40, "chunk checksum mismatch")])
def test_check_blocks_lists_each_damaged_block_and_goes_on(tmp_path, where, reason):
    path = tmp_path / "a.enc"
    write(path)
    with encoder.ShardReader(path) as r:
        blocks = r.blocks
    victims = [blocks[1], blocks[4]]
    data = bytearray(path.read_bytes())
    for b in victims:  # a descriptor byte after the block's offset, or a chunk byte before the next block
        data[(b.offset + where) if where > 0 else (blocks[blocks.index(b) + 1].offset + where)] ^= 0x01
    (tmp_path / "bad.enc").write_bytes(bytes(data))
    with encoder.ShardReader(tmp_path / "bad.enc") as r:
        damage = r.check_blocks()
        assert [(d.stream, d.block, d.offset, d.rows) for d in damage] == [("pointer", 1, victims[0].offset, 300),
                                                                          ("pointer", 4, victims[1].offset, 300)]
        assert all(reason in d.reason and "byte " in d.reason for d in damage)
        assert damage[0].t_min == 300_000 and damage[0].t_max == 599_000
        with pytest.raises(encoder.CorruptShardError):
            r.verify()


def test_a_declared_lost_region_must_hold_zeros(tmp_path):
    path = tmp_path / "a.enc"
    t = write(path)
    with encoder.ShardReader(path) as r:
        victim = r.blocks[2]
    bad = flipped(path, tmp_path / "bad.enc", victim.offset + victim.stored_bytes)
    fixed = tmp_path / "fixed.enc"
    repair(bad, fixed)
    with encoder.ShardReader(fixed) as r:
        assert [(x["offset"], x["rows"]) for x in r.lost] == [(victim.offset, 300)]
        assert r.verify() == {"pointer": len(t) - 300}
    data = bytearray(fixed.read_bytes())
    data[victim.offset + 5] = 0x77  # bytes reappear where the repair said nothing is
    (tmp_path / "tampered.enc").write_bytes(bytes(data))
    with encoder.ShardReader(tmp_path / "tampered.enc") as r:
        with pytest.raises(encoder.CorruptShardError, match="declared lost holds data"):
            r.verify()
