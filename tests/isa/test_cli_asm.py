"""`fabless asm` and `fabless disasm` round-trip a program and refuse bad input cleanly."""

import sys
from pathlib import Path

import pytest

from fabless.cli.app import main

EXAMPLE = Path(__file__).parents[1] / "funcsim" / "gemm_example.s"


def fabless(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["fabless", *args])
    try:
        main()
        code = 0
    except SystemExit as stop:
        code = stop.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


def test_asm_then_disasm_then_asm_gives_the_same_bytes(tmp_path, monkeypatch, capsys):
    first, text, second = tmp_path / "a.bin", tmp_path / "a.s", tmp_path / "b.bin"
    code, _, err = fabless(monkeypatch, capsys, "asm", str(EXAMPLE), "-o", str(first))
    assert code == 0 and "29 instructions (dma0 13, mxu0 16), 5 semaphores" in err
    code, out, _ = fabless(monkeypatch, capsys, "disasm", str(first))
    assert code == 0 and out.startswith(".semaphores 5\n.stream dma0\ndma.load hbm_addr=0x0")
    text.write_text(out)
    assert fabless(monkeypatch, capsys, "asm", str(text), "-o", str(second))[0] == 0
    assert first.read_bytes() == second.read_bytes()


def test_bad_source_is_one_line_with_its_line_number_and_writes_nothing(tmp_path, monkeypatch, capsys):
    source = tmp_path / "bad.s"
    source.write_text(".stream mxu0\nmxu.ldw w_addr=0 w_stride=0 k=70000 n=1 dtype=bf16\n")
    code, _, err = fabless(monkeypatch, capsys, "asm", str(source))
    assert code == 2
    assert err == f"error: {source}:2: mxu.ldw: k=70000 does not fit its 16-bit field (allowed 1..65535)\n"
    assert not (tmp_path / "bad.bin").exists()


def test_truncated_binary_is_refused(tmp_path, monkeypatch, capsys):
    whole = tmp_path / "a.bin"
    fabless(monkeypatch, capsys, "asm", str(EXAMPLE), "-o", str(whole))
    cut = tmp_path / "cut.bin"
    cut.write_bytes(whole.read_bytes()[:100])
    code, _, err = fabless(monkeypatch, capsys, "disasm", str(cut))
    assert code == 2 and err.startswith(f"error: {cut}") and err.count("\n") == 1
    assert "truncated" in err


@pytest.mark.parametrize("command", ["asm", "disasm"])
def test_missing_input_file_is_named(tmp_path, monkeypatch, capsys, command):
    code, _, err = fabless(monkeypatch, capsys, command, str(tmp_path / "none"))
    assert (code, err) == (2, f"error: {tmp_path / 'none'} does not exist: pass the path of a program file\n")
