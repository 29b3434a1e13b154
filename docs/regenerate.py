"""Regenerate the README's numbers from the commands that print them.

Every block of README.md between

    <!-- generated: NAME -->
    ...
    <!-- /generated: NAME -->

is the output of the generator ``BLOCKS[NAME]``: it runs alvh commands (in
process, at a fixed terminal width) and returns the block's text. Usage, from the
repository's root:

    python docs/regenerate.py            # rewrite every block of README.md
    python docs/regenerate.py NAME ...   # only these blocks
    python docs/regenerate.py --check    # list the blocks that differ; exit 1 if any

tests/test_docs.py runs the same generators and compares, so a README that drifts
from the tool fails the suite. A generator marked ``slow`` (a full backtest) is
compared only with ALVH_DOCS_SLOW=1; one marked ``compare=False`` (a timing) is
regenerated but never compared. To add a block, register a generator here and put
its markers in README.md; a marker without a generator is an error.
"""

from __future__ import annotations

import functools
import json
import re
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
MARKER = re.compile(
    r"(?P<open><!-- generated: (?P<name>[\w.-]+) -->\n)(?P<body>.*?)(?P<close><!-- /generated: "
    r"(?P=name) -->)",
    re.DOTALL,
)


@dataclass(frozen=True)
class Block:
    """A generator: ``render()`` gives the block's text (ending in a newline)."""

    render: Callable[[], str]
    slow: bool = False  # compared by the test only with ALVH_DOCS_SLOW=1
    compare: bool = True  # False: regenerated, never compared (timings)
    needs: Path | None = None  # a file not in git the block is built from: left as it is
    # (and not compared) until that file exists

    def ready(self) -> bool:
        return self.needs is None or self.needs.is_file()


# ------------------------------------------------------------------------ running alvh


def alvh(args: Sequence[str], columns: int = 100) -> str:
    """stdout of ``alvh ARGS`` run in process from the repository's root, ``COLUMNS`` set
    (so rich lays tables out as for a terminal that wide). Exit status 0 or 1 only."""
    import os

    sys.path.insert(0, str(ROOT))
    from typer.testing import CliRunner

    from alvh_cli import cli

    here = Path.cwd()
    os.chdir(ROOT)
    try:
        result = CliRunner().invoke(cli.app, list(args), env={"COLUMNS": str(columns)})
    finally:
        os.chdir(here)
    if result.exit_code not in (0, 1):
        raise RuntimeError(f"alvh {' '.join(args)} exited {result.exit_code}: {result.stderr}")
    return result.stdout


def session(args: Sequence[str], columns: int = 100) -> str:
    """A fenced block: the command line as typed, then what it printed."""
    out = "\n".join(line.rstrip() for line in alvh(args, columns).rstrip("\n").splitlines())
    return f"```\n$ alvh {' '.join(args)}\n{out}\n```\n"


def alvh_json(args: Sequence[str]) -> dict:
    return json.loads(alvh([*args, "--format", "json"]))


# ------------------------------------------------------------------------ the blocks

WORKED = "sample_positions/put_tested_1_6x.toml"


def _money(x: float) -> str:
    """Whole dollars with a real minus sign: −$12,512."""
    return f"{'−' if x < 0 else ''}${abs(x):,.0f}"


