"""Numeric command-line flags of estimate, compare, serve, plan, cost and tco, one hostile value at a time.

Each base command line is cheap (small shapes, 20 requests), so a valid value runs in milliseconds.
"""

import random
from pathlib import Path

from .calls import call_cli
from .cases import Case, Expect, Verdict
from .kinds import Kind

# What each kind of flag takes, and values of it that are possible and cheap to run.
_VALID = {
    "count": ("1", "2", "7", "16"),
    "count0": ("0", "1", "3"),
    "positive": ("0.5", "1", "2.5", "0.001"),
    "fraction": ("0", "0.25", "0.5"),
    "seed": ("0", "1", "12345"),
    "list": ("1", "1,2", "4,8,1"),
    "plan": ("1", "2"),  # valid alone, but it must divide the chips: refusing it is fine
}
_ZERO_OK = {"count0", "fraction", "seed"}
_HOSTILE = ("nan", "inf", "-inf", "-5", "0", "1e300", "abc", "9" * 30, "9" * 5000, "", "1.5", "0x10", " 3")
_LIST_HOSTILE = ("1,nan", "1,-5", "0", ",", "1,,2", "abc", "9" * 30, "1,1.5", "1e300")
_INTEGER = {"count", "count0", "seed", "list", "plan"}
# Whether a possible value can be served depends on the SLOs and chips: refusing it is fine there.
_FEASIBILITY = {"serve", "plan"}

_COMMANDS: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "estimate gemm": (
        ("estimate", "gemm", "--chip", "h100", "--m", "64", "--n", "64", "--k", "64", "--json"),
        {"--m": "count", "--n": "count", "--k": "count"},
    ),
    "estimate prefill": (
        ("estimate", "prefill", "--chip", "h100", "--model", "llama-3-8b", "--seq", "128", "--json"),
        {"--batch": "count", "--seq": "count", "--chips": "count"},
    ),
    "estimate decode": (
        ("estimate", "decode", "--chip", "h100", "--model", "llama-3-8b", "--context", "128", "--json"),
        {"--batch": "count", "--context": "count", "--chips": "count"},
    ),
    "compare": (
        (
            "compare",
            "--model",
            "llama-3-8b",
            "--chips",
            "h100,fab1",
            "--batch",
            "1,8",
            "--input",
            "128",
            "--output",
            "16",
            "--json",
        ),
        {"--batch": "list", "--input": "count", "--output": "count"},
    ),
    "serve": (
        (
            "serve",
            "--model",
            "llama-3-8b",
            "--chip",
            "h100",
            "--chips",
            "1",
            "--rate",
            "1",
            "--requests",
            "20",
            "--input",
            "128",
            "--output",
            "16",
            "--json",
        ),
        {
            "--chips": "count",
            "--rate": "positive",
            "--requests": "count",
            "--input": "count",
            "--output": "count",
            "--length-spread": "fraction",
            "--slo-ttft": "positive",
            "--slo-tpot": "positive",
            "--max-batch": "count",
            "--step-tokens": "count",
            "--block-tokens": "count",
            "--seed": "seed",
            "--prefill-chips": "count0",
            "--tp": "plan",
            "--pp": "plan",
            "--ep": "plan",
        },
    ),
    "plan": (
        (
            "plan",
            "--model",
            "llama-3-8b",
            "--chip",
            "h100",
            "--input",
            "128",
            "--output",
            "16",
            "--max-chips",
            "8",
            "--json",
        ),
        {
            "--slo-tpot": "positive",
            "--slo-ttft": "positive",
            "--input": "count",
            "--output": "count",
            "--max-chips": "count",
            "--max-batch": "count",
            "--top": "count",
        },
    ),
    "cost": (
        ("cost", "--chip", "fab1", "--json"),
        {"--volume": "count", "--compute-dies": "count", "--io-dies": "count0"},
    ),
    "tco": (
        ("tco", "--model", "llama-3-8b", "--chips", "fab1,h100", "--json"),
        {"--batch": "count", "--input-len": "count", "--output-len": "count", "--volume": "count"},
    ),
}


def with_flag(argv: tuple[str, ...], flag: str, value: str) -> tuple[str, ...]:
    """`argv` with `flag` set to `value`, replacing the base's value if it has one."""
    if flag in argv:
        at = argv.index(flag)
        return (*argv[: at + 1], value, *argv[at + 2 :])
    return (*argv, flag, value)


def generate(rng: random.Random, index: int) -> Case:
    command = rng.choice(sorted(_COMMANDS))
    base, flags = _COMMANDS[command]
    flag = rng.choice(sorted(flags))
    kind = flags[flag]
    if rng.random() < 0.3:
        value = rng.choice(_VALID[kind])
        expect, names = (Expect.ANY if kind == "plan" or command in _FEASIBILITY else Expect.VALID), ()
    else:
        value = rng.choice(_LIST_HOSTILE if kind == "list" else _HOSTILE)
        harmless = (
            value == "0"
            and kind in _ZERO_OK
            or value == " 3"
            or (value == "0x10" and kind == "seed")
            or (value == "1.5" and kind not in _INTEGER)
        )
        expect, names = (Expect.ANY, ()) if harmless else (Expect.INVALID, (flag,))
    shown = value if len(value) <= 20 else f"{value[:12]}... ({len(value)} chars)"
    return Case(
        kind="cli-flags",
        index=index,
        mutation=f"{command} {flag} {shown!r}",
        expect=expect,
        argv=with_flag(base, flag, value),
        names=names,
    )


def execute(case: Case, folder: Path) -> Verdict:
    return call_cli(case.argv)


KIND = Kind("cli-flags", "numeric flags of estimate/compare/serve/plan/cost/tco (fabless main)", generate, execute)
