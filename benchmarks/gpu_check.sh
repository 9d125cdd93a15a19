#!/usr/bin/env bash
# The GPU check: one command that verifies the CUDA path wherever a CUDA GPU is at hand.
#
#   benchmarks/gpu_check.sh OUT_DIR [--device cuda|cpu] [--python PY] [--no-build]
#
# --device cuda (default), on a machine with a CUDA GPU and no network where PY (default python3) already
# has a CUDA torch, pybind11, scikit-build-core, cmake, ninja and nvcc:
#   1. build    pip install --no-build-isolation --no-deps -e . for the local architecture
#               (CMAKE_ARGS=-DCMAKE_CUDA_ARCHITECTURES=<sm of GPU 0>, PYDISENT_CUDA=ON; falls back to a
#               plain CMake in-place build if pip cannot); nothing is downloaded
#   2. exact    CUDA_LAUNCH_BLOCKING=1: benchmarks/gpu_smoke.py (every CUDA kernel on small inputs against
#               the CPU kernel; Rips and renderers bit-identical) and the exact-equality parity tests
#               (Rips, renderers: pytest -k cuda on their files, where pytest is installed)
#   3. sanitize compute-sanitizer memcheck, racecheck and initcheck on gpu_smoke.py (skipped with a
#               message where the sanitizer is missing or cannot attach)
#   4. tests    the cuda-marked tests (-m cuda) and the parity tests of every kernel family with the CUDA
#               device in their parametrisation (-k cuda)
#   5. bench    every benchmark suite with --device cuda --quick (one JSON for all suites)
# --device cpu runs everywhere else (CI runs it so the script never rots): no build (the module already
# importable from the tree), gpu_smoke.py against the CPU kernels, the CPU parity tests of Rips and the
# renderers, the sanitizer step skipped with a message, the distance/rips/pca suites --quick --no-peers.
#
# OUT_DIR receives at most 8 files: summary.json (every step: status, seconds, message; the machine), and
# build.log, exact.log, sanitizer.log, tests.log, bench.log, bench.json. Everything fits in 8 minutes
# (each step has its own time limit, shrunk to what is left of the total). Exit status 0 when every step
# that ran passed.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

OUT=""
DEVICE=cuda
PY=python3
MISSING=""
BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --device) DEVICE=$2; shift 2 ;;
    --device=*) DEVICE=${1#*=}; shift ;;
    --python) PY=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    -h|--help) sed -n 2,27p "$0"; exit 0 ;;
    *) if [ -z "$OUT" ]; then OUT=$1; shift; else echo "unexpected argument: $1" >&2; exit 2; fi ;;
  esac
done
[ -n "$OUT" ] || { echo "usage: $0 OUT_DIR [--device cuda|cpu] [--python PY] [--no-build]" >&2; exit 2; }
case "$DEVICE" in cuda|cpu) ;; *) echo "--device must be cuda or cpu, got $DEVICE" >&2; exit 2 ;; esac
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
STEPS=$(mktemp)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP" "$STEPS"' EXIT
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONDONTWRITEBYTECODE=1
T0=$(date +%s)
TOTAL=${GPU_CHECK_SECONDS:-480}  # the whole check: 8 minutes
RESERVE=15                       # kept for writing the summary

