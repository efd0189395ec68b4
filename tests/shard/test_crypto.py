"""Encryption at rest (format 1.1): round trips, key sources, tampering, leaks, nonces, golden."""
import hashlib
import io
import json
import pathlib
import struct
import sys

import numpy as np
import pytest

pytest.importorskip("cryptography")

import encoder  # noqa: E402
from common import assert_golden, assert_same_stream  # noqa: E402
from encoder.shard import crypto  # noqa: E402
from encoder.shard import format as fmt  # noqa: E402
from encoder.shard.repair import repair  # noqa: E402

TESTS = pathlib.Path(__file__).parents[1]
sys.path.insert(0, str(TESTS))
from fuzz import mutate, shards  # noqa: E402

GOLDEN = TESTS / "golden" / "encrypted"
sys.path.insert(0, str(GOLDEN))
sys.path.insert(0, str(GOLDEN.parent))
from make_encrypted import KEY as GOLDEN_KEY  # noqa: E402
from make_golden import METADATA, expected  # noqa: E402

KEY = shards.KEY
SECRET = {"pointer": {"t": np.arange(500) * 1000, "x": np.arange(500) % 97, "y": np.arange(500) // 3},
          "command": {"t": [1, 2], "kind": ["shell", "shell"], "text": ["ssh prod-db-7 --password hunter2", None]},
          "focus": {"t": [0], "app": ["keepassxc"], "title": ["Passwords.kdbx"], "window": [9], "x": [0],
                    "y": [0], "width": [10], "height": [10]}}


@pytest.fixture(autouse=True)
def _no_key_in_env(monkeypatch):
    monkeypatch.delenv("ENCODER_KEY", raising=False)
    monkeypatch.delenv("ENCODER_KEY_FILE", raising=False)


def write(encryption_key=KEY, streams=SECRET, **options) -> bytes:
    out = io.BytesIO()
    with encoder.ShardWriter(out, encryption_key=encryption_key, background=False, block_rows=200,
                             metadata={"recorder": {"host": "alice-laptop"}}, **options) as w:
        for name, columns in streams.items():
            w.write(name, columns)
    return out.getvalue()


def test_round_trip_and_header():
    data = write()
    with encoder.ShardReader(data, encryption_key=KEY) as r:
        assert r.encrypted and r.version == fmt.ENCRYPTED_VERSION
        assert r.metadata["recorder"]["host"] == "alice-laptop"
        for name, columns in SECRET.items():
            assert_same_stream(name, r.read(name), columns)
        assert r.verify() == {"pointer": 500, "command": 2, "focus": 1}
        assert [b.rows for b in r.blocks if b.stream == "pointer"] == [200, 200, 100]
    size = int.from_bytes(data[12:16], "little")
    header = json.loads(data[24:24 + size])
    assert list(header) == ["format"] and header["format"]["required"] == ["encryption"]
    plain = write(encryption_key=False)
    assert encoder.ShardReader(plain).version == fmt.VERSION and not encoder.ShardReader(plain).encrypted


def test_nothing_but_sizes_leaks():
    data = write()
    for secret in (b"hunter2", b"prod-db", b"keepassxc", b"Passwords", b"alice", b"pointer", b"command",
                   b"focus", b'"rows"', b'"columns"', b'"planes"', b"shell", b"monotonic", b"unix_us"):
        assert secret not in data, secret
    # the same session encrypted twice: no 8 bytes of any sealed record in common
    grams = {rec[i:i + 8] for rec in records(data) for i in range(len(rec) - 7)}
    again = {rec[i:i + 8] for rec in records(write()) for i in range(len(rec) - 7)}
    assert len(grams) > 3000 and not grams & again


def records(data: bytes) -> list:
    """Every sealed record of an encrypted shard (read with the key, from its own index)."""
    out = []
    r = encoder.ShardReader(data, encryption_key=KEY)
    size = int.from_bytes(data[12:16], "little")
    import base64
    out.append(base64.b64decode(json.loads(data[24:24 + size])["format"]["encryption"]["metadata"]))
    for b in r.blocks:
        desc_len = struct.unpack_from("<I", data, b.offset + 8)[0]
        out.append(data[b.offset + 24:b.offset + 24 + desc_len])
        for bs in r._blocks.values():  # noqa: SLF001
            for d in bs:
                if d["offset"] == b.offset:
                    out += [data[b.offset + c[0]:b.offset + c[0] + c[1]] for _, cs in d["columns"] for c in cs]
    off, length = fmt.TAIL.unpack(data[-fmt.TAIL.size:])[:2]
    out.append(data[off:off + length])
    return out


def test_nonces_never_repeat():
    nonces = []
    for _ in range(3):  # three shards under the same key
        nonces += [rec[:crypto.NONCE_BYTES] for rec in records(write())]
    assert len(nonces) > 60 and len(set(nonces)) == len(nonces)
    salts = {encoder.ShardReader(write(), encryption_key=KEY)._cipher.salt for _ in range(3)}  # noqa: SLF001
    assert len(salts) == 3  # and each shard has its own data key


def test_key_sources(tmp_path, monkeypatch):
    data = write()
    hexkey = KEY.hex()
    assert encoder.ShardReader(data, encryption_key=hexkey.upper()).num_rows("pointer") == 500
    (tmp_path / "raw.key").write_bytes(KEY)
    (tmp_path / "hex.key").write_text(hexkey + "\n")
    for name in ("raw.key", "hex.key"):
        assert encoder.ShardReader(data, encryption_key_file=tmp_path / name).num_rows("pointer") == 500
    monkeypatch.setenv("ENCODER_KEY", hexkey)
    assert encoder.ShardReader(data).num_rows("pointer") == 500
    env_written = write(encryption_key=None)  # the writer takes the environment's key too
    assert encoder.ShardReader(env_written).encrypted
    assert not encoder.ShardReader(write(encryption_key=False)).encrypted  # encryption_key=False: never encrypt
    with pytest.raises(encoder.EncryptionKeyRequiredError, match="pass encryption_key="):
        encoder.ShardReader(data, encryption_key=False)
    monkeypatch.delenv("ENCODER_KEY")
    monkeypatch.setenv("ENCODER_KEY_FILE", str(tmp_path / "hex.key"))
    assert encoder.ShardReader(data).num_rows("pointer") == 500
    for bad, words in ((b"short", "32"), ("zz" * 32, "hexadecimal"), (12, "bytes or a hex")):
        with pytest.raises(encoder.EncryptionKeyRequiredError, match=words):
            encoder.ShardReader(data, encryption_key=bad)


def test_missing_and_wrong_keys_are_clear_errors():
    data = write()
    with pytest.raises(encoder.EncryptionKeyRequiredError, match="encrypted.*ENCODER_KEY") as info:
        encoder.ShardReader(data)
    assert isinstance(info.value, encoder.EncoderError) and "<bytes>" in str(info.value)
    with pytest.raises(encoder.EncryptionKeyRequiredError, match="wrong encryption key"):
        encoder.ShardReader(data, encryption_key=bytes(32))
    with pytest.raises(encoder.EncryptionKeyRequiredError):
        encoder.decode(data)


def test_every_flipped_byte_is_detected():
    data = write(streams={"pointer": SECRET["pointer"]})
    for pos in range(len(data)):
        broken = bytearray(data)
        broken[pos] ^= 1 << (pos % 8)
        with pytest.raises(encoder.EncoderError):
            with encoder.ShardReader(bytes(broken), encryption_key=KEY) as r:
                r.read("pointer")
                r.verify()


def test_tampering_is_detected_even_with_valid_checksums(monkeypatch):
    """An attacker can recompute XXH3 but not the GCM tags: with checksums switched off, every
    altered sealed byte still fails authentication."""
    data = write(streams={"pointer": SECRET["pointer"]})
    monkeypatch.setattr(fmt, "checksum_matches", lambda data, digest: True)
    rng = np.random.default_rng(0)
    r = encoder.ShardReader(data, encryption_key=KEY)
    block = r.blocks[1]
    desc_len = struct.unpack_from("<I", data, block.offset + 8)[0]
    targets = {"descriptor": block.offset + 24 + 20 + int(rng.integers(desc_len - 40)),
               "chunk": block.offset + 24 + desc_len + fmt.pad(24 + desc_len) + 20,
               "footer": fmt.TAIL.unpack(data[-32:])[0] + 14}
    for what, pos in targets.items():
        broken = bytearray(data)
        broken[pos] ^= 0x01
        with pytest.raises(encoder.CorruptShardError, match="authentication failed"):
            with encoder.ShardReader(bytes(broken), encryption_key=KEY) as reader:
                reader.read("pointer")
                reader.verify()


def test_moved_blocks_fail_authentication():
    """Blocks swapped in the file (checksums intact) cannot be recovered in their new places."""
    data = write(streams={"pointer": SECRET["pointer"]}, )
    r = encoder.ShardReader(data, encryption_key=KEY)
    (a0, b0) = [b.offset for b in r.blocks[:2]]
    end = r.blocks[2].offset
    swapped = data[:a0] + data[b0:end] + data[a0:b0] + data[end:fmt.TAIL.unpack(data[-32:])[0]]
    scan = encoder.ShardReader(swapped, encryption_key=KEY, recover=True).recovered
    assert scan.blocks == [] and "authentication failed" in scan.stopped


def test_unknown_features_and_older_readers(monkeypatch):
    data = write()
    monkeypatch.setattr(fmt, "FEATURES", frozenset())
    with pytest.raises(encoder.UnsupportedVersionError, match="encryption"):
        encoder.ShardReader(data, encryption_key=KEY)
    monkeypatch.undo()
    # a 1.0 reader ignores format.required: it must still never return data
    monkeypatch.setattr(fmt, "required_features", lambda version, header, shard: {})
    with pytest.raises(encoder.CorruptShardError):
        encoder.ShardReader(data, encryption_key=KEY)


def test_repair_of_an_encrypted_shard(tmp_path):
    path = tmp_path / "e.enc"
    w = encoder.ShardWriter(path, encryption_key=KEY, block_rows=100, flush_seconds=None)
    w.write("pointer", SECRET["pointer"])
    w.flush()
    with pytest.raises(encoder.EncryptionKeyRequiredError):
        repair(path)
    scan = repair(path, encryption_key=KEY)
    assert scan.rows == {"pointer": 500}
    with encoder.ShardReader(path, encryption_key=KEY) as r:
        assert r.verify() == {"pointer": 500}
        assert_same_stream("pointer", r.read("pointer"), SECRET["pointer"])
    w.close()


def test_frames_are_encrypted_too():
    if not hasattr(encoder.ShardWriter, "add_frame"):
        pytest.skip("no frame support")
    out = io.BytesIO()
    image = np.zeros((24, 40, 4), np.uint8)
    image[5:9, 3:30] = 77
    with encoder.ShardWriter(out, encryption_key=KEY, background=False) as w:
        w.add_frame(0, image)
    data = out.getvalue()
    assert b'"tile"' not in data and b"frame" not in data
    r = encoder.ShardReader(data, encryption_key=KEY)
    r.configure_frame_cache(parallel=False)
    assert (r.frame(0) == image).all()


def test_hkdf_matches_the_reference_implementation():
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    salt = hashlib.sha256(b"salt").digest()
    okm = HKDF(hashes.SHA256(), 64, salt, crypto._INFO).derive(KEY)  # noqa: SLF001
    assert crypto._derive(KEY, salt) == (okm[:32], okm[32:40])  # noqa: SLF001


def test_without_cryptography_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "cryptography.hazmat.primitives.ciphers.aead", None)
    with pytest.raises(crypto.EncryptionUnavailableError, match=r"encoder\[crypto\]"):
        encoder.ShardWriter(io.BytesIO(), encryption_key=KEY)
    assert isinstance(crypto.EncryptionUnavailableError("x"), ImportError)


