"""The backtest's floor: ``alvh_cli/backtest/`` imports only the floors below it (model,
method, and the error types), anywhere in a module (inside functions too), and never names
a command-line flag: bad input names its parameter by role, and the command line's table
(``cli.FLAGS``) turns roles into flags."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

BACKTEST = Path(__file__).resolve().parents[1] / "alvh_cli" / "backtest"
ABOVE = ("alvh_cli.inputs", "alvh_cli.app", "alvh_cli.output", "alvh_cli.cli", "alvh_cli.journal")
FLAG = re.compile(r"(?<![\w-])--[a-z]")  # "--sweep", not "a--b" or a rule of dashes


def _modules():
    return sorted(BACKTEST.glob("*.py"))


def _imported(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_backtest_imports_nothing_above_it(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    above = [n for n in _imported(tree) if n.startswith(ABOVE)]
    assert above == [], f"{path.name} imports {above}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_backtest_names_no_command_line_flag(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    texts = [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    flagged = [(line, text) for line, text in texts if FLAG.search(text)]
    assert flagged == [], f"{path.name}: {flagged}"


def test_every_role_the_backtest_names_has_a_flag():
    from alvh_cli.cli import FLAGS

    roles = set()
    for path in [*_modules(), BACKTEST.parent / "app" / "backtest.py"]:
        text = path.read_text(encoding="utf-8")
        roles |= set(re.findall(r'option="(\w+)"', text))
        roles |= set(re.findall(r"\{flag:(\w+)\}", text))
    from alvh_cli.app.backtest import WALK
    from alvh_cli.backtest import sweep

    roles |= {sweep.SWEEP, sweep.WORKERS, sweep.DASK, sweep.WALK, WALK, "start", "end"}
    assert {"history", "policies", "entry", "trades", "plot", "objective"} <= roles
    assert roles - set(FLAGS) == set()
