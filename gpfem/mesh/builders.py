"""gmsh geometry as functions: parameters in, distributed mesh out.

Each builder names its boundaries with physical groups (``left``, ``right``, ``bottom``, ``top``, ...), so
models find them by name; a user's own ``.msh``/``.geo`` with the same names works the same way. Structured
rectangles and boxes can also be built by DOLFINx without gmsh (:mod:`gpfem.mesh.dolfinx_builders`;
``GPFEM_MESHER=dolfinx``, the default where gmsh is not installed).
"""

from __future__ import annotations

from typing import Any

from mpi4py import MPI

from gpfem.base.errors import MeshError
from gpfem.mesh import dolfinx_builders
from gpfem.mesh._gmsh import MeshBundle, gmsh_model, to_bundle

__all__ = ["MeshBundle", "box", "notched_plate", "notched_slab", "rectangle", "sphere_surface", "t_shape"]


def _check_positive(**vals: float) -> None:
    for k, v in vals.items():
        if not v > 0:
            raise MeshError(f"mesh parameter '{k}' must be > 0, got {v!r}")


def _tag_box_sides(model: Any, dim: int, bounds: list[tuple[float, float]]) -> None:
    """Physical groups for the sides of an axis-aligned box/rectangle, found by bounding boxes."""
    names = [("left", "right"), ("bottom", "top"), ("back", "front")]
    eps = 1e-6 * max(hi - lo for lo, hi in bounds)
    for axis in range(dim):
        for side, coord in zip(names[axis], bounds[axis], strict=True):
            lo = [b[0] - eps for b in bounds] + [-eps] * (3 - dim)
            hi = [b[1] + eps for b in bounds] + [eps] * (3 - dim)
            lo[axis], hi[axis] = coord - eps, coord + eps
            ents = model.getEntitiesInBoundingBox(*lo, *hi, dim - 1)
            tags = [t for d, t in ents if d == dim - 1]
            model.addPhysicalGroup(dim - 1, tags, name=side)


def rectangle(
    Lx: float = 1.0,
    Ly: float = 1.0,
    nx: int = 32,
    ny: int = 32,
    structured: bool = True,
    quadrilateral: bool = False,
    comm: MPI.Comm = MPI.COMM_WORLD,
) -> MeshBundle:
    """A rectangle ``[0, Lx] x [0, Ly]``; sides ``left/right/bottom/top``, surface ``domain``.

    Args:
        Lx: Side length in x.
        Ly: Side length in y.
        nx: Elements along x.
        ny: Elements along y.
        structured: Transfinite (structured) mesh; otherwise unstructured with size ``Lx/nx``.
        quadrilateral: Recombine into quadrilaterals (structured only).
        comm: MPI communicator.
    """
    _check_positive(Lx=Lx, Ly=Ly, nx=nx, ny=ny)
    if structured and dolfinx_builders.mesher() == "dolfinx":
        return dolfinx_builders.rectangle(Lx, Ly, nx, ny, quadrilateral, comm)
    with gmsh_model("rectangle", comm) as model:
        if model is not None:
            occ = model.occ
            s = occ.addRectangle(0, 0, 0, Lx, Ly)
            occ.synchronize()
            model.addPhysicalGroup(2, [s], name="domain")
            _tag_box_sides(model, 2, [(0.0, Lx), (0.0, Ly)])
            if structured:
                for _, c in model.getBoundary([(2, s)], oriented=False):
                    x0, y0, _, x1, y1, _ = model.getBoundingBox(1, c)
                    n = nx if abs(x1 - x0) > abs(y1 - y0) else ny
                    model.mesh.setTransfiniteCurve(c, n + 1)
                model.mesh.setTransfiniteSurface(s)
                if quadrilateral:
                    model.mesh.setRecombine(2, s)
            else:
                import gmsh

                gmsh.option.setNumber("Mesh.MeshSizeMax", Lx / nx)
                gmsh.option.setNumber("Mesh.MeshSizeMin", Lx / nx)
            model.mesh.generate(2)
        return to_bundle(model, comm, 2, f"rectangle({Lx}x{Ly}, {nx}x{ny})")


