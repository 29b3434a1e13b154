"""Rules: one default per threshold, overrides with provenance, bad keys refused."""

from __future__ import annotations

import pytest

from alvh_cli.errors import InputError
from alvh_cli.model.rules import DEFAULTS, Rules, effective_table, resolve


def test_defaults_are_the_design_values():
    r = Rules()
    # DESIGN §4 and the engine issue's list
    assert (r.layer1_multiple, r.layer2_multiple, r.layer3_multiple) == (1.5, 2.0, 3.0)
    assert (r.layer3_short_delta, r.layer1_elevated_multiple, r.layer1_budget_share) == (
        0.5,
        1.2,
        0.5,
    )
    assert (r.scenario_horizon_days, r.cvar_level, r.hedge_take_profit) == (5, 0.05, 2.0)
    assert (r.hedge_budget, r.profit_take, r.elevated_scale) == (0.35, 0.5, 0.85)
    assert (r.vix_beta, r.vix_term_kappa) == (-4.9, 5.0)
    assert r.stress_spx_move is None
    assert {k: getattr(r, k) for k in DEFAULTS} == {k: d.default for k, d in DEFAULTS.items()}


def test_thresholds_scale_when_elevated():
    assert Rules().thresholds(False) == (1.5, 2.0, 3.0)
    assert Rules().thresholds(True) == pytest.approx((1.275, 1.7, 2.55))


def test_profit_take_hit_is_the_mark_at_or_under_one_less_the_share():
    # profit_take 0.5: "take profit at 50% of the credit" is a debit to close of half the
    # credit, mark 0.5x; 0 turns it off, even at a mark of 0 (the condor worth nothing).
    r = Rules()
    assert r.profit_take_hit(0.5) and r.profit_take_hit(0.0) and not r.profit_take_hit(0.51)
    assert Rules(profit_take=0.7).profit_take_hit(0.3)
    assert not Rules(profit_take=0.7).profit_take_hit(0.31)
    assert not Rules(profit_take=0.0).profit_take_hit(0.0)


def test_later_overrides_win_and_say_where_they_came_from():
    r = resolve(
        ({"layer1_multiple": 1.4, "hedge_budget": 0.3}, "dec.toml"),
        ({"layer1_multiple": 1.6}, "--rules mine.toml"),
    )
    assert r.layer1_multiple == 1.6 and r.source_of("layer1_multiple") == "--rules mine.toml"
    assert r.hedge_budget == 0.3 and r.source_of("hedge_budget") == "dec.toml"
    assert r.source_of("layer2_multiple") == "default"
    rows = {row["key"]: row for row in effective_table(r)}
    assert rows["layer1_multiple"]["default"] == 1.5 and rows["layer1_multiple"]["value"] == 1.6


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            {"layer1_multipel": 1.4},
            "unknown rule 'layer1_multipel' (did you mean 'layer1_multiple'?)",
        ),
        ({"hedge_budget": "0.35"}, "must be a number"),
        ({"hedge_budget": True}, "must be a number"),
        ({"hedge_budget": float("nan")}, "must be a finite number"),
        ({"profit_take": 1.5}, "must be between 0 and 1"),
        ({"rsi_period": 14.5}, "must be a whole number"),
        ({"layer1_multiple": 2.5}, "layer1_multiple (2.5) must not exceed layer2_multiple (2)"),
        ({"vix_beta": 4.9}, "must be between -20 and 0"),
        (
            {"layer1_coverage": 0.25},
            "'layer1_coverage' is no longer used: layer 1 is now sized by the decision rule",
        ),
        (
            {"hedge_min_cvar_per_dollar": 0.25},
            "'hedge_min_cvar_per_dollar' is no longer used: hedges are now sized by the decision "
            "rule",
        ),
        (
            {"layer1_elevated_multiple": 1.6},
            "layer1_elevated_multiple (1.6) must not exceed layer1_multiple (1.5)",
        ),
    ],
)
def test_bad_overrides_name_file_and_key(table, message):
    with pytest.raises(InputError) as err:
        resolve((table, "dec.toml"))
    text = str(err.value)
    assert text.startswith("dec.toml: rules.") and message in text


def test_a_file_setting_the_hedge_hurdle_is_refused_naming_risk_aversion(tmp_path, alvh):
    """hedge_min_cvar_per_dollar (the old hedge program's hurdle per dollar) is retired: the
    hedge program follows the decision rule, so a rules file that sets it is refused, exit
    2, with the key and what replaced it."""
    rules = tmp_path / "r.toml"
    rules.write_text("[rules]\nhedge_min_cvar_per_dollar = 0.25\n")
    code, out, err = alvh(["rules", "--rules", rules])
    assert (code, out) == (2, "")
    assert f"{rules}: rules.hedge_min_cvar_per_dollar: 'hedge_min_cvar_per_dollar' is no " in err
    assert "see risk_aversion" in err
    assert "hedge_min_cvar_per_dollar" not in DEFAULTS


def test_rules_class_is_generated_from_the_table():
    # one source for each default: the dataclass fields are the table's keys, in order
    from dataclasses import fields

    assert [f.name for f in fields(Rules) if f.name != "origin"] == list(DEFAULTS)
    assert Rules().hedge_max_width == 10 and isinstance(Rules().hedge_max_width, int)
