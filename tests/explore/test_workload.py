"""Workload files: strict schema and one-line errors naming the field."""

import pytest

from fabless.errors import FablessError
from fabless.explore import load_workload

MIX = '[[mix]]\nmodel = "llama-3-8b"\nshare = 1.0\ninput = 128\noutput = 16\n'


@pytest.mark.parametrize(("text", "message"), [
    ('name = "w"\n[slo]\ntpot_s = 0.05\n[[mix]]\nmodel = "llama-9"\nshare = 1.0\ninput = 8\noutput = 8\n',
     "mix.0.model: unknown model 'llama-9'"),
    ('name = "w"\n[slo]\ntpot_s = 0.05\n[[mix]]\nmodel = "llama-3-8b"\nshare = 0.5\ninput = 8\noutput = 8\n',
     "mix: shares sum to 0.5"),
    ('name = "w"\nobjectives = ["speed"]\n[slo]\ntpot_s = 0.05\n' + MIX, "objectives: unknown objective 'speed'"),
    ('name = "w"\n[slo]\ntpot_s = -1\n' + MIX, "slo.tpot_s: Input should be greater than 0"),
    ('name = "w"\n[slo]\ntpot_s = 0.05\n[constraints]\nmax_tdp = 5\n' + MIX, "constraints.max_tdp: Extra inputs"),
    ('name = "w"\n[slo]\ntpot_s = 0.05\n[[mix]]\nmodel = "llama-3-8b"\nshare = 1.0\ninput = 9000\noutput = 9000\n',
     "mix.0: input + output = 18,000 tokens exceed"),
    ('name = "w"\n' + MIX, "slo is missing"),
])
def test_a_bad_workload_is_one_line_naming_the_field(write, text, message):
    path = write("workload.toml", text)
    with pytest.raises(FablessError) as error:
        load_workload(path)
    assert str(error.value).startswith(str(path)) and message in str(error.value) and "\n" not in str(error.value)


def test_the_shipped_workload_loads(shipped):
    workload = load_workload(shipped[1])
    assert [r.config.name for r in workload.requests] == ["llama-3-70b", "llama-3.1-405b", "mixtral-8x7b"]
    assert sum(r.share for r in workload.requests) == pytest.approx(1.0)
    assert workload.precision.weights == "fp8" and workload.objectives == ("tokens_per_usd",)
