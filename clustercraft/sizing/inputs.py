"""The inputs of a measured cell: data it uses that was loaded before it.

A cell that works on a partition loaded in an earlier cell measures only its own increment;
a worker holds the partition as well. So ``%%peakmem`` looks up the names the cell reads
(and the globals of the functions it calls) before it runs, measures the deep memory of
those that hold data (DataFrames, arrays, Arrow tables, containers of them), and adds it
to the need. Objects it cannot measure are named, so the report can say it cannot tell.
"""

from __future__ import annotations

import ast
import sys
import types
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

LOAD_ATTR = "clustercraft_load"  # set by partitions.load_partition
CONTAINER_SAMPLE = 1000  # items of a list or dict measured; the rest extrapolated
MEASURED_AT_LEAST = 64 * 2**10  # smaller inputs (settings, small objects) are not listed
MAX_DEPTH = 3  # levels of containers and attributes looked into
FUNCTION_DEPTH = 2  # functions called by functions the cell calls are looked into too


@dataclass
class InputSize:
    """One input of a cell: its name, type, deep memory in bytes and rows (if a table)."""

    name: str
    kind: str
    nbytes: int
    rows: int | None = None
    nested_rows: int = 0
    # Measured by load_partition when it read this partition: the kernel's peak and
    # retained increments while reading (None: loaded some other way, unknown).
    load_peak: int | None = None
    load_retained: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class CellInputs:
    """What a cell reads from the namespace: measured data, objects it cannot measure, and
    the modules its code uses (for a worker's base)."""

    measured: list[InputSize] = field(default_factory=list)
    opaque: list[str] = field(default_factory=list)  # "name (Type)"
    modules: set[str] = field(default_factory=set)

    @property
    def nbytes(self) -> int:
        """What the inputs hold in memory: as read (measured) where known, else deep bytes."""
        return sum(max(item.nbytes, item.load_retained or 0) for item in self.measured)

    @property
    def loading(self) -> int:
        """The peak of reading the inputs (as measured, else their size)."""
        return sum(max(item.nbytes, item.load_peak or 0) for item in self.measured)

    @property
    def unread(self) -> list[str]:
        """Inputs whose reading was not measured."""
        return [item.name for item in self.measured if item.load_peak is None]

    def describe(self) -> str:
        return ", ".join(f"{item.name} ({item.kind})" for item in self.measured)


# --------------------------------------------------------------------------- sizes


def _is_lazy(obj: Any) -> bool:
    """Dask collections and LSDB catalogs hold no data: a cell computing them loads it inside."""
    if hasattr(obj, "hc_structure") and hasattr(obj, "get_healpix_pixels"):
        return True
    dask = sys.modules.get("dask")
    return dask is not None and dask.is_dask_collection(obj)


HARMLESS = (
    types.ModuleType,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    type,
    bool,
    int,
    float,
    complex,
    str,
    type(None),
)


def _table_rows(obj: Any) -> tuple[int | None, int]:
    from .partitions import nested_rows

    rows = len(obj) if hasattr(obj, "__len__") else None
    return rows, nested_rows(obj) if hasattr(obj, "nested_columns") else 0


def deep_size(obj: Any, depth: int = 0) -> int | None:
    """Bytes of data ``obj`` holds, 0 for code and scalars, None if it cannot tell.

    Containers and objects' attributes are looked into ``MAX_DEPTH`` levels deep (not the
    whole object graph of, say, a Client).
    """
    if isinstance(obj, HARMLESS) or _is_lazy(obj):
        return 0
    module = type(obj).__module__.split(".")[0]
    # pandas objects and their subclasses (nested-pandas' NestedFrame)
    if hasattr(obj, "memory_usage") and (module == "pandas" or hasattr(obj, "columns")):
        try:
            usage = obj.memory_usage(deep=True)
        except TypeError:
            usage = obj.memory_usage()
        return int(usage.sum() if hasattr(usage, "sum") else usage)
    if module in ("numpy", "pyarrow", "xarray") and hasattr(obj, "nbytes"):
        return int(obj.nbytes)
    if isinstance(obj, (bytes, bytearray, memoryview)):
        return len(obj) if not isinstance(obj, memoryview) else obj.nbytes
    if depth >= MAX_DEPTH:
        return None
    if isinstance(obj, (list, tuple, set, frozenset, dict)):
        return _container_size(obj, depth + 1)
    attributes = getattr(obj, "__dict__", None)
    if isinstance(attributes, dict) and attributes:
        held = _container_size(attributes, depth + 1)
        return held if held else None
    return None