def worked_reading() -> str:
    """The paragraph that reads the worked example's size-hedge, from its JSON."""
    (p,) = alvh_json(["size-hedge", WORKED])["positions"]
    plan, fig = p["hedge_plan"], p["figures"]
    rungs = {r["rung"]: r for r in p["ladder"]}
    crash, deep = rungs["SPX -10%"], rungs["SPX -20%"]
    stress = rungs[p["stress_rung"]["label"]]
    windows = re.search(r"([\d,]+) windows", p["scenarios"]).group(1)
    chosen = " and ".join(f"{c['count']} × {_hedge_name(c)}" for c in plan["chosen"])
    ev_words = "about nil" if abs(fig["ev"]) < 50 else _money(fig["ev"])
    share = plan["spend_limit"] / plan["budget"] if plan["budget"] else 0.0
    opening = (
        f"Reading it: over {windows} five-day windows the position as held has an EV of "
        f"{ev_words} and a 5% CVaR of {_money(fig['cvar'])}; the crash rungs show why — "
        f"{_money(crash['pnl'])} at −10 % (VIX {crash['vix']:.2f}) and {_money(deep['pnl'])} "
        f"at −20 %. Layer 1 may spend {share:.0%} of the {_money(plan['budget'])} budget. "
        f"The integer program, exact over all {plan['candidates_priced']} candidates (VIX "
        f"call spreads, calls alone and VIX futures), maximises {plan['objective']} of the "
        "position with the hedges — the decision rule that weighs holding and the Layer 3 "
        "alternatives too — "
    )
    if not plan["chosen"]:
        best = plan["candidates"][0] if plan["candidates"] else None
        text = opening + (
            "and buys nothing: no count of any candidate raises it. With risk_aversion "
            f"γ = {_gamma():g} a dollar less of tail loss is worth {_gamma():g} of EV, and "
            "what each hedge gives up in EV (its premium over its expected payoff, and the "
            "half-spreads) outweighs that"
        )
        if best is not None:
            m = best["objective_change_per_dollar"]
            text += (
                f"; the best at the margin, {_hedge_name(best)}, changes the objective by "
                f"{'−' if m < 0 else '+'}${abs(m):.2f} per dollar"
            )
        text += (
            ". The table ranks the candidates by what one more contract would add. A larger "
            "γ, or a cvar_limit that holding misses, buys hedges."
        )
        return textwrap.fill(text, 78, break_on_hyphens=False) + "\n"
    spot_move = p["stress_rung"]["spx"] / _spot(WORKED) - 1.0
    moved = f"{'−' if spot_move < 0 else '+'}{abs(spot_move):.1%}"
    premium = _money(plan["ev_before"] - plan["ev_after"])
    stress_words = "lose a little" if stress["pnl_hedged"] < stress["pnl"] else "gain a little"
    text = opening + (
        f"and buys {chosen} for {_money(plan['spend'])}. The table ranks the candidates by "
        "their part in that choice: what each count adds to the EV and to the CVaR, and the "
        "change of the objective per dollar of the last contract bought (positive, else it "
        f"would not be bought) or of one more. CVaR improves to {_money(plan['cvar_after'])}, "
        f"the −10 % rung goes to {_money(crash['pnl_hedged'])} and the −20 % rung to "
        f"{_money(deep['pnl_hedged'])}, and the price is the EV, which falls by {premium} over "
        "the five days: the insurance premium. At the old stress point — SPX only to the "
        f"short put, {moved} — the hedges {stress_words}: they pay in the larger moves, which "
        "the single stress point never looked at."
    )
    return textwrap.fill(text, 78, break_on_hyphens=False) + "\n"


def cron_mail() -> str:
    """The first lines of the README cron script's mail on the samples (the fields its jq
    program reads, in Python; tests/test_orders.py runs the jq itself where installed)."""
    data = alvh_json(["review", "sample_positions", "--no-journal"])
    mail = []
    for rec in data["recommendations"]:
        if rec["action"] != "hold" or rec["attention"]:
            mark = " !" if rec["attention"] else ""
            mail.append(f"{rec['id']}  {rec['action']}{mark}  {rec['reason']}")
            mail += [f"    {o['underlying']}: {o['ticket']}" for o in rec["orders"]]
    return "```\n" + "\n".join(mail[:4]) + "\n```\n"


def _hedge_name(c: dict) -> str:
    """A hedge record as size-hedge names it: "26/35 C 2026-12-16", "22 C 2026-12-16",
    "VXM future 2027-01-20"."""
    if c["instrument"] == "vix_future":
        return f"{'VXM' if c['root'] == 'VXM' else 'VX'} future {c['expiry']}"
    if c["instrument"] == "vix_call":
        return f"{c['long_strike']:g} C {c['expiry']}"
    return f"{c['long_strike']:g}/{c['short_strike']:g} C {c['expiry']}"


def _gamma() -> float:
    """The default risk_aversion γ, dollars of EV per dollar of CVaR."""
    from alvh_cli.model.rules import DEFAULTS

    return DEFAULTS["risk_aversion"].default


