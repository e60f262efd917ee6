"""The NTK benchmark CLI: JSON lines with the required keys, agreement of both methods, argument errors.

No timing assertions: machines are noisy; only that the rates are positive and finite.
"""

from __future__ import annotations

import json
import math

import pytest

from estimators.bench import main

TINY = [
    "--width",
    "16",
    "--depth",
    "2",
    "--networks",
    "8",
    "--seconds",
    "0.05",
    "--conv-channels",
    "4",
    "--conv-positions",
    "5",
    "--conv-depth",
    "2",
]
REQUIRED = {"name", "nets_per_s", "ratio_vs_torch_func", "device", "width", "depth", "inputs", "dtype", "max_rel_diff"}


def json_rows(capsys: pytest.CaptureFixture[str], argv: list[str]) -> list[dict[str, object]]:
    """Run ``main(argv)``, check it succeeds, and parse every stdout line as one JSON object."""
    assert main(argv) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    return [json.loads(line) for line in lines]


def test_json_lines_have_required_keys_and_positive_rates(capsys: pytest.CaptureFixture[str]) -> None:
    """``--json`` prints one object per method with the documented keys, positive rates, agreeing Grams."""
    rows = json_rows(capsys, ["--json", *TINY])
    assert [row["name"] for row in rows] == [
        "factorised",
        "torch_func_jacrev",
        "exact_lowrank",
        "composed-vanilla",
        "conv",
    ]
    composed, conv = rows[3:]
    rows = rows[:3]
    by_name = {row["name"]: row for row in rows}
    for row in rows:
        assert row.keys() >= REQUIRED
        assert isinstance(row["nets_per_s"], float) and math.isfinite(row["nets_per_s"]) and row["nets_per_s"] > 0
        assert row["device"] in ("cpu", "cuda")
        assert (row["width"], row["depth"], row["inputs"], row["dtype"]) == (16, 2, 2, "float64")
        assert 0 <= row["max_rel_diff"] < 1e-9
    assert by_name["torch_func_jacrev"]["ratio_vs_torch_func"] == 1.0
    for name in ("factorised", "exact_lowrank"):
        ratio = by_name[name]["nets_per_s"] / by_name["torch_func_jacrev"]["nets_per_s"]
        assert by_name[name]["ratio_vs_torch_func"] == pytest.approx(ratio)
    assert by_name["exact_lowrank"]["weight_drawing_timed"] is True
    for row in (composed, conv):
        assert row["nets_per_s"] > 0 and row["ratio_vs_torch_func"] > 0 and 0 <= row["max_rel_diff"] < 1e-9
        assert row["weight_drawing_timed"] is False
    assert composed["ratio_vs_hand_built"] == pytest.approx(composed["nets_per_s"] / composed["hand_built_nets_per_s"])
    assert (conv["channels"], conv["positions"], conv["depth"]) == (4, 5, 2)


def test_end_to_end_rows_time_drawing_and_compare_with_float32_randn(capsys: pytest.CaptureFixture[str]) -> None:
    """``--end-to-end``: dense/exact x float32/float64 and the conv net, drawing timed, RNG-bound fractions."""
    argv = ["--end-to-end", "--json", *TINY, "--end-to-end-draws", "16", "--end-to-end-exact-draws", "32"]
    rows = json_rows(capsys, argv)
    names = [row["name"] for row in rows]
    assert names == [
        f"end-to-end-{kind}-{dtype}" for kind in ("dense", "exact", "conv-dense") for dtype in ("float32", "float64")
    ]
    for row in rows:
        assert row["weight_drawing_timed"] is True and row["nets_per_s"] > 0 and row["randn_float32_per_s"] > 0
        expected = row["nets_per_s"] * row["normals_per_net"] / row["randn_float32_per_s"]
        assert row["rng_bound_fraction"] == pytest.approx(expected)
    dense = rows[0]
    assert dense["normals_per_net"] == 16 * 8 + 2 * 16 * 16 + 16  # every weight of VanillaNet(8, 2, 16)


def test_float32_and_uneven_batches_agree(capsys: pytest.CaptureFixture[str]) -> None:
    """float32 with a batch that does not divide the networks still compares the same nets."""
    rows = json_rows(capsys, ["--json", *TINY, "--dtype", "float32", "--batch", "3", "--inputs", "3"])
    assert all(row["dtype"] == "float32" and row["inputs"] == 3 for row in rows)
    assert rows[0]["max_rel_diff"] < 1e-3