def box(
    Lx: float = 1.0,
    Ly: float = 1.0,
    Lz: float = 1.0,
    nx: int = 8,
    ny: int = 8,
    nz: int = 8,
    comm: MPI.Comm = MPI.COMM_WORLD,
) -> MeshBundle:
    """A structured tetrahedral box ``[0,Lx]x[0,Ly]x[0,Lz]``; faces ``left/right/bottom/top/back/front``."""
    _check_positive(Lx=Lx, Ly=Ly, Lz=Lz, nx=nx, ny=ny, nz=nz)
    if dolfinx_builders.mesher() == "dolfinx":
        return dolfinx_builders.box(Lx, Ly, Lz, nx, ny, nz, comm)
    with gmsh_model("box", comm) as model:
        if model is not None:
            occ = model.occ
            v = occ.addBox(0, 0, 0, Lx, Ly, Lz)
            occ.synchronize()
            model.addPhysicalGroup(3, [v], name="domain")
            _tag_box_sides(model, 3, [(0.0, Lx), (0.0, Ly), (0.0, Lz)])
            for _, c in model.getEntities(1):
                x0, y0, z0, x1, y1, z1 = model.getBoundingBox(1, c)
                d = [abs(x1 - x0), abs(y1 - y0), abs(z1 - z0)]
                n = (nx, ny, nz)[d.index(max(d))]
                model.mesh.setTransfiniteCurve(c, n + 1)
            for _, s in model.getEntities(2):
                model.mesh.setTransfiniteSurface(s)
            model.mesh.setTransfiniteVolume(v)
            model.mesh.generate(3)
        return to_bundle(model, comm, 3, f"box({Lx}x{Ly}x{Lz}, {nx}x{ny}x{nz})")


def _notched_square(occ: Any, L: float, notch_length: float, notch_width: float) -> list[tuple[int, int]]:
    """The ``[0,L]^2`` square less the slot notch from the left edge at ``y = L/2`` (gmsh OCC entities)."""
    sq = occ.addRectangle(0, 0, 0, L, L)
    slot = occ.addRectangle(-L, L / 2 - notch_width / 2, 0, L + notch_length, notch_width)
    out, _ = occ.cut([(2, sq)], [(2, slot)])
    return out


def notched_plate(
    L: float = 1.0,
    notch_length: float = 0.5,
    notch_width: float = 1e-3,
    h_fine: float = 0.0075,
    h_coarse: float = 0.025,
    band: tuple[float, float] | None = None,
    band_x: tuple[float, float] | None = None,
    comm: MPI.Comm = MPI.COMM_WORLD,
) -> MeshBundle:
    """A square ``[0,L]^2`` with a slot notch from the left edge to ``notch_length`` at ``y = L/2``.

    The mesh has size ``h_fine`` in the box ``band_x x band`` (default the whole width and
    ``0.45 L..0.55 L``, where the crack runs) and ``h_coarse`` elsewhere. Physical groups: ``bottom``,
    ``top``, ``left``, ``right`` (the two parts of the left edge beside the notch), ``domain``.

    Args:
        L: Side length.
        notch_length: Notch depth from the left edge.
        notch_width: Slot width (0 < width << L).
        h_fine: Element size in the band.
        h_coarse: Element size elsewhere.
        band: ``(y_lo, y_hi)`` of the refined band.
        band_x: ``(x_lo, x_hi)`` of the refined band (default ``(0, L)``).
        comm: MPI communicator.
    """
    _check_positive(L=L, notch_length=notch_length, notch_width=notch_width, h_fine=h_fine,
                    h_coarse=h_coarse)
    if notch_length >= L or notch_width >= L / 2:
        raise MeshError("notched_plate: need notch_length < L and notch_width < L/2")
    y_lo, y_hi = band if band is not None else (0.45 * L, 0.55 * L)
    x_lo, x_hi = band_x if band_x is not None else (0.0, L)
    with gmsh_model("notched_plate", comm) as model:
        if model is not None:
            import gmsh

            occ = model.occ
            out = _notched_square(occ, L, notch_length, notch_width)
            occ.synchronize()
            surf = [t for d, t in out if d == 2]
            model.addPhysicalGroup(2, surf, name="domain")
            eps = 1e-6 * L
            for name, bb in {
                "bottom": (-eps, -eps, -eps, L + eps, eps, eps),
                "top": (-eps, L - eps, -eps, L + eps, L + eps, eps),
                "right": (L - eps, -eps, -eps, L + eps, L + eps, eps),
            }.items():
                tags = [t for d, t in model.getEntitiesInBoundingBox(*bb, 1) if d == 1]
                model.addPhysicalGroup(1, tags, name=name)
            left = [
                t
                for d, t in model.getEntitiesInBoundingBox(-eps, -eps, -eps, eps, L + eps, eps, 1)
                if d == 1
            ]
            model.addPhysicalGroup(1, left, name="left")
            f = model.mesh.field
            box_f = f.add("Box")
            f.setNumber(box_f, "VIn", h_fine)
            f.setNumber(box_f, "VOut", h_coarse)
            f.setNumber(box_f, "XMin", x_lo - eps)
            f.setNumber(box_f, "XMax", x_hi + eps)
            f.setNumber(box_f, "YMin", y_lo)
            f.setNumber(box_f, "YMax", y_hi)
            f.setNumber(box_f, "Thickness", 0.0)
            f.setAsBackgroundMesh(box_f)
            gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 0)
            gmsh.option.setNumber("Mesh.MeshSizeFromPoints", 0)
            gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", 0)
            gmsh.option.setNumber("Mesh.Algorithm", 6)
            model.mesh.generate(2)
        return to_bundle(model, comm, 2, f"notched_plate(L={L}, a={notch_length}, h={h_fine})")


