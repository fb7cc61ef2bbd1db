"""A paged KV cache: fixed-size blocks of tokens, handed out and taken back whole.

The simulator only needs how many blocks are free, not which: a sequence holding `t`
tokens holds ceil(t / block_tokens) blocks, and the last one is partly empty, which is
the internal fragmentation paging accepts.
"""

import math
from dataclasses import dataclass

from fabless.checks import whole
from fabless.errors import FablessError

MAX_KV_TOKENS = 2**40
"""KV cache of one instance: a trillion tokens, thousands of times what a rack's HBM holds."""
MAX_BLOCK_TOKENS = 2**16
"""Tokens per KV block; engines use 16 to 256."""


@dataclass
class PagedKVCache:
    total_blocks: int
    block_tokens: int = 16

    def __post_init__(self) -> None:
        self.block_tokens = whole("block_tokens", self.block_tokens, 1, MAX_BLOCK_TOKENS)
        self.total_blocks = whole("total_blocks", self.total_blocks, 0, MAX_KV_TOKENS)
        if self.total_blocks < 1:
            raise FablessError(
                "no room for a KV cache: the weights leave no HBM for even one block; "
                "use more chips or a smaller precision"
            )
        self.free_blocks = self.total_blocks

    @classmethod
    def from_capacity(cls, capacity_tokens: int, block_tokens: int = 16) -> "PagedKVCache":
        """As many whole blocks as `capacity_tokens` of KV memory holds."""
        return cls(total_blocks=capacity_tokens // block_tokens, block_tokens=block_tokens)

    @property
    def capacity_tokens(self) -> int:
        return self.total_blocks * self.block_tokens

    @property
    def used_blocks(self) -> int:
        return self.total_blocks - self.free_blocks

    def blocks_for(self, tokens: int) -> int:
        return math.ceil(tokens / self.block_tokens)

    def allocate(self, blocks: int) -> bool:
        """Take `blocks` if that many are free; otherwise take none and say so."""
        if blocks > self.free_blocks:
            return False
        self.free_blocks -= blocks
        return True

    def release(self, blocks: int) -> None:
        self.free_blocks += blocks
        if self.free_blocks > self.total_blocks:
            raise AssertionError("released more KV blocks than were allocated")
