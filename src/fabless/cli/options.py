"""Options shared by several commands, so they read the same everywhere."""

import typer

CHIP = typer.Option(..., "--chip", help="Chip preset name (see `fabless chip list`) or path to a .toml.")
MODEL = typer.Option(..., "--model", help="Zoo model name, a config.json, or a checkpoint directory.")
WEIGHTS = typer.Option("bf16", "--weights", help="Weight dtype: bf16, fp8, int8 or int4.")
ACTIVATIONS = typer.Option("auto", "--activations", help="Activation dtype (auto: 8-bit with 8-bit weights).")
KV_CACHE = typer.Option("auto", "--kv-cache", help="KV-cache dtype (auto: 8-bit with 8-bit weights).")
JSON = typer.Option(False, "--json", help="Print JSON (times in seconds).")


def int_list(text: str, option: str) -> list[int]:
    """Parse `1,8,32` into integers, naming the option on bad input."""
    from fabless.errors import FablessError

    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise FablessError(f"{option} takes comma-separated integers, e.g. 1,32 (got {text!r})") from None
    if not values or min(values) < 1:
        raise FablessError(f"{option} values must be positive integers (got {text!r})")
    return values
