"""The performance model against measured GPU timings: every row, the prediction, the error,
and the median and p90 |error| per chip and kind, split into rows the fit saw (in sample)
and rows it never saw (chips under [held_out] in data/calibration/efficiency.toml)."""

import statistics

from rich.console import Console
from rich.table import Table

from fabless.chip import load_chip
from fabless.perf.calibrate import chips_with_measurements, held_out, load_measurements, predict_s
from fabless.perf.calibration import efficiency_for


def p90(values: list[float]) -> float:
    """The 90th percentile of |error| (nearest rank)."""
    ordered = sorted(values)
    return ordered[max(0, -(-9 * len(ordered) // 10) - 1)]


def main() -> None:
    console = Console(width=160)
    summary = Table(title="|error| of the calibrated model")
    for column in ("chip", "split", "kind", "rows", "median |error|", "p90 |error|", "max |error|"):
        summary.add_column(column, justify="right")
    held = held_out()
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
            kind = measurement.kind if measurement.kind in ("gemm", "attention") else "whole model"
            if measurement.kind == "gemm" and measurement.source.startswith("Fabless"):
                kind = "gemm (kernel file)"
            by_kind.setdefault(kind, []).append(abs(error))
            table.add_row(
                measurement.kind, measurement.label(), _time(measurement.measured_s), _time(predicted), f"{error:+.1%}"
            )
        console.print(table)
        split = "held out" if name in held else "in sample"
        for kind, values in by_kind.items():
            summary.add_row(
                name, split, kind, str(len(values)), f"{statistics.median(values):.1%}", f"{p90(values):.1%}",
                f"{max(values):.1%}",
            )
    console.print(summary)


def _time(seconds: float) -> str:
    return f"{seconds * 1e3:,.3f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:,.1f} us"


if __name__ == "__main__":
    main()
