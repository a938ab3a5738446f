#!/usr/bin/env bash
# Idempotent set-up for gpfem: system libraries, a Python >= 3.12 virtual environment, pinned wheels.
# Behind both README commands; a second run skips what is already there and takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(gcc libc6-dev libgl1 libglu1-mesa libxcursor1 libxft2 libxinerama1 libgomp1 libosmesa6)
EXTRAS="${GPFEM_EXTRAS:-ml,test}"
say() { echo "[gpfem setup] $*"; }

# 1. System libraries (form JIT needs a C compiler; gmsh and headless pyvista need GL/X libraries).
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if command -v apt-get >/dev/null; then
    SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    say "installing system packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    say "WARNING: apt-get not found; make sure these are installed: ${missing[*]}"
  fi
fi

# 2. A Python >= 3.12 interpreter.
find_python() {
  local c
  for c in python3.13 python3.12 python3; do
    if command -v "$c" >/dev/null && "$c" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
      command -v "$c"; return 0
    fi
  done
  local root
  root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
  for c in "$root"/versions/3.13*/bin/python3 "$root"/versions/3.12*/bin/python3; do
    [[ -x $c ]] && { echo "$c"; return 0; }
  done
  return 1
}

if [[ ! -x .venv/bin/python ]]; then
  PY=$(find_python) || { echo "gpfem setup: no Python >= 3.12 found (looked for python3.13/python3.12 on PATH and in pyenv's versions folder). Install one and re-run." >&2; exit 1; }
  say "creating .venv with $PY"
  "$PY" -m venv .venv
fi

# 3. Pinned wheels, re-installed only when pyproject.toml changed.
stamp=.venv/.gpfem-installed
want="$(sha256sum pyproject.toml | cut -d' ' -f1) $EXTRAS"
if [[ ! -f $stamp || "$(cat "$stamp")" != "$want" ]]; then
  # A first install: torch's CUDA build and its libraries take ~7 GB in .venv, 7.8 GB at the peak of a
  # fresh install (measured with df); without the ml extra about 1.5 GB (that .venv less torch, triton and
  # the NVIDIA libraries). Say so before pip fills the disk.
  if [[ ! -f $stamp ]]; then
    default_gb=2; [[ ",$EXTRAS," == *,ml,* ]] && default_gb=8
    need_gb="${GPFEM_SETUP_FREE_GB:-$default_gb}"
    free_mb=$(df -Pk .venv | awk 'NR==2 {print int($4 / 1024)}')
    if ((free_mb < need_gb * 1024)); then
      echo "gpfem setup: $(pwd)/.venv: $(awk "BEGIN {printf \"%.1f\", $free_mb / 1024}") GB free on its disk, the install of gpfem[$EXTRAS] needs about ${need_gb} GB (set GPFEM_SETUP_FREE_GB to change the check; GPFEM_EXTRAS=test leaves out torch)." >&2
      exit 1
    fi
  fi
  say "installing gpfem[$EXTRAS] into .venv (first time: several minutes, ~7 GB with torch)"
  # No wheel cache: it would keep a second copy of the ~3 GB of downloaded wheels.
  export PIP_NO_CACHE_DIR="${PIP_NO_CACHE_DIR:-1}"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[$EXTRAS]"
  echo "$want" > "$stamp"
else
  say "environment up to date"
fi
