"""Fit the performance model's efficiency parameters to the measurements in
src/fabless/data/calibration/ and write src/fabless/data/calibration/fitted.toml.

    python scripts/calibrate.py            # fit every measured chip, print errors, write the file
    python scripts/calibrate.py --check    # print errors of the committed fit, write nothing
"""

import argparse
import os
import tempfile

from fabless.chip import load_chip
from fabless.perf.calibrate import DATA, chips_with_measurements, fit, fitted_toml, load_measurements, median_abs_error
from fabless.perf.calibration import efficiency_for


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="report the committed fit's errors only")
    args = parser.parse_args()
    sections = ["# Written by scripts/calibrate.py: efficiency parameters fitted to measurements.\n"]
    for name in chips_with_measurements():
        chip = load_chip(name)
        measurements = load_measurements(name)
        default = median_abs_error(chip, measurements, efficiency_for(chip))
        if args.check:
            print(f"{name}: {len(measurements)} measurements, median |error| {default:.1%}")
            continue
        fitted = fit(chip, measurements)
        after = median_abs_error(chip, measurements, fitted)
        print(f"{name}: {len(measurements)} measurements, median |error| {default:.1%} -> {after:.1%}")
        sections.append(fitted_toml(name, fitted, measurements))
    if args.check:
        return
    target = os.fspath(DATA / "fitted.toml")
    with tempfile.NamedTemporaryFile("w", dir=os.path.dirname(target), delete=False, suffix=".tmp") as handle:
        handle.write("\n".join(sections))
    os.replace(handle.name, target)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
