"""The chip description: one validated object that every layer reads.

Fields carry their unit in their name, in the units a datasheet uses (GHz, GiB, TB/s);
the `*_per_s`, `*_bytes` and `*_hz` properties give SI values for computation. A GPU is
described in the same terms as a systolic chip: its SMs are cores and its tensor cores
are matrix units, so one performance model reads both.
"""

import re
import unicodedata
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

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


_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")
# Characters that would end a line, move the cursor or hide text where a string is printed
# or written into generated files: control (Cc), format (Cf, e.g. bidi overrides) and
# line/paragraph separators.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


def _registry_name(value: str) -> str:
    if not (value and len(value) <= 64 and value[0] not in "._-" and set(value) <= _NAME_CHARS):
        raise ValueError(
            "must be 1-64 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit "
            "(it names files and generated RTL)"
        )
    return value


def _visible(value: str, allowed: str = "") -> str:
    for position, char in enumerate(value):
        if char not in allowed and unicodedata.category(char) in _HIDDEN_CATEGORIES:
            raise ValueError(f"must not hold control characters (U+{ord(char):04X} at character {position})")
    return value


def _multiline(value: str) -> str:
    return _visible(value, allowed="\n\t")


RegistryName = Annotated[str, AfterValidator(_registry_name)]
_NODE_CLASS = re.compile(r"[A-Za-z0-9][A-Za-z0-9+._-]{0,15}")


def _node_class(text: str) -> str:
    # A node class keys the ppa tables and reaches reports and generated files: a short token.
    if not _NODE_CLASS.fullmatch(text):
        raise ValueError("must be a node class such as N3, N4P or 18A: 1-16 letters, digits, '+', '.', '_' or '-'")
    return text


NodeClass = Annotated[str, AfterValidator(_node_class)]
Label = Annotated[str, Field(min_length=1, max_length=128), AfterValidator(_visible)]
"""One line of printable text: a product, vendor, node or memory name."""
SourceText = Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(_visible)]
Notes = Annotated[str, Field(max_length=10_000), AfterValidator(_multiline)]


class _Spec(BaseModel):
    # Strict: a TOML `true` or "3" is a mistake, not a number (an integer still fills a
    # float field); nan and inf are never a measurement.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)


# Upper bounds below are generous (several times past any chip built or announced, a
# wafer-scale part included) yet physical, so a unit slip or a 1e300 fails here and every
# product the models form from these numbers stays finite.
MatrixRate = Annotated[float, Field(le=2**31)]
"""Ops per cycle of one matrix unit: 2^31 is a 16,384 x 16,384 array doing 4 MACs per PE per cycle."""


