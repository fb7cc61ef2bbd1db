"""The performance model against published GPU measurements: every row, the prediction,
the error, and the median error per chip and kind, with the family defaults and the fit."""

import statistics

from rich.console import Console
from rich.table import Table

from fabless.chip import load_chip
from fabless.perf.calibrate import chips_with_measurements, load_measurements, predict_s
from fabless.perf.calibration import efficiency_for


def main() -> None:
    console = Console(width=160)
    summary = Table(title="Median |error| of the calibrated model")
    for column in ("chip", "kind", "rows", "median |error|", "max |error|"):
        summary.add_column(column, justify="right")
    for name in chips_with_measurements():
        chip = load_chip(name)
        efficiency = efficiency_for(chip)
        table = Table(title=f"{chip.display_name}: measured vs predicted")
        for column in ("kind", "shape", "measured", "predicted", "error"):
            table.add_column(column, justify="left" if column in ("kind", "shape") else "right")
        by_kind: dict[str, list[float]] = {}
        for measurement in load_measurements(name):
            predicted = predict_s(chip, measurement, efficiency)
            error = predicted / measurement.measured_s - 1
            kind = "gemm" if measurement.kind == "gemm" else "whole model"
            by_kind.setdefault(kind, []).append(abs(error))
            table.add_row(
                measurement.kind, measurement.label(), _time(measurement.measured_s), _time(predicted), f"{error:+.1%}"
            )
        console.print(table)
        for kind, values in by_kind.items():
            summary.add_row(name, kind, str(len(values)), f"{statistics.median(values):.1%}", f"{max(values):.1%}")
    console.print(summary)


def _time(seconds: float) -> str:
    return f"{seconds * 1e3:,.3f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:,.1f} us"


if __name__ == "__main__":
    main()
