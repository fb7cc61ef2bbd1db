"""Published AI chips: die area and TDP, published against the PPA model's, with the error.

Run: python bench/ppa_published.py [--set KEY=VALUE ...]
Prints one row per chip of src/fabless/data/ppa/validation/published_chips.toml. The bar
(issue 6): die area within +-25% and TDP within +-30% for at least four of the six chips.
"calibration" chips fitted a constant of the data files; "held-out" chips did not.
"""

import argparse

from rich.console import Console
from rich.table import Table

from fabless.ppa import load_ppa_data, validate

AREA_BAR = 0.25
TDP_BAR = 0.30


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", default=[], help="PPA data override, e.g. pue=1.2")
    args = parser.parse_args()
    rows = validate(load_ppa_data(args.set))
    table = Table(title="Published chips against the PPA model")
    for column in ("chip", "role", "node", "area pub mm2", "area model mm2", "area error", "TDP pub W",
                   "TDP model W", "TDP error", "TDP dtype"):
        table.add_column(column, justify="left" if column in ("chip", "role", "node", "TDP dtype") else "right")
    for row in rows:
        chip = row.chip
        published_area = "-" if chip.published_die_area_mm2 is None else f"{chip.published_die_area_mm2:,.0f}"
        area_error = "-" if row.area_error is None else _error(row.area_error, AREA_BAR)
        table.add_row(chip.display_name, chip.role, chip.blocks.node, published_area,
                      f"{row.modelled_die_area_mm2:,.0f}", area_error, f"{chip.published_tdp_w:,.0f}",
                      f"{row.modelled_tdp_w:,.0f}", _error(row.tdp_error, TDP_BAR), row.tdp_dtype)
    console = Console(width=140)
    console.print(table)
    area_ok = sum(1 for row in rows if row.area_error is not None and abs(row.area_error) <= AREA_BAR)
    tdp_ok = sum(1 for row in rows if abs(row.tdp_error) <= TDP_BAR)
    console.print(f"area within {AREA_BAR:.0%}: {area_ok} of {sum(r.area_error is not None for r in rows)} "
                  f"chips with a published area; TDP within {TDP_BAR:.0%}: {tdp_ok} of {len(rows)}")
    for row in rows:
        console.print(f"[bold]{row.chip.key}[/bold]: {' '.join(row.chip.miss.split())}")


def _error(error: float, bar: float) -> str:
    mark = "" if abs(error) <= bar else " (miss)"
    return f"{error:+.0%}{mark}"


if __name__ == "__main__":
    main()
