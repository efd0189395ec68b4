#!/usr/bin/env bash
# The hostile-input checks against an AddressSanitizer + UBSan build of the Cython extensions.
#
#   tests/fuzz/run_sanitized.sh [FUZZ_RUNS] [MUTATIONS]
#
# Copies the working tree (tracked and untracked files, not ignored ones) to a temporary
# folder, builds the extensions there with ENCODER_SANITIZE=1 (setup.py: -fsanitize=address,
# undefined) using clang plus -fsanitize=fuzzer-no-link (so that libFuzzer also sees the native
# code's coverage), and runs with atheris's ASan runtime preloaded into the interpreter (CPython
# itself is not instrumented):
#   1. the atheris target `all` for FUZZ_RUNS executions (default 5000) on the seed corpus,
#   2. the mutation test (MUTATIONS mutated shards, default 2000), the corruption tests and the
#      kernel tests.
# A memory error or undefined behaviour in native code aborts with the sanitizer's report.
#
# EXTRA_CORPUS (a folder, e.g. the corpus a long unsanitized run grew) is fuzzed from as well.
#
# Needs clang (Debian: apt-get install clang) and atheris (pip install atheris). gcc's own
# libasan works for the tests but not for the fuzzer: its runtime shadows libFuzzer's coverage
# hooks (no coverage, no corpus), so clang with atheris's matching runtime it is.
# Leak detection is off (CPython keeps memory until exit by design).
set -euo pipefail

runs=${1:-5000}
mutations=${2:-2000}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/encoder-asan.XXXXXX")
trap 'rm -rf "$work"' EXIT
command -v clang >/dev/null || { echo "clang is needed (apt-get install clang)"; exit 2; }
runtime="$(python -c 'import atheris; print(atheris.path())')/asan_with_fuzzer.so"

(cd "$repo" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) | tar -xf - -C "$work"
cd "$work"
rm -f encoder/*.so
echo "== building the extensions with ASan + UBSan (clang) in $work"
CC=clang LDSHARED="clang -shared" CFLAGS="-fsanitize=fuzzer-no-link" ENCODER_SANITIZE=1 \
    python setup.py -q build_ext --inplace >build.log 2>&1 || { tail -30 build.log; exit 1; }

export LD_PRELOAD="$runtime"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:allocator_may_return_null=1:detect_odr_violation=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export PYTHONPATH="$work"
export ENCODER_MUTATIONS="$mutations"
python -c "import encoder._codec as c; print('== sanitized build loaded:', c.__file__)"

echo "== fuzzing (target all, $runs runs)"
python tests/fuzz/make_corpus.py corpus
mkdir -p corpus-work artifacts
status=0
python tests/fuzz/fuzz.py all "-runs=$runs" -timeout=60 -rss_limit_mb=4096 -max_len=65536 \
    -artifact_prefix=artifacts/ -print_final_stats=1 corpus-work corpus ${EXTRA_CORPUS:+"$EXTRA_CORPUS"} \
    >fuzz.log 2>&1 || status=$?
grep -v "^INFO: Instrumenting" fuzz.log | grep -E "INITED|DONE|ERROR|SUMMARY|stat::|Traceback|Error" | head -40
if [ "$status" != 0 ]; then
    tail -60 fuzz.log
    mkdir -p "$repo/fuzz-artifacts" && cp -r artifacts/. "$repo/fuzz-artifacts/" || true
    echo "== FAILED: fuzzer exit $status (inputs copied to fuzz-artifacts/)"
    exit "$status"
fi

echo "== mutation, corruption and kernel tests"
python -m pytest -q -p no:cacheprovider -x tests/test_hardening.py tests/test_corruption.py tests/codecs/test_reference.py \
    tests/codecs/test_keys.py tests/tiles/test_reference.py -k "not fuzz"
echo "== sanitized run: no memory error, no undefined behaviour"
