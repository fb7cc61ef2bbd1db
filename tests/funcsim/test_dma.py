"""DMA copies: strided 2-D load and store, gather and scatter by run-time index."""

import numpy as np
import pytest

from fabless.funcsim import ProgramError
from fabless.isa import DmaGather, DmaLoad, DmaScatter, DmaStore, LinkSend, Program


def test_strided_load_then_store_moves_a_sub_block(sim):
    table = np.arange(16 * 10, dtype=np.int16).reshape(16, 10)
    sim.write_hbm(0x100, table)
    program = Program({"dma1": (
        # rows 2..5, columns 3..6 of the table: 4 rows of 8 bytes, HBM stride 20 B
        DmaLoad(hbm_addr=0x100 + 2 * 20 + 3 * 2, sram_addr=0x40, rows=4, row_bytes=8, hbm_stride=20, sram_stride=16),
        DmaStore(sram_addr=0x40, hbm_addr=0x1000, rows=4, row_bytes=8, sram_stride=16, hbm_stride=8),
    )})
    stats = sim.run(program)
    np.testing.assert_array_equal(sim.read_hbm(0x1000, (4, 4), np.int16), table[2:6, 3:7])
    assert (stats.hbm_read_bytes, stats.hbm_written_bytes) == (32, 32)


def test_gather_reads_rows_by_index_and_scatter_writes_them_back(sim):
    table = np.arange(6 * 4, dtype=np.float32).reshape(6, 4)
    sim.write_hbm(0x0, table)
    sim.write_sram(1, 0x0, np.array([4, 0, 4], np.int32))
    sim.write_sram(1, 0x10, np.array([1, 2, 3], np.int32))
    program = Program({"c1.dma0": (
        DmaGather(index_addr=0x0, count=3, table_addr=0x0, table_stride=16, row_bytes=16, sram_addr=0x100,
                  sram_stride=16),
        DmaScatter(index_addr=0x10, count=3, table_addr=0x1000, table_stride=32, row_bytes=16, sram_addr=0x100,
                   sram_stride=16),
    )})
    sim.run(program)
    np.testing.assert_array_equal(sim.read_sram(1, 0x100, (3, 4), np.float32), table[[4, 0, 4]])
    written = sim.read_hbm(0x1000, (4, 8), np.float32)[:, :4]
    np.testing.assert_array_equal(written[1:4], table[[4, 0, 4]])


def test_gather_index_outside_hbm_names_the_instruction_and_index(sim):
    sim.write_sram(0, 0x0, np.array([0, -1], np.int32))
    gather = DmaGather(index_addr=0x0, count=2, table_addr=0x0, table_stride=64, row_bytes=64, sram_addr=0x100,
                       sram_stride=64)
    with pytest.raises(ProgramError, match=r"^dma0\[0\] dma.gather index_addr=0x0 .*: index\[1\] = -1 is outside"):
        sim.run(Program({"dma0": (gather,)}))


def test_load_past_the_end_of_hbm_names_stream_index_and_instruction(sim):
    load = DmaLoad(hbm_addr=(1 << 20) - 8, sram_addr=0, rows=2, row_bytes=8, hbm_stride=8, sram_stride=8)
    message = (r"^dma0\[1\] dma.load hbm_addr=0xffff8 sram_addr=0x0 rows=2 row_bytes=8 hbm_stride=8 sram_stride=8: "
               r"HBM bytes \[0xffff8, 0x100008\) are outside its 0x100000 bytes$")
    with pytest.raises(ProgramError, match=message):
        sim.run(Program({"dma0": (DmaStore(sram_addr=0, hbm_addr=0, rows=1, row_bytes=1, sram_stride=0,
                                           hbm_stride=0), load)}))


def test_store_past_the_end_of_sram_is_rejected(sim):
    store = DmaLoad(hbm_addr=0, sram_addr=(1 << 16) - 4, rows=1, row_bytes=8, hbm_stride=0, sram_stride=0)
    with pytest.raises(ProgramError, match=r"core 0 SRAM bytes \[0xfffc, 0x10004\) are outside its 0x10000 bytes"):
        sim.run(Program({"dma0": (store,)}))


def test_overlapping_destination_rows_are_rejected(sim):
    load = DmaLoad(hbm_addr=0, sram_addr=0, rows=2, row_bytes=8, hbm_stride=8, sram_stride=4)
    with pytest.raises(ProgramError, match="destination rows overlap: stride 4 is below the row's 8 bytes"):
        sim.run(Program({"dma0": (load,)}))


def test_link_send_needs_a_multichip_simulation(sim):
    send = LinkSend(link=0, sram_addr=0, remote_hbm_addr=0, rows=1, row_bytes=4, sram_stride=4, hbm_stride=4,
                    remote_sem=0)
    with pytest.raises(ProgramError, match="link.send needs a multi-chip simulation"):
        sim.run(Program({"dma0": (send,)}, semaphores=1))
