"""A caveat reaches the user as one `warning:` line on stderr, and the result still prints."""

import json


def test_a_context_past_the_window_is_priced_with_a_one_line_warning(fabless):
    done = fabless("estimate", "decode", "--chip", "h100", "--model", "llama-3-8b", "--context", "9000", "--json")
    assert done.returncode == 0
    assert done.stderr == (
        "warning: context 9000 exceeds llama-3-8b's max_position_embeddings 8192: priced as if the model ran "
        "that long (a RoPE-scaled variant)\n"
    )
    assert json.loads(done.stdout)["time_s"] > 0
