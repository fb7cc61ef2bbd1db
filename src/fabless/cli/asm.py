"""`fabless asm` / `fabless disasm`: programs between assembler text and binary words."""

from pathlib import Path
from typing import Annotated

import typer

from fabless.cli.app import app
from fabless.cli.console import console
from fabless.cli.paths import prepare_output
from fabless.errors import FablessError


@app.command("asm")
def asm(
    source: Annotated[Path, typer.Argument(help="Assembler text (.s).")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Binary program to write (default: SOURCE.bin).")
    ] = None,
) -> None:
    """Assemble a program's text into its binary encoding."""
    from fabless.files import write_output
    from fabless.isa import assemble, encode_program

    target = output or source.with_suffix(".bin")
    prepare_output(target, "the program", "--output")
    program = assemble(_read(source).decode(errors="replace"), origin=str(source))
    write_output(target, encode_program(program), "the program")
    streams = ", ".join(f"{name} {len(code)}" for name, code in program.streams.items())
    console(stderr=True).print(
        f"{target}: {program.instruction_count} instructions ({streams}), {program.semaphores} semaphores",
        markup=False,
    )


@app.command("disasm")
def disasm(
    binary: Annotated[Path, typer.Argument(help="Binary program (.bin).")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Text file to write (default: stdout).")] = None,
) -> None:
    """Disassemble a binary program into assembler text that `fabless asm` reads back."""
    from fabless.files import write_output
    from fabless.isa import decode_program, disassemble

    if output is not None:
        prepare_output(output, "the assembler text", "--output")
    text = disassemble(decode_program(_read(binary), origin=str(binary)))
    if output is None:
        print(text, end="")
    else:
        write_output(output, text, "the assembler text")


def _read(path: Path) -> bytes:
    if not path.is_file():
        raise FablessError(f"{path} does not exist: pass the path of a program file")
    return path.read_bytes()