def notched_slab(
    L: float = 1.0,
    notch_length: float = 0.5,
    notch_width: float = 1e-3,
    h_fine: float = 0.0075,
    h_coarse: float = 0.025,
    band: tuple[float, float] | None = None,
    thickness: float = 0.0075,
    layers: int = 1,
    comm: MPI.Comm = MPI.COMM_WORLD,
) -> MeshBundle:
    """:func:`notched_plate` extruded along z to ``[0, thickness]``: a notched slab of tetrahedra.

    The square with its slot notch is meshed in 2D exactly as :func:`notched_plate` does (size ``h_fine`` in
    the band, ``h_coarse`` elsewhere) and extruded in ``layers`` structured layers (each prism split into
    three tetrahedra), so every z-section has the 2D mesh's vertices. Physical groups: the faces
    ``bottom``, ``top``, ``left``, ``right`` (as in 2D), ``back`` (z = 0) and ``front`` (z = thickness); the
    volume ``domain``. With ``u_z = 0`` on ``back`` and ``front`` it is the plane-strain SENT in 3D.

    Args:
        L: Side length.
        notch_length: Notch depth from the left edge.
        notch_width: Slot width (0 < width << L).
        h_fine: Element size in the band.
        h_coarse: Element size elsewhere.
        band: ``(y_lo, y_hi)`` of the refined band (default ``0.45 L..0.55 L``).
        thickness: Extent in z.
        layers: Element layers through the thickness.
        comm: MPI communicator.
    """
    _check_positive(L=L, notch_length=notch_length, notch_width=notch_width, h_fine=h_fine,
                    h_coarse=h_coarse, thickness=thickness, layers=layers)
    if notch_length >= L or notch_width >= L / 2:
        raise MeshError("notched_slab: need notch_length < L and notch_width < L/2")
    y_lo, y_hi = band if band is not None else (0.45 * L, 0.55 * L)
    t = float(thickness)
    with gmsh_model("notched_slab", comm) as model:
        if model is not None:
            import gmsh

            occ = model.occ
            out = _notched_square(occ, L, notch_length, notch_width)
            ext = occ.extrude([d for d in out if d[0] == 2], 0, 0, t, numElements=[int(layers)])
            occ.synchronize()
            model.addPhysicalGroup(3, [tag for d, tag in ext if d == 3], name="domain")
            eps = 1e-6 * L
            z0, z1 = -eps, t + eps
            for name, bb in {
                "bottom": (-eps, -eps, z0, L + eps, eps, z1),
                "top": (-eps, L - eps, z0, L + eps, L + eps, z1),
                "right": (L - eps, -eps, z0, L + eps, L + eps, z1),
                "left": (-eps, -eps, z0, eps, L + eps, z1),
                "back": (-eps, -eps, -eps, L + eps, L + eps, eps),
                "front": (-eps, -eps, t - eps, L + eps, L + eps, t + eps),
            }.items():
                tags = [tag for d, tag in model.getEntitiesInBoundingBox(*bb, 2) if d == 2]
                model.addPhysicalGroup(2, tags, name=name)
            f = model.mesh.field
            box_f = f.add("Box")
            for key, val in {"VIn": h_fine, "VOut": h_coarse, "XMin": -eps, "XMax": L + eps, "YMin": y_lo,
                             "YMax": y_hi, "ZMin": z0, "ZMax": z1, "Thickness": 0.0}.items():
                f.setNumber(box_f, key, val)
            f.setAsBackgroundMesh(box_f)
            gmsh.option.setNumber("Mesh.MeshSizeExtendFromBoundary", 0)
            gmsh.option.setNumber("Mesh.MeshSizeFromPoints", 0)
            gmsh.option.setNumber("Mesh.MeshSizeFromCurvature", 0)
            gmsh.option.setNumber("Mesh.Algorithm", 6)
            model.mesh.generate(3)
        return to_bundle(model, comm, 3, f"notched_slab(L={L}, a={notch_length}, h={h_fine}, t={t:g}, "
                                         f"layers={layers})")


