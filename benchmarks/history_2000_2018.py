"""Build the history of the README's 2000–2018 backtest: daily S&P 500 and VIX closes from
1999-01-04 to 2018-12-31, one ``date,spx,vix`` file (1999 is the warm-up: the first condor
opens on 2000-01-03 with the 250 closes before it as its scenario set).

Where each series comes from:

* S&P 500 closes: the ``arch`` package's dataset ``arch.data.sp500`` (Kevin Sheppard,
  https://github.com/bashtage/arch, NCSA licence; daily ^GSPC from Yahoo Finance, 1999-01-04
  to 2018-12-31), its Close column rounded to cents. Not shipped here: install arch
  (``pip install arch``), or unpack its wheel (``pip download arch --no-deps``, unzip) and
  give ``--arch DIR``. The file is read from arch's folder, so arch itself is not imported.
* VIX closes: ``benchmarks/data/vix_1999_2018.csv``, shipped — Cboe's VIX_History.csv as the
  datasets/finance-vix data package keeps it (ODC-PDDL-1.0; its header says which commit).

Joined on date, a date missing from either dropped: 1999-12-31 (no Cboe close) and
2004-06-11 (no S&P close: the exchanges were shut). The script checks the 2014–2018 rows
against the closes that ship with alvh (the same arch dataset and Cboe's closes) and prints
what it did. Then:

    python benchmarks/history_2000_2018.py [-o FILE] [--arch DIR]
    python -m alvh_cli backtest --history FILE --start 2000-01-03 --fractional

and ``python docs/regenerate.py`` rewrites the README's 2000–2018 figures from the file at
the default place, as it does the embedded data's.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import importlib.util
import sys
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from alvh_cli.inputs.history import embedded_frame, read_history  # noqa: E402

VIX_FILE = ROOT / "benchmarks" / "data" / "vix_1999_2018.csv"
OUTPUT = ROOT / "benchmarks" / "data" / "spx_vix_1999_2018.csv"  # not in git: arch's data
FIRST, LAST = date(1999, 1, 4), date(2018, 12, 31)
SP500 = Path("data") / "sp500" / "sp500.csv.gz"  # inside the arch package


def arch_folder(given: Path | None) -> Path | None:
    """The arch package's folder: ``given`` (an unpacked wheel, or its ``arch`` folder), else
    the installed package's."""
    if given is not None:
        return given / "arch" if (given / "arch" / SP500).is_file() else given
    spec = importlib.util.find_spec("arch")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def arch_version(folder: Path) -> str:
    for meta in sorted(folder.parent.glob("arch-*.dist-info")):
        return meta.name.removeprefix("arch-").removesuffix(".dist-info")
    return "version unknown"


def spx_closes(folder: Path) -> dict[date, float]:
    """arch's S&P 500 Close by date (M/D/YYYY in the file), rounded to cents."""
    with gzip.open(folder / SP500, "rt", newline="") as fh:
        return {
            datetime.strptime(row["Date"], "%m/%d/%Y").date(): round(float(row["Close"]), 2)
            for row in csv.DictReader(fh)
        }


def vix_closes() -> dict[date, float]:
    with VIX_FILE.open(newline="") as fh:
        rows = csv.DictReader(line for line in fh if not line.startswith("#"))
        return {date.fromisoformat(row["date"]): float(row["vix"]) for row in rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=OUTPUT)
    parser.add_argument("--arch", type=Path, help="an unpacked arch wheel (default: installed)")
    args = parser.parse_args()
    folder = arch_folder(args.arch)
    if folder is None or not (folder / SP500).is_file():
        print(
            "arch's S&P 500 data not found: pip install arch (or pip download arch --no-deps, "
            "unzip the wheel and give --arch DIR)",
            file=sys.stderr,
        )
        return 2
    spx, vix = spx_closes(folder), vix_closes()
    days = sorted(d for d in spx.keys() & vix.keys() if FIRST <= d <= LAST)
    only_spx = sorted(d for d in spx.keys() - vix.keys() if FIRST <= d <= LAST)
    only_vix = sorted(d for d in vix.keys() - spx.keys() if FIRST <= d <= LAST)
    source = (
        f"# source: S&P 500 daily Close from arch {arch_version(folder)} (Kevin Sheppard, "
        "https://github.com/bashtage/arch, NCSA licence) dataset arch.data.sp500 (Yahoo "
        "Finance ^GSPC), rounded to cents; VIX daily close from benchmarks/data/"
        f"vix_1999_2018.csv (Cboe VIX_History.csv via datasets/finance-vix, ODC-PDDL-1.0); "
        f"joined on date, {days[0]} to {days[-1]}, dates missing either dropped; built by "
        "benchmarks/history_2000_2018.py\n"
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", newline="") as fh:
        fh.write(source)
        fh.write("date,spx,vix\n")
        for d in days:
            fh.write(f"{d.isoformat()},{spx[d]:.2f},{vix[d]:g}\n")
    print(f"S&P 500: arch {arch_version(folder)}, {folder / SP500} ({len(spx):,} closes)")
    print(f"VIX:     {VIX_FILE.relative_to(ROOT)} ({len(vix):,} closes)")
    dropped = [str(d) for d in only_spx], [str(d) for d in only_vix]
    print(f"dropped: S&P 500 only {dropped[0]}, VIX only {dropped[1]}")
    built = read_history([args.output])
    embedded = embedded_frame()
    part = built.loc[embedded.index[0] : embedded.index[-1]]
    same = part.index.equals(embedded.index) and (part[["spx", "vix"]] == embedded).all().all()
    print(
        f"wrote {args.output}: {len(built):,} closes {days[0]} to {days[-1]}; its 2014-2018 "
        f"rows {'equal' if same else 'DIFFER FROM'} the embedded closes"
    )
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
