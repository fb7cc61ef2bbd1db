"""`fabless estimate gemm|prefill|decode`."""
