"""Files crossing the user boundary: inputs read as bytes with a size limit and parsed with
one-line errors, outputs written whole or not at all, with the user's umask."""

from fabless.files.inputs import (
    KIB,
    MIB,
    decode_text,
    parse_json,
    parse_toml,
    read_bytes,
    read_json,
    read_text,
    read_toml,
)
from fabless.files.outputs import check_output_path, output_directory, output_file, write_output

__all__ = [
    "KIB",
    "MIB",
    "check_output_path",
    "decode_text",
    "output_directory",
    "output_file",
    "parse_json",
    "parse_toml",
    "read_bytes",
    "read_json",
    "read_text",
    "read_toml",
    "write_output",
]
