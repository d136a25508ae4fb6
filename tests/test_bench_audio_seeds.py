"""bench/audio_fsdd.py --extra-seeds: the LOSO figures per training seed, and --merge of split runs."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

@pytest.fixture()
def bench(audio_fsdd_bench):
    return audio_fsdd_bench


ACC = {  # seed -> held-out speaker -> accuracy (made up, distinct)
    "0": {"jackson": 0.97, "nicolas": 0.89, "theo": 0.98, "yweweler": 0.90},
    "1": {"jackson": 0.95, "nicolas": 0.87, "theo": 0.99, "yweweler": 0.91},
    "2": {"jackson": 0.96, "nicolas": 0.84, "theo": 0.97, "yweweler": 0.92},
}


def _rows(seed: str, speakers) -> dict:
    return {s: {"accuracy": ACC[seed][s], "train_seconds": 1.0, "epochs": [1], "n_params": 5, "threads": 1,
                "load_average": 1.0} for s in speakers}


def _write(path: Path, **result) -> Path:
    path.write_text(json.dumps({"threads": 1, "recipe": {"r": 1}, **result}))
    return path


def test_merge_pools_split_runs_of_extra_seeds_and_averages_each_speaker_over_seeds(bench, tmp_path, capsys):
    spk = sorted(ACC["0"])
    a = _write(tmp_path / "a.json", seed=0, loso={"per_speaker": _rows("0", spk)})
    b = _write(tmp_path / "b.json", seed=0, loso_extra_seeds={"1": _rows("1", spk[:2]), "2": _rows("2", spk[:2])})
    c = _write(tmp_path / "c.json", seed=0, loso_extra_seeds={"1": _rows("1", spk[2:]), "2": _rows("2", spk[2:])})
    out = bench.merge([a, b, c])
    s = out["loso_over_seeds"]
    assert s["seeds"] == [0, 1, 2] and set(s["per_speaker"]) == set(spk)
    for name in spk:
        accs = [ACC[k][name] for k in "012"]
        v = s["per_speaker"][name]
        assert v["mean"] == pytest.approx(sum(accs) / 3) and (v["min"], v["max"]) == (min(accs), max(accs))
        assert v["by_seed"] == {k: ACC[k][name] for k in "012"}
    assert s["worst_speaker"] == "nicolas" and s["worst"] == pytest.approx((0.89 + 0.87 + 0.84) / 3)
    assert s["mean"] == pytest.approx(sum(sum(ACC[k].values()) for k in "012") / 12)
    assert s["mean_by_seed"]["2"] == pytest.approx(sum(ACC["2"].values()) / 4)
    # the seed-0 section is untouched by the extra seeds
    assert out["loso"]["worst"] == 0.89 and out["loso"]["mean"] == pytest.approx(sum(ACC["0"].values()) / 4)
    # the CLI prints the table
    assert bench.main(["--merge", str(a), str(b), str(c)]) == 0
    printed = capsys.readouterr().out
    assert "seed 0 89.0%  seed 1 87.0%  seed 2 84.0%  -> mean 86.67%" in printed
    assert "worst speaker nicolas 86.67%" in printed


def test_over_seeds_leaves_out_speakers_without_every_seed_and_merge_refuses_mixed_seeds(bench, tmp_path):
    spk = sorted(ACC["0"])
    partial = {"seed": 0, "loso": {"per_speaker": _rows("0", spk)}, "loso_extra_seeds": {"1": _rows("1", ["theo"])}}
    s = bench.over_seeds(partial)
    assert list(s["per_speaker"]) == ["theo"] and s["worst"] == pytest.approx((0.98 + 0.99) / 2)
    assert bench.over_seeds({"seed": 0, "loso": {"per_speaker": _rows("0", spk)}}) is None
    a = _write(tmp_path / "a.json", seed=0, loso={"per_speaker": _rows("0", spk[:2])})
    b = _write(tmp_path / "b.json", seed=3, loso={"per_speaker": _rows("1", spk[2:])})
    with pytest.raises(ValueError, match="seed 3"):
        bench.merge([a, b])


@pytest.mark.parametrize("bad", ["1,x", "0,1", "2,2"])
def test_bad_extra_seeds_are_refused_with_a_message(bench, bad, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        bench.main(["--data-root", str(tmp_path), "--extra-seeds", bad])
    assert e.value.code == 2 and "--extra-seeds" in capsys.readouterr().err


def test_merge_pools_confirm_rows_and_prints_them_beside_the_default(bench, tmp_path, capsys):
    """--confirm: an ablation row at full length over seeds, split by speaker, pooled and set beside the default."""
    spk = sorted(ACC["0"])
    row = {k: {s: {"accuracy": ACC[k][s] - 0.01} for s in spk} for k in "012"}   # 1 point below the default
    rec = {"max_epochs": 100}
    a = _write(tmp_path / "a.json", seed=0, loso={"per_speaker": _rows("0", spk)},
               loso_extra_seeds={"1": _rows("1", spk), "2": _rows("2", spk)})
    b = _write(tmp_path / "b.json", seed=0, confirm={"default - x": {"recipe": rec, "by_seed": {
        k: {s: row[k][s] for s in spk[:2]} for k in "012"}}})
    c = _write(tmp_path / "c.json", seed=0, confirm={"default - x": {"recipe": rec, "by_seed": {
        k: {s: row[k][s] for s in spk[2:]} for k in "012"}}})
    out = bench.merge([a, b, c])
    s = out["confirm"]["default - x"]["over_seeds"]
    assert s["seeds"] == [0, 1, 2] and set(s["per_speaker"]) == set(spk)
    assert s["worst_speaker"] == "nicolas" and s["worst"] == pytest.approx((0.89 + 0.87 + 0.84) / 3 - 0.01)
    assert s["mean"] == pytest.approx(out["loso_over_seeds"]["mean"] - 0.01)
    assert bench.main(["--merge", str(a), str(b), str(c)]) == 0
    printed = capsys.readouterr().out
    assert "'default - x' at the default's length (100 epochs), training seeds [0, 1, 2]:" in printed
    assert "seed 0 88.0%  seed 1 86.0%  seed 2 83.0%  -> mean 85.67%   (default recipe, same seeds: 86.67%)" in printed
    d = _write(tmp_path / "d.json", seed=0, confirm={"default - x": {"recipe": {"max_epochs": 8}, "by_seed": {}}})
    with pytest.raises(ValueError, match="another recipe"):
        bench.merge([b, d])


@pytest.mark.parametrize("args, message", [(["--confirm", "no such row"], "unknown --confirm rows"),
                                           (["--confirm", "default - VTLP", "--confirm-seeds", "1,x"], "--confirm-seeds"),
                                           (["--confirm", "default - VTLP", "--confirm-seeds", "3,3"], "distinct")])
def test_bad_confirm_options_are_refused_before_any_data_is_read(bench, args, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        bench.main(["--data-root", str(tmp_path / "missing"), *args])
    assert e.value.code == 2 and message in capsys.readouterr().err


def test_confirm_rows_are_the_ablation_rows_at_the_default_length(bench):
    from dlcourse.audio.recipe import Recipe

    d = Recipe()
    rows = bench.confirm_rows(d)
    assert list(rows) == list(bench.ablation_rows(d, 8))
    assert all(r.max_epochs == d.max_epochs and r.time_budget is None for r in rows.values())
    assert rows["default recipe"] == d.replace(time_budget=None)
    assert rows["default - log floor"].features.log_floor != d.features.log_floor
