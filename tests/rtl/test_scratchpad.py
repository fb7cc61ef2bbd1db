"""The scratchpad reads and writes up to a row at any byte address, like a byte array."""

from amaranth.sim import Simulator
from hypothesis import given, settings
from hypothesis import strategies as st

from fabless.rtl.config import RtlConfig
from fabless.rtl.hierarchy import Placer
from fabless.rtl.scratchpad import Scratchpad

CONFIG = RtlConfig(rows=5, cols=8, spad_bytes=96, acc_rows=4)
ROW = CONFIG.spad_row_bytes

access = st.tuples(
    st.booleans(),
    st.integers(0, CONFIG.spad_bytes - 1),
    st.integers(0, ROW),
    st.integers(0, 2 ** (8 * ROW) - 1),
)


@settings(max_examples=15, deadline=None)
@given(accesses=st.lists(access, min_size=1, max_size=24))
def test_unaligned_reads_and_writes_match_a_byte_array(accesses):
    spad = Scratchpad(CONFIG, Placer(shared=False))
    model = bytearray(CONFIG.spad_bytes)
    seen: list[tuple[bytes, bytes]] = []

    async def bench(ctx):  # type: ignore[no-untyped-def]
        for is_write, addr, length, data in accesses:
            length = min(length, CONFIG.spad_bytes - addr)
            if is_write:
                ctx.set(spad.wr_en, 1)
                ctx.set(spad.wr_addr, addr)
                ctx.set(spad.wr_len, length)
                ctx.set(spad.wr_data, data)
                await ctx.tick()
                ctx.set(spad.wr_en, 0)
                model[addr : addr + length] = data.to_bytes(ROW, "little")[:length]
            else:
                ctx.set(spad.rd_addr, addr)
                await ctx.tick()
                got = ctx.get(spad.rd_data).to_bytes(ROW, "little")[:length]
                seen.append((got, bytes(model[addr : addr + length])))

    sim = Simulator(spad)
    sim.add_clock(1e-9)
    sim.add_testbench(bench)
    sim.run()
    for got, want in seen:
        assert got == want
