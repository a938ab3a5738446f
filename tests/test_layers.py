"""The packages of gpfem are layers: no module imports a package above its own (docs/architecture.md).

Every ``import`` and ``from ... import`` in ``gpfem/`` counts, at module level, inside a function or under
``if TYPE_CHECKING``: a lazy import is still a dependency. ``from gpfem import NAME`` counts as an import of
the module that defines ``NAME`` (the lazy public API, ``gpfem/__init__.py``). Names looked up at run
time (``importlib.import_module`` on a registered model's dotted path) are not imports: that is how the
registry reaches the models above it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Bottom to top. A package may import its own layer's package and any package of a lower layer; the
#: packages in one tuple are siblings and import neither each other nor anything above them. A module
#: directly in ``gpfem/`` (``cli.py``) is a layer of its own under its module name.
LAYERS: list[tuple[str, ...]] = [
    ("base",),            # errors, logging, graceful stop: no DOLFINx, no other gpfem package
    ("mesh",),            # meshes: gmsh and DOLFINx builders, files, sizes, vertex numbering
    ("crack",),           # the crack centre line on a sampling grid (NumPy, SciPy; cell sizes from mesh)
    ("fe", "io"),         # energies, constants, solver layer, periodicity | files a run writes (rank 0)
    ("drivers",),         # stepper, time loop, gradient flow, quasi-static, alternate minimisation, stops
    ("amr",),             # adaptive mesh refinement (an adaptive model is a time model)
    ("app",),             # parameters and the registry models plug into (it loads them by name)
    ("models", "ml"),     # the FE models | the ML penalties and studies (neither imports the other)
    ("cli",),             # the gpfem command
]


@dataclass(frozen=True)
class Import:
    """One import statement of a gpfem module that names a gpfem module."""

    file: Path
    line: int
    importer: str  # the importing module's package ("io", "cli", ...)
    target: str  # the imported module, dotted ("gpfem.io.fields")


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def package_of(module: str) -> str:
    """The layer key of a dotted gpfem module: ``gpfem.io.fields`` -> ``io``, ``gpfem.cli`` -> ``cli``.

    The root package itself (``gpfem``: the version and the lazy public API) is ``""``.
    """
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _public_api(root: Path) -> dict[str, str]:
    """``gpfem/__init__.py``'s lazy exports: public name -> defining module."""
    init = root / "gpfem" / "__init__.py"
    for node in ast.walk(ast.parse(init.read_text(), str(init))):
        target = node.target if isinstance(node, ast.AnnAssign) else None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
        if isinstance(target, ast.Name) and target.id == "_API" and node.value is not None:
            return ast.literal_eval(node.value)
    return {}


def _is_module(dotted: str, root: Path) -> bool:
    path = root.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports(root: Path = ROOT) -> Iterator[Import]:
    """Every import of a gpfem module in ``root/gpfem``, resolved to the module it loads."""
    api = _public_api(root)
    for path in sorted((root / "gpfem").rglob("*.py")):
        module = _module_name(path, root)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        importer = package_of(module)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name == "gpfem" or alias.name.startswith("gpfem."):
                        yield Import(path, node.lineno, importer, alias.name)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from the importing module's package
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                if base != "gpfem" and not base.startswith("gpfem."):
                    continue
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    if _is_module(sub, root):
                        target = sub  # from gpfem.amr import store: the module gpfem.amr.store
                    elif base == "gpfem" and alias.name in api:
                        target = api[alias.name]  # from gpfem import GradientFlow
                    else:
                        target = base
                    yield Import(path, node.lineno, importer, target)


def layer_index(layers: list[tuple[str, ...]] = LAYERS) -> dict[str, int]:
    """Package -> its layer's position in ``layers`` (0 = bottom)."""
    return {pkg: i for i, group in enumerate(layers) for pkg in group}


def upward_imports(root: Path = ROOT, layers: list[tuple[str, ...]] = LAYERS) -> list[str]:
    """``file:line: a imports gpfem.x (layer of b)`` for every import of a package above (or beside) the
    importer's; packages not in ``layers`` are left to :func:`unplaced_packages`."""
    rank = layer_index(layers)
    out = []
    for imp in imports(root):
        target = package_of(imp.target)
        if target in ("", imp.importer) or imp.importer not in rank or target not in rank:
            continue
        if rank[target] >= rank[imp.importer]:
            where = "beside" if rank[target] == rank[imp.importer] else "above"
            line = (f"{imp.file.relative_to(root)}:{imp.line}: {imp.importer} imports {imp.target} "
                    f"({target}, {where} {imp.importer})")
            if line not in out:
                out.append(line)
    return out


