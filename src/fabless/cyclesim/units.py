"""Timing of the three kinds of engine: DMA queue, MXU and VPU.

Each unit takes the instruction its stream issues next and says when it can start
(`ready`) from the unit's own state alone; the simulator calls `run` at that moment so that
shared bandwidth (HBM, SRAM port) is handed out in time order. `run` books the tracks and
returns the time the stream may issue its next instruction and when this one completes
(its results visible: what a following `sem.signal` waits for).

A stream runs in order, each instruction to completion (docs/isa.md); the units overlap
only what cannot change a result: a DMA queue keeps several transfers in flight unless
one reads bytes an earlier one has not landed, and an MXU streams matmuls on the same
weights back to back.
With one weight tile (`core.matrix.weight_buffers = 1`) a new tile is loaded only after
the array has drained the last matmul on the old one; with two, the next tile loads into
a shadow buffer while the array streams and swaps in behind the last wavefront.
"""

from collections import deque

from fabless.cyclesim.bandwidth import HbmChannel, SramPort
from fabless.cyclesim.hardware import Hardware
from fabless.cyclesim.lower import ACC_STORE, GEMM, LDW, MATMUL, Step
from fabless.cyclesim.tracks import Track

Waits = list[tuple[str, float]]


class DmaUnit:
    __slots__ = ("track", "hbm", "port", "latency", "outstanding", "inflight")

    def __init__(self, track: Track, hbm: HbmChannel, port: SramPort, hw: Hardware) -> None:
        self.track = track
        self.hbm = hbm
        self.port = port
        self.latency = hw.hbm_latency_cycles
        self.outstanding = hw.dma_outstanding
        # (completion, to_sram, sram_range, hbm_range) of transfers not yet complete, oldest first
        self.inflight: deque[tuple[float, bool, tuple[int, int], tuple[int, int]]] = deque()

    def ready(self, step: Step, waits: Waits) -> None:
        inflight = self.inflight
        waits.append(("in_order", self.track.free_at))
        if len(inflight) >= self.outstanding:
            waits.append(("queue_full", inflight[len(inflight) - self.outstanding][0]))
        # Data phases of one queue run in order, so only a read of bytes an earlier transfer
        # has not landed yet must wait: a store of SRAM a load is still filling, or a load
        # of HBM a store is still writing.
        hazard = 0.0
        for done, to_sram, sram, hbm in inflight:
            if to_sram and not step.to_sram and _overlap(sram, step.sram_range):
                hazard = max(hazard, done)
            elif not to_sram and step.to_sram and _overlap(hbm, step.hbm_range):
                hazard = max(hazard, done)
        if hazard:
            waits.append(("hazard", hazard))

    def run(self, step: Step, pc: int, now: float, waits: Waits) -> tuple[float, float]:
        start, hbm_end = self.hbm.transfer(now, step.nbytes)
        waits.append(("hbm", start))
        end = self.port.transfer(start, step.sram_bytes, hbm_end - start)
        self.track.occupy(waits, start, hbm_end, max(end, hbm_end), pc)
        done = max(end, hbm_end) + self.latency
        inflight = self.inflight
        while inflight and inflight[0][0] <= now:
            inflight.popleft()
        inflight.append((done, step.to_sram, step.sram_range, step.hbm_range))
        return start, done


