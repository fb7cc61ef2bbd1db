"""A step at the model's full window is priced; one beyond it is priced with a warning."""

import pytest

from fabless.graph.builder import ContextBeyondWindowWarning, decode_graph, prefill_graph
from fabless.model import Precision, load_model_config


def test_decode_with_a_cache_of_exactly_max_positions_tokens_is_priced_without_a_warning():
    config = load_model_config("llama-3-8b")
    graph = decode_graph(config, Precision(), batch=1, context=config.max_positions)
    assert graph.cost().bytes > 0


def test_prefill_of_the_whole_window_is_priced_without_a_warning():
    config = load_model_config("smollm2-135m")
    assert prefill_graph(config, Precision(), batch=1, seq=config.max_positions).cost().flops > 0


def test_context_beyond_the_window_warns_and_is_still_priced():
    config = load_model_config("llama-3-8b")
    with pytest.warns(ContextBeyondWindowWarning, match=r"context 16385 exceeds llama-3-8b's max_position_embeddings"):
        graph = decode_graph(config, Precision(), batch=1, context=2 * config.max_positions + 1)
    assert graph.cost().bytes > decode_graph(config, Precision(), 1, config.max_positions).cost().bytes
