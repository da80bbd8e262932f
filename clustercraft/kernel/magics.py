"""IPython magics registered by ``%load_ext clustercraft``."""

from __future__ import annotations

import argparse
import ast
import re
from collections.abc import Callable
from types import CodeType
from typing import Any

from IPython.core import magic_arguments
from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.display import display

from ..sizing.inputs import CellInputs, cell_inputs
from ..sizing.launch import find_profile
from ..sizing.meter import PeakMeter
from ..sizing.peakmem import size_peak
from ..sizing.recommend import (
    SizingOptions,
    check_bytes,
    check_count,
    check_factor,
    check_worker_base,
)
from ..sizing.report import PeakReport
from .display import LiveReport, register_display_hooks

LAST_REPORT = "_peakmem"  # user-namespace name of the latest report, even after an error


def register(ipython) -> None:
    """Register clustercraft's magics and display hooks on ``ipython``."""
    ipython.register_magics(PeakMemMagics)
    register_display_hooks(ipython)


def _option(check: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse type from a check: a bad value is a UsageError naming the option."""

    def convert(text: str) -> Any:
        try:
            return check(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    convert.__name__ = check.__name__
    return convert


@magics_class
class PeakMemMagics(Magics):
    @magic_arguments.magic_arguments()
    @magic_arguments.argument(
        "--factor",
        type=_option(check_factor),
        help="safety factor over the peak need (default 2, or 1.5 from 8 workers)",
    )
    @magic_arguments.argument(
        "--workers", type=_option(check_count), help="number of workers to size for"
    )
    @magic_arguments.argument(
        "--memory-available",
        type=_option(check_bytes),
        help="memory per node, e.g. 100GB (default: this machine)",
    )
    @magic_arguments.argument(
        "--cores", type=_option(check_count), help="cores per node (default: this machine)"
    )
    @magic_arguments.argument(
        "--worker-base",
        type=_option(check_worker_base),
        help="a worker's own memory, e.g. 300MiB (default: measured in a probe worker)",
    )
    @magic_arguments.argument(
        "--profile",
        type=_option(find_profile),
        help="the server's cluster profile to size for and launch on",
    )
    @magic_arguments.argument("--no-gc", action="store_true", help="skip gc.collect() before")
    @magic_arguments.argument(
        "--quiet", "-q", action="store_true", help=f"show nothing; the report is in {LAST_REPORT}"
    )
    @magic_arguments.argument(
        "--method", choices=("auto", "hwm", "sampled"), default="auto", help="how to measure"
    )
    @line_cell_magic
    def peakmem(self, line: str, cell: str | None = None) -> PeakReport | None:
        """Run a cell (``%%peakmem``) or a statement (``%peakmem f(x)``), report its peak memory.

        The report (peak, baseline, increment, retained, duration, method, timeline,
        children_peak, inputs, worker_base, recommendation) is returned, so ``report = _``
        works. Data the cell reads that was loaded before it counts in the recommendation's
        need. If the code raises, the report is shown and the exception propagates.
        """
        __tracebackhide__ = True  # the user's traceback starts in their cell, not here
        args, statement = magic_arguments.parse_argstring(self.peakmem, line, partial=True)
        _refuse_unknown_option(statement, cell is not None)
        if cell is not None and statement:
            raise UsageError(f"%%peakmem takes options only, not {' '.join(statement)!r}")
        body, last, inputs = self._compile(cell if cell is not None else " ".join(statement))
        sizing = SizingOptions(
            factor=args.factor,
            n_workers=args.workers,
            memory_available=args.memory_available,
            cores=args.cores,
            worker_base=args.worker_base,
            on_profile=args.profile,
        )
        live = LiveReport.peak(self.shell, quiet=args.quiet)  # None where widgets cannot show
        meter = PeakMeter(
            method=args.method,
            gc_collect=not args.no_gc,
            progress=live.progress if live is not None else None,
        )
        namespace = self.shell.user_ns
        try:
            with meter:
                exec(body, namespace)
                result = eval(last, namespace) if last is not None else None
        finally:
            if meter.report is not None:
                size_peak(meter.report, inputs, sizing)
                namespace[LAST_REPORT] = meter.report
                if live is not None:
                    live.finish(meter.report)
                # Shown here only on error: on success the return value is displayed.
                elif meter.report.error and not args.quiet:
                    display(meter.report)
            elif live is not None:
                live.close()  # the meter did not start
        meter.report.result = result
        return None if args.quiet else meter.report

    def _compile(self, source: str) -> tuple[CodeType, CodeType | None, CellInputs]:
        """The code to exec, the trailing expression to evaluate for ``.result``, and the
        data the code reads that was loaded before it (measured now, before the meter)."""
        if not source.strip():
            raise UsageError("%peakmem needs a statement, or use %%peakmem on a cell")
        shell = self.shell
        transformed = shell.transform_cell(source)
        filename = shell.compile.cache(transformed, shell.execution_count, raw_code=source)
        tree = shell.transform_ast(shell.compile.ast_parse(transformed, filename))
        inputs = cell_inputs(tree, shell.user_ns)
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = shell.compile(ast.Expression(tree.body.pop().value), filename, "eval")
        return shell.compile(tree, filename, "exec"), last, inputs


OPTION_LIKE = re.compile(r"-{1,2}[A-Za-z][\w-]*(=.*)?")


def _refuse_unknown_option(statement: list[str], cell: bool) -> None:
    """An option the magic does not know is a UsageError, not code: ``--bogus f(x)`` would
    otherwise be compiled (a SyntaxError) or run. ``-x + 1`` is code when it parses."""
    first = statement[0] if statement else ""
    if not OPTION_LIKE.fullmatch(first):
        return
    if not cell and not first.startswith("--"):
        try:
            ast.parse(" ".join(statement))
            return  # a unary minus, say
        except SyntaxError:
            pass
    name = "%%peakmem" if cell else "%peakmem"
    raise UsageError(f"{name}: unknown option {first.split('=')[0]} (%peakmem? lists the options)")
