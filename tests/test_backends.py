"""Both backends import and agree: the native core by default, the NumPy reference on request."""
import os
import subprocess
import sys


def run(code: str, backend: str) -> str:
    env = dict(os.environ, ENCODER_BACKEND=backend)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_reference_and_native_backends_write_identical_shards():
    code = ("import encoder, encoder.testing.synthetic as s, hashlib;"
            "d = s.generate_session(20, seed=3);"
            "print(encoder.backend, hashlib.sha256(encoder.encode(d, metadata={'clock': {}})).hexdigest())")
    native, reference = run(code, "native").split(), run(code, "reference").split()
    assert (native[0], reference[0]) == ("native", "reference")
    assert native[1] == reference[1]


def test_writing_events_and_frames_does_not_import_numba():
    """Numba is the read path's JIT; a recorder that only writes must not pay its ~60 MB."""
    code = ("import sys, numpy as np, encoder, encoder.testing.synthetic as s, encoder.capture, encoder.cli.record;"
            "w = encoder.ShardWriter(sys.argv[1]);"
            "[w.write(k, v) for k, v in s.generate_session(5, seed=1).items()];"
            "[w.add_frame(i * 100_000, np.full((40, 70, 4), i, np.uint8)) for i in range(3)];"
            "w.close();"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'numba')[:3])")
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([sys.executable, "-c", code, os.path.join(tmp, "w.enc")], capture_output=True,
                             text=True, check=True).stdout.strip()
    assert out == "[]"
