"""Shared bandwidth: the chip's HBM and each core's SRAM port.

HBM is a first-come first-served pipe: the memory controller serves DMA requests in the
order they reach it, each at the full pin bandwidth, so queues that ask at once wait for
one another ("waiting on HBM") and the total never exceeds the peak. A fixed access
latency is added after the data moves; it is pipelined, so it costs a queue nothing while
other requests are in flight.

The SRAM port is shared by many engines of one core at once (DMA writes, MXU activation
and weight reads, VPU reads and writes), each drawing a steady fraction of it, so it is
rate-reserved instead: a transfer runs at its own rate when the port has that much to
spare and slows to what is left when it does not. Transfers already running keep their
rate, so the port is never over-subscribed.
"""

_EPSILON = 1e-9


class HbmChannel:
    """The chip's HBM: one FIFO pipe of `bytes_per_cycle`, `latency_cycles` deep."""

    __slots__ = ("bytes_per_cycle", "latency_cycles", "free_at")

    def __init__(self, bytes_per_cycle: float, latency_cycles: float) -> None:
        self.bytes_per_cycle = bytes_per_cycle
        self.latency_cycles = latency_cycles
        self.free_at = 0.0

    def transfer(self, ready: float, nbytes: float) -> tuple[float, float]:
        """(start, end) of the data phase of `nbytes` asked for at `ready`."""
        start = ready if ready > self.free_at else self.free_at
        end = start + nbytes / self.bytes_per_cycle
        self.free_at = end
        return start, end


class SramPort:
    """One core's SRAM port of `bytes_per_cycle`, shared by rate reservation."""

    __slots__ = ("bytes_per_cycle", "_segments")

    def __init__(self, bytes_per_cycle: float) -> None:
        self.bytes_per_cycle = bytes_per_cycle
        self._segments: list[tuple[float, float, float]] = []  # (start, end, rate)

    def transfer(self, start: float, nbytes: float, cycles: float) -> float:
        """End of moving `nbytes` from `start`, at best over `cycles` (its own rate), given the
        rates already reserved; reserves what it uses."""
        if nbytes <= 0:
            return start + cycles
        want = nbytes / cycles if cycles > 0 else self.bytes_per_cycle
        want = min(want, self.bytes_per_cycle)
        live = [s for s in self._segments if s[1] > start]
        self._segments = live
        if not live:
            end = start + nbytes / want
            live.append((start, end, want))
            return end
        cuts = sorted({t for s in live for t in (s[0], s[1]) if t > start})
        t, left = start, nbytes
        for cut in [*cuts, float("inf")]:
            used = sum(rate for s0, s1, rate in live if s0 <= t < s1)
            rate = min(want, self.bytes_per_cycle - used)
            if rate > _EPSILON:
                finish = t + left / rate
                if finish <= cut:
                    live.append((t, finish, rate))
                    return finish
                live.append((t, cut, rate))
                left -= rate * (cut - t)
            t = cut
        raise AssertionError("an unbounded last interval always finishes the transfer")
