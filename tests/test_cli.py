from __future__ import annotations

from typer.testing import CliRunner

from archrank.cli import app

runner = CliRunner()
BEST = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"


def test_top_nb101_prints_ten_specs():
    result = runner.invoke(app, ["top", "nb101", "-k", "10"])
    assert result.exit_code == 0, result.output
    lines = [ln for ln in result.output.splitlines() if "|input," in ln]
    assert len(lines) == 10
    assert "94.9119" in lines[0]


def test_top_nb201_and_query():
    result = runner.invoke(app, ["top", "nb201", "--dataset", "cifar10", "-k", "1"])
    assert result.exit_code == 0 and "94.3733" in result.output and BEST in result.output
    result = runner.invoke(app, ["query", "nb201", BEST, "--metric", "test_accuracy"])
    assert result.exit_code == 0 and "index: 6111" in result.output and "94.3733" in result.output
    result = runner.invoke(app, ["query", "nb101", "00005c142e6f48ac74fdcf73e3439874"])
    assert result.exit_code == 0 and "valid_accuracy@108: 93.0489" in result.output


def test_listings():
    assert "nb101" in runner.invoke(app, ["spaces"]).output
    result = runner.invoke(app, ["datasets"])
    assert result.exit_code == 0 and "nb201/ImageNet16-120: 15625 architectures" in result.output


def test_bad_input_exits_2_with_a_message():
    for args in (
        ["query", "nb201", "|nope~0|+|none~0|none~1|+|none~0|none~1|none~2|"],
        ["top", "nb201", "--metric", "accuracy"],
        ["top", "nb999"],
        ["query", "nb101", "0" * 32],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert "error:" in result.output
