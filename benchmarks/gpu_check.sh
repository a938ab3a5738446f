#!/usr/bin/env bash
# Device check: on a machine with a GPU and the GPU build (containers/gpu.Dockerfile or gpfem-gpu.def),
# run one Cahn-Hilliard and one fracture case with --backend cuda and the same case on the CPU, print both
# times and the largest difference in results, then run the gpfem.ml tests on CUDA.
#
#   docker run --rm --gpus all gpfem-gpu:0.1.0 bash benchmarks/gpu_check.sh
#   apptainer exec --nv gpfem-gpu.sif bash benchmarks/gpu_check.sh
#   GPFEM=.venv/bin/gpfem BACKEND=cuda bash benchmarks/gpu_check.sh     # a native GPU install
#
# Environment: GPFEM (gpfem command), PYTHON, BACKEND (cuda | kokkos; default cuda), OUT (default
# runs/gpu-check). Exit 0 when every GPU run completed, results agree to 1e-6 relative, and ml tests pass.
set -euo pipefail
cd "$(dirname "$0")/.."
GPFEM=${GPFEM:-gpfem}
PYTHON=${PYTHON:-python}
BACKEND=${BACKEND:-cuda}
OUT=${OUT:-runs/gpu-check}
export OMP_NUM_THREADS=1
mkdir -p "$OUT"

"$GPFEM" info | tee "$OUT/info.json"
if ! grep -q "\"$BACKEND\": true" "$OUT/info.json"; then
  echo "gpu_check: this PETSc has no $BACKEND backend; build containers/gpu.Dockerfile" >&2
  exit 2
fi

# Iterative solvers on the GPU (MUMPS factorises on the host): GMRES/CG + GAMG on every prefix.
CH=(cahn-hilliard --preset ci --set nx=256 --set ny=256 --set Lx=256 --set Ly=256 --set dt=0.5
    --set dt_max=0.5 --set dt_min=0.5 --set t_end=2.0 --set png=false --set output_format=none
    -gpfem_ch_ksp_type gmres -gpfem_ch_pc_type gamg -gpfem_ch_ksp_rtol 1e-10)
FR=(fracture --preset sent-ci --set h_fine=0.0075 --set load_max=0.003 --set png=false
    --set output_format=none
    -gpfem_displacement_ksp_type cg -gpfem_displacement_pc_type gamg -gpfem_displacement_ksp_rtol 1e-10
    -gpfem_damage_ksp_type cg -gpfem_damage_pc_type gamg -gpfem_damage_ksp_rtol 1e-10)

run() {  # name backend args...
  local name=$1 be=$2; shift 2
  local t0 t1
  t0=$(date +%s.%N)
  "$GPFEM" run "$@" --backend "$be" --out "$OUT/$name-$be" --quiet
  t1=$(date +%s.%N)
  echo "$name $be wall $(echo "$t1 - $t0" | bc) s"
}

status=0
for case in ch fr; do
  if [[ $case == ch ]]; then args=("${CH[@]}"); else args=("${FR[@]}"); fi
  run "$case" cpu "${args[@]}" | tee -a "$OUT/times.txt"
  run "$case" "$BACKEND" "${args[@]}" | tee -a "$OUT/times.txt" || status=1
  "$PYTHON" - "$OUT/$case-cpu" "$OUT/$case-$BACKEND" <<'PY' || status=1
import csv, json, sys
a, b = sys.argv[1:]
ra = list(csv.DictReader(open(f"{a}/history.csv")))
rb = list(csv.DictReader(open(f"{b}/history.csv")))
worst = 0.0
for x, y in zip(ra, rb, strict=True):
    for k in x:
        fx, fy = float(x[k] or 0), float(y[k] or 0)
        worst = max(worst, abs(fx - fy) / max(abs(fx), 1e-12))
sa, sb = (json.load(open(f"{d}/summary.json")) for d in (a, b))
print(f"{a} vs {b}: status {sa['status']} / {sb['status']}, largest relative history difference {worst:.2e}")
sys.exit(0 if sb["status"] == "completed" and worst < 1e-6 else 1)
PY
done

# gpfem.ml on CUDA: the ml test suite (its CPU-only test skips itself when CUDA is present), then a WGAN-GP
# training run on the device.
"$PYTHON" -c "import torch; assert torch.cuda.is_available(), 'torch sees no CUDA device'; print(torch.cuda.get_device_name(0))"
"$PYTHON" -m pytest -q tests/ml || status=1
"$GPFEM" run wgan-gp --preset ci --set device=cuda --out "$OUT/ml-cuda" --quiet || status=1
exit $status
