"""How a causal prefill's query rows are shared among cores (attention.query_row_shares)."""

import math

import pytest

from fabless.compiler.attention import query_row_shares


@pytest.mark.parametrize(
    ("edge", "tokens", "kv_len", "cores"),
    [
        (128, 256, 256, 8),
        (256, 256, 256, 4),
        (16, 140, 143, 8),
        (16, 7, 16, 8),
        (64, 256, 256, 1),
        (128, 9, 32, 8),
        (16, 28, 32, 3),
        (128, 1000, 1024, 8),
    ],
)
def test_shares_cover_the_rows_in_order(edge: int, tokens: int, kv_len: int, cores: int) -> None:
    got = query_row_shares(edge, edge, tokens, kv_len, cores)
    assert len(got) == cores
    assert got[0][0] == 0 and got[-1][1] == tokens
    assert all(a <= b for a, b in got)
    assert all(got[c][1] == got[c + 1][0] for c in range(cores - 1))


@pytest.mark.parametrize(("edge", "tokens", "cores"), [(128, 256, 8), (256, 256, 4), (16, 100, 8), (64, 256, 4)])
def test_with_a_core_per_segment_no_core_crosses_a_tile_edge(edge: int, tokens: int, cores: int) -> None:
    # A share across an edge would run a second row block's passes.
    for start, end in query_row_shares(edge, edge, tokens, tokens, cores):
        if end > start:
            assert start // edge == (end - 1) // edge


def test_later_rows_see_more_keys_so_their_shares_are_smaller() -> None:
    # fab1, 256 tokens: rows 128..255 attend twice the keys of rows 0..127.
    got = query_row_shares(128, 128, 256, 256, 8)
    first = [b - a for a, b in got if b <= 128]
    second = [b - a for a, b in got if a >= 128]
    assert len(first) + len(second) == 8
    assert min(first) > max(second)
    work = [(b - a) * (128 if b <= 128 else 256) for a, b in got]
    assert max(work) <= 1.25 * sum(work) / 8
    assert math.isclose(sum(b - a for a, b in got), 256)
