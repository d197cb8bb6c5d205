"""A small mutation check of the measurement pipeline: do the tests notice a wrong line?

For each target module, every mutant changes one thing (a comparison, an operator, a
constant, a boolean, an `and`/`or`), in a copy of the project, and runs the tests that cover
the module. A mutant is *killed* when they fail, *survives* when they pass. A surviving mutant
is either a missing test or an equivalent change (one no input can tell from the original);
the equivalent ones are listed in EQUIVALENT with the reason.

Run:  python tests/mutation.py                  # every target, about 10 minutes
      python tests/mutation.py lab/sse.py       # one target
It prints each survivor and the score per target; the README quotes the last run.
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {
    "lab/measurement.py": [
        "tests/test_measurement.py",
        "tests/test_cell_measurement.py",
        "tests/test_delivery_recorder.py",
    ],
    "lab/delivery_recorder.py": ["tests/test_delivery_recorder.py"],
    "lab/cell_measurement.py": ["tests/test_cell_measurement.py"],
    "lab/fanout.py": ["tests/test_fanout.py", "tests/test_sse_transport.py"],
    "lab/sse.py": ["tests/test_sse.py"],
}
EQUIVALENT: dict[tuple[str, str], str] = {
    # (target, "line: change"): why no input can tell the mutant from the original
    ("lab/delivery_recorder.py", "66: 1 -> 2"): "user names only need to be distinct",
    ("lab/cell_measurement.py", "159: True -> False"): "the lists zipped are always as long",
    ("lab/cell_measurement.py", "165: True -> False"): "the lists zipped are always as long",
    ("lab/fanout.py", "27: 200 -> 201"): "how often the fan-out yields, not what it writes; "
    "the yield itself is tested against the constant",
    ("lab/fanout.py", "43: False -> True"): "a stream is only looked at once park() set it",
    ("lab/fanout.py", "144: 0 -> 1"): "a longer pause between batches of writes: the same "
    "bytes and counters; what it costs in time is for the benchmarks, not the tests",
    ("lab/cell_measurement.py", "21: 10000 -> 10001"): "the limit's value; sampling at the "
    "limit is tested against the constant",
    ("lab/sse.py", "134: False -> True"): "a new stream has no pending block, so a leading "
    "blank line dispatches nothing either way",
    ("lab/sse.py", "153: True -> False"): "flush() drops the old decoder right after",
}
SWAPS: dict[type, type] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv,
    ast.And: ast.Or,
    ast.Or: ast.And,
}


@dataclass(frozen=True)
class Mutant:
    line: int
    description: str
    source: str


def _nodes(tree: ast.AST) -> Iterator[ast.AST]:
    for node in ast.walk(tree):
        # Docstrings and annotations are not behaviour.
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        yield node


def mutants(source: str) -> Iterator[Mutant]:
    """Every one-change mutant of a module's source."""
    tree = ast.parse(source)
    annotations = _annotation_ids(tree)
    candidates = [n for n in _nodes(tree) if id(n) not in annotations]
    for index, node in enumerate(candidates):
        for change in _changes(node):
            mutated = ast.parse(source)
            target = [n for n in _nodes(mutated) if id(n) not in _annotation_ids(mutated)][index]
            description = change(target)
            if description is None:
                continue
            yield Mutant(
                node.lineno if hasattr(node, "lineno") else 0, description, ast.unparse(mutated)
            )


def _annotation_ids(tree: ast.AST) -> set[int]:
    """The nodes inside type annotations (changing them changes no behaviour)."""
    found: set[int] = set()
    for node in ast.walk(tree):
        annotation = None
        if isinstance(node, ast.AnnAssign | ast.arg):
            annotation = node.annotation
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            annotation = node.returns
        if annotation is not None:
            found |= {id(n) for n in ast.walk(annotation)}
    return found


