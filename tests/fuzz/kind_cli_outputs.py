"""Output paths of asm, disasm, trace and cost: missing, read-only, a folder, a device, a path through a file."""

import os
import random
from pathlib import Path

from .calls import call_cli
from .cases import Case, Expect, Status, Verdict
from .kind_assembler import SEED
from .kind_program import program_bytes, seed_streams
from .kinds import Kind

_COMMANDS = {
    # command: (argv before the path, the output flag, the file name it writes)
    "asm": (("asm", "program.s"), "-o", "out.bin"),
    "disasm": (("disasm", "program.bin"), "-o", "out.s"),
    "trace": (("trace", "--chip", "fab1", "--program", "program.s"), "--out", "out.json"),
    "cost": (("cost", "--chip", "fab1"), "--plot", "out.png"),
}
# Rendering a chart takes a second: cost only gets paths it must refuse before it renders.
_REFUSED_ONLY = {"cost"}
_AS_ROOT = os.geteuid() == 0  # root writes into a read-only folder, so that case proves nothing there


def _paths(name: str) -> dict[str, tuple[str, Expect, dict[str, bytes], tuple[str, ...], tuple[str, ...]]]:
    """Each kind of path: (path, expectation, files, folders, read-only folders) in the case's folder."""
    return {
        "a new file": (name, Expect.VALID, {}, (), ()),
        "an existing file": ("old/" + name, Expect.VALID, {"old/" + name: b"old"}, ("old",), ()),
        "/dev/null": ("/dev/null", Expect.VALID, {}, (), ()),
        "a missing folder": ("missing/" + name, Expect.INVALID, {}, (), ()),
        "an existing folder": ("folder", Expect.INVALID, {}, ("folder",), ()),
        "a read-only folder": (
            "locked/" + name,
            Expect.ANY if _AS_ROOT else Expect.INVALID,
            {},
            ("locked",),
            ("locked",),
        ),
        "a path through a file": ("plain.txt/" + name, Expect.INVALID, {"plain.txt": b"text"}, (), ()),
        "an empty path": ("", Expect.INVALID, {}, (), ()),
        "a 300-character name": ("x" * 300 + name, Expect.INVALID, {}, (), ()),
        # pathlib reads `out.bin/` as `out.bin`, as many tools do: either answer is fine.
        "a trailing slash": (name + "/", Expect.ANY, {}, (), ()),
    }


def generate(rng: random.Random, index: int) -> Case:
    command = rng.choice(sorted(_COMMANDS))
    before, flag, name = _COMMANDS[command]
    paths = _paths(name)
    choices = sorted(p for p, spec in paths.items() if command not in _REFUSED_ONLY or spec[1] is Expect.INVALID)
    label = rng.choice(choices)
    path, expect, files, folders, read_only = paths[label]
    semaphores, streams = seed_streams()
    inputs = {"program.s": SEED.read_bytes(), "program.bin": program_bytes(semaphores, list(streams))}
    return Case(
        kind="cli-outputs",
        index=index,
        mutation=f"{command} {flag} {label}",
        expect=expect,
        files={**inputs, **files},
        folders=folders,
        read_only=read_only,
        argv=(*before, flag, path),
        names=(path.rstrip("/"), flag) if path else (flag,),
    )


def execute(case: Case, folder: Path) -> Verdict:
    verdict = call_cli(case.argv)
    target = Path(case.argv[-1])
    try:
        wrote = target.is_char_device() or (
            target.is_file() and target.stat().st_size > 0 and target.read_bytes() != b"old"
        )
    except OSError:  # a name the file system refuses (too long) was never written
        wrote = False
    if verdict.status is Status.ACCEPTED and not wrote:
        return Verdict(Status.IMPLAUSIBLE, f"exit 0, but {target} was not written")
    return verdict


KIND = Kind("cli-outputs", "output paths of asm/disasm/trace/cost (fabless main)", generate, execute)