def test_table_says_weight_drawing_is_excluded(capsys: pytest.CaptureFixture[str]) -> None:
    """The default output is a table naming the methods and what each timing covers."""
    assert main(TINY) == 0
    out = capsys.readouterr().out
    assert "factorised" in out and "torch_func_jacrev" in out and "exact_lowrank" in out
    assert "weights drawn once beforehand" in out and "sampling included" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["--width", "0"],
        ["--depth", "0"],
        ["--inputs", "0"],
        ["--networks", "-3"],
        ["--width", "abc"],
        ["--device", "tpu"],
        ["--dtype", "float16"],
        ["--seconds", "-1"],
    ],
)
def test_bad_arguments_exit_with_code_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Bad values are argparse errors: SystemExit(2) and a message on stderr."""
    with pytest.raises(SystemExit) as excinfo:
        main(argv)
    assert excinfo.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_cuda_without_cuda_is_an_argument_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--device cuda`` on a machine without CUDA is reported by argparse (exit 2), not a traceback."""
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    with pytest.raises(SystemExit) as excinfo:
        main(["--device", "cuda", *TINY])
    assert excinfo.value.code == 2
    assert "cuda" in capsys.readouterr().err


def test_disagreeing_methods_exit_with_code_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """If the baseline's Gram matrices differ from ours, the run reports it and exits 1."""
    import estimators.bench as bench
    import estimators.bench_composed as bench_composed

    original = bench.jacrev_gram
    for module in (bench, bench_composed):
        monkeypatch.setattr(module, "jacrev_gram", lambda spec, weights, x: 1.01 * original(spec, weights, x))
    assert main(["--json", *TINY]) == 1
    captured = capsys.readouterr()
    assert all(json.loads(line)["max_rel_diff"] > 1e-3 for line in captured.out.splitlines())
    assert "differ" in captured.err


def test_sampler_grid_json_rows_carry_ratio_vs_dense(capsys: pytest.CaptureFixture[str]) -> None:
    """``--sampler-grid --json``: one row per (width, k, sampler) with positive rates and ratio_vs_dense."""
    argv = ["--sampler-grid", "--json", "--grid-widths", "16,24", "--grid-inputs", "1,3", "--depth", "2"]
    rows = json_rows(capsys, [*argv, "--seconds", "0.02"])
    assert {(row["width"], row["inputs"], row["name"]) for row in rows} == {
        (w, k, name) for w in (16, 24) for k in (1, 3) for name in ("dense_sampler", "exact_lowrank")
    }
    dense_rate = {(r["width"], r["inputs"]): r["nets_per_s"] for r in rows if r["name"] == "dense_sampler"}
    for row in rows:
        assert math.isfinite(row["nets_per_s"]) and row["nets_per_s"] > 0 and row["sampling_timed"] is True
        assert row["ratio_vs_dense"] == pytest.approx(row["nets_per_s"] / dense_rate[row["width"], row["inputs"]])


@pytest.mark.parametrize("bad", ["0", "1,x", ""])
def test_sampler_grid_rejects_bad_lists(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    """Grid lists must be comma-separated integers >= 1 (argparse error, exit 2)."""
    with pytest.raises(SystemExit) as excinfo:
        main(["--sampler-grid", "--grid-widths", bad])
    assert excinfo.value.code == 2
    assert "error:" in capsys.readouterr().err


@pytest.mark.parametrize("options", [[], ["--independent-depths"], ["--sweep-sampler", "exact"]])
def test_fig3a_sweep_smoke(capsys: pytest.CaptureFixture[str], options: list[str]) -> None:
    """``--fig3a-sweep --json``: seconds per architecture and one finite V per depth, diagonal and off-diagonal."""
    argv = ["--fig3a-sweep", "--json", "--sweep-depths", "3", "--sweep-draws", "32", "--width", "16", *options]
    (result,) = json_rows(capsys, argv)
    assert set(result) == {"vanilla", "resnet", "densenet", "total_seconds", "sampler", "shared_forward"}
    assert result["shared_forward"] is (options == [])
    for name in ("vanilla", "resnet", "densenet"):
        row = result[name]
        assert len(row["v_diagonal"]) == len(row["v_off_diagonal"]) == 3 and row["seconds"] > 0
        assert all(math.isfinite(v) and v > 0 for v in row["v_diagonal"] + row["v_off_diagonal"])