def _changes(node: ast.AST) -> Iterator:
    if isinstance(node, ast.Compare):
        for position, op in enumerate(node.ops):
            if type(op) in SWAPS:

                def swap(target, position=position):
                    old = target.ops[position]
                    target.ops[position] = SWAPS[type(old)]()
                    return f"{type(old).__name__} -> {SWAPS[type(old)].__name__}"

                yield swap
    elif isinstance(node, ast.BinOp | ast.AugAssign | ast.BoolOp) and type(node.op) in SWAPS:

        def swap_op(target):
            old = target.op
            target.op = SWAPS[type(old)]()
            return f"{type(old).__name__} -> {SWAPS[type(old)].__name__}"

        yield swap_op
    elif isinstance(node, ast.Constant) and type(node.value) in (int, bool):

        def constant(target):
            old = target.value
            target.value = (not old) if isinstance(old, bool) else old + 1
            return f"{old!r} -> {target.value!r}"

        yield constant
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):

        def drop_not(target):
            target.op = ast.UAdd()  # +x is x for the bools and numbers used here
            return "not x -> x"

        yield drop_not


def run_tests(copy: Path, tests: list[str], timeout: float) -> bool:
    """True when the tests pass (the mutant survives)."""
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        finished = subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-x",
                "-q",
                "-p",
                "no:cacheprovider",
                "-p",
                "no:randomly",
                "--timeout",
                str(int(timeout)),
                *tests,
            ],
            cwd=copy,
            env=env,
            capture_output=True,
            timeout=timeout + 30,
        )
    except subprocess.TimeoutExpired:
        return False  # a hang is noticed too: the test run did not pass
    return finished.returncode == 0


def check(target: str, timeout: float) -> tuple[int, int, list[Mutant]]:
    original = (ROOT / target).read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "project"
        shutil.copytree(
            ROOT,
            copy,
            ignore=shutil.ignore_patterns(
                ".git", "results", "test-artifacts", "__pycache__", "*.egg-info", ".venv"
            ),
        )
        if not run_tests(copy, TARGETS[target], timeout):
            sys.exit(f"the tests for {target} fail without any mutant: fix them first")
        killed, survivors = 0, []
        for mutant in mutants(original):
            (copy / target).write_text(mutant.source, encoding="utf-8")
            if run_tests(copy, TARGETS[target], timeout):
                survivors.append(mutant)
            else:
                killed += 1
        (copy / target).write_text(original, encoding="utf-8")
    return killed, len(survivors) + killed, survivors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "targets",
        nargs="*",
        default=list(TARGETS),
        help=f"modules to mutate (default: {' '.join(TARGETS)})",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=120,
        help="seconds a test run may take before it counts as failing",
    )
    args = parser.parse_args()
    unknown = [t for t in args.targets if t not in TARGETS]
    if unknown:
        sys.exit(f"not a target: {', '.join(unknown)}; the targets are {', '.join(TARGETS)}")
    started = time.monotonic()
    totals = [0, 0, 0]
    for target in args.targets:
        killed, total, survivors = check(target, args.timeout)
        equivalent = [m for m in survivors if (target, f"{m.line}: {m.description}") in EQUIVALENT]
        real = [m for m in survivors if m not in equivalent]
        for mutant in real:
            print(f"SURVIVED {target}:{mutant.line}: {mutant.description}")
        for mutant in equivalent:
            reason = EQUIVALENT[(target, f"{mutant.line}: {mutant.description}")]
            print(f"equivalent {target}:{mutant.line}: {mutant.description} ({reason})")
        print(
            f"{target}: {killed} of {total} mutants killed, {len(equivalent)} equivalent, "
            f"{len(real)} survived",
            flush=True,
        )
        totals = [totals[0] + killed, totals[1] + total, totals[2] + len(equivalent)]
    killed, total, equivalent = totals
    score = killed / max(1, total - equivalent)
    print(
        f"all: {killed} of {total - equivalent} non-equivalent mutants killed "
        f"({score:.0%}); {time.monotonic() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
