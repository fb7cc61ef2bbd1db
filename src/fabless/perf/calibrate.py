"""Fit a chip's efficiency parameters to measured timings, and report the model's error.

Measurements are CSV files in `fabless/data/calibration/`: `<chip>_gemm.csv` (m, n, k,
dtype and either measured_tflops or time_s), `<chip>_attention.csv` (one fused attention
kernel) and `llm_latency.csv` (whole-model prefill or per-token decode times).
The fit minimises the squared log ratio of predicted to measured time, so a 10% miss weighs
the same on a 10 us GEMV as on a 1 s prefill.
"""

import csv
import math
import statistics
import tomllib
from dataclasses import asdict, dataclass, replace
from importlib import resources
from pathlib import Path

import numpy as np
from scipy.optimize import least_squares

from fabless.chip.spec import ChipSpec
from fabless.graph.ops import Attention
from fabless.model.precision import Precision
from fabless.model.zoo import load_model_config
from fabless.perf.calibration import Efficiency, family_efficiency
from fabless.perf.estimate import estimate_gemm, target_for
from fabless.perf.memory import chips_needed
from fabless.perf.rules import op_time
from fabless.perf.serving import phase_time_s

DATA = resources.files("fabless") / "data" / "calibration"

FITTED = (
    "matmul",
    "matmul_fp8",
    "attention",
    "hbm",
    "kernel_overhead_s",
    "step_overhead_s",
    "sequence_overhead_s",
    "sustained_compute",
    "streamk",
    "gemm_overlap_loss",
    "boost_window_s",
)
"""Parameters the fit moves; the rest keep their family defaults."""
_BOUNDS = {
    "matmul": (0.3, 1.0),
    "matmul_fp8": (0.3, 1.0),
    "attention": (0.3, 0.9),
    "hbm": (0.6, 0.92),
    "kernel_overhead_s": (0.5e-6, 20e-6),
    "step_overhead_s": (0.0, 5e-3),
    # A millisecond per sequence per step would be a slower host than any engine measured.
    "sequence_overhead_s": (0.0, 1e-3),
    "sustained_compute": (0.5, 1.0),
    "streamk": (0.5, 1.0),
    "gemm_overlap_loss": (0.0, 1.0),
    "boost_window_s": (0.0, 5e-3),
}


@dataclass(frozen=True)
class Measurement:
    chip: str
    kind: str
    """gemm, attention (one kernel), prefill or decode (whole-model steps)."""
    shape: tuple[tuple[str, str], ...]
    measured_s: float
    source: str

    def label(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.shape)


def load_measurements(chip_name: str) -> list[Measurement]:
    """Every measurement of `chip_name` in the calibration folder."""
    rows: list[Measurement] = []
    gemm = DATA / f"{chip_name}_gemm.csv"
    if gemm.is_file():
        for row in _read_csv(gemm):
            m, n, k = int(row["m"]), int(row["n"]), int(row["k"])
            if row.get("time_s"):
                seconds = float(row["time_s"])
            else:
                seconds = 2.0 * m * n * k / (float(row["measured_tflops"]) * 1e12)
            shape: tuple[tuple[str, str], ...] = (("m", str(m)), ("n", str(n)), ("k", str(k)), ("dtype", row["dtype"]))
            rows.append(Measurement(chip_name, "gemm", shape, seconds, row.get("source", "")))
    attention = DATA / f"{chip_name}_attention.csv"
    if attention.is_file():
        for row in _read_csv(attention):
            shape = tuple((key, row[key]) for key in _ATTENTION_KEYS)
            rows.append(Measurement(chip_name, "attention", shape, float(row["time_s"]), row.get("source", "")))
    latency = DATA / "llm_latency.csv"
    if latency.is_file():
        for row in _read_csv(latency):
            if row["chip"] != chip_name:
                continue
            shape = tuple(
                (key, row[key])
                for key in ("model", "weights_dtype", "batch", "seq_or_context", "chips")
                if row.get(key)
            )
            rows.append(Measurement(chip_name, row["phase"], shape, float(row["measured_s"]), row.get("source", "")))
    return rows