# record NAME STATUS SECONDS LOG MESSAGE
record() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >> "$STEPS"; echo "[gpu_check] $1: $2 ($3 s) $5"; }
left() { echo $(( TOTAL - RESERVE - ($(date +%s) - T0) )); }
# limit WANTED: the step's time limit, capped by what is left
limit() { local l; l=$(left); [ "$1" -lt "$l" ] && l=$1; [ "$l" -lt 1 ] && l=1; echo "$l"; }
has_module() { "$PY" -c "import $1" > /dev/null 2>&1; }
# run_step NAME LOG WANTED_SECONDS CMD...: runs CMD with a time limit, appends to LOG, records pass/fail
run_step() {
  local name=$1 log=$2 want=$3; shift 3
  local lim s rc
  lim=$(limit "$want")
  if [ "$(left)" -le 5 ]; then record "$name" skip 0 "$log" "no time left of the ${TOTAL} s"; return 0; fi
  s=$(date +%s)
  { echo "### $name: $*  (limit ${lim} s)"; } >> "$OUT/$log"
  timeout --kill-after=10 "$lim" "$@" >> "$OUT/$log" 2>&1
  rc=$?
  local dt=$(( $(date +%s) - s ))
  # a CUDA-mode pytest step in which nothing ran (every test skipped: no device seen) has not passed
  if [ $rc -eq 0 ] && [ "$DEVICE" = cuda ] && [[ " $* " == *" pytest "* ]] \
     && ! tail -n 3 "$OUT/$log" | grep -q " passed"; then
    record "$name" fail "$dt" "$log" "no test ran (all skipped: the tests saw no CUDA device?)"
    return 0
  fi
  if [ $rc -eq 0 ]; then record "$name" pass "$dt" "$log" ""
  elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then record "$name" fail "$dt" "$log" "timed out after ${lim} s"
  elif [ $rc -eq 5 ]; then record "$name" skip "$dt" "$log" "pytest collected no tests"
  else record "$name" fail "$dt" "$log" "exit status $rc${MISSING:+ (not installed here: $MISSING)}"
  fi
  return 0
}

# ---- the machine -------------------------------------------------------------------------------
"$PY" - > "$TMP/env.json" 2>/dev/null <<'EOF' || echo '{}' > "$TMP/env.json"
import json, platform, subprocess, sys
info = {"python": sys.version.split()[0], "platform": platform.platform(), "processor": platform.processor()}
for mod in ("torch", "numpy", "scipy", "sklearn", "pytest", "gudhi", "ripser", "pybind11", "scikit_build_core"):
    try:
        m = __import__(mod)
        info[mod] = getattr(m, "__version__", "present")
    except Exception as e:  # a missing optional module is reported, not fatal
        info[mod] = None
try:
    import torch
    info["torch_cuda"] = torch.version.cuda
    info["cuda_available"] = torch.cuda.is_available()
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
        info["capability"] = "%d%d" % torch.cuda.get_device_capability(0)
except Exception:
    pass
for tool, args in (("nvcc", ["--version"]), ("compute-sanitizer", ["--version"]), ("nvidia-smi", ["-L"])):
    try:
        out = subprocess.run([tool, *args], capture_output=True, text=True, timeout=20).stdout.strip().splitlines()
        info[tool] = out[-1] if out else ""
    except Exception:
        info[tool] = None
print(json.dumps(info))
EOF
echo "[gpu_check] device $DEVICE, python $PY, out $OUT"

# ---- 1. build ------------------------------------------------------------------------------------
if [ "$DEVICE" = cuda ] && [ "$BUILD" = 1 ]; then
  ARCH=$("$PY" -c "import torch; print('%d%d' % torch.cuda.get_device_capability(0))" 2>/dev/null || echo native)
  s=$(date +%s)
  echo "### build for sm_$ARCH: pip install --no-build-isolation --no-deps -e ." >> "$OUT/build.log"
  if CMAKE_ARGS="-DCMAKE_CUDA_ARCHITECTURES=$ARCH -DPYDISENT_CUDA=ON" PYDISENT_CUDA=ON \
     timeout "$(limit 300)" "$PY" -m pip install --no-build-isolation --no-deps --no-index -e . >> "$OUT/build.log" 2>&1 \
     && "$PY" -c "from pydisent import _C; assert _C.has_cuda(), 'built without CUDA'" >> "$OUT/build.log" 2>&1; then
    record build pass $(( $(date +%s) - s )) build.log "pip editable install, sm_$ARCH"
  else
    echo "### pip failed: plain CMake in-place build" >> "$OUT/build.log"
    PYB=$("$PY" -m pybind11 --cmakedir 2>/dev/null)
    if timeout "$(limit 300)" bash -c "cmake -S . -B build/gpu-check -G Ninja -DPYDISENT_INPLACE=ON -DPYDISENT_CUDA=ON \
          -DCMAKE_CUDA_ARCHITECTURES=$ARCH -Dpybind11_DIR='$PYB' -DPython_EXECUTABLE=\$(command -v '$PY') \
          && cmake --build build/gpu-check" >> "$OUT/build.log" 2>&1 \
       && "$PY" -c "from pydisent import _C; assert _C.has_cuda(), 'built without CUDA'" >> "$OUT/build.log" 2>&1; then
      record build pass $(( $(date +%s) - s )) build.log "CMake in-place build (pip failed: see build.log), sm_$ARCH"
    else
      record build fail $(( $(date +%s) - s )) build.log "neither pip nor CMake built a CUDA module"
    fi
  fi
