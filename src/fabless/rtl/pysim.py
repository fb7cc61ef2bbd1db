"""Run a program on the core in Amaranth's Python simulator (small arrays: it is slow)."""

from amaranth.sim import Simulator

from fabless.errors import FablessError
from fabless.rtl.config import RtlConfig
from fabless.rtl.core import Core
from fabless.rtl.image import CoreImage, RtlRun, image_from_rows


def run_pysim(config: RtlConfig, words: list[bytes], image: CoreImage, max_cycles: int = 1_000_000) -> RtlRun:
    """Load `words` and `image` through the host ports, run to the end, read the memories."""
    if len(words) > config.imem_depth:
        raise FablessError(
            f"{len(words)} instructions do not fit the {config.imem_depth}-entry instruction queue"
        )
    core = Core(config)
    spad_in, acc_in = image.spad_rows(config), image.acc_rows()
    result: dict[str, object] = {}

    async def bench(ctx) -> None:  # type: ignore[no-untyped-def]
        # Memories are loaded and dumped directly: through the host ports every row
        # would cost a simulated cycle, and the Python simulator is slow.
        banks = core.scratchpad.banks
        for index, word in enumerate(words):
            ctx.set(core.imem.data[index], int.from_bytes(word, "little"))
        for index, value in enumerate(spad_in):
            ctx.set(banks[index % 2].data[index // 2], value)
        columns = core.accumulator.banks
        for index, value in enumerate(acc_in):
            for col, bank in enumerate(columns):
                ctx.set(bank.data[index], (value >> (32 * col)) & 0xFFFFFFFF)
        ctx.set(core.count, len(words))
        ctx.set(core.start, 1)
        await ctx.tick()
        ctx.set(core.start, 0)
        cycles = 1
        while ctx.get(core.busy):
            if cycles >= max_cycles:
                raise FablessError(f"the core ran past {max_cycles} cycles: raise max_cycles")
            await ctx.tick()
            cycles += 1
        result["cycles"] = cycles
        result["error"] = bool(ctx.get(core.error))
        result["spad"] = [ctx.get(banks[index % 2].data[index // 2]) for index in range(len(spad_in))]
        result["acc"] = [
            sum(ctx.get(bank.data[index]) << (32 * col) for col, bank in enumerate(columns))
            for index in range(len(acc_in))
        ]

    sim = Simulator(core)
    sim.add_clock(1e-9)
    sim.add_testbench(bench)
    sim.run()
    return RtlRun(
        image_from_rows(config, result["spad"], result["acc"]),  # type: ignore[arg-type]
        int(result["cycles"]),  # type: ignore[call-overload]
        bool(result["error"]),
    )