def test_golden_encrypted_shard_decodes_exactly():
    with encoder.ShardReader(GOLDEN / "v1.1-session.enc", encryption_key=GOLDEN_KEY) as r:
        assert r.version == (1, 1) and r.encrypted
        assert_golden(r, METADATA, expected())
    with pytest.raises(encoder.EncryptionKeyRequiredError):
        encoder.ShardReader(GOLDEN / "v1.1-session.enc")


def test_mutated_encrypted_shards_never_crash():
    data = write(streams={"pointer": SECRET["pointer"], "command": SECRET["command"]})
    rng = np.random.default_rng(3)
    for i in range(300):
        mutator = mutate.RAW[i % len(mutate.RAW)]
        broken = mutator(data, rng) if mutator is not mutate.splice_foreign else mutator(data, rng, shards.tiny())
        if broken is None or broken == data:
            continue
        with pytest.raises(encoder.EncoderError):
            with encoder.ShardReader(broken, encryption_key=KEY) as r:
                for name in r.streams:
                    r.read(name)
                r.verify()


def test_old_argument_names_still_work_and_warn(tmp_path, monkeypatch):
    """``key=`` and ``key_file=`` were the encryption key's names before "key" came to mean only
    a keyboard key: they still work, with a DeprecationWarning that points at the caller."""
    (tmp_path / "hex.key").write_text(KEY.hex())
    path = tmp_path / "old.enc"
    with pytest.warns(DeprecationWarning, match=r"ShardWriter\(key=\) is deprecated; use encryption_key=") as caught:
        w = encoder.ShardWriter(path, key=KEY, block_rows=100, flush_seconds=None)
    assert caught[0].filename == __file__
    w.write("pointer", SECRET["pointer"])
    w.flush()  # no footer: a shard for repair
    with pytest.warns(DeprecationWarning, match=r"repair\(key_file=\)") as caught:
        assert repair(path, key_file=tmp_path / "hex.key").rows == {"pointer": 500}
    assert caught[0].filename == __file__ and len(caught) == 1  # repair itself uses the new names
    w.close()
    with pytest.warns(DeprecationWarning, match=r"ShardReader\(key=\)") as caught:
        with encoder.ShardReader(path, key=KEY.hex()) as r:
            assert r.encrypted and r.num_rows("pointer") == 500
    assert caught[0].filename == __file__
    with pytest.warns(DeprecationWarning, match=r"ShardReader\(key_file=\)"):
        assert encoder.ShardReader(path, key_file=tmp_path / "hex.key").num_rows("pointer") == 500
    monkeypatch.setenv("ENCODER_KEY", KEY.hex())
    out = io.BytesIO()
    with pytest.warns(DeprecationWarning, match=r"ShardWriter\(key=\)"):
        with encoder.ShardWriter(out, key=False, background=False) as w:  # key=False: never encrypt
            w.write("pointer", SECRET["pointer"])
    assert not encoder.ShardReader(out.getvalue()).encrypted


