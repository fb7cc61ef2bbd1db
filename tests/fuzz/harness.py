"""Generate a kind's cases, run them in the worker, and count the outcomes.

Case `index` of a kind under a `seed` always comes from `random.Random(f"{seed}:{kind}:{index}")`,
so a run repeats exactly and any one case can be regenerated on its own.
"""

import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import (
    kind_assembler,
    kind_chip,
    kind_cli_flags,
    kind_cli_outputs,
    kind_explore,
    kind_gguf,
    kind_model_config,
    kind_program,
    kind_safetensors,
    kind_trace,
)
from .cases import FAILURES, MAX_MESSAGE_CHARS, Case, Outcome, Run, Verdict, judge
from .kinds import Kind
from .worker import Worker

KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        kind_chip.KIND,
        kind_assembler.KIND,
        kind_program.KIND,
        kind_safetensors.KIND,
        kind_gguf.KIND,
        kind_cli_flags.KIND,
        kind_cli_outputs.KIND,
        kind_model_config.KIND,
        kind_trace.KIND,
        kind_explore.KIND,
    )
}
EXAMPLES_KEPT = 5


@dataclass
class KindReport:
    """Counts per outcome, and the first few runs of each failing outcome (without their files)."""

    kind: str
    counts: Counter[Outcome] = field(default_factory=Counter)
    examples: dict[Outcome, list[Run]] = field(default_factory=dict)

    @property
    def cases(self) -> int:
        return sum(self.counts.values())

    @property
    def failed(self) -> int:
        return sum(self.counts[outcome] for outcome in FAILURES)

    def add(self, run: Run) -> None:
        self.counts[run.outcome] += 1
        kept = self.examples.setdefault(run.outcome, [])
        if run.outcome in FAILURES and len(kept) < EXAMPLES_KEPT:
            kept.append(replace(run, case=replace(run.case, files={})))

    def failures(self) -> list[Run]:
        return [run for outcome in FAILURES for run in self.examples.get(outcome, [])]


def cases(kind: Kind, count: int, seed: int = 0) -> Iterator[Case]:
    for index in range(count):
        yield kind.generate(random.Random(f"{seed}:{kind.name}:{index}"), index)


def run_kind(
    kind: Kind, count: int, seed: int = 0, timeout_s: float = 10.0, on_run: Callable[[Run], None] = lambda _: None
) -> KindReport:
    report = KindReport(kind.name)
    with Worker(_execute, timeout_s) as worker:
        for case in cases(kind, count, seed):
            verdict = worker.run(case)
            run = Run(case, verdict, judge(case, verdict))
            report.add(run)
            on_run(run)
    return report


def _execute(case: Case, folder: Path) -> Verdict:
    verdict = KINDS[case.kind].execute(case, folder)
    # Enough of an overlong message to judge it and show it, not the whole echoed input.
    return replace(verdict, message=verdict.message[: MAX_MESSAGE_CHARS + 200])


def describe(run: Run, width: int = 300) -> str:
    """One line per failing run: where it came from, what was done, what happened."""
    argv = " argv=" + " ".join(_short(word, 40) for word in run.case.argv) if run.case.argv else ""
    outcome = run.outcome.name.lower().replace("_", " ")
    return (
        f"{run.case.kind} #{run.case.index} ({run.case.expect.value}) {run.case.mutation}{argv}: "
        f"{outcome}: {_short(run.verdict.message, width)}"
    )


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else f"{text[:width]}... ({len(text)} chars)"
