"""Write the golden encrypted shard (format 1.1) once; tests/test_crypto.py decodes it forever.

    python tests/golden/encrypted/make_encrypted.py

It holds the session of tests/golden/make_golden.py, encrypted with :data:`KEY` (a test key,
published here on purpose). Kept out of tests/golden/ itself, whose every ``v*.enc`` is read
without a key by tests/test_golden.py.
"""
import pathlib
import sys

import encoder

HERE = pathlib.Path(__file__).parent
sys.path.insert(0, str(HERE.parent))
from make_golden import METADATA, expected  # noqa: E402

KEY = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"


def main():
    path = HERE / "v1.1-session.enc"
    with encoder.ShardWriter(path, metadata=METADATA, block_rows=1000, flush_seconds=None,
                             encryption_key=KEY) as w:
        for stream, columns in expected().items():
            w.write(stream, columns)
    print("wrote", path)


if __name__ == "__main__":
    main()
