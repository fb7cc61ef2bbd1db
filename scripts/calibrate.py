"""Fit the performance model's efficiency parameters to the measurements in
src/fabless/data/calibration/ and write src/fabless/data/calibration/fitted.toml.

    python scripts/calibrate.py            # fit every measured chip, print errors, write the file
    python scripts/calibrate.py --check    # print errors of the committed fit, write nothing

Chips listed under [held_out] in efficiency.toml take their group's fit but never enter it:
their rows are reported as held out.
"""

import argparse
import os
import tempfile

from fabless.chip import load_chip
from fabless.perf.calibrate import (
    DATA,
    calibration_groups,
    fit,
    fitted_toml,
    held_out,
    load_measurements,
    median_abs_error,
)
from fabless.perf.calibration import efficiency_for


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="report the committed fit's errors only")
    args = parser.parse_args()
    sections = ["# Written by scripts/calibrate.py: efficiency parameters fitted to measurements.\n"]
    held = held_out()
    for group in calibration_groups():
        chips = [load_chip(name) for name in group]
        fitted_chips = [chip for chip in chips if chip.name not in held] or chips
        measurements = [m for chip in fitted_chips for m in load_measurements(chip.name)]
        fitted = None if args.check else fit(fitted_chips, measurements)
        if fitted is not None:
            sections.append(fitted_toml(group, fitted, measurements))
        for chip in chips:
            own = load_measurements(chip.name)
            split = "held out" if chip.name in held else "fitted"
            now = median_abs_error(chip, own, efficiency_for(chip))
            line = f"{chip.name} ({split}): {len(own)} measurements, median |error| {now:.1%}"
            if fitted is not None:
                line += f" -> {median_abs_error(chip, own, fitted):.1%}"
            print(line)
    if args.check:
        return
    target = os.fspath(DATA / "fitted.toml")
    with tempfile.NamedTemporaryFile("w", dir=os.path.dirname(target), delete=False, suffix=".tmp") as handle:
        handle.write("\n".join(sections))
    os.replace(handle.name, target)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