def t_shape(
    width: float = 100.0,
    height: float = 120.0,
    stem_width: float = 20.0,
    bar_height: float = 20.0,
    h: float = 2.0,
    comm: MPI.Comm = MPI.COMM_WORLD,
) -> MeshBundle:
    """PFHub benchmark 1c's T-shaped domain: a horizontal bar on top of a centred vertical stem.

    Defaults and coordinates follow PFHub 1c: the stem is ``[0, stem_width] x [0, height - bar_height]``,
    the bar ``[-(width - stem_width)/2, (width + stem_width)/2] x [height - bar_height, height]``, i.e.
    ``[0, 20] x [0, 100]`` and ``[-40, 60] x [100, 120]`` (the initial condition is a function of x and y,
    so the placement matters). Unstructured triangles of size ``h``; boundary group ``boundary``.
    """
    _check_positive(width=width, height=height, stem_width=stem_width, bar_height=bar_height, h=h)
    if not (stem_width < width and bar_height < height):
        raise MeshError(f"t_shape needs stem_width < width and bar_height < height, got {stem_width} >= "
                        f"{width} or {bar_height} >= {height}")
    with gmsh_model("t_shape", comm) as model:
        if model is not None:
            import gmsh

            occ = model.occ
            stem = occ.addRectangle(0, 0, 0, stem_width, height - bar_height)
            bar = occ.addRectangle(-(width - stem_width) / 2, height - bar_height, 0, width, bar_height)
            out, _ = occ.fuse([(2, stem)], [(2, bar)])
            occ.synchronize()
            surf = [t for d, t in out if d == 2]
            model.addPhysicalGroup(2, surf, name="domain")
            curves = [t for _, t in model.getBoundary([(2, s) for s in surf], oriented=False)]
            model.addPhysicalGroup(1, curves, name="boundary")
            gmsh.option.setNumber("Mesh.MeshSizeMax", h)
            gmsh.option.setNumber("Mesh.MeshSizeMin", h)
            model.mesh.generate(2)
        return to_bundle(model, comm, 2, f"t_shape(PFHub 1c, h={h})")


def sphere_surface(radius: float = 100.0, h: float = 2.0, comm: MPI.Comm = MPI.COMM_WORLD) -> MeshBundle:
    """The surface of a sphere centred at the origin (PFHub benchmark 1d): a manifold mesh.

    Flat triangles of size ``h`` with vertices on the sphere (geometric dimension 3, topological
    dimension 2); ``ufl.grad`` on it is the surface gradient. The triangles' area falls short of
    ``4 pi R^2`` by about ``(h/R)^2 / 5`` (5e-4 at h/R = 0.05). Surface group ``surface``; no boundary.
    """
    _check_positive(radius=radius, h=h)
    with gmsh_model("sphere_surface", comm) as model:
        if model is not None:
            import gmsh

            ball = model.occ.addSphere(0, 0, 0, radius)
            model.occ.synchronize()
            surf = [t for _, t in model.getBoundary([(3, ball)], oriented=False)]
            model.occ.remove([(3, ball)])
            model.occ.synchronize()
            model.addPhysicalGroup(2, surf, name="surface")
            gmsh.option.setNumber("Mesh.MeshSizeMax", h)
            gmsh.option.setNumber("Mesh.MeshSizeMin", h)
            model.mesh.generate(2)
        return to_bundle(model, comm, 3, f"sphere_surface(R={radius}, h={h})")
