# C[4, 8] = A[4, 32] @ B[32, 8] in bf16 with an fp32 result, on an MXU of at least 8x8.
# B streams through two 8-row SRAM buffers: dma0 fills one while mxu0 works on the other.
#
# HBM:  A at 0x0 (4 rows of 64 B), B at 0x1000 (32 rows of 16 B), C at 0x2000 (4 rows of 32 B)
# SRAM: A at 0x0, buffer 0 at 0x100, buffer 1 at 0x180, C at 0x200
# semaphores: 0/1 buffer 0/1 full, 2/3 buffer 0/1 free, 4 C ready
.semaphores 5

.stream dma0
dma.load hbm_addr=0x0 sram_addr=0x0 rows=4 row_bytes=64 hbm_stride=64 sram_stride=64
dma.load hbm_addr=0x1000 sram_addr=0x100 rows=8 row_bytes=16 hbm_stride=16 sram_stride=16
sem.signal sem=0
dma.load hbm_addr=0x1080 sram_addr=0x180 rows=8 row_bytes=16 hbm_stride=16 sram_stride=16
sem.signal sem=1
sem.wait sem=2
dma.load hbm_addr=0x1100 sram_addr=0x100 rows=8 row_bytes=16 hbm_stride=16 sram_stride=16
sem.signal sem=0
sem.wait sem=3
dma.load hbm_addr=0x1180 sram_addr=0x180 rows=8 row_bytes=16 hbm_stride=16 sram_stride=16
sem.signal sem=1
sem.wait sem=4
dma.store sram_addr=0x200 hbm_addr=0x2000 rows=4 row_bytes=32 sram_stride=32 hbm_stride=32

.stream mxu0
sem.wait sem=0
mxu.ldw w_addr=0x100 w_stride=16 k=8 n=8 dtype=bf16
sem.signal sem=2                 # the tile is in the MXU: buffer 0 may refill
mxu.matmul x_addr=0x0 x_stride=64 m=4 k=8 x_dtype=bf16 acc_row=0 accumulate=0
sem.wait sem=1
mxu.ldw w_addr=0x180 w_stride=16 k=8 n=8 dtype=bf16
sem.signal sem=3
mxu.matmul x_addr=0x10 x_stride=64 m=4 k=8 x_dtype=bf16 acc_row=0 accumulate=1
sem.wait sem=0
mxu.ldw w_addr=0x100 w_stride=16 k=8 n=8 dtype=bf16
mxu.matmul x_addr=0x20 x_stride=64 m=4 k=8 x_dtype=bf16 acc_row=0 accumulate=1
sem.wait sem=1
mxu.ldw w_addr=0x180 w_stride=16 k=8 n=8 dtype=bf16
mxu.matmul x_addr=0x30 x_stride=64 m=4 k=8 x_dtype=bf16 acc_row=0 accumulate=1
mxu.store acc_row=0 m=4 n=8 acc_dtype=fp32 out_addr=0x200 out_stride=32 out_dtype=fp32
sem.signal sem=4