elif [ "$DEVICE" = cuda ]; then
  record build skip 0 build.log "--no-build: using the module already importable"
else
  "$PY" -c "from pydisent import _C; print('pydisent._C:', _C.__file__, 'cuda:', _C.has_cuda())" > "$OUT/build.log" 2>&1 \
    && record build skip 0 build.log "--device cpu: no build, the importable module is checked" \
    || record build fail 0 build.log "pydisent._C does not import"
fi

PYTEST=0
has_module pytest && PYTEST=1
# test dependencies absent here (a machine without network may lack some): named in failing test steps
MISSING=$("$PY" -c "import json,sys; e=json.load(open(sys.argv[1])); print(' '.join(m for m in ('pytest','scipy','sklearn','gudhi','ripser') if e.get(m) is None))" "$TMP/env.json" 2>/dev/null)
EXACT_TESTS=(tests/topology/test_rips.py tests/data/test_render.py tests/data/test_procedural.py)
PARITY_TESTS=(tests/ops tests/topology tests/data)

if [ "$DEVICE" = cuda ]; then
  # ---- 2. exact parity, synchronous launches ---------------------------------------------------
  run_step smoke exact.log 120 env CUDA_LAUNCH_BLOCKING=1 "$PY" benchmarks/gpu_smoke.py --device cuda
  if [ $PYTEST = 1 ]; then
    run_step exact-parity exact.log 120 env CUDA_LAUNCH_BLOCKING=1 "$PY" -m pytest -q -p no:cacheprovider -k cuda \
      "${EXACT_TESTS[@]}"
  else
    record exact-parity skip 0 exact.log "pytest is not installed (gpu_smoke.py checked the same kernels)"
  fi
  # ---- 3. compute-sanitizer --------------------------------------------------------------------
  if command -v compute-sanitizer > /dev/null 2>&1; then
    for tool in memcheck racecheck initcheck; do
      s=$(date +%s)
      lim=$(limit 120)
      echo "### compute-sanitizer --tool $tool (limit ${lim} s)" >> "$OUT/sanitizer.log"
      extra=()
      [ $tool = memcheck ] && extra=(--leak-check no)
      [ $tool = initcheck ] && extra=(--track-unused-memory no)
      CUDA_LAUNCH_BLOCKING=1 timeout --kill-after=10 "$lim" compute-sanitizer --tool $tool "${extra[@]}" \
        "$PY" benchmarks/gpu_smoke.py --device cuda > "$TMP/san.log" 2>&1
      rc=$?
      cat "$TMP/san.log" >> "$OUT/sanitizer.log"
      dt=$(( $(date +%s) - s ))
      summary=$(grep -E "ERROR SUMMARY|RACECHECK SUMMARY" "$TMP/san.log" | tail -1)
      if [ -z "$summary" ]; then
        why=$(grep -iE "unable|not supported|cannot|error" "$TMP/san.log" | head -1)
        [ $rc -eq 124 ] && why="timed out after ${lim} s"
        record "sanitize-$tool" skip "$dt" sanitizer.log "the sanitizer did not attach: ${why:-no summary line}"
      elif echo "$summary" | grep -qE " 0 (errors|hazards)" && [ $rc -eq 0 ]; then
        record "sanitize-$tool" pass "$dt" sanitizer.log "$summary"
      else
        record "sanitize-$tool" fail "$dt" sanitizer.log "${summary} (exit status $rc)"
      fi
    done
  else
    echo "compute-sanitizer not on PATH" > "$OUT/sanitizer.log"
    record sanitize skip 0 sanitizer.log "compute-sanitizer is not on PATH"
  fi
  # ---- 4. CUDA tests and parity tests ----------------------------------------------------------
  if [ $PYTEST = 1 ]; then
    # the cuda-marked tests live with the kernels and the metrics; other folders may import packages a
    # GPU box lacks, and a collection error there must not hide the CUDA results
    run_step cuda-tests tests.log 150 "$PY" -m pytest -q -p no:cacheprovider --continue-on-collection-errors \
      -m cuda "${PARITY_TESTS[@]}" tests/metrics
    run_step parity-tests tests.log 150 "$PY" -m pytest -q -p no:cacheprovider --continue-on-collection-errors \
      -k cuda "${PARITY_TESTS[@]}"
  else
    record tests skip 0 tests.log "pytest is not installed"
  fi
  SUITES=$("$PY" -m benchmarks --list 2>/dev/null)
  BENCH_ARGS=(--device cuda --quick --repeats 3 --budget 5)
  BENCH_EACH=75
