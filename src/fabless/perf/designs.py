"""A batch of systolic designs as numpy arrays, one entry per design, for the batched evaluator.

`SystolicDesigns` holds every chip number the analytical model reads for a systolic chip
(and each design's calibrated `Efficiency`), so `batched.py` can price one graph over all
designs at once. Numbers the model does not read (SRAM capacity, HBM stacks, dies, area,
power) are not held: they change no estimate.
"""

from collections.abc import Sequence
from dataclasses import dataclass, fields
from functools import cached_property

import numpy as np

from fabless.chip.spec import MATRIX_DTYPES, ChipSpec
from fabless.errors import FablessError
from fabless.perf.calibration import Efficiency, efficiency_for
from fabless.perf.memory import HBM_USABLE_FRACTION

Array = np.ndarray
EFFICIENCY_FIELDS = tuple(f.name for f in fields(Efficiency))


@dataclass(frozen=True, eq=False)
class SystolicDesigns:
    """Systolic chips as arrays of shape (designs,), in SI units. Build it with `from_chips`,
    which validates every design as a `ChipSpec`; the constructor trusts its arrays."""

    names: tuple[str, ...]
    clock_hz: Array
    cores: Array
    mxu_count: Array
    """Matrix units per core."""
    mxu_rows: Array
    mxu_cols: Array
    mxu_ops_per_cycle: dict[str, Array]
    """Per matrix dtype, ops per cycle of one unit; NaN where a design lacks the dtype."""
    weight_buffers: Array
    accumulator_kib: Array
    vector_lanes: Array
    vector_ops_per_cycle: Array
    sram_bytes_per_cycle: Array
    hbm_capacity_bytes: Array
    hbm_bytes_per_s: Array
    link_bytes_per_s: Array
    """All links of one chip, each way."""
    efficiency: dict[str, Array]
    """Per `Efficiency` field, each design's value."""

    @classmethod
    def from_chips(
        cls, chips: Sequence[ChipSpec], efficiencies: Sequence[Efficiency] | None = None
    ) -> "SystolicDesigns":
        """The designs of `chips` with their calibrated (or the given) efficiencies."""
        if not chips:
            raise FablessError("designs: need at least one chip")
        for chip in chips:
            if chip.family != "systolic":
                raise FablessError(
                    f"{chip.name} is a {chip.family} chip: the batched evaluator prices systolic chips only, "
                    "use estimate_serving for it"
                )
        if efficiencies is not None and len(efficiencies) != len(chips):
            raise FablessError(f"efficiencies: need one per chip ({len(chips)}), got {len(efficiencies)}")
        effs = list(efficiencies) if efficiencies is not None else [efficiency_for(chip) for chip in chips]

        def column(values: Sequence[float]) -> Array:
            return np.array(values, dtype=np.float64)

        matrix = [chip.core.matrix for chip in chips]
        return cls(
            names=tuple(chip.name for chip in chips),
            clock_hz=column([chip.clock_hz for chip in chips]),
            cores=column([chip.cores for chip in chips]),
            mxu_count=column([m.count for m in matrix]),
            mxu_rows=column([m.rows for m in matrix]),
            mxu_cols=column([m.cols for m in matrix]),
            mxu_ops_per_cycle={
                dtype: column([m.ops_per_cycle.get(dtype, np.nan) for m in matrix]) for dtype in MATRIX_DTYPES
            },
            weight_buffers=column([m.weight_buffers or 1 for m in matrix]),
            accumulator_kib=column([m.accumulator_kib or 0 for m in matrix]),
            vector_lanes=column([chip.core.vector.lanes for chip in chips]),
            vector_ops_per_cycle=column([chip.core.vector.ops_per_cycle for chip in chips]),
            sram_bytes_per_cycle=column([chip.core.sram.bytes_per_cycle for chip in chips]),
            hbm_capacity_bytes=column([chip.hbm.capacity_bytes for chip in chips]),
            hbm_bytes_per_s=column([chip.hbm.bytes_per_s for chip in chips]),
            link_bytes_per_s=column([chip.links.bytes_per_s_per_direction for chip in chips]),
            efficiency={name: column([getattr(eff, name) for eff in effs]) for name in EFFICIENCY_FIELDS},
        )

    def __len__(self) -> int:
        return len(self.names)

    def take(self, indices: Array) -> "SystolicDesigns":
        """The designs at `indices`, in that order."""
        kwargs: dict[str, object] = {"names": tuple(self.names[i] for i in indices)}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, dict):
                kwargs[f.name] = {key: column[indices] for key, column in value.items()}
            elif isinstance(value, np.ndarray):
                kwargs[f.name] = value[indices]
        return SystolicDesigns(**kwargs)  # type: ignore[arg-type]

    def supports(self, dtype: str) -> Array:
        """Which designs have matrix math for `dtype` (int4 weights run as int8)."""
        return ~np.isnan(self.mxu_ops_per_cycle["int8" if dtype == "int4" else dtype])

    # Derived rates, each in the same operation order as the scalar model (rules.py,
    # systolic.py), so both give the same floats.
    @cached_property
    def matrix_units(self) -> Array:
        return self.cores * self.mxu_count

    @cached_property
    def accumulator_rows(self) -> Array:
        return np.maximum(1.0, np.floor_divide(self.accumulator_kib * 1024, self.mxu_cols * 4))

    @cached_property
    def hbm_effective_bytes_per_s(self) -> Array:
        return self.hbm_bytes_per_s * self.efficiency["hbm"]

    @cached_property
    def sram_port_bytes_per_s(self) -> Array:
        return self.sram_bytes_per_cycle * self.cores * self.clock_hz

    @cached_property
    def vector_ops_per_s(self) -> Array:
        return self.vector_ops_per_cycle * self.cores * self.clock_hz * self.efficiency["vector"]

    @cached_property
    def usable_hbm_bytes(self) -> Array:
        return self.hbm_capacity_bytes * HBM_USABLE_FRACTION
