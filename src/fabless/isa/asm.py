"""Text form of programs: an assembler and a disassembler that round-trip.

    # a comment
    .semaphores 2
    .stream dma0
    dma.load hbm_addr=0x0 sram_addr=0x0 rows=4 row_bytes=64 hbm_stride=64 sram_stride=64
    sem.signal sem=0

One instruction per line: the mnemonic, then `field=value` for every field without a
default (any order). Integers take any Python base prefix, dtypes and ops their names.
Without `.semaphores`, the count is one more than the highest semaphore used.
"""

import dataclasses
import math

from fabless.checks import shown
from fabless.errors import FablessError
from fabless.isa.fields import FP32_MAX, MNEMONICS, FieldSpec, Instruction, check_field
from fabless.isa.instructions import LinkSend, SemSignal, SemWait
from fabless.isa.program import MAX_SEMAPHORES, Program, parse_stream


def assemble(text: str, origin: str = "program") -> Program:
    """The program a text holds; every error names the line."""
    streams: dict[str, list[Instruction]] = {}
    current: list[Instruction] | None = None
    declared: tuple[int, int] | None = None  # (count, line)
    uses: list[tuple[int, Instruction]] = []  # (line, instruction) of those naming a semaphore
    engine = ""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{origin}:{number}"
        if len(line) > _LINE_CHARS:
            raise FablessError(f"{where}: the line has {len(line):,} characters, more than any instruction needs")
        words = line.split()
        if words[0] == ".stream":
            if len(words) != 2:
                raise FablessError(f"{where}: write `.stream <name>`, e.g. `.stream dma0`")
            engine = _in(where, parse_stream, words[1]).engine
            current = streams.setdefault(words[1], [])
        elif words[0] == ".semaphores":
            if declared is not None:
                raise FablessError(f"{where}: `.semaphores` given twice (first on line {declared[1]}): keep one")
            declared = (_semaphore_count(where, words), number)
        elif words[0].startswith("."):
            raise FablessError(f"{where}: unknown directive {shown(words[0])}: use .stream or .semaphores")
        elif current is None:
            raise FablessError(f"{where}: instruction before any `.stream <name>` line")
        else:
            instr = _in(where, parse_instruction, words)
            if instr.ENGINE not in ("any", engine):
                raise FablessError(
                    f"{where}: {instr.MNEMONIC} runs on a {instr.ENGINE} engine, not on {engine}"
                )
            current.append(instr)
            if _semaphore(instr) >= 0:
                uses.append((number, instr))
    semaphores = 1 + max((_semaphore(i) for _, i in uses), default=-1)
    if declared is not None:
        _check_declared(origin, declared[0], uses)
        semaphores = declared[0]
    return _in(origin, Program, {name: tuple(code) for name, code in streams.items()}, semaphores)


def _semaphore_count(where: str, words: list[str]) -> int:
    # ASCII digits only: str.isdigit() also takes superscripts that int() refuses.
    if len(words) != 2 or not words[1].isascii() or not words[1].isdigit() or len(words[1]) > 6:
        raise FablessError(
            f"{where}: write `.semaphores <count>` with a count of 0..{MAX_SEMAPHORES}, e.g. `.semaphores 2`"
        )
    return int(words[1])


def _check_declared(origin: str, declared: int, uses: list[tuple[int, Instruction]]) -> None:
    for number, instr in uses:
        if _semaphore(instr) >= declared:
            raise FablessError(
                f"{origin}:{number}: {instr.MNEMONIC} uses semaphore {_semaphore(instr)} but the program "
                f"declares {declared} (`.semaphores {declared}`): raise the count"
            )


def parse_instruction(words: list[str]) -> Instruction:
    """One instruction from its mnemonic and `field=value` words."""
    cls = MNEMONICS.get(words[0])
    if cls is None:
        raise FablessError(f"unknown mnemonic {shown(words[0])}: known are {', '.join(sorted(MNEMONICS))}")
    specs = {spec.name: spec for spec in cls.LAYOUT}
    values: dict[str, object] = {}
    for word in words[1:]:
        name, eq, text = word.partition("=")
        if not eq or not text:
            raise FablessError(f"{cls.MNEMONIC}: operand {shown(word)} is not field=value")
        if name not in specs:
            raise FablessError(f"{cls.MNEMONIC} has no field {shown(name)}: its fields are {', '.join(specs)}")
        if name in values:
            raise FablessError(f"{cls.MNEMONIC}: field {name} given twice")
        values[name] = _value(cls, specs[name], text)
    required = [f.name for f in dataclasses.fields(cls) if _required(f)]
    missing = [name for name in required if name not in values]
    if missing:
        raise FablessError(f"{cls.MNEMONIC} is missing {', '.join(f'{n}=' for n in missing)}")
    return cls(**values)


def disassemble(program: Program) -> str:
    """The program as assembler text that `assemble` reads back to an equal program."""
    lines = [f".semaphores {program.semaphores}"]
    for name, code in program.streams.items():
        lines.append(f".stream {name}")
        lines.extend(format_instruction(instr) for instr in code)
    return "\n".join(lines) + "\n"


def format_instruction(instr: Instruction) -> str:
    """One instruction as a line of assembler text, every field written out."""
    operands = [f"{spec.name}={_format(spec, getattr(instr, spec.name))}" for spec in instr.LAYOUT]
    return " ".join([instr.MNEMONIC, *operands])


def _format(spec: FieldSpec, value: object) -> str:
    if spec.enum is not None:
        return value.name.lower()  # type: ignore[attr-defined]
    if spec.is_f32:
        return repr(value)
    if spec.name.endswith("_addr"):
        return hex(value)  # type: ignore[arg-type]
    return str(value)


_LINE_CHARS = 1024
"""A line with every field of the widest instruction written out is a few hundred characters."""
_OPERAND_CHARS = 80
"""Longer than any 64-bit integer or fp32 literal needs; refused before int() parses it."""
_FLOAT_WORDS = ("inf", "infinity", "nan")


def _value(cls: type[Instruction], spec: FieldSpec, text: str) -> object:
    if spec.enum is not None:
        return check_field(cls, spec, text)
    if len(text) > _OPERAND_CHARS:
        raise FablessError(
            f"{cls.MNEMONIC}: {spec.name}= has {len(text):,} characters, more than any value of the field needs"
        )
    kind = "a number" if spec.is_f32 else "an integer"
    try:
        value = float(text) if spec.is_f32 else int(text, 0)
    except ValueError:
        raise FablessError(f"{cls.MNEMONIC}: {spec.name}={text} is not {kind}") from None
    # float() reads a literal too large for a double as inf; only a written inf is one.
    if isinstance(value, float) and math.isinf(value) and text.lstrip("+-").lower() not in _FLOAT_WORDS:
        raise FablessError(f"{cls.MNEMONIC}: {spec.name}={text} does not fit fp32 (largest {FP32_MAX:g})")
    return value


def _required(f: dataclasses.Field) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _semaphore(instr: Instruction) -> int:
    if isinstance(instr, SemSignal | SemWait):
        return instr.sem
    if isinstance(instr, LinkSend):
        return instr.remote_sem
    return -1


def _in(where: str, build, *args):  # type: ignore[no-untyped-def]
    try:
        return build(*args)
    except FablessError as error:
        raise FablessError(f"{where}: {error}") from None