def unplaced_packages(root: Path = ROOT, layers: list[tuple[str, ...]] = LAYERS) -> list[str]:
    """The packages (and top-level modules) of ``root/gpfem`` that no layer names."""
    rank = layer_index(layers)
    found = {package_of(_module_name(p, root)) for p in (root / "gpfem").rglob("*.py")}
    return sorted(found - set(rank) - {""})


def package_cycles(root: Path = ROOT) -> list[str]:
    """The imports that close a cycle between packages (``a`` imports ``b``, and ``b`` leads back to ``a``
    through the imports of packages), placed in ``LAYERS`` or not."""
    edges: dict[tuple[str, str], list[Import]] = {}
    for imp in imports(root):
        target = package_of(imp.target)
        if target not in ("", imp.importer):
            edges.setdefault((imp.importer, target), []).append(imp)
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)

    def path(start: str, goal: str) -> list[str] | None:
        """The shortest chain of package imports from ``start`` to ``goal``, or None."""
        came: dict[str, str] = {start: start}
        todo = [start]
        while todo:
            node = todo.pop(0)
            if node == goal:
                chain = [node]
                while chain[-1] != start:
                    chain.append(came[chain[-1]])
                return chain[::-1]
            for nxt in sorted(graph.get(node, ())):
                if nxt not in came:
                    came[nxt] = node
                    todo.append(nxt)
        return None

    out = []
    for (a, b), imps in sorted(edges.items()):
        back = path(b, a)
        if back:
            for imp in imps:
                line = (f"{imp.file.relative_to(root)}:{imp.line}: {a} imports {imp.target}, and "
                        f"{' -> '.join(back)}")
                if line not in out:
                    out.append(line)
    return out


def test_every_package_has_a_layer():
    missing = unplaced_packages()
    assert not missing, f"gpfem packages in no layer of tests/test_layers.py LAYERS: {missing}"


def test_no_import_reaches_up():
    bad = upward_imports()
    assert not bad, "imports of a package above (or beside) the importer's layer:\n" + "\n".join(bad)


def test_no_cycle_between_packages():
    bad = package_cycles()
    assert not bad, "import cycles between packages:\n" + "\n".join(bad)


def test_the_root_package_imports_nothing_of_gpfem():
    """``gpfem/__init__.py`` loads its names on first use: importing it costs no other package."""
    init = ROOT / "gpfem" / "__init__.py"
    found = [i for i in imports() if i.file == init]
    assert not found, found


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    """A small tree with one import of each kind, some of them upward."""
    files = {
        "gpfem/__init__.py": '_API = {"Loop": "gpfem.drivers.loop"}\n',
        "gpfem/base/__init__.py": "",
        "gpfem/base/errors.py": "",
        "gpfem/io/__init__.py": "",
        "gpfem/io/files.py": ("from gpfem.base.errors import X\n"  # down: fine
                              "def f():\n    from gpfem.drivers import loop\n"),  # up, in a function
        "gpfem/io/more.py": "import typing\nif typing.TYPE_CHECKING:\n    from gpfem import Loop\n",
        "gpfem/fe/__init__.py": "",
        "gpfem/fe/solve.py": "from ..io import files\nimport gpfem\n",  # relative, beside; the root: fine
        "gpfem/drivers/__init__.py": "",
        "gpfem/drivers/loop.py": "import gpfem.io.files\nfrom . import helper\n",
        "gpfem/drivers/helper.py": "",
        "gpfem/extra/__init__.py": "import gpfem.io.files\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def test_the_checker_sees_every_kind_of_import(toy: Path):
    """Function-level, TYPE_CHECKING, relative and public-API imports are all caught, with file:line."""
    layers = [("base",), ("fe", "io"), ("drivers",)]
    assert upward_imports(toy, layers) == [
        "gpfem/fe/solve.py:1: fe imports gpfem.io.files (io, beside fe)",
        "gpfem/io/files.py:3: io imports gpfem.drivers.loop (drivers, above io)",
        "gpfem/io/more.py:3: io imports gpfem.drivers.loop (drivers, above io)",
    ]
    assert unplaced_packages(toy, layers) == ["extra"]
    assert package_cycles(toy) == [
        "gpfem/drivers/loop.py:1: drivers imports gpfem.io.files, and io -> drivers",
        "gpfem/io/files.py:3: io imports gpfem.drivers.loop, and drivers -> io",
        "gpfem/io/more.py:3: io imports gpfem.drivers.loop, and drivers -> io",
    ]
