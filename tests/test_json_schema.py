"""The JSON Schema and the loader agree: every file the schema documents loads, and what the
loader refuses in [rules] the schema refuses too."""

from __future__ import annotations

import json

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from alvh_cli.errors import InputError
from alvh_cli.inputs import book
from alvh_cli.inputs.json_schema import EXAMPLES, json_schema
from alvh_cli.inputs.positions import load_market_file
from alvh_cli.model.rules import DEFAULTS, check_overrides
from alvh_cli.toml_text import toml_value


def _schema() -> dict:
    """The schema as ``alvh schema`` prints it: rules closed to their names, with ranges."""
    docs = {k: r.help for k, r in DEFAULTS.items()}
    bounds = {k: (r.low, r.high, r.integer) for k, r in DEFAULTS.items()}
    return json_schema(docs, bounds)


SCHEMA = _schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def _toml(doc: dict) -> str:
    """A TOML document of ``doc``: one inline value per top-level key."""
    return "".join(f"{key} = {toml_value(value)}\n" for key, value in doc.items())


def test_the_printed_schema_is_this_one(alvh):
    code, out, _ = alvh(["schema"])
    assert code == 0
    printed = json.loads(out)
    assert printed["examples"] == SCHEMA["examples"]
    assert printed["properties"]["rules"]["properties"].keys() == DEFAULTS.keys()


def test_the_schema_documents_examples_of_each_kind_of_file():
    kinds = {tuple(sorted(e)) for e in SCHEMA["examples"]}
    assert ("market", "positions", "rules") in kinds  # a file with everything
    assert ("positions",) in kinds  # positions that take --market
    assert ("market",) in kinds  # a --market file


@pytest.mark.parametrize("i", range(len(EXAMPLES)))
def test_every_schema_example_is_valid_and_loads(i, tmp_path):
    example = SCHEMA["examples"][i]
    VALIDATOR.validate(example)
    market = tmp_path / "market.toml"
    market.write_text(_toml(next(e for e in EXAMPLES if set(e) == {"market"})))
    path = tmp_path / f"example{i}.toml"
    path.write_text(_toml(EXAMPLES[i]))
    if "positions" in EXAMPLES[i]:
        given = None if "market" in EXAMPLES[i] else market
        (loaded,) = book.load_book([path], market=given)
        ids = [p.id for p in loaded.file.positions]
        assert ids == [p["id"] for p in example["positions"]]
        legs = [len(p.legs) for p in loaded.file.positions]
        assert legs == [len(p["legs"]) for p in example["positions"]]
        for key, value in EXAMPLES[i].get("rules", {}).items():
            assert getattr(loaded.rules, key) == value
    if "market" in EXAMPLES[i]:
        snapshot = load_market_file(path)
        assert snapshot.spx == EXAMPLES[i]["market"]["spx"]


def test_booleans_in_rules_are_refused_by_both(tmp_path):
    doc = {**EXAMPLES[0], "rules": {"profit_take": False}}
    assert not VALIDATOR.is_valid(json.loads(json.dumps(doc, default=str)))
    path = tmp_path / "bool.toml"
    path.write_text(_toml(doc))
    with pytest.raises(InputError, match=r"rules\.profit_take: must be a number, got false"):
        book.load_book([path])


def _accepted_by_loader(key, value) -> bool:
    try:
        check_overrides({key: value}, "x.toml")
    except InputError:
        return False
    return True


def _valid_in_schema(key, value) -> bool:
    rules = SCHEMA["properties"]["rules"]
    return jsonschema.Draft202012Validator(rules).is_valid({key: value})


@given(
    key=st.sampled_from(sorted(DEFAULTS)),
    value=st.one_of(
        st.booleans(),
        st.integers(-100, 100),
        st.floats(-100, 100, allow_nan=False),
        st.sampled_from([0.0, 0.5, 1.0, 1.5, 2.0, 10.0, 3.0, -4.9, 5.0, 365.0]),
    ),
)
def test_a_rule_value_is_valid_in_the_schema_exactly_when_the_loader_takes_it(key, value):
    """One key at a time: its type, whole-number and range tests. The order of the layer
    multiples across keys (layer 1 <= layer 2 <= layer 3) JSON Schema cannot say; the
    loader checks it (tests/test_rules.py)."""
    assert _valid_in_schema(key, value) == _accepted_by_loader(key, value), (key, value)
