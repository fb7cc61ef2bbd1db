"""Breakdown charts of a cost or TCO study, written whole or not at all."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: never needs a display

import matplotlib.pyplot as plt  # noqa: E402 - after the backend is chosen
from matplotlib.figure import Figure  # noqa: E402

from fabless.errors import FablessError  # noqa: E402
from fabless.files import output_file  # noqa: E402
from fabless.ppa.report import CostStudy, TcoStudy  # noqa: E402


def plot_cost(study: CostStudy, path: str | Path) -> None:
    """Three bar charts: die area, unit cost and programme cost, each by part."""
    figure, axes = plt.subplots(1, 3, figsize=(15, 4.8))
    _bars(axes[0], study.area.blocks_mm2(), "mm2", f"{study.chip.name} silicon area by block")
    _bars(axes[1], study.unit.parts_usd(), "USD per chip", f"unit cost at {study.unit.volume:,} chips")
    _bars(axes[2], {k: v / 1e6 for k, v in study.programme.parts_usd().items()}, "USD millions", "programme cost")
    _save(figure, path, "the cost chart")


def plot_tco(study: TcoStudy, path: str | Path) -> None:
    """Stacked $/Mtoken of each option, split into capex, power, hosting and rental."""
    figure, axis = plt.subplots(figsize=(max(6.0, 1.2 * len(study.rows) + 2), 4.8))
    labels = [f"{row.chip}\n{row.option}" for row in study.rows]
    bottom = [0.0] * len(study.rows)
    for part in ("capex_usd", "power_usd", "hosting_usd", "rental_usd"):
        heights = [getattr(row.chip_hour, part) / row.chip_hour.total_usd * row.usd_per_mtoken for row in study.rows]
        axis.bar(labels, heights, bottom=bottom, label=part.removesuffix("_usd"))
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    axis.set_ylabel("USD per million output tokens")
    axis.set_title(f"{study.workload.config.name}, {study.workload.precision.weights} weights, "
                   f"batch {study.workload.batch}")
    axis.legend()
    _save(figure, path, "the TCO chart")


def _bars(axis: plt.Axes, values: dict[str, float], unit: str, title: str) -> None:
    axis.bar(list(values), list(values.values()))
    axis.set_ylabel(unit)
    axis.set_title(title)
    axis.tick_params(axis="x", rotation=45)


def _save(figure: Figure, path: str | Path, what: str) -> None:
    """Write the figure to `path` whole or not at all, in the format its suffix names (PNG without one)."""
    try:
        # The format is passed, not left to savefig: it writes a temporary file whose name ends `.partial`.
        form = Path(path).suffix.lstrip(".").lower() or "png"
        if form not in figure.canvas.get_supported_filetypes():
            raise FablessError(
                f"cannot write {what} to {path}: matplotlib cannot write .{form}; use .png, .svg or .pdf"
            )
        figure.tight_layout()
        with output_file(path, what) as staged:
            figure.savefig(staged, format=form)
    finally:
        plt.close(figure)
