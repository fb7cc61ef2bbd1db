"""The chip description: one validated object that every layer reads.

Fields carry their unit in their name, in the units a datasheet uses (GHz, GiB, TB/s);
the `*_per_s`, `*_bytes` and `*_hz` properties give SI values for computation. A GPU is
described in the same terms as a systolic chip: its SMs are cores and its tensor cores
are matrix units, so one performance model reads both.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

MATRIX_DTYPES = ("int8", "fp8", "bf16", "fp32")
"""Compute dtypes of the matrix units; a matmul runs at the rate of its input dtype."""

DTYPE_BYTES: dict[str, float] = {
    "int4": 0.5,
    "int8": 1.0,
    "fp8": 1.0,
    "bf16": 2.0,
    "fp16": 2.0,
    "fp32": 4.0,
}
"""Storage bytes per element of every dtype a tensor may have (int4 only for weights)."""

GIB = 2**30
MIB = 2**20


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MatrixUnit(_Spec):
    """A core's matrix units: systolic arrays (MXUs) or a GPU SM's tensor cores.

    For a GPU, `rows` x `cols` is the output tile a library kernel gives one SM (a CTA
    tile), the granule at which a GEMM is quantised into waves.
    """

    count: int = Field(gt=0, description="matrix units per core")
    rows: int = Field(gt=0, description="PE rows (the contraction dim K on a weight-stationary MXU)")
    cols: int = Field(gt=0, description="PE columns (the output dim N)")
    ops_per_cycle: dict[str, float] = Field(
        description="dense ops per cycle per unit, a multiply-accumulate counted as 2"
    )
    weight_buffers: int | None = Field(
        default=None,
        ge=1,
        le=2,
        description="weight tiles a systolic unit holds: with 2 the next tile loads behind the current stream",
    )
    accumulator_kib: float | None = Field(
        default=None, gt=0, description="output SRAM per systolic unit (fp32/int32 words); none on GPUs"
    )

    @model_validator(mode="after")
    def _rates_positive(self) -> "MatrixUnit":
        if not self.ops_per_cycle:
            raise ValueError("ops_per_cycle needs at least one dtype (int8, fp8, bf16, fp32)")
        for dtype, rate in self.ops_per_cycle.items():
            if dtype not in MATRIX_DTYPES:
                raise ValueError(f"ops_per_cycle has unknown dtype {dtype!r}: use {', '.join(MATRIX_DTYPES)}")
            if rate <= 0:
                raise ValueError(f"ops_per_cycle.{dtype} must be > 0 (got {rate}); omit the dtype if unsupported")
        return self


class VectorUnit(_Spec):
    """A core's vector (VPU) or CUDA-core datapath, for elementwise work."""

    lanes: int = Field(gt=0, description="fp32 lanes per core")
    ops_per_cycle: float = Field(gt=0, description="fp32 ops per cycle per core, an FMA counted as 2")


class Sram(_Spec):
    """A core's on-chip scratchpad (TPU VMEM, SM shared memory / L1)."""

    mib: float = Field(gt=0, description="capacity per core in MiB")
    bytes_per_cycle: float = Field(gt=0, description="load/store bandwidth per core per cycle")

    @property
    def capacity_bytes(self) -> int:
        return int(self.mib * MIB)


class Core(_Spec):
    """One independently programmed unit: a TPU TensorCore, a GPU SM, a NeuronCore."""

    matrix: MatrixUnit
    vector: VectorUnit
    sram: Sram


class Hbm(_Spec):
    """Off-chip memory on the package."""

    generation: str = Field(min_length=1, description="e.g. HBM3, HBM3E")
    stacks: int = Field(gt=0)
    capacity_gib: float = Field(gt=0, description="total capacity in GiB")
    bandwidth_tb_s: float = Field(gt=0, description="total peak bandwidth in TB/s (1e12 B/s)")

    @property
    def capacity_bytes(self) -> int:
        return int(self.capacity_gib * GIB)

    @property
    def bytes_per_s(self) -> float:
        return self.bandwidth_tb_s * 1e12


Topology = Literal["switched", "ring", "torus-2d", "torus-3d", "full-mesh"]


class Links(_Spec):
    """Chip-to-chip links of the scale-up domain (NVLink, ICI, Infinity Fabric, NeuronLink)."""

    count: int = Field(ge=0, description="ports per chip")
    gb_s_per_direction: float = Field(ge=0, description="GB/s (1e9 B/s) per link each way")
    topology: Topology
    domain_chips: int = Field(gt=0, description="chips in one scale-up domain (NVLink node, TPU pod slice)")

    @property
    def bytes_per_s_per_direction(self) -> float:
        """Aggregate injection bandwidth of one chip, each way."""
        return self.count * self.gb_s_per_direction * 1e9


class ChipSpec(_Spec):
    """A whole chip: one package of die(s) and HBM, as one description for every layer."""

    name: str = Field(min_length=1, description="registry name, e.g. h100")
    display_name: str = Field(min_length=1)
    vendor: str = Field(min_length=1)
    family: Literal["systolic", "gpu"] = Field(description="which performance-model family times it")
    process_node: str = Field(min_length=1, description="foundry node class, e.g. N3, N4, N5")
    clock_ghz: float = Field(gt=0)
    cores: int = Field(gt=0)
    core: Core
    shared_sram_mib: float = Field(ge=0, description="chip-level SRAM shared by cores (GPU L2, TPU CMEM)")
    hbm: Hbm
    links: Links
    dies: int = Field(gt=0, description="compute dies on the package")
    die_area_mm2: float = Field(gt=0, description="area of one compute die")
    tdp_w: float = Field(gt=0)
    price_usd: float | None = Field(default=None, gt=0, description="purchase price per chip, where public")
    rental_usd_per_hour: float | None = Field(default=None, gt=0, description="cloud price per chip-hour")
    sources: dict[str, str] = Field(description="dotted field path -> source and date of that number")
    notes: str = ""

    @model_validator(mode="after")
    def _systolic_has_accumulator(self) -> "ChipSpec":
        for field in ("accumulator_kib", "weight_buffers"):
            if self.family == "systolic" and getattr(self.core.matrix, field) is None:
                raise ValueError(f"core.matrix.{field} is required for a systolic chip")
        return self

    @property
    def clock_hz(self) -> float:
        return self.clock_ghz * 1e9

    @property
    def matrix_units(self) -> int:
        return self.cores * self.core.matrix.count

    def peak_matrix_ops_per_s(self, dtype: str) -> float:
        """Dense peak matrix throughput for inputs of `dtype` (int4 weights run as int8)."""
        rate = self.core.matrix.ops_per_cycle.get(_compute_dtype(dtype))
        if rate is None:
            supported = ", ".join(self.core.matrix.ops_per_cycle)
            raise ValueError(f"{self.name} has no {dtype} matrix math (supports {supported})")
        return rate * self.matrix_units * self.clock_hz

    def supports(self, dtype: str) -> bool:
        return _compute_dtype(dtype) in self.core.matrix.ops_per_cycle

    @property
    def peak_vector_ops_per_s(self) -> float:
        return self.core.vector.ops_per_cycle * self.cores * self.clock_hz

    @property
    def sram_bytes(self) -> int:
        """All on-chip SRAM: per-core scratchpads plus the shared level."""
        return self.core.sram.capacity_bytes * self.cores + int(self.shared_sram_mib * MIB)


def _compute_dtype(dtype: str) -> str:
    return "int8" if dtype == "int4" else dtype
