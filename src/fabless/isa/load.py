"""Program files as a user gives them: binary words or assembler text, read with a size limit."""

from pathlib import Path

from fabless.files import MIB, decode_text, read_bytes
from fabless.isa.asm import assemble
from fabless.isa.encoding import MAGIC, decode_program
from fabless.isa.program import Program

PROGRAM_LIMIT_BYTES = 256 * MIB
"""8 million instruction words, past any compiled model step; text of that size takes a minute."""


def load_program(path: str | Path) -> Program:
    """The program in `path`: binary if it starts with the magic or is named .bin, else assembler text."""
    path = Path(path)
    data = read_bytes(path, "a program (.s or .bin)", PROGRAM_LIMIT_BYTES)
    if data.startswith(MAGIC) or path.suffix.lower() == ".bin":
        return decode_program(data, origin=str(path))
    return assemble(decode_text(data, str(path)), origin=str(path))
