"""Field layout of an instruction word: every field a fixed-width unsigned bit range.

An instruction is a frozen dataclass whose fields are declared with `u(bits)`,
`enum(E, bits)` or `f32()`; `@instruction` computes the bit layout once per class, and
construction checks every value so that an instruction that exists always encodes.
"""

import dataclasses
import math
import numbers
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, ClassVar, TypeVar, dataclass_transform

import numpy as np

from fabless.checks import shown
from fabless.errors import FablessError

WORD_BITS = 256
"""Every instruction is one 256-bit little-endian word: 2-D DMA descriptors with 40-bit
HBM addresses and strides do not fit in 128 bits."""
WORD_BYTES = WORD_BITS // 8
OPCODE_BITS = 8
FP32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    bits: int
    shift: int
    enum: type[IntEnum] | None = None
    is_f32: bool = False
    minimum: int = 0


def u(bits: int, default: int | None = None, minimum: int = 0) -> Any:
    """An unsigned integer field of `bits` bits (values `minimum` .. 2**bits - 1)."""
    meta = {"bits": bits, "minimum": minimum}
    if default is None:
        return field(metadata=meta)
    return field(default=default, metadata=meta)


def enum(kind: type[IntEnum], bits: int = 4, default: IntEnum | None = None) -> Any:
    meta = {"bits": bits, "enum": kind}
    if default is None:
        return field(metadata=meta)
    return field(default=default, metadata=meta)


def f32(default: float = 0.0) -> Any:
    """An fp32 immediate; any float given is rounded to fp32 (nearest even) on construction."""
    return field(default=default, metadata={"bits": 32, "f32": True})


@dataclass(frozen=True, kw_only=True, slots=True)
class Instruction:
    """One instruction; subclasses are declared with `@instruction`."""

    OPCODE: ClassVar[int]
    MNEMONIC: ClassVar[str]
    ENGINE: ClassVar[str]
    """`dma`, `mxu`, `vpu`, or `any` for the synchronisation instructions."""
    LAYOUT: ClassVar[tuple[FieldSpec, ...]]

    def __post_init__(self) -> None:
        for spec in self.LAYOUT:
            value = getattr(self, spec.name)
            object.__setattr__(self, spec.name, check_field(type(self), spec, value))


def check_field(cls: type[Instruction], spec: FieldSpec, value: Any) -> Any:
    """`value` converted to the field's type, or a FablessError naming the field and its range."""
    if spec.is_f32:
        return _f32(cls, spec, value)
    if spec.enum is not None:
        if isinstance(value, str):
            member = spec.enum.__members__.get(value.upper())
            if member is not None:
                return member
        else:
            try:
                return spec.enum(value)
            except ValueError:
                pass
        names = ", ".join(m.name.lower() for m in spec.enum)
        raise FablessError(f"{cls.MNEMONIC}: {spec.name}={shown(value)} is not one of {names}")
    try:
        number = operator.index(value)
    except TypeError:
        raise FablessError(f"{cls.MNEMONIC}: {spec.name}={shown(value)} is not an integer") from None
    top = (1 << spec.bits) - 1
    if not spec.minimum <= number <= top:
        raise FablessError(
            f"{cls.MNEMONIC}: {spec.name}={number} does not fit its {spec.bits}-bit field "
            f"(allowed {spec.minimum}..{top})"
        )
    return number


def _f32(cls: type[Instruction], spec: FieldSpec, value: Any) -> float:
    """`value` rounded to fp32; a finite value past fp32's range is an error, not a silent inf."""
    if isinstance(value, bool | str) or not isinstance(value, numbers.Real):
        raise FablessError(f"{cls.MNEMONIC}: {spec.name}={shown(value)} is not a number")
    try:
        number = float(value)
    except OverflowError:  # an int past 1e308
        raise FablessError(f"{cls.MNEMONIC}: {spec.name} does not fit fp32 (largest {FP32_MAX:g})") from None
    if math.isfinite(number) and abs(number) > FP32_MAX:
        raise FablessError(f"{cls.MNEMONIC}: {spec.name}={number:g} does not fit fp32 (largest {FP32_MAX:g})")
    return float(np.float32(number))


OPCODES: dict[int, type[Instruction]] = {}
MNEMONICS: dict[str, type[Instruction]] = {}


_I = TypeVar("_I", bound="Instruction")


# Tells type checkers that decorated classes are keyword-only frozen dataclasses whose
# fields are declared with `u` and `enum` (`f32` fields always have a default).
@dataclass_transform(frozen_default=True, kw_only_default=True, field_specifiers=(field, u, enum))
def instruction(opcode: int, mnemonic: str, engine: str) -> Callable[[type[_I]], type[_I]]:
    """Class decorator: make a frozen instruction dataclass and register its opcode."""

    def wrap(cls: type[_I]) -> type[_I]:
        made: Any = dataclass(frozen=True, kw_only=True, slots=True)(cls)
        shift = OPCODE_BITS
        layout = []
        for f in dataclasses.fields(made):
            bits = f.metadata["bits"]
            layout.append(
                FieldSpec(
                    f.name,
                    bits,
                    shift,
                    f.metadata.get("enum"),
                    f.metadata.get("f32", False),
                    f.metadata.get("minimum", 0),
                )
            )
            shift += bits
        if shift > WORD_BITS:
            raise AssertionError(f"{mnemonic} needs {shift} bits, more than a {WORD_BITS}-bit word")
        if opcode in OPCODES or mnemonic in MNEMONICS:
            raise AssertionError(f"opcode {opcode:#x} or mnemonic {mnemonic} declared twice")
        made.OPCODE, made.MNEMONIC, made.ENGINE, made.LAYOUT = opcode, mnemonic, engine, tuple(layout)
        OPCODES[opcode] = made
        MNEMONICS[mnemonic] = made
        return made

    return wrap
