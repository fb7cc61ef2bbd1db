"""Run numpy's BLAS on one thread while the functional simulator works.

The simulator issues thousands of small matrix products per step; OpenBLAS threads cost
more to wake than such products take, and on a busy machine they wait for cores: one
step measured 20x slower with threads than without. Nothing here is needed for
correctness, so a BLAS that cannot be found is simply left alone.
"""

import ctypes
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

_SET = ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads")
_GET = ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads")


def _openblas() -> tuple[ctypes._CFuncPtr, ctypes._CFuncPtr] | None:  # type: ignore[name-defined]
    libs = Path(np.__file__).parent.parent / "numpy.libs"
    for path in sorted(libs.glob("lib*openblas*.so*")):
        lib = ctypes.CDLL(str(path))
        for set_name, get_name in zip(_SET, _GET, strict=True):
            if hasattr(lib, set_name) and hasattr(lib, get_name):
                return getattr(lib, set_name), getattr(lib, get_name)
    return None


_FUNCTIONS = _openblas()


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """numpy's OpenBLAS on one thread inside the block, as many as before after it."""
    if _FUNCTIONS is None:
        yield
        return
    set_threads, get_threads = _FUNCTIONS
    before = int(get_threads())
    set_threads(1)
    try:
        yield
    finally:
        set_threads(before)
