"""What a fuzz case is, what its generator expects of it, and how a run of it ended."""

import enum
from dataclasses import dataclass, field


class Expect(enum.Enum):
    """What a correct Fabless does with a case."""

    VALID = "valid"  # a possible input: it must load or run
    INVALID = "invalid"  # an impossible value was injected: it must be rejected
    ANY = "any"  # the mutation may or may not break the input (a dropped key, a flipped byte)


class Status(enum.Enum):
    """How the code under test ended, as the worker saw it."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"  # a FablessError, or the CLI's one `error:` line with exit 2
    UNCLEAR = "unclear"  # refused, but not with one line naming the file or flag
    CRASHED = "crashed"  # any other exception, exit 70, or a dead worker
    IMPLAUSIBLE = "implausible"  # accepted, but what it computed is NaN, infinite or negative
    HUNG = "hung"


class Outcome(enum.Enum):
    """The verdict on a case: the columns of the report."""

    CLEAN_ERROR = "clean errors"
    OK = "ok"
    REJECTED_VALID = "rejected valid"
    UNCLEAR_ERROR = "unclear errors"
    TRACEBACK = "tracebacks"
    HANG = "hangs"
    SILENT_ACCEPT = "silent accepts"


FAILURES = (Outcome.REJECTED_VALID, Outcome.UNCLEAR_ERROR, Outcome.TRACEBACK, Outcome.HANG, Outcome.SILENT_ACCEPT)


@dataclass(frozen=True)
class Case:
    """One input to try; everything the worker needs travels in it, so it pickles."""

    kind: str
    index: int
    mutation: str  # what was done to the seed, for the report
    expect: Expect
    files: dict[str, bytes] = field(default_factory=dict)  # written into the case's folder
    folders: tuple[str, ...] = ()  # created in the case's folder before the files
    read_only: tuple[str, ...] = ()  # folders made read-only after the files are written
    argv: tuple[str, ...] = ()  # the `fabless` command line, for CLI kinds
    names: tuple[str, ...] = ()  # a clean error names one of these (the file, the flag)


MAX_MESSAGE_CHARS = 1000
"""Longer than this is no longer a line a user reads (an error echoing a 100,000-character value)."""


@dataclass(frozen=True)
class Verdict:
    status: Status
    message: str = ""
    downstream: bool = False  # raised by a use of an accepted input, which cannot know the file's name


@dataclass(frozen=True)
class Run:
    case: Case
    verdict: Verdict
    outcome: Outcome


def judge(case: Case, verdict: Verdict) -> Outcome:
    """The outcome of a case from what it was expected to do and what it did."""
    if verdict.status is Status.HUNG:
        return Outcome.HANG
    if verdict.status is Status.CRASHED:
        return Outcome.TRACEBACK
    if verdict.status is Status.IMPLAUSIBLE:
        return Outcome.SILENT_ACCEPT
    named = verdict.downstream or _clear(case, verdict.message)
    if verdict.status is Status.UNCLEAR or (verdict.status is Status.REJECTED and not named):
        return Outcome.UNCLEAR_ERROR
    if verdict.status is Status.ACCEPTED:
        return Outcome.SILENT_ACCEPT if case.expect is Expect.INVALID else Outcome.OK
    return Outcome.REJECTED_VALID if case.expect is Expect.VALID else Outcome.CLEAN_ERROR


def _clear(case: Case, message: str) -> bool:
    """One line that names what the user must fix."""
    text = message.strip()
    one_line = bool(text) and "\n" not in text and len(text) <= MAX_MESSAGE_CHARS
    return one_line and (not case.names or any(name in text for name in case.names))
