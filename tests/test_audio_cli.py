"""The baseline model and the CLI ``python -m dlcourse.audio train|evaluate``, end to end on generated data."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from dlcourse import training
from dlcourse.audio import augment as A
from dlcourse.audio import datasets as D
from dlcourse.audio import models as M

ROOT = Path(__file__).resolve().parents[1]


def test_audio_cnn_shapes_and_budget():
    model = M.AudioCNN(10, 40)
    assert training.count_parameters(model) <= 25_000
    model.eval()
    for frames in (63, 101, 20):
        assert model(torch.randn(3, 1, 40, frames)).shape == (3, 10)
    with pytest.raises(ValueError, match=r"\(N, 1, 40, frames\)"):
        model(torch.randn(3, 40, 63))
    with pytest.raises(ValueError, match="n_classes"):
        M.AudioCNN(1)
    with pytest.raises(ValueError, match="too small"):
        M.AudioCNN(10, 4)


def test_band_norm_and_spec_augment_placement():
    mean, std = np.linspace(-5, 5, 40), np.linspace(1, 2, 40)
    norm = M.BandNorm(40, mean, std)
    x = torch.from_numpy(mean).float().view(1, 1, 40, 1).expand(2, 1, 40, 7)
    torch.testing.assert_close(norm(x), torch.zeros(2, 1, 40, 7))
    with pytest.raises(ValueError, match="positive"):
        M.BandNorm(3, [0, 0, 0], [1, 0, 1])
    model = M.AudioCNN(4, 40, spec_augment=A.SpecAugment())
    model.eval()
    x = torch.randn(2, 1, 40, 63)
    torch.testing.assert_close(model(x), model(x))  # eval: no masks, deterministic


def test_save_and_load_round_trip(tmp_path):
    from dlcourse.audio.features import FeatureParams

    model = M.AudioCNN(3, 32, band_mean=np.zeros(32), band_std=np.full(32, 2.0))
    model.eval()
    M.save_model(model, tmp_path / "m", class_names=["a", "b", "c"], features=FeatureParams(n_mels=32), note="x")
    loaded, info = M.load_model(tmp_path / "m")
    assert info["class_names"] == ["a", "b", "c"] and info["note"] == "x" and not loaded.training
    x = torch.randn(2, 1, 32, 50)
    torch.testing.assert_close(loaded(x), model(x))
    with pytest.raises(FileNotFoundError, match="train"):
        M.load_model(tmp_path / "none")


def test_fit_within_respects_the_time_budget():
    torch.manual_seed(0)
    x = torch.randn(64, 1, 16, 20)
    y = (x.mean(dim=(1, 2, 3)) > 0).long()
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=8)
    model = M.AudioCNN(2, 16, channels=(4, 8))
    h = M.fit_within(model, loader, max_epochs=3)
    assert len(h) == 3 and h.stop_reason == "completed" and [r["epoch"] for r in h.records] == [1, 2, 3]
    h = M.fit_within(model, loader, max_epochs=10_000, time_budget=0.5)
    assert h.last["seconds"] < 5 and len(h) < 10_000
    with pytest.raises(ValueError, match="max_epochs"):
        M.fit_within(model, loader, max_epochs=0)


def _cli(*args: str, cwd: Path) -> dict:
    env = dict(os.environ, DLCOURSE_DATA=str(cwd / "data-home"), PYTHONHASHSEED="0")
    out = subprocess.run([sys.executable, "-m", "dlcourse.audio", *args], capture_output=True, text=True, cwd=cwd,
                         env=env, timeout=600)
    assert out.returncode == 0, f"dlcourse.audio {args[0]} failed:\n{out.stderr[-3000:]}"
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1, f"stdout must be one JSON line, got {out.stdout!r}"
    return json.loads(lines[0])


def test_cli_train_and_evaluate_on_unseen_speakers(tmp_path):
    train_root, other_root = tmp_path / "words", tmp_path / "strangers"
    D.make_spoken_words(train_root, n_speakers=5, takes=4, n_classes=5, seed=0)
    D.make_spoken_words(other_root, n_speakers=2, takes=3, n_classes=5, seed=0, first_speaker=40)
    summary = _cli("train", "--dataset", "generated", "--root", str(train_root), "--out", str(tmp_path / "model"),
                   "--epochs", "12", "--cache", str(tmp_path / "cache"), "--variants", "1", "--test-speakers", "1",
                   "--seed", "0", cwd=tmp_path)
    assert summary["n_train"] == 4 * 5 * 4 and summary["epochs"] == 12 and summary["n_params"] <= 25_000
    assert (tmp_path / "model" / "model.pt").is_file() and (tmp_path / "model" / "model.json").is_file()
    held_out = _cli("evaluate", "--model", str(tmp_path / "model"), "--dataset", "generated", "--root",
                    str(train_root), "--split", "test", "--test-speakers", "1", cwd=tmp_path)
    assert held_out["n"] == 5 * 4 and 0 <= held_out["accuracy"] <= 1
    assert held_out["speakers_seen_in_training"] == [] and len(held_out["per_speaker"]) == 1
    # no --scheme / --test-speakers: evaluate splits as train did (model.json keeps it), same clips and figures
    same = _cli("evaluate", "--model", str(tmp_path / "model"), "--dataset", "generated", "--root", str(train_root),
                "--split", "test", cwd=tmp_path)
    assert (same["scheme"], same["test_speakers"]) == ("speaker", "1")
    assert {k: same[k] for k in ("n", "accuracy", "per_speaker")} == {k: held_out[k] for k in ("n", "accuracy", "per_speaker")}
    # another split that holds a training speaker: named in the JSON and on stderr
    two = subprocess.run([sys.executable, "-m", "dlcourse.audio", "evaluate", "--model", str(tmp_path / "model"),
                          "--dataset", "generated", "--root", str(train_root), "--split", "test", "--test-speakers", "2"],
                         capture_output=True, text=True, cwd=tmp_path, env=dict(os.environ, DLCOURSE_DATA=str(tmp_path / "data-home")))
    assert two.returncode == 0, two.stderr[-2000:]
    two_res = json.loads(two.stdout)
    seen = two_res["speakers_seen_in_training"]
    assert len(seen) == 1 and seen[0] in two_res["per_speaker"] and seen[0] not in held_out["per_speaker"]
    assert "note: the model was trained on clips of " + seen[0] in two.stderr
    strangers = _cli("evaluate", "--model", str(tmp_path / "model"), "--dataset", "generated", "--root",
                     str(other_root), "--split", "all", "--cache", str(tmp_path / "cache"), cwd=tmp_path)
    assert strangers["n"] == 2 * 5 * 3 and set(strangers["per_class"]) == {"asi", "isa", "uma", "eko", "shui"}
    assert strangers["accuracy"] > 0.5, f"speakers never heard: {strangers['accuracy']:.2f} (chance 0.2)"
    # per-speaker accuracy and the confusion matrix (rows = true class, columns = predicted, the model's order)
    conf = np.array(strangers["confusion"])
    assert conf.shape == (5, 5) and conf.sum() == strangers["n"] and strangers["class_names"] == summary_classes(tmp_path)
    assert np.trace(conf) / conf.sum() == pytest.approx(strangers["accuracy"])
    assert len(strangers["per_speaker"]) == 2 and all(0 <= a <= 1 for a in strangers["per_speaker"].values())
    assert np.mean(list(strangers["per_speaker"].values())) == pytest.approx(strangers["accuracy"], abs=1e-3)
    assert set(held_out["per_speaker"]) and sum(held_out["confusion"][i][i] for i in range(5)) == round(
        held_out["accuracy"] * held_out["n"])
    # read as plain FSDD the same files are digits "0".."4": classes are matched by name, so this is refused
    bad = subprocess.run([sys.executable, "-m", "dlcourse.audio", "evaluate", "--model", str(tmp_path / "model"),
                          "--dataset", "fsdd", "--root", str(other_root), "--split", "all"], capture_output=True,
                         text=True, cwd=tmp_path)
    assert bad.returncode == 2 and "the model knows the classes" in bad.stderr and not bad.stdout


def summary_classes(tmp_path: Path) -> list[str]:
    return json.loads((tmp_path / "model" / "model.json").read_text())["class_names"]


def test_cli_ensemble_and_recipe_options_in_process(tmp_path, capsys):
    """train --ensemble 2 saves two members; evaluate averages them with the saved test-time warps."""
    from dlcourse.audio import __main__ as cli
    from dlcourse.audio.recipe import Recipe

    root = tmp_path / "words"
    D.make_spoken_words(root, n_speakers=3, takes=2, n_classes=3, seed=0)
    args = ["train", "--dataset", "generated", "--root", str(root), "--out", str(tmp_path / "ens"), "--epochs", "1",
            "--variants", "0", "--ensemble", "2", "--utterance-norm", "clip", "--max-warp", "0.05",
            "--frame-shift", "2", "--mixup", "0.2", "--tta-warps", "0.95,1.0", "--tta-shifts", "0,1",
            "--label-smoothing", "0.1", "--weight-decay", "0.01", "--deltas", "--time-pool", "max",
            "--cache", str(tmp_path / "cache"), "--test-speakers", "1", "--quiet", "--threads", "1"]
    assert cli.main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_models"] == 2 and summary["epochs"] == [1, 1]
    assert (tmp_path / "ens" / "ensemble.json").is_file() and (tmp_path / "ens" / "member-1" / "model.pt").is_file()
    models_, info = cli.load_models(tmp_path / "ens")
    assert len(models_) == 2 and info["recipe"]["tta_warps"] == [0.95, 1.0] and info["recipe"]["mixup_alpha"] == 0.2
    assert models_[0].config["utterance_norm"] == "clip" and models_[0].config["deltas"] is True
    assert info["recipe"]["label_smoothing"] == 0.1 and info["recipe"]["weight_decay"] == 0.01
    assert models_[1].config["time_pool"] == "max"
    assert cli.main(["evaluate", "--model", str(tmp_path / "ens"), "--dataset", "generated", "--root", str(root),
                     "--split", "test", "--test-speakers", "1"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["n"] == 3 * 2 and np.array(res["confusion"]).sum() == 6 and len(res["per_speaker"]) == 1
    # no options = Recipe()
    ns = cli._parser().parse_args(["train", "--dataset", "generated", "--out", "x"])
    assert cli.recipe_from_args(ns) == Recipe()
    ns = cli._parser().parse_args(["train", "--dataset", "generated", "--out", "x", "--log-floor", "1e-3"])
    assert cli.recipe_from_args(ns).features == replace(Recipe().features, log_floor=1e-3)
    ns = cli._parser().parse_args(["train", "--dataset", "generated", "--out", "x", "--no-deltas"])
    assert cli.recipe_from_args(ns).deltas is False
    for flag, want in (("--spec-augment", True), ("--no-spec-augment", False)):  # either way from the default
        ns = cli._parser().parse_args(["train", "--dataset", "generated", "--out", "x", flag])
        assert cli.recipe_from_args(ns).spec_augment is want, flag


def test_cli_folder_dataset_and_errors(tmp_path):
    root = tmp_path / "tree"
    src = D.load_generated(tmp_path / "gen", "all", n_speakers=2, takes=2, n_classes=3)
    for p, y in zip(src.paths, src.labels):
        dst = root / src.class_names[y] / p.name
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(p.read_bytes())
    (root / "asi" / "broken.wav").write_bytes(b"RIFF....WAVEjunk")
    summary = _cli("train", "--dataset", "folder", "--root", str(root), "--out", str(tmp_path / "m"), "--epochs", "1",
                   "--variants", "0", "--no-spec-augment", "--cache", str(tmp_path / "c"), cwd=tmp_path)
    assert summary["n_train"] == 12 and summary["skipped"] == 1
    res = _cli("evaluate", "--model", str(tmp_path / "m"), "--dataset", "folder", "--root", str(root), "--split",
               "all", cwd=tmp_path)
    assert res["n"] == 12 and res["skipped"] == 1
    bad = subprocess.run([sys.executable, "-m", "dlcourse.audio", "evaluate", "--model", str(tmp_path / "nothing"),
                          "--dataset", "folder", "--root", str(root), "--split", "all"], capture_output=True, text=True)
    assert bad.returncode == 2 and "no trained model" in bad.stderr
    bad = subprocess.run([sys.executable, "-m", "dlcourse.audio", "evaluate", "--model", str(tmp_path / "m"),
                          "--dataset", "folder", "--root", str(root), "--split", "test"], capture_output=True, text=True)
    assert bad.returncode == 2 and "no 'test' split" in bad.stderr
