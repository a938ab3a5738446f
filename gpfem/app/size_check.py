"""Size check before anything is built: the cells, DOFs and memory a run's parameters ask for.

A built-in model's :attr:`gpfem.app.registry.Spec.estimate` turns resolved parameters into a
:class:`SizeEstimate` with closed-form counts (approximate: within a factor of about 2, see each model's
``estimate_size``); :func:`check_size` compares its memory with what this node has free (``MemAvailable``
of ``/proc/meminfo``, or a memory-limited control group's limit less its usage, such as a batch job's, when
that is smaller; shared by the job's ranks on the node) and refuses a run that cannot fit with one
:class:`~gpfem.base.errors.ParameterError` naming the parameter that sets the size, before the mesh is
built. ``gpfem run ... --force`` turns the refusal into a warning.

Memory model (per rank): ``BASE_BYTES`` (Python, DOLFINx, PETSc, the JIT-compiled forms) plus the rank's
share of ``bytes_per_dof * dofs**exponent`` (mesh, function spaces, assembled matrices and the LU factors
or preconditioner): exponent 1 in 2D, 4/3 for a 3D direct solve (the fill of a nested-dissection LU grows
like N^(4/3)). The constants come from the peak resident set size (``/usr/bin/time``'s maximum RSS) of
1-rank runs at three or four sizes per model, one step each (``docs/architecture.md``, "Input checks").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gpfem.base.errors import ParameterError
from gpfem.base.log import logger

__all__ = ["BASE_BYTES", "SizeEstimate", "cgroup_room", "check_size", "mem_available", "ranks_on_node"]

#: Resident memory of one rank before the mesh (interpreter, DOLFINx, PETSc, forms): measured 160-200 MB.
BASE_BYTES = 200e6


@dataclass(frozen=True)
class SizeEstimate:
    """What a run would build, from its parameters alone.

    Attributes:
        parameter: The parameter a refusal names (the one that sets the size, e.g. ``nx`` or ``h_fine``).
        cells: Cells of the mesh (whole mesh, all ranks).
        dofs: Global degrees of freedom of the solved fields.
        bytes_per_dof: Peak memory per DOF of the model (mesh, spaces, matrices, factors), the factor of
            ``dofs**exponent``.
        exponent: How the memory grows with the DOFs (1; 4/3 for a 3D LU factorisation).
    """

    parameter: str
    cells: float
    dofs: float
    bytes_per_dof: float
    exponent: float = 1.0

    def bytes_on_node(self, ranks: int = 1, ranks_here: int = 1) -> float:
        """Memory the ``ranks_here`` ranks of a ``ranks``-rank job on one node need (work split evenly)."""
        return ranks_here * (BASE_BYTES + self.bytes_per_dof * self.dofs ** self.exponent / max(ranks, 1))


def _read_int(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (OSError, ValueError, IndexError):  # absent, unreadable, or "max" (no limit)
        return None


def cgroup_room(root: str | Path = "/sys/fs/cgroup",
                self_cgroup: str | Path = "/proc/self/cgroup") -> int | None:
    """Memory limit less usage of this process's control group (v2 or v1), or ``None`` when unlimited."""
    root = Path(root)
    try:
        lines = Path(self_cgroup).read_text().splitlines()
    except OSError:
        lines = []
    v2 = [ln.split(":", 2)[2] for ln in lines if ln.startswith("0::")]
    v1 = [ln.split(":", 2)[2] for ln in lines if ln.split(":")[1:2] == ["memory"]]
    places = [(root / rel.lstrip("/") / "memory.max", root / rel.lstrip("/") / "memory.current")
              for rel in [*v2, ""]]
    places += [(root / "memory" / rel.lstrip("/") / "memory.limit_in_bytes",
                root / "memory" / rel.lstrip("/") / "memory.usage_in_bytes") for rel in [*v1, ""]]
    for limit_file, usage_file in places:
        limit = _read_int(limit_file)
        if limit is not None and limit < 2**60:  # v1 writes "no limit" as a huge number
            return max(limit - (_read_int(usage_file) or 0), 0)
    return None


def mem_available(meminfo: str | Path = "/proc/meminfo") -> int | None:
    """Free memory of this node in bytes.

    ``MemAvailable``, or the control group's room (:func:`cgroup_room`) when smaller; ``None`` where
    neither can be read (not Linux).
    """
    avail = None
    try:
        for line in Path(meminfo).read_text().splitlines():
            if line.startswith("MemAvailable:"):
                avail = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        avail = None
    room = cgroup_room()
    if room is not None and (avail is None or room < avail):
        return room
    return avail


def ranks_on_node(comm: Any) -> int:
    """How many ranks of ``comm`` share this node's memory (collective on ``comm``)."""
    if comm is None or comm.size == 1:
        return 1
    from mpi4py import MPI

    local = comm.Split_type(MPI.COMM_TYPE_SHARED)
    try:
        return int(local.size)
    finally:
        local.Free()


def _num(x: float) -> str:
    """``2.0e16`` rather than ``2.0e+16``."""
    return f"{x:.1e}".replace("e+0", "e").replace("e+", "e")


def _gb(x: float) -> str:
    return f"{x / 1e9:.0f}" if x >= 10e9 else f"{x / 1e9:.2g}"


def check_size(estimate: SizeEstimate | None, comm: Any = None, force: bool = False,
               available: int | None = None) -> float | None:
    """Refuse a run whose estimate does not fit the memory available on a node.

    Every rank calls it: the verdict is that of the node with the least room, the same on all ranks.

    Args:
        estimate: The model's :class:`SizeEstimate`; ``None`` (a plug-in without one, a mesh file): no check.
        comm: The job's communicator (``None``: one process).
        force: Warn instead of refusing (``gpfem run --force``).
        available: Free memory of this node in bytes (default :func:`mem_available`; tests pass a value).

    Returns:
        The estimated bytes on the fullest node, or ``None`` when nothing was checked.

    Raises:
        ParameterError: (``estimate.parameter``) If the estimate exceeds the available memory and not
            ``force``.
    """
    if estimate is None:
        return None
    ranks = comm.size if comm is not None else 1
    here = ranks_on_node(comm)
    need = estimate.bytes_on_node(ranks, here)
    avail = mem_available() if available is None else available
    mine = (need / avail if avail else 0.0, need, avail or 0, here)
    if comm is not None and comm.size > 1:
        from mpi4py import MPI

        mine = comm.allreduce(mine, op=MPI.MAX)
    ratio, need, avail, here = mine
    if not avail:  # free memory unknown on every node: nothing to compare with
        return need
    what = (f"the mesh would have ~{_num(estimate.cells)} cells (~{_num(estimate.dofs)} DOFs) and need "
            f"~{_num(need)} bytes (available {_gb(avail)} GB"
            + (f" for {here} ranks on this node" if here > 1 else "") + ")")
    if ratio > 1.0:
        if not force:
            raise ParameterError(estimate.parameter, f"{what}; use --force to run anyway")
        logger.warning(f"parameter '{estimate.parameter}': {what}; going on (--force)")
    elif ratio > 0.5:
        logger.warning(f"parameter '{estimate.parameter}': {what}: the estimate is within a factor of 2")
    return need
