"""Fit the performance model's efficiency parameters to the measurements in
src/fabless/data/calibration/ and write src/fabless/data/calibration/fitted.toml.

    python scripts/calibrate.py            # fit every measured chip, print errors, write the file
    python scripts/calibrate.py --check    # print errors of the committed fit, write nothing
"""

import argparse
import os
import tempfile

from fabless.chip import load_chip
from fabless.perf.calibrate import DATA, calibration_groups, fit, fitted_toml, load_measurements, median_abs_error
from fabless.perf.calibration import efficiency_for


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="report the committed fit's errors only")
    args = parser.parse_args()
    sections = ["# Written by scripts/calibrate.py: efficiency parameters fitted to measurements.\n"]
    for group in calibration_groups():
        chips = [load_chip(name) for name in group]
        measurements = [m for name in group for m in load_measurements(name)]
        if args.check:
            for chip in chips:
                own = [m for m in measurements if m.chip == chip.name]
                print(f"{chip.name}: {len(own)} measurements, median |error| {median_abs_error(chip, own):.1%}")
            continue
        fitted = fit(chips, measurements)
        sections.append(fitted_toml(group, fitted, measurements))
        for chip in chips:
            own = [m for m in measurements if m.chip == chip.name]
            before = median_abs_error(chip, own, efficiency_for(chip))
            after = median_abs_error(chip, own, fitted)
            print(f"{chip.name}: {len(own)} measurements, median |error| {before:.1%} -> {after:.1%}")
    if args.check:
        return
    target = os.fspath(DATA / "fitted.toml")
    with tempfile.NamedTemporaryFile("w", dir=os.path.dirname(target), delete=False, suffix=".tmp") as handle:
        handle.write("\n".join(sections))
    os.replace(handle.name, target)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
