"""Errors a program can make when it runs: they name the stream and instruction."""

from fabless.errors import FablessError


class ProgramError(FablessError):
    """The program did something the ISA forbids (out-of-range address, bad operand)."""


class DeadlockError(ProgramError):
    """Every unfinished stream waits on a semaphore that nothing left can signal."""
