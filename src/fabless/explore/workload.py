"""The serving mix a design is judged on: models and request shapes with shares, the
precision, the SLOs, the objectives and the constraints, read from TOML."""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, model_validator

from fabless.checks import MAX_SLO_S, MAX_TOKENS
from fabless.chip.registry import first_problem
from fabless.chip.spec import Label
from fabless.errors import FablessError
from fabless.explore.objectives import OBJECTIVES
from fabless.explore.space import _Strict
from fabless.files import KIB, read_toml
from fabless.model import ModelConfig, Precision, load_model_config

WORKLOAD_FILE_LIMIT_BYTES = 64 * KIB
MAX_MIX = 16
MAX_CHIPS = 4096

Dtype = Literal["bf16", "fp8", "int8", "int4"]
Math = Literal["auto", "bf16", "fp8", "int8"]


class MixEntry(_Strict):
    model: str = Field(min_length=1, max_length=4096, description="zoo name, config.json or checkpoint folder")
    share: float = Field(gt=0, le=1, description="fraction of the output tokens served")
    input: int = Field(ge=1, le=MAX_TOKENS, description="prompt tokens per request")
    output: int = Field(ge=1, le=MAX_TOKENS, description="generated tokens per request")


class Slo(_Strict):
    tpot_s: float = Field(gt=0, le=MAX_SLO_S)
    ttft_s: float | None = Field(default=None, gt=0, le=MAX_SLO_S)


class Constraints(_Strict):
    max_die_mm2: float | None = Field(default=None, gt=0, le=100_000,
                                      description="largest compute die; default: fabless.ppa's reticle limit")
    max_tdp_w: float | None = Field(default=None, gt=0, le=100_000)
    max_unit_cost_usd: float | None = Field(default=None, gt=0, le=1e8)
    max_programme_usd: float | None = Field(default=None, gt=0, le=1e12)
    max_chips: int = Field(default=64, ge=1, le=MAX_CHIPS, description="chips one model replica may span")


class WorkloadFile(_Strict):
    name: Label
    weights: Dtype = "fp8"
    activations: Math = "auto"
    kv_cache: Math = "auto"
    objectives: list[str] = Field(default=["tokens_per_usd"], min_length=1, max_length=len(OBJECTIVES))
    slo: Slo
    mix: list[MixEntry] = Field(min_length=1, max_length=MAX_MIX)
    constraints: Constraints = Constraints()

    @model_validator(mode="after")
    def _consistent(self) -> "WorkloadFile":
        for name in self.objectives:
            if name not in OBJECTIVES:
                raise ValueError(f"objectives: unknown objective {name!r} (known: {', '.join(OBJECTIVES)})")
        if len(set(self.objectives)) != len(self.objectives):
            raise ValueError("objectives: an objective is named twice")
        total = sum(entry.share for entry in self.mix)
        if abs(total - 1.0) > 1e-6:
            raise ValueError(f"mix: shares sum to {total:g}; they are fractions of the output tokens and must sum to 1")
        return self


@dataclass(frozen=True)
class Request:
    """One model of the mix with its request shape and share of the output tokens."""

    config: ModelConfig
    share: float
    input_len: int
    output_len: int


@dataclass(frozen=True)
class Workload:
    origin: str
    name: str
    precision: Precision
    requests: tuple[Request, ...]
    slo: Slo
    constraints: Constraints
    objectives: tuple[str, ...]


def load_workload(path: str | Path) -> Workload:
    """Read and check a workload file; any problem is one line naming the file and field."""
    return parse_workload(read_toml(path, "a workload", WORKLOAD_FILE_LIMIT_BYTES), str(path))


def parse_workload(raw: dict[str, Any], origin: str) -> Workload:
    try:
        spec = WorkloadFile.model_validate(raw)
    except ValidationError as error:
        raise FablessError(f"{origin}: {first_problem(error)}") from None
    try:
        precision = Precision.from_options(spec.weights, spec.activations, spec.kv_cache)
    except FablessError as error:
        raise FablessError(f"{origin}: {error}") from None
    requests = []
    for index, entry in enumerate(spec.mix):
        where = f"{origin}: mix.{index}.model"
        try:
            config = load_model_config(entry.model)
        except FablessError as error:
            raise FablessError(f"{where}: {error}") from None
        if config.family == "bert":
            raise FablessError(f"{where}: {config.name} is an encoder; the mix serves decoders")
        if entry.input + entry.output > config.max_positions:
            raise FablessError(f"{origin}: mix.{index}: input + output = {entry.input + entry.output:,} tokens exceed "
                               f"{config.name}'s context window of {config.max_positions:,}")
        requests.append(Request(config=config, share=entry.share, input_len=entry.input, output_len=entry.output))
    return Workload(origin=origin, name=spec.name, precision=precision, requests=tuple(requests), slo=spec.slo,
                    constraints=spec.constraints, objectives=tuple(spec.objectives))
