"""Fuzzing every input a user can hand Fabless: files, flags and output paths.

One harness (`harness.py`) runs cases from per-kind generators (`kind_*.py`) in a
forked worker with a timeout and a memory cap; the tests here and `bench/fuzz_inputs.py`
both drive it.
"""