class MatrixUnit(_Spec):
    """A core's matrix units: systolic arrays (MXUs) or a GPU SM's tensor cores.

    For a GPU, `rows` x `cols` is the output tile a library kernel gives one SM (a CTA
    tile), the granule at which a GEMM is quantised into waves.
    """

    # Cores hold at most a handful of matrix units (4 on H100, 8 on a NeuronCore): 1,024 is
    # a whole chip's worth in one core; 16,384 PEs a side is 64x the largest MXU (256).
    count: int = Field(gt=0, le=1024, description="matrix units per core")
    rows: int = Field(gt=0, le=16_384, description="PE rows (the contraction dim K on a weight-stationary MXU)")
    cols: int = Field(gt=0, le=16_384, description="PE columns (the output dim N)")
    ops_per_cycle: dict[str, MatrixRate] = Field(
        description="dense ops per cycle per unit, a multiply-accumulate counted as 2"
    )
    weight_buffers: int | None = Field(
        default=None,
        ge=1,
        le=2,
        description="weight tiles a systolic unit holds: with 2 the next tile loads behind the current stream",
    )
    # 1 GiB per unit: 500x fab1's 2 MiB accumulator.
    accumulator_kib: float | None = Field(
        default=None, gt=0, le=2**20, description="output SRAM per systolic unit (fp32/int32 words); none on GPUs"
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

    # 65,536 lanes is 512x an SM's 128 FP32 cores; 2^20 ops is 16 per lane, 8x an FMA's 2.
    lanes: int = Field(gt=0, le=65_536, description="fp32 lanes per core")
    ops_per_cycle: float = Field(gt=0, le=1_048_576, description="fp32 ops per cycle per core, an FMA counted as 2")


class Sram(_Spec):
    """A core's on-chip scratchpad (TPU VMEM, SM shared memory / L1)."""

    # 64 GiB in one core is more SRAM than a whole wafer holds (Cerebras WSE-3: 44 GB); 1 MB
    # per cycle is 8,000x an SM's 128 B.
    mib: float = Field(gt=0, le=65_536, description="capacity per core in MiB")
    bytes_per_cycle: float = Field(gt=0, le=2**20, description="load/store bandwidth per core per cycle")

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

    generation: Label = Field(description="e.g. HBM3, HBM3E")
    # Packages carry at most 8-12 stacks today; 64 stacks of 256 GiB at 16 TB/s each bound
    # capacity and bandwidth.
    stacks: int = Field(gt=0, le=64)
    capacity_gib: float = Field(gt=0, le=16_384, description="total capacity in GiB")
    bandwidth_tb_s: float = Field(gt=0, le=1024, description="total peak bandwidth in TB/s (1e12 B/s)")

    @property
    def capacity_bytes(self) -> int:
        return int(self.capacity_gib * GIB)

    @property
    def bytes_per_s(self) -> float:
        return self.bandwidth_tb_s * 1e12


Topology = Literal["switched", "ring", "torus-2d", "torus-3d", "full-mesh"]


class Links(_Spec):
    """Chip-to-chip links of the scale-up domain (NVLink, ICI, Infinity Fabric, NeuronLink)."""

    # 1,024 ports is 50x NVLink 5's 18; 100 TB/s per link is 1,000x a 2025 link; a million
    # chips is 100x a TPU pod (9,216).
    count: int = Field(ge=0, le=1024, description="ports per chip")
    gb_s_per_direction: float = Field(ge=0, le=100_000, description="GB/s (1e9 B/s) per link each way")
    topology: Topology
    domain_chips: int = Field(
        gt=0, le=1_000_000, description="chips in one scale-up domain (NVLink node, TPU pod slice)"
    )

    @property
    def bytes_per_s_per_direction(self) -> float:
        """Aggregate injection bandwidth of one chip, each way."""
        return self.count * self.gb_s_per_direction * 1e9


class ChipSpec(_Spec):
    """A whole chip: one package of die(s) and HBM, as one description for every layer."""

    name: RegistryName = Field(description="registry name, e.g. h100")
    display_name: Label
    vendor: Label
    family: Literal["systolic", "gpu"] = Field(description="which performance-model family times it")
    process_node: NodeClass = Field(description="foundry node class, e.g. N3, N4, N5")
    # 20 GHz is 3x the fastest shipped logic clock; a million cores is past a wafer-scale
    # part's 900,000.
    clock_ghz: float = Field(gt=0, le=20)
    cores: int = Field(gt=0, le=1_000_000)
    core: Core
    # 1 TiB: 20x the SRAM of a whole wafer.
    shared_sram_mib: float = Field(ge=0, le=2**20, description="chip-level SRAM shared by cores (GPU L2, TPU CMEM)")
    hbm: Hbm
    links: Links
    # 256 dies is 30x MI300X's 8 compute dies. 50,000 mm2 admits a wafer-scale die (WSE-3:
    # 46,225 mm2); the PPA layer still refuses a die past the reticle unless told otherwise.
    dies: int = Field(gt=0, le=256, description="compute dies on the package")
    die_area_mm2: float = Field(gt=0, le=50_000, description="area of one compute die")
    # 100 kW is 4x a wafer-scale system; $100M and $100k/h are far past any accelerator's price.
    tdp_w: float = Field(gt=0, le=100_000)
    price_usd: float | None = Field(default=None, gt=0, le=1e8, description="purchase price per chip, where public")
    rental_usd_per_hour: float | None = Field(default=None, gt=0, le=1e5, description="cloud price per chip-hour")
    sources: dict[Label, SourceText] = Field(description="dotted field path -> source and date of that number")
    notes: Notes = ""

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