class MxuUnit:
    __slots__ = (
        "array",
        "loader",
        "port",
        "drain_cycles",
        "buffers",
        "release",
        "current",
        "weights_ready",
        "weight_rate",
        "n",
        "done",
    )

    def __init__(self, array: Track, loader: Track, port: SramPort, hw: Hardware, weight_buffers: int) -> None:
        self.array = array
        self.loader = loader
        self.port = port
        self.drain_cycles = float(hw.mxu_rows + hw.mxu_cols)
        self.buffers = weight_buffers
        self.release = [0.0] * weight_buffers  # when each weight buffer's last matmul has drained
        self.current = 0
        self.weights_ready = 0.0
        self.weight_rate = 1.0
        self.n = 0
        self.done = 0.0  # when the latest matmul's results are all in the accumulator

    def ready(self, step: Step, waits: Waits) -> None:
        kind = step.kind
        if kind == LDW or kind == GEMM:
            waits.append(("in_order", self.loader.free_at))
            waits.append(("drain", self.release[self._next_buffer()]))
        if kind == MATMUL:
            waits.append(("weights", self.weights_ready))
        if kind == MATMUL or kind == ACC_STORE:
            waits.append(("in_order", self.array.free_at))
        if kind == ACC_STORE:
            waits.append(("drain", self.done))

    def run(self, step: Step, pc: int, now: float, waits: Waits) -> tuple[float, float]:
        kind = step.kind
        if kind == LDW:
            end = self.port.transfer(now, step.sram_bytes, step.cycles)
            self.loader.occupy(waits, now, now + step.cycles, end, pc)
            self._loaded(end, step.rate, step.n)
            return now, end
        if kind == MATMUL:
            # The slower of the activation and loaded weight dtypes sets the pace; keep it on
            # the step, with the flops, for the report's peak.
            step.rate = min(step.rate, self.weight_rate)
            cycles = step.m / step.rate
            end = self.port.transfer(now, step.sram_bytes, cycles)
            self.array.occupy(waits, now, now + cycles, end, pc)
            step.flops = 2.0 * step.m * step.k * self.n
            return now, self._streamed(end)
        if kind == ACC_STORE:
            end = self.port.transfer(now, step.sram_bytes, step.cycles)
            self.array.occupy(waits, now, now + step.cycles, end, pc)
            return now, end
        return now, self._gemm(step, pc, now, waits)

    def _gemm(self, step: Step, pc: int, now: float, waits: Waits) -> float:
        """`mxu.ldw` + `mxu.matmul` per chunk of `rows` of k; the SRAM port is booked once for all."""
        stream = step.m / step.rate
        loader, array, release = self.loader, self.array, self.release
        first = now + step.loads[0]
        loader.occupy(waits, now, first, first, pc)
        self._loaded(first, step.rate, step.n)
        array_waits = [*waits, ("in_order", array.free_at), ("weights", first)]
        start = max(t for _, t in array_waits)
        array.occupy(array_waits, start, start + stream, start + stream, pc)
        self._streamed(start + stream)
        later = step.loads[1:]
        if self.buffers == 1 and array.events is None and later:
            self._single_buffer_chunks(later, stream)
        # Later chunks, inlined for speed: each load waits for the buffer it overwrites to
        # drain, each stream for its load (and for the previous stream, long done by then).
        for load in later if self.buffers > 1 or array.events is not None else ():
            buffer = (self.current + 1) % self.buffers
            drained = release[buffer]
            free = loader.free_at
            if drained > free:
                loader.stall("drain", free, drained)
                free = drained
            loaded = free + load
            loader.run(free, loaded, pc)
            self.current = buffer
            self.weights_ready = loaded
            cursor = array.free_at
            if drained > cursor:
                array.stall("drain", cursor, drained)
                cursor = drained
            if loaded > cursor:
                array.stall("weights", cursor, loaded)
                cursor = loaded
            array.run(cursor, cursor + stream, pc)
            self._streamed(cursor + stream)
        natural = array.free_at
        end = self.port.transfer(now, step.sram_bytes, natural - now)
        if end > natural:
            array.slow_to(end)
            self._streamed(end)
        return self.done

    def _single_buffer_chunks(self, loads: tuple[int, ...], stream: float) -> None:
        """The chunk loop of `_gemm` in closed form, for one weight buffer and no events.

        Every chunk is the same sequence: drain the last stream, load, stream; so the
        loader waits `stream + drain` per chunk and the array `drain` plus the load.
        """
        count, loading, drain = len(loads), float(sum(loads)), self.drain_cycles
        loader, array = self.loader, self.array
        # The first later load waits from the first load's end; the rest from the stream before.
        loader.stalls["drain"] += array.free_at + drain - loader.free_at + (count - 1) * (stream + drain)
        loader.busy += loading
        array.stalls["drain"] += count * drain
        array.stalls["weights"] += loading
        array.busy += count * stream
        end = array.free_at + count * (drain + stream) + loading
        loader.free_at = self.weights_ready = end - stream
        array.free_at = end
        self._streamed(end)

    def _next_buffer(self) -> int:
        return (self.current + 1) % self.buffers

    def _loaded(self, end: float, rate: float, n: int) -> None:
        self.current = self._next_buffer()
        self.weights_ready = end
        self.weight_rate = rate
        self.n = n

    def _streamed(self, end: float) -> float:
        drained = end + self.drain_cycles
        # One buffer: no PE may change weights until the last wavefront has left the array.
        # A shadow buffer swaps in behind the last wavefront, PE by PE, so the tile it
        # replaced is free once the last row has entered.
        released = drained if self.buffers == 1 else end
        self.release[self.current] = max(self.release[self.current], released)
        self.done = max(self.done, drained)
        return self.done


class VpuUnit:
    __slots__ = ("track", "port")

    def __init__(self, track: Track, port: SramPort) -> None:
        self.track = track
        self.port = port

    def ready(self, step: Step, waits: Waits) -> None:
        waits.append(("in_order", self.track.free_at))

    def run(self, step: Step, pc: int, now: float, waits: Waits) -> tuple[float, float]:
        end = self.port.transfer(now, step.sram_bytes, step.cycles)
        self.track.occupy(waits, now, now + step.cycles, end, pc)
        return now, end


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]