def _spot(sample: str) -> float:
    """SPX in a sample file's [market]."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    return float(tomllib.loads((ROOT / sample).read_text(encoding="utf-8"))["market"]["spx"])


def rules_table() -> str:
    """Every rule, its default and meaning, from ``alvh rules --format json``."""
    rows = alvh_json(["rules"])
    lines = ["| rule | default | meaning |", "|---|---:|---|"]
    for key, r in rows.items():
        default = "unset" if r["default"] is None else f"{r['default']:g}"
        meaning = r["help"].replace("|", "\\|")
        lines.append(f"| `{key}` | {default} | {meaning} |")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------ the backtest

BACKTEST = ["backtest", "--fractional", "--sensitivity", "model"]
GAMMA_SWEEP = ["--sweep", "risk_aversion=0,0.02,0.05,0.1,0.2"]
WALK_POLICIES = ["--policies", "hold,stop2x,stop3x,alvh"]
WALK_FORWARD = [
    "backtest", *WALK_POLICIES, *GAMMA_SWEEP, "--walk-forward",
    "--objective", "alvh.total_pnl@stop2x",
]  # fmt: skip
FRONTIER = ["backtest", "--frontier", *WALK_POLICIES]


@functools.cache
def backtest_json() -> dict:
    """``alvh backtest --fractional --sensitivity model --format json``, run once."""
    return alvh_json(BACKTEST)


def _m(x) -> str:
    return "n/a" if x is None else f"{x:,.0f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|---" + "|---:" * (len(header) - 1) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def backtest_table() -> str:
    """The per-policy figures of the default run and its cost-sensitivity row."""
    data = backtest_json()
    s = data["policies"]
    ps = list(s)
    rows = [
        ("win rate", lambda v: f"{v['win_rate']:.1%}"),
        ("mean P&L / trade", lambda v: _m(v["mean_pnl"])),
        ("total P&L", lambda v: _m(v["total_pnl"])),
        ("mean return on risk / trade", lambda v: f"{v['return_on_risk']:.1%}"),
        ("P&L per day held", lambda v: f"{v['pnl_per_day_held']:,.2f}"),
        ("max drawdown (daily equity)", lambda v: _m(v["max_drawdown"])),
        ("worst trade", lambda v: _m(v["worst_trade"])),
        ("5% CVaR / trade", lambda v: _m(v["cvar_5"])),
        ("exits: stop or close / profit take / expiry",
         lambda v: f"{v['exits']['stop']} / {v['exits']['profit_take']} / {v['exits']['expiry']}"),
        ("fees", lambda v: _m(v["fees"])),
        ("half-spreads paid", lambda v: _m(v["spread_cost"])),
        ("trades that reached 2x", lambda v: str(v["adjusted_trades"])),
        ("their total P&L", lambda v: _m(v["adjusted_pnl"])),
    ]  # fmt: skip
    body = [[label, *(f(s[p]) for p in ps)] for label, f in rows]
    for m, totals in data["cost_sensitivity"].items():
        if m != "1":
            body.append([f"total P&L, half-spreads x{m}", *(_m(totals.get(p)) for p in ps)])
    return _table(["per policy, $", *ps], body)


def backtest_attribution() -> str:
    data = backtest_json()
    ps = list(data["policies"])
    lines = (
        ("condor, put side", "condor_put"), ("condor, call side", "condor_call"),
        ("VIX layers (put side)", "vix"), ("conversions (put side)", "synthetic_put"),
        ("reversals (call side)", "synthetic_call"), ("rolled put verticals", "roll_put"),
        ("rolled call verticals", "roll_call"),
    )  # fmt: skip
    body = [[label, *(_m(data["policies"][p]["attribution"][c]) for p in ps)] for label, c in lines]
    return _table(["$", *ps], body)


def backtest_episodes() -> str:
    data = backtest_json()
    ps = list(data["policies"])
    body = [
        [
            f"{e['name']} ({e['start'][5:]} to {e['end'][5:]})",
            f"{e['spx_change']:+.1%}",
            f"{e['vix_high']:.1f}",
            *(_m(e["pnl"][p]) for p in ps),
            _m(e["vix_layers_pnl"]["alvh"]),
        ]
        for e in data["episodes"]
    ]
    return _table(["window", "SPX", "VIX high", *ps, "alvh's VIX layers"], body)


def backtest_intervals() -> str:
    return _intervals(backtest_json()["bootstrap"])


def _intervals(b: dict) -> str:
    body = []
    for part in ("series", "contrasts"):
        for name, ivs in b[part].items():
            body.append(
                [name.replace(" - ", " − ")]
                + [
                    f"{_m(ivs[s]['estimate'])} [{_m(ivs[s]['low'])}, {_m(ivs[s]['high'])}]"
                    for s in ("total", "cvar", "max_drawdown")
                ]
            )
    head = f"95% intervals ({b['resamples']:,} resamples, blocks of {b['block_length']})"
    return _table([head, "total P&L", "5% CVaR / trade", "max drawdown by trade"], body)


def backtest_sensitivity() -> str:
    rows = backtest_json()["model_sensitivity"]
    keys = ["hold_total", "alvh_total", "alvh-hold", "alvh-stop3x", "hold_max_drawdown",
            "alvh_max_drawdown", "hold_cvar_5", "alvh_cvar_5"]  # fmt: skip
    body = [[r["variant"], *(_m(r[k]) for k in keys)] for r in rows]
    names = ["hold total", "alvh total", "alvh − hold", "alvh − stop3x", "hold max DD",
             "alvh max DD", "hold CVaR", "alvh CVaR"]  # fmt: skip
    return _table(["varied", *names], body)


def backtest_rounding() -> str:
    ten = alvh_json(
        ["backtest", "--fractional", "--entry", "contracts=10", "--sensitivity", "none"]
    )
    one = backtest_json()["policies"]
    body = [
        [
            p,
            _m(one[p]["pnl_per_unit"]),
            _m(s["pnl_per_unit"]),
            _m(one[p]["max_drawdown"]),
            _m(s["max_drawdown"] / 10),
        ]
        for p, s in ten["policies"].items()
    ]
    return _table(
        ["per condor unit, $", "total, 1 contract", "total, 10 contracts",
         "max drawdown, 1", "max drawdown, 10 (per unit)"],
        body,
    )  # fmt: skip


def backtest_walk_forward(args: Sequence[str] = WALK_FORWARD) -> str:
    wf = alvh_json(args)
    ps = ("hold", "stop2x", "stop3x", "alvh")
    body = [
        [
            f"{f['test_start']} to {f['test_end']}",
            ", ".join(f"{k}={v}" for k, v in f["chosen"].items()),
            *(_m(f["test_result"][p]["total_pnl"]) for p in ps),
        ]
        for f in wf["folds"]
    ]
    pooled = wf["pooled_test_total_pnl"]
    body.append(["all test windows", "", *(_m(pooled[p]) for p in ps)])
    return _table(["test window", "chosen on the train window", *ps], body)


def frontier_block(args: Sequence[str] = FRONTIER) -> str:
    """The frontier's points with their intervals, then its targets, as ``alvh`` words them."""
    from alvh_cli.output.experiments import target_line

    data = alvh_json(args)

    def iv(x: dict) -> str:
        return f"{_m(x['estimate'])} [{_m(x['low'])}, {_m(x['high'])}]"

    rows = [
        [p["policy"], "" if p["label"] == p["policy"] else p["label"],
         iv(p["total_pnl"]), iv(p["cvar_5"])]
        for p in (*data["baselines"], *data["points"])
    ]  # fmt: skip
    table = _table(["policy", "point", "total P&L", "5% CVaR / trade"], rows)
    return table + "\n" + "".join(f"- {target_line(v)}\n" for v in data["targets"])


