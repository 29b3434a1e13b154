"""The package's floors hold: every import, at the top of a module or inside a function,
goes down a floor or stays on its own, and no modules import each other in a circle.

The floors, from the ground up (a floor may import the floors listed for it):

    errors, compat,     the error types; optional extras; TOML as text; work shared
    toml_text, forked,  with forked copies of the process; the C allocator's setting
    allocator
    model               domain types, rules, contracts, pricing, surfaces, calendar
    inputs, journal     files -> model objects; the decision journal
    method              the engine: model only (no file, no journal, no output)
    backtest            model and method
    output              typed results -> tables, JSON, CSV, plots
    app                 one function per command: all of the above
    cli                 options -> one app call -> output -> exit status

The engine never names a command-line flag: no ``"--flag"`` text in model, method,
backtest or the journal (a parameter is named by its role, ``{flag:role}``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "alvh_cli"

ALLOWED = {
    "errors": set(),
    "compat": {"errors"},
    "toml_text": set(),
    "forked": set(),
    "allocator": set(),
    "model": {"errors"},
    "inputs": {"errors", "model", "toml_text", "forked"},
    "journal": {"errors", "model"},
    "method": {"errors", "model", "forked"},
    "backtest": {"errors", "model", "method"},
    "output": {"errors", "compat", "toml_text", "forked", "model", "method", "backtest"},
    "app": {
        "errors",
        "compat",
        "toml_text",
        "forked",
        "model",
        "inputs",
        "journal",
        "method",
        "backtest",
        "output",
    },  # fmt: skip
    "cli": {"errors", "compat", "allocator", "app", "output", "__init__"},
    "__main__": {"cli"},
    "__init__": set(),
}
NO_FLAGS = ("model", "method", "backtest", "journal")


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


KNOWN = set(modules())


def floor(module: str) -> str:
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def imports(module: str, path: Path) -> list[tuple[str, int]]:
    """(imported alvh_cli module, line) for every import statement of the file, anywhere."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            # ``from alvh_cli.model import pricing`` imports the module alvh_cli.model.pricing;
            # the package itself only when a name is not one of its modules
            names = [f"{target}.{a.name}" for a in node.names]
            found += [(n, node.lineno) for n in names]
            if not all(n in KNOWN for n in names):
                found.append((target, node.lineno))
    return [(t, line) for t, line in found if t == "alvh_cli" or t.startswith("alvh_cli.")]


def graph() -> dict[str, set[str]]:
    known = modules()
    edges: dict[str, set[str]] = {m: set() for m in known}
    for module, path in known.items():
        for target, _ in imports(module, path):
            if target in known and target != module:
                edges[module].add(target)
    return edges


def test_every_import_goes_down_a_floor():
    known = modules()
    upward = []
    for module, path in known.items():
        mine = floor(module)
        for target, line in imports(module, path):
            if target not in known:
                continue  # a name imported from a module, not a module
            theirs = floor(target)
            if theirs != mine and theirs not in ALLOWED[mine]:
                upward.append(f"{path.relative_to(PACKAGE.parent)}:{line}: {mine} -> {target}")
    assert upward == [], "\n".join(upward)


def _circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_no_circles():
    edges = graph()
    # a package's __init__ importing its own modules is its face, not a circle
    for module in edges:
        if modules()[module].name == "__init__.py":
            edges[module] = {t for t in edges[module] if not t.startswith(module + ".")}
    assert _circles(edges) == []


def test_the_circle_finder_finds_one():
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


FLAG = re.compile(r"""["'](--[a-z][a-z-]+)""")


@pytest.mark.parametrize("floor_name", NO_FLAGS)
def test_the_engine_never_names_a_flag(floor_name):
    named = []
    for module, path in modules().items():
        if floor(module) != floor_name:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
                if _is_docstring(tree, node):
                    continue
                for m in re.finditer(r"(?<![\w-])--[a-z][a-z-]+", text):
                    named.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {m.group()}")
    assert named == [], "\n".join(named)


def _is_docstring(tree: ast.AST, node: ast.Constant) -> bool:
    for parent in ast.walk(tree):
        body = getattr(parent, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and body[0].value is node
            and isinstance(parent, (ast.Module, ast.FunctionDef, ast.ClassDef))
        ):
            return True
    return False
