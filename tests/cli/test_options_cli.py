"""Numbers on the command line are checked before any work, and renamed options keep their old spelling."""

import json

import pytest

SERVE = ("serve", "--model", "llama-3-8b", "--chip", "h100")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((*SERVE, "--rate", "nan"),
         "error: --rate must be auto or a number of requests per second in (0, 1e+06] (got nan)"),
        ((*SERVE, "--rate", "-3"),
         "error: --rate must be auto or a number of requests per second in (0, 1e+06] (got -3)"),
        ((*SERVE, "--slo-tpot", "inf"),
         "error: Invalid value for '--slo-tpot': must be a number in (0, 3600] (got inf); see `fabless serve --help`"),
        ((*SERVE, "--slo-ttft", "0"),
         "error: Invalid value for '--slo-ttft': must be a number in (0, 3600] (got 0); see `fabless serve --help`"),
        ((*SERVE, "--length-spread", "1"),
         "error: Invalid value for '--length-spread': must be a number in [0, 1) (got 1); see `fabless serve --help`"),
        ((*SERVE, "--length-spread", "-0.1"),
         "error: Invalid value for '--length-spread': must be a number in [0, 1) (got -0.1); "
         "see `fabless serve --help`"),
        ((*SERVE, "--requests", "1000000000"),
         "error: Invalid value for '--requests': must be an integer from 1 to 1,000,000 (got 1,000,000,000); "
         "see `fabless serve --help`"),
        ((*SERVE, "--num-chips", "0"),
         "error: Invalid value for '--num-chips': must be an integer from 1 to 65,536 (got 0); "
         "see `fabless serve --help`"),
        (("estimate", "gemm", "--chip", "h100", "--m", "0", "--n", "1", "--k", "1"),
         "error: Invalid value for '--m': must be an integer from 1 to 16,777,216 (got 0); "
         "see `fabless estimate gemm --help`"),
        (("tco", "--model", "llama-3-8b", "--chips", "fab1,h100", "--batch", "-1"),
         "error: Invalid value for '--batch': must be an integer from 1 to 65,536 (got -1); see `fabless tco --help`"),
        (("plan", "--model", "llama-3-8b", "--chip", "h100", "--slo-tpot", "nan"),
         "error: Invalid value for '--slo-tpot': must be a number in (0, 3600] (got nan); see `fabless plan --help`"),
    ],
)
def test_bad_numbers_are_one_line_naming_the_flag_and_range(cli, args, message):
    code, stdout, err = cli(*args)
    assert (code, stdout, err) == (2, "", message + "\n")


def test_serve_chips_is_a_hidden_alias_of_num_chips(cli):
    args = (*SERVE, "--rate", "2", "--requests", "20", "--input", "128", "--output", "8", "--json")
    new = json.loads(cli(*args, "--num-chips", "2")[1])
    old = json.loads(cli(*args, "--chips", "2")[1])
    assert new["chips"] == old["chips"] == 2 and new["ttft_p50_s"] == old["ttft_p50_s"]
    code, help_text, _ = cli("serve", "--help")
    assert code == 0 and "--num-chips" in help_text and "--chips " not in help_text


def test_estimate_chips_is_a_hidden_alias_of_num_chips(cli):
    args = ("estimate", "decode", "--chip", "h100", "--model", "llama-3-70b", "--batch", "8", "--json")
    assert json.loads(cli(*args, "--num-chips", "2")[1]) == json.loads(cli(*args, "--chips", "2")[1])
    code, _, err = cli(*args)
    assert code == 2 and err.endswith("it needs 2 chips (pass --num-chips 2)\n")


def test_tco_input_len_is_a_hidden_alias_of_input(cli):
    args = ("tco", "--model", "llama-3-8b", "--chips", "fab1,h100", "--json")
    new = json.loads(cli(*args, "--input", "512", "--output", "64")[1])
    old = json.loads(cli(*args, "--input-len", "512", "--output-len", "64")[1])
    assert new == old
    assert new != json.loads(cli(*args)[1])


def test_usage_errors_are_one_line(cli):
    code, _, err = cli("nosuch")
    assert (code, err) == (2, "error: No such command 'nosuch'; see `fabless --help`\n")