_ATTENTION_KEYS = ("phase", "batch", "q_len", "kv_len", "heads", "kv_heads", "head_dim", "dtype")


def predict_s(chip: ChipSpec, measurement: Measurement, efficiency: Efficiency | None = None) -> float:
    shape = dict(measurement.shape)
    if measurement.kind == "gemm":
        return estimate_gemm(chip, int(shape["m"]), int(shape["n"]), int(shape["k"]), shape["dtype"], efficiency).time_s
    if measurement.kind == "attention":
        op = Attention(
            name="attention", inputs=("q", "k", "v"), output="o",
            batch=int(shape["batch"]), q_len=int(shape["q_len"]), kv_len=int(shape["kv_len"]),
            heads=int(shape["heads"]), kv_heads=int(shape["kv_heads"]), head_dim=int(shape["head_dim"]),
            causal=shape["phase"] == "prefill", act_dtype=shape["dtype"], kv_dtype=shape["dtype"],
            compute_dtype=shape["dtype"],
        )
        return op_time(target_for(chip, efficiency), op).time_s
    config = load_model_config(shape["model"])
    precision = Precision.from_options(shape["weights_dtype"])
    batch, length = int(shape["batch"]), int(shape["seq_or_context"])
    chips = int(shape.get("chips") or chips_needed(chip, config, precision, batch, length))
    return phase_time_s(chip, config, precision, measurement.kind, batch, length, chips, efficiency)


def errors(chip: ChipSpec, measurements: list[Measurement], efficiency: Efficiency | None = None) -> list[float]:
    """Relative error (predicted / measured - 1) of each measurement."""
    return [predict_s(chip, m, efficiency) / m.measured_s - 1.0 for m in measurements]


def median_abs_error(chip: ChipSpec, measurements: list[Measurement], efficiency: Efficiency | None = None) -> float:
    return statistics.median(abs(e) for e in errors(chip, measurements, efficiency))


def fit(chips: list[ChipSpec], measurements: list[Measurement]) -> Efficiency:
    """Least-squares fit of the FITTED parameters on log(predicted / measured), one set for all `chips`
    (chips that share a compute die), starting from the first chip's family defaults."""
    by_name = {chip.name: chip for chip in chips}
    # Start from the family defaults, not the committed fit, so parameters no measurement
    # informs keep their documented defaults instead of a previous fit's leftovers.
    start = family_efficiency(chips[0].family)
    present = [p for p in FITTED if _informs(p, measurements)]
    x0 = np.array([getattr(start, p) for p in present])
    scale = np.array([_BOUNDS[p][1] for p in present])
    low = np.array([_BOUNDS[p][0] for p in present]) / scale
    high = np.array([_BOUNDS[p][1] for p in present]) / scale

    def residuals(x: np.ndarray) -> np.ndarray:
        eff = replace(start, **dict(zip(present, (x * scale).tolist(), strict=True)))
        return np.array([math.log(predict_s(by_name[m.chip], m, eff) / m.measured_s) for m in measurements])

    # A soft-L1 loss keeps a few rows from old software stacks from dragging the whole fit.
    solution = least_squares(
        residuals, np.clip(x0 / scale, low, high), bounds=(low, high), diff_step=1e-3, loss="soft_l1", f_scale=0.1
    )
    return replace(start, **dict(zip(present, (solution.x * scale).tolist(), strict=True)))


def fitted_toml(chip_names: list[str], efficiency: Efficiency, measurements: list[Measurement]) -> str:
    """[chip.NAME] sections recording the shared fit and what it was fitted to."""
    values = asdict(efficiency)
    files = sorted({_file(m) for m in measurements})
    source = f"scripts/calibrate.py joint fit to {len(measurements)} measurements in {', '.join(files)}"
    sections = []
    for chip_name in chip_names:
        lines = [f"[chip.{chip_name}]"]
        lines += [f"{name} = {values[name]:.6g}" for name in FITTED if _informs(name, measurements)]
        lines.append(f'source = "{source}"')
        sections.append("\n".join(lines) + "\n")
    return "\n".join(sections)


