"""JSON output: indented for a person at a terminal, compact and streamed in a pipe.

The streamed writer must give the same document as encoding the cleaned data at
once (the reference here is json.dumps of clean()), Dollars to cents, NaN as null.
"""

from __future__ import annotations

import io
import json
import math

from alvh_cli.output import common
from alvh_cli.output.common import Dollars, clean, write_json

DATA = {
    "asof": "2026-11-24T15:45:00-05:00",
    "positions": [
        {"id": "a", "pnl": Dollars(1234.5678), "vol": 0.123456789012345, "x": math.nan},
        {"id": "b", "cost": Dollars(10.005), "legs": [1.0, math.inf, None, True]},
    ],
    "one": [{"pnl": Dollars(2.345)}],
    "empty": [],
    "legend": {"cost": "dollars"},
}


def test_compact_stream_is_the_same_document_as_dumping_it_whole():
    fh = io.StringIO()
    write_json(fh, DATA)
    text = fh.getvalue()
    assert text.endswith("}\n") and text.count("\n") == 1  # one line
    assert json.loads(text) == json.loads(json.dumps(clean(DATA)))
    # by hand: Dollars to cents, other floats to 10 significant digits, NaN/inf to null
    first = json.loads(text)["positions"][0]
    assert first == {"id": "a", "pnl": 1234.57, "vol": 0.123456789, "x": None}
    assert json.loads(text)["positions"][1]["legs"] == [1.0, None, None, True]


def test_indented_at_a_terminal(monkeypatch, capsys):
    monkeypatch.setattr(common.sys.stdout, "isatty", lambda: True, raising=False)
    common.emit_json({"a": [1, 2]})
    assert capsys.readouterr().out == '{\n  "a": [\n    1,\n    2\n  ]\n}\n'


def test_compact_in_a_pipe(capsys):
    common.emit_json({"a": [1, 2], "b": {"c": 1.5}})
    assert capsys.readouterr().out == '{"a":[1,2],"b":{"c":1.5}}\n'


def test_finish_applies_after_clean():
    fh = io.StringIO()
    write_json(fh, {"rows": [{"v": 1.0}, {"v": 2.0}]}, finish=lambda v, k: {"wrapped": v})
    assert json.loads(fh.getvalue()) == {"rows": [{"wrapped": {"v": 1.0}}, {"wrapped": {"v": 2.0}}]}


def test_price_book_lazy_legs_are_the_eager_ones(capsys):
    # the JSON of alvh price streams its legs from an iterator: same rows, same document
    from builders import condor, loaded, market, vix_spread

    from alvh_cli.model.valuation import value_book
    from alvh_cli.output.common import emit_json
    from alvh_cli.output.price import emit_price, in_dollars
    from alvh_cli.output.records import price_json

    book = value_book([loaded(condor(hedges=vix_spread(22, 27, 5, 1.0, 0.4)), market(spx=5790.0))])
    eager = price_json(book)
    lazy = price_json(book, lazy=True)
    assert iter(lazy["legs"]) is lazy["legs"]  # an iterator, not a list
    assert list(lazy["legs"]) == eager["legs"] and len(eager["legs"]) == 6
    emit_price(book, "json")  # streams the legs
    streamed = json.loads(capsys.readouterr().out)
    emit_json({**in_dollars(price_json(book)), "marks": [], "warnings": [], "errors": []})
    assert streamed == json.loads(capsys.readouterr().out)


def test_clean_of_every_kind_of_value_by_hand():
    import numpy as np

    class Ordered(dict):
        pass

    value = {
        "money": [Dollars(2.675), Dollars(-0.004), Dollars(math.nan), Dollars(-math.inf)],
        "floats": [1 / 3, -0.0, 1e-300, 123456789012.5, math.inf, -math.inf, math.nan],
        "plain": ["x", 3, True, None],
        "numpy": [np.float64(1 / 3), np.int64(7), np.float32(0.5), np.bool_(True)],
        "tuple": (Dollars(1.005), 2.5),
        "subclass": Ordered(a=Dollars(9.999)),
        "nested": {"deeper": [{"v": 0.1 + 0.2}]},
    }
    # round(2.675, 2) is 2.67 (the double below 2.675); 10 significant digits of 1/3 are
    # 0.3333333333; 123456789012.5 keeps 10 of them: 123456789000.0
    assert clean(value) == {
        "money": [2.67, -0.0, None, None],
        "floats": [0.3333333333, -0.0, 1e-300, 123456789000.0, None, None, None],
        "plain": ["x", 3, True, None],
        "numpy": [0.3333333333, 7, 0.5, True],
        "tuple": [1.0, 2.5],
        "subclass": {"a": 10.0},
        "nested": {"deeper": [{"v": 0.3}]},
    }
    assert [type(v) for v in clean(value)["money"][:2]] == [float, float]  # not Dollars
    assert type(clean(value)["numpy"][1]) is int and clean(value)["numpy"][3] is True
    assert clean(Dollars(1.005)) == 1.0 and clean(0.1 + 0.2) == 0.3 and clean(math.nan) is None
