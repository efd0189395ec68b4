"""Both backends import and agree: the native core by default, the NumPy reference on request."""
import os
import subprocess
import sys


def run(code: str, backend: str) -> str:
    env = dict(os.environ, ENCODER_BACKEND=backend)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_reference_and_native_backends_write_identical_shards():
    code = ("import encoder, encoder.sample as s, hashlib;"
            "d = s.generate_session(20, seed=3);"
            "print(encoder.backend, hashlib.sha256(encoder.encode(d, metadata={'clock': {}})).hexdigest())")
    native, reference = run(code, "native").split(), run(code, "reference").split()
    assert (native[0], reference[0]) == ("native", "reference")
    assert native[1] == reference[1]
