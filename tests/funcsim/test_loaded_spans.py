"""Which SRAM writes can land on a program's dma.load copies: merged ranges against a scan."""

from hypothesis import given
from hypothesis import strategies as st

from fabless.funcsim.simulator import _Loaded

spans = st.tuples(st.integers(0, 200), st.integers(1, 30)).map(lambda s: (s[0], s[0] + s[1]))


@given(st.lists(spans, max_size=8), spans)
def test_a_write_touches_the_loads_exactly_when_it_overlaps_one(loads, write):
    start, end = write
    assert _Loaded(loads).touches(start, end) == any(a < end and start < b for a, b in loads)
