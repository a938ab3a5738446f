"""Which PETSc this process loaded, how it was configured, and whether a CUDA device is usable.

The PyPI ``dolfinx-solver-real`` wheel and the CUDA build of ``scripts/build_gpu_petsc.sh`` (active in
``.venv-gpu``, see ``docs/gpu.md``) are both ``libpetsc.so.3.25``; ``gpfem info`` tells them apart by the
path of the loaded library and the configure line compiled into it.
"""

from __future__ import annotations

import ctypes
import mmap
import re
from pathlib import Path
from typing import Any

__all__ = ["configure_options", "configure_summary", "cuda_device_status", "loaded_library"]

_SUMMARY_KEYS = ("--with-scalar-type", "--with-precision", "--with-64-bit-indices", "--with-debugging",
                 "--with-cuda", "--with-cuda-arch", "--with-kokkos", "--with-cc")


def loaded_library(name: str = "libpetsc.so") -> str | None:
    """Path of the loaded shared library whose file name starts with ``name`` (Linux), or ``None``."""
    try:
        with open("/proc/self/maps") as fh:
            for line in fh:
                path = line.split()[-1] if line.strip() else ""
                if Path(path).name.startswith(name):
                    return path
    except OSError:
        return None
    return None


def configure_options(library: str | None = None) -> dict[str, str]:
    """The ``--key=value`` configure options compiled into a libpetsc (the loaded one by default).

    PETSc keeps its configure line in the library (``-log_view`` prints it); this reads it from the file.
    """
    path = library or loaded_library()
    if path is None:
        return {}
    best = b""
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        i = mm.find(b"--with-scalar-type")
        while i >= 0:  # widen each hit to its run of printable bytes; keep the longest
            lo, hi = i, i
            while lo > 0 and 32 <= mm[lo - 1] < 127:
                lo -= 1
            while hi < len(mm) and 32 <= mm[hi] < 127:
                hi += 1
            if hi - lo > len(best):
                best = mm[lo:hi]
            i = mm.find(b"--with-scalar-type", hi)
    out: dict[str, str] = {}
    for m in re.finditer(r"(--[\w-]+)(?:=(\"[^\"]*\"|\S*))?", best.decode()):
        out.setdefault(m.group(1), (m.group(2) or "1").strip('"'))
    return out


def configure_summary(library: str | None = None) -> dict[str, Any]:
    """A few configure options that tell builds apart (scalar, precision, indices, debugging, GPU)."""
    opts = configure_options(library)
    out: dict[str, Any] = {k.removeprefix("--"): opts[k] for k in _SUMMARY_KEYS if k in opts}
    out["downloaded"] = sorted(k.removeprefix("--download-") for k, v in opts.items()
                               if k.startswith("--download-") and v.lower() in ("1", "yes", "true", "on"))
    return out


def _cuda_error(lib: Any, rc: int) -> str:
    name = ctypes.c_char_p()
    try:
        lib.cuGetErrorName(rc, ctypes.byref(name))
    except AttributeError:  # pragma: no cover
        pass
    return f"{(name.value or b'CUDA error').decode()} ({rc})"


def cuda_device_status() -> dict[str, Any]:
    """Whether a CUDA device can be used here, asked of the driver (``libcuda.so.1``) directly.

    Returns ``{"usable": bool, ...}`` with ``reason`` when not usable, else ``devices``, ``device`` (the
    first one's name), ``driver`` and ``runtime`` (CUDA versions as ``13.0``). The runtime is the
    ``libcudart`` that PETSc loaded; a driver older than it is refused (``cudaErrorInsufficientDriver``).
    """

    def ver(v: int) -> str:
        return f"{v // 1000}.{(v % 1000) // 10}"

    try:  # the driver library PETSc loaded (found through its RUNPATH), else the system's
        lib = ctypes.CDLL(loaded_library("libcuda.so") or "libcuda.so.1")
    except OSError:
        return {"usable": False, "reason": "no CUDA driver library (libcuda.so.1) on this machine"}
    rc = lib.cuInit(0)
    if rc != 0:
        return {"usable": False, "reason": f"the CUDA driver found no usable device: cuInit gave "
                                           f"{_cuda_error(lib, rc)}"}
    drv, n = ctypes.c_int(0), ctypes.c_int(0)
    lib.cuDriverGetVersion(ctypes.byref(drv))
    rc = lib.cuDeviceGetCount(ctypes.byref(n))
    if rc != 0 or n.value < 1:
        return {"usable": False, "reason": "the CUDA driver reports no device"}
    info: dict[str, Any] = {"usable": True, "devices": n.value, "driver": ver(drv.value)}
    dev, name = ctypes.c_int(0), ctypes.create_string_buffer(256)
    if lib.cuDeviceGet(ctypes.byref(dev), 0) == 0 and lib.cuDeviceGetName(name, 256, dev) == 0:
        info["device"] = name.value.decode(errors="replace")
    cudart = loaded_library("libcudart.so")
    if cudart:
        rt = ctypes.c_int(0)
        if ctypes.CDLL(cudart).cudaRuntimeGetVersion(ctypes.byref(rt)) == 0:
            info["runtime"] = ver(rt.value)
            if rt.value > drv.value:
                return {"usable": False, "reason": f"the CUDA driver ({ver(drv.value)}) is older than the "
                                                   f"CUDA runtime PETSc uses ({ver(rt.value)})"}
    return info