# The 2000–2018 history: built by benchmarks/history_2000_2018.py (arch's S&P 500 closes are
# not shipped), 1999 its warm-up year.
LONG_HISTORY = ROOT / "benchmarks" / "data" / "spx_vix_1999_2018.csv"
LONG = [
    "backtest", "--history", str(LONG_HISTORY.relative_to(ROOT)), "--start", "2000-01-03",
    "--fractional", "--sensitivity", "none",
]  # fmt: skip


@functools.cache
def long_json() -> dict:
    """The 2000–2018 run, once."""
    return alvh_json(LONG)


def long_table() -> str:
    """The 2000–2018 run's headline figures and its four deepest SPX drawdowns."""
    data = long_json()
    s = data["policies"]
    ps = list(s)
    rows = [
        ["total P&L", *(_m(s[p]["total_pnl"]) for p in ps)],
        ["max drawdown (daily equity)", *(_m(s[p]["max_drawdown"]) for p in ps)],
        ["5% CVaR / trade", *(_m(s[p]["cvar_5"]) for p in ps)],
        ["worst trade", *(_m(s[p]["worst_trade"]) for p in ps)],
        ["VIX layers", *(_m(s[p]["attribution"]["vix"]) for p in ps)],
    ]
    for e in data["episodes"]:
        where = f"{e['start']} to {e['end']}, SPX {e['spx_change']:+.1%}, VIX {e['vix_high']:.1f}"
        rows.append([f"P&L in {where}", *(_m(e["pnl"][p]) for p in ps)])
    lead = (
        f"`alvh {' '.join(LONG)}`: {data['entries']} condors from {data['first_entry']} "
        f"(closes {data['start']} to {data['end']}).\n\n"
    )
    return lead + _table(["2000–2018, $", *ps], rows)