def _file(measurement: Measurement) -> str:
    if measurement.kind in ("gemm", "attention"):
        return f"{measurement.chip}_{measurement.kind}.csv"
    return "llm_latency.csv"


def held_out() -> set[str]:
    """Chips whose measurements check a group's fit and never enter it (efficiency.toml [held_out])."""
    return set(tomllib.loads((DATA / "efficiency.toml").read_text()).get("held_out", {}).get("chips", []))


def calibration_groups() -> list[list[str]]:
    """Measured chips grouped by shared compute die; an ungrouped chip is fitted alone."""
    measured = chips_with_measurements()
    declared = tomllib.loads((DATA / "efficiency.toml").read_text()).get("groups", {})
    groups = [[name for name in members if name in measured] for members in declared.values()]
    grouped = {name for group in groups for name in group}
    return [group for group in groups if group] + [[name] for name in measured if name not in grouped]


def _informs(parameter: str, measurements: list[Measurement]) -> bool:
    """Fit a parameter only if some measurement depends on it."""
    kinds = {m.kind for m in measurements}
    dtypes = {dict(m.shape).get("dtype") or dict(m.shape).get("weights_dtype") for m in measurements}
    if parameter == "matmul_fp8":
        return bool(dtypes & {"fp8", "int8"})
    if parameter == "matmul":
        return bool(dtypes & {"bf16", "fp16", "fp32"})
    if parameter == "attention":
        return "prefill" in kinds or any(dict(m.shape).get("phase") == "prefill" for m in measurements)
    if parameter in ("streamk", "gemm_overlap_loss", "boost_window_s"):
        # Tile choice, overlap and the boost window show only across a sweep of GEMM shapes:
        # many m at one (n, k), from memory-bound to long compute-bound kernels.
        sweeps: dict[tuple[str, ...], set[str]] = {}
        for m in measurements:
            if m.kind == "gemm":
                shape = dict(m.shape)
                sweeps.setdefault((shape["n"], shape["k"], shape["dtype"]), set()).add(shape["m"])
        return any(len(ms) >= 4 for ms in sweeps.values())
    if parameter == "step_overhead_s":
        return bool(kinds - {"gemm"})
    if parameter == "sustained_compute":
        # The power-capped rate shows in compute-bound whole steps (prefills) and in GEMMs that
        # run past the boost window. Decode steps are memory- and overhead-bound (a few tenths of
        # a percent of a TP8 decode step at batch 16).
        return "prefill" in kinds or _informs("boost_window_s", measurements)
    if parameter == "sequence_overhead_s":
        # A per-sequence cost separates from the fixed step cost only across batch sizes.
        return len({dict(m.shape)["batch"] for m in measurements if m.kind != "gemm"}) > 1
    # HBM bandwidth and per-kernel cost show only in memory-bound or short kernels: GEMMs with
    # a thin side price them directly; large square GEMMs leave them undetermined. Decode steps
    # show them too, but one model shard streams the same weights through the same kernels at
    # every batch, a constant that trades freely against the fixed step cost: only steps of
    # shards of different sizes (models, TP degrees, weight dtypes) tell the three apart.
    if any(m.kind == "gemm" and _thin(m) for m in measurements):
        return True
    shards = {
        (shape.get("model"), shape.get("weights_dtype"), shape.get("chips"))
        for shape in (dict(m.shape) for m in measurements if m.kind == "decode")
    }
    return len(shards) > 1


def _thin(measurement: Measurement) -> bool:
    shape = dict(measurement.shape)
    return min(int(shape["m"]), int(shape["n"])) <= 64


def _read_csv(path: Path | resources.abc.Traversable) -> list[dict[str, str]]:
    with path.open() as handle:
        return [row for row in csv.DictReader(line for line in handle if not line.startswith("#"))]


def chips_with_measurements() -> list[str]:
    names = {p.name.removesuffix("_gemm.csv") for p in DATA.iterdir() if p.name.endswith("_gemm.csv")}
    latency = DATA / "llm_latency.csv"
    if latency.is_file():
        names |= {row["chip"] for row in _read_csv(latency)}
    return sorted(names)