else
  # ---- --device cpu: the same steps on the CPU kernels -----------------------------------------
  run_step smoke exact.log 60 "$PY" benchmarks/gpu_smoke.py --device cpu
  echo "--device cpu: compute-sanitizer checks CUDA kernels only (the CPU sanitizer run is .ci/sanitize.sh)" \
    > "$OUT/sanitizer.log"
  record sanitize skip 0 sanitizer.log "CUDA only (--device cpu)"
  if [ $PYTEST = 1 ]; then
    run_step cpu-parity-tests tests.log 120 "$PY" -m pytest -q -p no:cacheprovider -m "not cuda" \
      "${EXACT_TESTS[@]}" -k "cpp_matches_torch or matches_ripser or identical"
  else
    record tests skip 0 tests.log "pytest is not installed"
  fi
  SUITES="distance rips pca"
  BENCH_ARGS=(--device cpu --quick --no-peers --repeats 1 --warmup 1 --budget 2)
  BENCH_EACH=60
fi

# ---- 5. benchmarks -------------------------------------------------------------------------------
mkdir -p "$TMP/bench"
for suite in $SUITES; do
  run_step "bench-$suite" bench.log "$BENCH_EACH" "$PY" -m benchmarks "$suite" "${BENCH_ARGS[@]}" \
    --results-dir "$TMP/bench"
done
"$PY" - "$TMP/bench" "$OUT/bench.json" <<'EOF'
import json, pathlib, sys
rows = {p.stem: json.loads(p.read_text()) for p in sorted(pathlib.Path(sys.argv[1]).glob("*.json"))}
pathlib.Path(sys.argv[2]).write_text(json.dumps(rows, indent=1))
EOF

# ---- summary -------------------------------------------------------------------------------------
"$PY" - "$STEPS" "$TMP/env.json" "$OUT/summary.json" "$DEVICE" "$(( $(date +%s) - T0 ))" <<'EOF'
import datetime, json, pathlib, sys
steps = []
for line in pathlib.Path(sys.argv[1]).read_text().splitlines():
    name, status, seconds, log, message = (line.split("\t") + [""] * 5)[:5]
    steps.append({"step": name, "status": status, "seconds": int(seconds or 0), "log": log, "message": message})
env = json.loads(pathlib.Path(sys.argv[2]).read_text() or "{}")
summary = {"device": sys.argv[4], "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "seconds": int(sys.argv[5]), "ok": all(s["status"] != "fail" for s in steps), "machine": env,
           "steps": steps}
pathlib.Path(sys.argv[3]).write_text(json.dumps(summary, indent=1))
print(f"[gpu_check] {'OK' if summary['ok'] else 'FAILED'}: {sum(s['status'] == 'pass' for s in steps)} passed, "
      f"{sum(s['status'] == 'fail' for s in steps)} failed, {sum(s['status'] == 'skip' for s in steps)} skipped "
      f"in {summary['seconds']} s -> {sys.argv[3]}")
sys.exit(0 if summary["ok"] else 1)
EOF
