"""Breakdown charts of a cost or TCO study, written whole or not at all."""

import os
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: never needs a display

import matplotlib.pyplot as plt  # noqa: E402 - after the backend is chosen
from matplotlib.figure import Figure  # noqa: E402

from fabless.errors import FablessError  # noqa: E402
from fabless.ppa.report import CostStudy, TcoStudy  # noqa: E402


def plot_cost(study: CostStudy, path: str | Path) -> None:
    """Three bar charts: die area, unit cost and programme cost, each by part."""
    figure, axes = plt.subplots(1, 3, figsize=(15, 4.8))
    _bars(axes[0], study.area.blocks_mm2(), "mm2", f"{study.chip.name} silicon area by block")
    _bars(axes[1], study.unit.parts_usd(), "USD per chip", f"unit cost at {study.unit.volume:,} chips")
    _bars(axes[2], {k: v / 1e6 for k, v in study.programme.parts_usd().items()}, "USD millions", "programme cost")
    _save(figure, path)


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
    _save(figure, path)


def _bars(axis: plt.Axes, values: dict[str, float], unit: str, title: str) -> None:
    axis.bar(list(values), list(values.values()))
    axis.set_ylabel(unit)
    axis.set_title(title)
    axis.tick_params(axis="x", rotation=45)


def _save(figure: Figure, path: str | Path) -> None:
    """Write to a temporary file beside `path`, then rename, so a failure leaves no partial plot."""
    target = Path(path)
    if not target.parent.is_dir():
        plt.close(figure)
        raise FablessError(f"cannot write plot {target}: folder {target.parent} does not exist")
    figure.tight_layout()
    handle, temp = tempfile.mkstemp(suffix=target.suffix or ".png", dir=target.parent)
    os.close(handle)
    try:
        figure.savefig(temp, format=(target.suffix.lstrip(".") or "png"))
        os.replace(temp, target)
    except (OSError, ValueError) as error:
        Path(temp).unlink(missing_ok=True)
        raise FablessError(f"cannot write plot {target}: {error}") from None
    finally:
        plt.close(figure)