def test_old_and_new_argument_names_together_are_a_type_error(tmp_path):
    import inspect
    data = write()
    for old, new in (("key", "encryption_key"), ("key_file", "encryption_key_file")):
        with pytest.raises(TypeError, match=f"got both {new}= and its deprecated name {old}="):
            encoder.ShardReader(data, **{old: KEY, new: KEY})
        with pytest.raises(TypeError, match=f"ShardWriter.. got both {new}="):
            encoder.ShardWriter(tmp_path / "never.enc", **{old: KEY, new: KEY})
        with pytest.raises(TypeError, match=f"repair.. got both {new}="):
            repair(tmp_path / "never.enc", **{old: KEY, new: KEY})
    assert not (tmp_path / "never.enc").exists()  # refused before anything was opened
    with pytest.raises(TypeError, match="keyfile"):  # a misspelt name is still an error
        encoder.ShardReader(data, keyfile=KEY)
    for function in (encoder.ShardReader, encoder.ShardWriter, repair):  # only the new names are shown
        parameters = inspect.signature(function).parameters
        assert {"encryption_key", "encryption_key_file"} <= set(parameters)
        assert not {"key", "key_file"} & set(parameters)


def test_old_exception_name_still_works_and_warns():
    import encoder.errors
    assert issubclass(encoder.EncryptionKeyRequiredError, encoder.EncoderError)
    assert issubclass(encoder.EncryptionKeyRequiredError, ValueError)
    assert "EncryptionKeyRequiredError" in encoder.__all__ and "KeyRequiredError" not in encoder.__all__
    with pytest.warns(DeprecationWarning, match=r"encoder\.KeyRequiredError is deprecated") as caught:
        old = encoder.KeyRequiredError
    assert old is encoder.EncryptionKeyRequiredError and caught[0].filename == __file__
    with pytest.warns(DeprecationWarning, match=r"encoder\.errors\.KeyRequiredError is deprecated"):
        from encoder.errors import KeyRequiredError
    assert KeyRequiredError is encoder.errors.EncryptionKeyRequiredError
    with pytest.raises(KeyRequiredError, match="encrypted"):  # old except clauses still catch it
        encoder.ShardReader(write())
    with pytest.raises(AttributeError):
        encoder.errors.NoSuchError  # noqa: B018


def test_cli_repair_takes_the_encryption_key_file(tmp_path, capsys):
    from encoder.cli.main import main
    (tmp_path / "hex.key").write_text(KEY.hex())
    for option in ("--encryption-key-file", "--key-file"):  # the old spelling: a hidden alias
        path = tmp_path / f"{option.strip('-')}.enc"
        w = encoder.ShardWriter(path, encryption_key=KEY, block_rows=100, flush_seconds=None)
        w.write("pointer", SECRET["pointer"])
        w.flush()
        assert main(["repair", str(path)]) == 2  # no key: refused, said in words
        assert "encryption_key=" in capsys.readouterr().err
        assert main(["repair", str(path), option, str(tmp_path / "hex.key")]) == 1  # damage (the unwritten footer) found and removed
        assert "REPAIRED" in capsys.readouterr().out
        w.close()
        assert encoder.ShardReader(path, encryption_key=KEY).verify() == {"pointer": 500}
    assert main(["repair", "--help"]) == 0
    shown = capsys.readouterr().out
    assert "--encryption-key-file" in shown and "--key-file" not in shown
