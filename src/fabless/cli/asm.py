"""`fabless asm` / `fabless disasm`: programs between assembler text and binary words."""

import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from fabless.cli.app import app
from fabless.errors import FablessError
from fabless.isa import assemble, decode_program, disassemble, encode_program


@app.command("asm")
def asm(
    source: Annotated[Path, typer.Argument(help="Assembler text (.s).")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Binary program to write (default: SOURCE.bin).")
    ] = None,
) -> None:
    """Assemble a program's text into its binary encoding."""
    program = assemble(_read(source).decode(errors="replace"), origin=str(source))
    target = output or source.with_suffix(".bin")
    _write_atomically(target, encode_program(program))
    streams = ", ".join(f"{name} {len(code)}" for name, code in program.streams.items())
    Console(stderr=True, soft_wrap=True).print(
        f"{target}: {program.instruction_count} instructions ({streams}), {program.semaphores} semaphores"
    )


@app.command("disasm")
def disasm(
    binary: Annotated[Path, typer.Argument(help="Binary program (.bin).")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Text file to write (default: stdout).")] = None,
) -> None:
    """Disassemble a binary program into assembler text that `fabless asm` reads back."""
    text = disassemble(decode_program(_read(binary), origin=str(binary)))
    if output is None:
        print(text, end="")
    else:
        _write_atomically(output, text.encode())


def _read(path: Path) -> bytes:
    if not path.is_file():
        raise FablessError(f"{path} does not exist: pass the path of a program file")
    return path.read_bytes()


def _write_atomically(path: Path, data: bytes) -> None:
    """Write through a temporary file so that a failure never leaves half a program."""
    if not path.parent.is_dir():
        raise FablessError(f"cannot write {path}: directory {path.parent} does not exist")
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
