"""Check that a PETSc library can stand in for the one inside the dolfinx-solver-real wheel.

``python scripts/petsc_abi.py wheel``: what the wheel's ``libpetsc.so.3.25`` was configured with (its
configure line, read with ``strings``), which PETSc symbols its users (petsc4py, slepc4py, DOLFINx, SLEPc)
import, and whether the MUMPS/hypre interface functions petsc4py imports are defined by PETSc itself even
when those packages are absent (read from the PETSc source's makefiles).

``python scripts/petsc_abi.py built``: the same users against the built library ``$LIBPETSC``: every PETSc
symbol they import must be defined, and the configuration that fixes the ABI (scalar type, precision,
index size, MPI) must equal the wheel's. Exit 1 on any mismatch.

Environment: ``WHEEL_LIB`` (the wheel's ``dolfinx_solver/lib``), ``SP`` (site-packages), ``PETSC_SRC``
(unpacked PETSc sdist), ``LIBPETSC`` (built library, ``built`` only).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

WHEEL_LIB = Path(os.environ["WHEEL_LIB"])
SP = Path(os.environ["SP"])
PETSC_SRC = Path(os.environ["PETSC_SRC"])

#: The libraries and extensions that load libpetsc.so.3.25 by soname.
USERS = {
    "petsc4py": SP / "petsc4py/lib/PETSc.abi3.so",
    "slepc4py": SP / "slepc4py/lib/SLEPc.abi3.so",
    "dolfinx (python)": SP / "dolfinx/cpp.abi3.so",
    "libdolfinx": WHEEL_LIB / "libdolfinx.so.0.11",
    "libslepc": WHEEL_LIB / "libslepc.so.3.25",
}

#: Options that fix the binary interface: they must be the same in a stand-in.
ABI_OPTIONS = ("--with-scalar-type", "--with-precision", "--with-64-bit-indices",
               "--with-64-bit-blas-indices")


def symbols(lib: Path, defined: bool) -> set[str]:
    """Dynamic symbols of ``lib``: defined (exported) or undefined (imported)."""
    flag = "--defined-only" if defined else "--undefined-only"
    out = subprocess.run(["nm", "-D", flag, str(lib)], capture_output=True, text=True, check=True).stdout
    return {ln.split()[-1].split("@")[0] for ln in out.splitlines() if ln.strip()}


def configure_line(lib: Path) -> str:
    """The configure options recorded in a libpetsc (``strings``)."""
    out = subprocess.run(["strings", str(lib)], capture_output=True, text=True, check=True).stdout
    lines = [ln for ln in out.splitlines() if "--with-scalar-type" in ln or "--with-cc=" in ln]
    return max(lines, key=len) if lines else ""


def options(line: str) -> dict[str, str]:
    """``--key=value`` pairs of a configure line (first value wins)."""
    out: dict[str, str] = {}
    for m in re.finditer(r"(--[\w-]+)(?:=(\"[^\"]*\"|\S*))?", line):
        out.setdefault(m.group(1), m.group(2) or "1")
    return out


def source_file_defining(func: str) -> tuple[str, str] | None:
    """``(file, its makefile's requirement)`` of the PETSc source that defines ``func``."""
    pat = re.compile(rf"^PetscErrorCode\s+{re.escape(func)}\s*\(", re.M)
    for f in (PETSC_SRC / "src").rglob("*.c"):
        try:
            text = f.read_text(errors="ignore")
        except OSError:
            continue
        if pat.search(text):
            mk = f.parent / "makefile"
            req = ""
            if mk.exists():
                req = " ".join(re.findall(r"^#requirespackage\s+(.*)$", mk.read_text(), re.M))
            own = " ".join(re.findall(r"^#requirespackage\s+(.*)$", text, re.M))
            return str(f.relative_to(PETSC_SRC)), (req + " " + own).strip() or "none"
    return None


def wheel() -> int:
    """Report the wheel's PETSc configuration and what its users import."""
    lib = WHEEL_LIB / "libpetsc.so.3.25"
    line = configure_line(lib)
    opts = options(line)
    print(f"wheel library: {lib} ({lib.stat().st_size / 2**20:.1f} MiB)")
    print("ABI-fixing options of the wheel's configure line:")
    for k in ABI_OPTIONS + ("--with-debugging", "--with-shared-libraries", "--with-openmp"):
        print(f"  {k}={opts.get(k, '(default)')}")
    print("  downloads: " + " ".join(k[len("--download-"):] for k in opts if k.startswith("--download-")
                                     and not k.startswith("--download-openblas-")))
    print(f"  MPI: {opts.get('--with-cc', '?').rsplit('/', 1)[-1]} of the wheel's own MPICH build "
          "(libmpi.so.12, the mpich wheel's soname)")
    defined = symbols(lib, defined=True)
    print("petsc symbols imported by the users of libpetsc.so.3.25 (and defined by the wheel's library):")
    for name, path in USERS.items():
        need = symbols(path, defined=False) & defined
        print(f"  {name}: {len(need)}")
    p4 = symbols(USERS["petsc4py"], defined=False) & defined
    pkg = sorted(s for s in p4 if re.match(r"^(MatMumps|PCHYPRE|MatSuperlu|PCHPDDM|MatMkl|PCML)", s))
    print(f"package-interface functions petsc4py imports: {len(pkg)}")
    bad = 0
    for s in pkg:
        where = source_file_defining(s)
        if where is None:
            print(f"  {s}: NOT FOUND in the PETSc source")
            bad += 1
        else:
            print(f"  {s}: {where[0]} (makefile requires: {where[1]})")
            if where[1] != "none":
                bad += 1
    print("verdict: " + ("every package-interface function is compiled without the package"
                         if not bad else f"{bad} functions need their package"))
    return 0


def built() -> int:
    """Check the built library against the wheel's users and configuration."""
    lib = Path(os.environ["LIBPETSC"])
    wheel_lib = WHEEL_LIB / "libpetsc.so.3.25"
    ours = symbols(lib, defined=True)
    theirs = symbols(wheel_lib, defined=True)
    rc = 0
    print(f"built library: {lib} ({lib.stat().st_size / 2**20:.1f} MiB)")
    for name, path in USERS.items():
        need = symbols(path, defined=False) & theirs
        missing = sorted(need - ours)
        print(f"  {name}: imports {len(need)} PETSc symbols, {len(missing)} missing"
              + (f": {', '.join(missing[:10])}" if missing else ""))
        rc |= bool(missing)
    w, o = options(configure_line(wheel_lib)), options(configure_line(lib))
    for k in ABI_OPTIONS:
        same = w.get(k, "0") == o.get(k, "0")
        print(f"  {k}: wheel {w.get(k, '(default)')}, built {o.get(k, '(default)')}"
              + ("" if same else "  MISMATCH"))
        rc |= not same
    conf = (lib.parent.parent / "include/petscconf.h").read_text()
    for macro in ("PETSC_HAVE_CUDA", "PETSC_HAVE_MUMPS", "PETSC_HAVE_SUPERLU_DIST", "PETSC_HAVE_HYPRE",
                  "PETSC_HAVE_KOKKOS", "PETSC_USE_64BIT_INDICES", "PETSC_HAVE_64BIT_BLAS_INDICES"):
        print(f"  {macro}: {'yes' if re.search(rf'#define {macro} 1', conf) else 'no'}")
    lost = sorted(theirs - ours)
    print(f"  symbols of the wheel's library not in the built one: {len(lost)} (none of them imported above)")
    print("verdict: " + ("the built library can stand in for the wheel's" if not rc else "MISMATCH"))
    return rc


if __name__ == "__main__":
    sys.exit({"wheel": wheel, "built": built}[sys.argv[1]]())
