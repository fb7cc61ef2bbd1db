"""The assertion every fuzz test makes: no failures, and the first few shown when there are."""

from .harness import KINDS, describe, run_kind

SEED = 0
TIMEOUT_S = 10.0


def assert_kind_is_hardened(kind: str, cases: int) -> None:
    """Run `cases` cases of `kind`; fail listing the first failing ones (kind, mutation, message)."""
    report = run_kind(KINDS[kind], cases, seed=SEED, timeout_s=TIMEOUT_S)
    failures = report.failures()
    counts = ", ".join(f"{outcome.value} {count}" for outcome, count in sorted(report.counts.items(), key=str))
    details = "\n".join(describe(run) for run in failures[:10])
    assert not failures, f"{report.failed} of {report.cases} {kind} cases failed ({counts}):\n{details}"