def long_intervals() -> str:
    return _intervals(long_json()["bootstrap"])


LONG_FILE = ["--history", str(LONG_HISTORY.relative_to(ROOT)), "--start", "2000-01-03"]


BLOCKS: dict[str, Block] = {
    "backtest-table": Block(backtest_table, slow=True),
    "backtest-attribution": Block(backtest_attribution, slow=True),
    "backtest-episodes": Block(backtest_episodes, slow=True),
    "backtest-intervals": Block(backtest_intervals, slow=True),
    "backtest-sensitivity": Block(backtest_sensitivity, slow=True),
    "backtest-rounding": Block(backtest_rounding, slow=True),
    "backtest-walk-forward": Block(backtest_walk_forward, slow=True),
    "backtest-frontier": Block(frontier_block, slow=True),
    "backtest-2000-2018-frontier": Block(
        lambda: frontier_block([*FRONTIER, *LONG_FILE]), slow=True, needs=LONG_HISTORY
    ),
    "backtest-2000-2018-walk-forward": Block(
        lambda: backtest_walk_forward([*WALK_FORWARD, *LONG_FILE]), slow=True, needs=LONG_HISTORY
    ),
    "backtest-2000-2018": Block(long_table, slow=True, needs=LONG_HISTORY),
    "backtest-2000-2018-intervals": Block(long_intervals, slow=True, needs=LONG_HISTORY),
    "worked-check": Block(lambda: session(["check", WORKED], columns=150)),
    "worked-size-hedge": Block(lambda: session(["size-hedge", WORKED], columns=120)),
    "worked-reading": Block(worked_reading),
    "cron-mail": Block(cron_mail),
    "rules": Block(rules_table),
}


# ------------------------------------------------------------------------ rewriting


def blocks_in(text: str) -> dict[str, str]:
    """The generated blocks of ``text``: name → body."""
    found: dict[str, str] = {}
    for m in MARKER.finditer(text):
        if m["name"] in found:
            raise ValueError(f"README.md: block {m['name']!r} appears twice")
        found[m["name"]] = m["body"]
    opened = set(re.findall(r"<!-- generated: ([\w.-]+) -->", text))
    if opened - set(found):
        raise ValueError(f"README.md: no closing marker for {sorted(opened - set(found))}")
    unknown = set(found) - set(BLOCKS)
    if unknown:
        raise ValueError(f"README.md: no generator for {sorted(unknown)} in docs/regenerate.py")
    return found


def rewrite(text: str, names: Sequence[str] | None = None) -> str:
    """``text`` with the blocks ``names`` (default: all) regenerated."""
    blocks_in(text)
    wanted = set(names) if names else None

    def fill(m: re.Match) -> str:
        block = BLOCKS[m["name"]]
        if (wanted is not None and m["name"] not in wanted) or not block.ready():
            return m.group(0)
        return m["open"] + block.render() + m["close"]

    return MARKER.sub(fill, text)


def main(argv: Sequence[str]) -> int:
    check = "--check" in argv
    names = [a for a in argv if not a.startswith("--")]
    text = README.read_text(encoding="utf-8")
    present = blocks_in(text)
    for name in names:
        if name not in present:
            print(f"regenerate: no block {name!r} in README.md", file=sys.stderr)
            return 2
    for n in names or present:
        if not BLOCKS[n].ready():
            print(
                f"regenerate: {n} left as it is: no {BLOCKS[n].needs.relative_to(ROOT)} "
                "(python benchmarks/history_2000_2018.py builds it)",
                file=sys.stderr,
            )
    if check:
        stale = [
            n
            for n in (names or present)
            if BLOCKS[n].compare and BLOCKS[n].ready() and BLOCKS[n].render() != present[n]
        ]
        for n in stale:
            print(f"README.md: block {n!r} differs from what alvh prints", file=sys.stderr)
        return 1 if stale else 0
    new = rewrite(text, names)
    if new != text:
        README.write_text(new, encoding="utf-8")
    print(f"README.md: {len(names or present)} block(s) regenerated")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
