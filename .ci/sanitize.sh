#!/usr/bin/env bash
# The C++ kernels under AddressSanitizer + UndefinedBehaviorSanitizer (CPU only).
#
# Builds the extension with -DPYDISENT_SANITIZE=address,undefined in its own folder (build/sanitize; the
# in-place module is left alone), lays a copy of the package, its tests and pyproject.toml beside it, and
# runs the CPU-path kernel tests there with the ASan runtime preloaded into Python (Python itself is not
# instrumented, so its own allocations are not checked and leak detection is off), UBSan halting at the
# first finding. Any report fails the run.
#
#   .ci/sanitize.sh [PYTHON]        (default: python3 on PATH; needs torch, pybind11, cmake, ninja, pytest)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${1:-python3}
BUILD=$ROOT/build/sanitize
PKG=$BUILD/pkg
start=$(date +%s)

cmake -S . -B "$BUILD" -G Ninja -DPYDISENT_CUDA=OFF -DPYDISENT_SANITIZE=address,undefined \
  -DCMAKE_BUILD_TYPE=Release -DPython_EXECUTABLE="$(command -v "$PY")" > "$BUILD.cmake.log" 2>&1 \
  || { cat "$BUILD.cmake.log"; exit 1; }
cmake --build "$BUILD"
built=$(date +%s)

rm -rf "$PKG"
mkdir -p "$PKG"
cp -r pydisent tests pyproject.toml "$PKG"/
find "$PKG" -name '_C*.so' -delete
find "$PKG" -depth -name '__pycache__' -type d -exec rm -rf {} +
cp "$BUILD"/_C*.so "$PKG"/pydisent/
# An editable install (CI's pip install -e .) puts a meta-path finder first that would send
# `import pydisent` back to the source tree and its uninstrumented module: drop it in this run only.
cat > "$PKG/sitecustomize.py" <<'PYEOF'
import sys

sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "ScikitBuildRedirectingFinder"]
PYEOF

# libstdc++ preloaded with it: otherwise ASan starts before any C++ library is mapped and cannot find the
# real __cxa_throw ("CHECK failed: real___cxa_throw"), at the first C++ exception torch or _C throws.
PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libstdc++.so)"
for lib in $PRELOAD; do
  [ -f "$lib" ] || { echo "sanitize: $lib not found (gcc's ASan runtime / libstdc++ are needed)" >&2; exit 1; }
done
# The CPU paths of every kernel family: distances, paired, PCA, ranking, trees (ops, fast DCI), Rips
# (topology), the renderers and the datasets drawn with them, the CPU variant switch. The slow
# reference-metric suites are left to the plain run.
TESTS=(tests/ops tests/topology tests/data/test_render.py tests/data/test_procedural.py tests/data/test_dsprites.py
       tests/metrics/test_dci.py tests/metrics/test_dci_internals.py)
present=()
for t in "${TESTS[@]}"; do
  [ -e "$PKG/${t%%::*}" ] && present+=("$t")
done

cd "$PKG"
# the module under test must be the instrumented copy
PYTHONPATH="$PKG" LD_PRELOAD="$PRELOAD" ASAN_OPTIONS=detect_leaks=0 "$PY" -c "
import pathlib, sys
import pydisent, pydisent._C as C
where = pathlib.Path(C.__file__).resolve()
if pathlib.Path('$PKG').resolve() not in where.parents:
    sys.exit(f'sanitize: imported {where}, not the sanitized build in $PKG')
print('sanitize: testing', where)
"
# --capture=sys keeps fd 2 for the sanitizers' reports (fd capture would swallow them at the abort).
env LD_PRELOAD="$PRELOAD" \
    ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:strict_init_order=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    OMP_NUM_THREADS=2 PYTHONPATH="$PKG" \
    "$PY" -m pytest -q -p no:cacheprovider --capture=sys -m "not cuda" "${present[@]}"
end=$(date +%s)
echo "sanitize: build $((built - start)) s, tests $((end - built)) s"