def _container_size(container: Any, depth: int) -> int | None:
    values = list(container.values() if isinstance(container, Mapping) else container)
    if not values:
        return 0
    sample = values[:CONTAINER_SAMPLE]
    sizes = [deep_size(value, depth) for value in sample]
    if all(size is None for size in sizes):
        return None
    # Scalars and strings (size 0: no data of their own) count at their Python size.
    total = sum(
        size or sys.getsizeof(value)
        for value, size in zip(sample, sizes, strict=True)
        if size is not None
    )
    return int(total * len(values) / len(sample))


# --------------------------------------------------------------------------- names


def _read_before_written(tree: ast.AST) -> list[str]:
    """Names the code reads before it assigns them (in source order), each once."""
    stored: set[str] = set()
    read: dict[str, None] = {}
    for node in _in_order(tree):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load) and node.id not in stored:
                read.setdefault(node.id, None)
            elif isinstance(node.ctx, (ast.Store, ast.Del)):
                stored.add(node.id)
    return list(read)


def _in_order(tree: ast.AST) -> Iterable[ast.AST]:
    """Nodes statement by statement; in an assignment, the value before the targets."""
    for statement in getattr(tree, "body", [tree]):
        if isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            if statement.value is not None:
                yield from ast.walk(statement.value)
            targets = getattr(statement, "targets", None) or [statement.target]
            for target in targets:
                yield from ast.walk(target)
        else:
            yield from ast.walk(statement)


def _function_globals(function: types.FunctionType) -> list[str]:
    names: list[str] = []
    codes = [function.__code__]
    while codes:
        code = codes.pop()
        names += code.co_names
        codes += [const for const in code.co_consts if isinstance(const, types.CodeType)]
    return names


def find_inputs(names: Iterable[str], namespace: Mapping[str, Any]) -> CellInputs:
    """Measure the namespace objects named, following the globals of named functions."""
    inputs = CellInputs()
    seen: set[str] = set()
    frontier = [(name, 0) for name in names]
    while frontier:
        name, depth = frontier.pop(0)
        if name in seen or name not in namespace or name.startswith("_"):
            continue
        seen.add(name)
        obj = namespace[name]
        if isinstance(obj, types.ModuleType):
            inputs.modules.add(obj.__name__)
            continue
        inputs.modules.add(type(obj).__module__)
        if isinstance(obj, types.FunctionType):
            inputs.modules.add(obj.__module__ or "")
            names = _function_globals(obj)
            # modules it imports inside, already imported here
            inputs.modules.update(n for n in names if n in sys.modules)
            if obj.__globals__ is namespace and depth < FUNCTION_DEPTH:
                frontier += [(child, depth + 1) for child in names]
            continue
        kind = type(obj).__name__
        try:
            size = deep_size(obj)
            # Rows of data in memory only: len() of a Dask collection would compute it.
            big = size is not None and size >= MEASURED_AT_LEAST
            rows, nested = _table_rows(obj) if big and hasattr(obj, "columns") else (None, 0)
        except Exception:  # a broken __len__ or memory_usage, a cycle: cannot tell
            size = None
        if size is None:
            inputs.opaque.append(f"{name} ({kind})")
        elif size >= MEASURED_AT_LEAST:
            load = getattr(obj, "attrs", {}).get(LOAD_ATTR) if hasattr(obj, "attrs") else None
            load = load if isinstance(load, dict) else {}
            inputs.measured.append(
                InputSize(name, kind, size, rows, nested, load.get("peak"), load.get("retained"))
            )
    return inputs


def cell_inputs(tree: ast.AST, namespace: Mapping[str, Any]) -> CellInputs:
    """The inputs of a cell (its parsed, transformed code) in the user's namespace."""
    return find_inputs(_read_before_written(tree), namespace)


def call_inputs(fn: Any, args: tuple, kwargs: Mapping[str, Any]) -> CellInputs:
    """The inputs of ``fn(*args, **kwargs)``: the arguments and the globals ``fn`` reads."""
    namespace = {f"argument {i + 1}": value for i, value in enumerate(args)}
    namespace |= {f"argument {name}": value for name, value in kwargs.items()}
    found = find_inputs(list(namespace), namespace)
    if isinstance(fn, types.FunctionType):
        found.modules.add(fn.__module__ or "")
        more = find_inputs(_function_globals(fn), fn.__globals__)
        found.measured += more.measured
        found.opaque += more.opaque
        found.modules |= more.modules
    return found
