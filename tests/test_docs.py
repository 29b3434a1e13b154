"""The README's generated blocks are what alvh prints today (docs/regenerate.py).

A failure here means the tool and the README disagree: check the change is intended,
then run ``python docs/regenerate.py NAME`` and commit the README with the change.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _regenerate():
    spec = importlib.util.spec_from_file_location("regenerate", ROOT / "docs" / "regenerate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["regenerate"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


regenerate = _regenerate()
PRESENT = regenerate.blocks_in((ROOT / "README.md").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(PRESENT))
def test_readme_block_is_what_alvh_prints(name):
    block = regenerate.BLOCKS[name]
    if not block.compare:
        pytest.skip(f"{name} is regenerated, never compared (it is a timing)")
    if block.slow and not os.environ.get("ALVH_DOCS_SLOW"):
        pytest.skip(f"{name} is slow: compared with ALVH_DOCS_SLOW=1")
    if not block.ready():
        pytest.skip(f"{name} is built from {block.needs.name}, not built here")
    assert block.render() == PRESENT[name], f"README is stale: python docs/regenerate.py {name}"


def test_every_generator_has_its_block_in_the_readme():
    assert set(regenerate.BLOCKS) == set(PRESENT)


def test_a_block_whose_file_is_missing_is_left_as_it_is(monkeypatch, tmp_path):
    blocks = {
        "a": regenerate.Block(lambda: "new a\n", needs=tmp_path / "absent.csv"),
        "b": regenerate.Block(lambda: "new b\n", needs=tmp_path / "here.csv"),
    }
    (tmp_path / "here.csv").write_text("x")
    monkeypatch.setattr(regenerate, "BLOCKS", blocks)
    text = (
        "<!-- generated: a -->\nold a\n<!-- /generated: a -->\n"
        "<!-- generated: b -->\nold b\n<!-- /generated: b -->\n"
    )
    assert regenerate.rewrite(text) == text.replace("old b", "new b")


def test_rewrite_touches_only_the_blocks_named(monkeypatch):
    blocks = {
        "a": regenerate.Block(lambda: "new a\n"),
        "b": regenerate.Block(lambda: "new b\n"),
    }
    monkeypatch.setattr(regenerate, "BLOCKS", blocks)
    text = (
        "intro\n<!-- generated: a -->\nold a\n<!-- /generated: a -->\nmiddle\n"
        "<!-- generated: b -->\nold b\n<!-- /generated: b -->\nend\n"
    )
    assert regenerate.rewrite(text, ["b"]) == text.replace("old b", "new b")
    assert regenerate.rewrite(text) == text.replace("old a", "new a").replace("old b", "new b")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("<!-- generated: zz -->\nx\n<!-- /generated: zz -->\n", "no generator for ['zz']"),
        ("<!-- generated: rules -->\nx\n", "no closing marker for ['rules']"),
        (
            "<!-- generated: rules -->\n<!-- /generated: rules -->\n" * 2,
            "block 'rules' appears twice",
        ),
    ],
)
def test_markers_that_do_not_pair_with_a_generator_are_errors(text, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        regenerate.blocks_in(text)
