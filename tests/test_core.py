"""Unit tests of the dlcourse core: config, device, seed, training, data, arch, fixtures (the plots: test_plotting.py)."""
from __future__ import annotations

import gzip
import math
import socket
import time

import matplotlib
import numpy as np
import pytest
from pathlib import Path
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from dlcourse import arch, config, data, device, plotting, seed, training
from dlcourse.course import fixtures

matplotlib.use("Agg")


# ----------------------------------------------------------------------------- config
def test_fast_mode_reads_env_at_call_time(monkeypatch):
    monkeypatch.delenv("DLCOURSE_FAST", raising=False)
    assert config.fast_mode() is False
    monkeypatch.setenv("DLCOURSE_FAST", "1")
    assert config.fast_mode() is True and config.pick(10, 1) == 1
    monkeypatch.setenv("DLCOURSE_FAST", "off")
    assert config.fast_mode() is False and config.pick(10, 1) == 10
    monkeypatch.setenv("DLCOURSE_FAST", "maybe")
    with pytest.raises(ValueError, match="DLCOURSE_FAST"):
        config.fast_mode()


def test_data_dir_override(monkeypatch, tmp_path):
    monkeypatch.setenv("DLCOURSE_DATA", str(tmp_path / "cache"))
    assert config.data_dir() == tmp_path / "cache" and (tmp_path / "cache").is_dir()


def test_find_upward_from_a_lecture_its_translation_or_nowhere(monkeypatch, tmp_path):
    (tmp_path / "bench" / "results").mkdir(parents=True)
    (tmp_path / "bench" / "results" / "r.json").write_text("{}")
    deep = tmp_path / "lectures" / "es"
    deep.mkdir(parents=True)
    want = tmp_path.resolve() / "bench" / "results" / "r.json"
    assert config.find_upward("bench/results/r.json", deep) == want
    assert config.find_upward(Path("bench") / "results" / "r.json", tmp_path / "lectures") == want
    monkeypatch.chdir(deep)
    assert config.find_upward("bench/results/r.json") == want
    assert config.find_upward("bench/results/missing.json") is None
    with pytest.raises(ValueError, match="relative path"):
        config.find_upward(want)


# ----------------------------------------------------------------------------- device
def test_choose_device_explains_cpu_fallback(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    choice = device.choose_device()
    assert choice.device == torch.device("cpu")
    assert "CPU" in choice.reason and "thread" in choice.reason


def test_amd_on_windows_is_explained(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    monkeypatch.setattr(device.platform, "system", lambda: "Windows")
    monkeypatch.setattr(device, "_amd_gpu_present", lambda: True)
    reason = device.choose_device().reason
    assert "AMD" in reason and "ROCm" in reason and "Linux" in reason


def test_amd_on_linux_without_rocm_build(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    monkeypatch.setattr(device.platform, "system", lambda: "Linux")
    monkeypatch.setattr(device, "_amd_gpu_present", lambda: True)
    monkeypatch.setattr(torch.version, "hip", None)
    assert "ROCm build" in device.choose_device().reason


def test_choose_device_rejects_bad_or_missing(monkeypatch):
    with pytest.raises(ValueError, match="prefer"):
        device.choose_device("tpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="CUDA"):
        device.choose_device("cuda")
    assert device.pick_device("cpu", verbose=False) == torch.device("cpu")


def test_to_device_nested():
    batch = {"x": torch.ones(2), "pair": (torch.zeros(1), [torch.ones(1)]), "n": 3}
    out = device.to_device(batch, "cpu")
    assert out["n"] == 3 and torch.equal(out["pair"][1][0], torch.ones(1)) and isinstance(out["pair"], tuple)


# ----------------------------------------------------------------------------- seed
def test_seed_everything_repeats():
    seed.seed_everything(123)
    a = (torch.rand(3), np.random.rand(3))
    seed.seed_everything(123)
    b = (torch.rand(3), np.random.rand(3))
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    with pytest.raises(TypeError):
        seed.seed_everything("1")
    with pytest.raises(ValueError):
        seed.seed_everything(-1)
    with pytest.raises(ValueError, match="seed must be <="):
        seed.seed_everything(2**32)
    with pytest.raises(TypeError, match="deterministic"):
        seed.seed_everything(0, deterministic="yes")


@pytest.fixture
def restore_determinism():
    """Put torch's deterministic flags back as they were, whatever the test set."""
    saved = (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),
             torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic)
    yield
    torch.use_deterministic_algorithms(saved[0], warn_only=saved[1])
    torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = saved[2], saved[3]


@pytest.mark.parametrize("before", [False, True])
def test_seed_everything_default_leaves_determinism_as_it_was(before, restore_determinism):
    torch.use_deterministic_algorithms(before)
    torch.backends.cudnn.benchmark = True
    seed.seed_everything(0)
    assert torch.are_deterministic_algorithms_enabled() is before
    assert torch.backends.cudnn.benchmark is True


def test_seed_everything_deterministic_true_turns_it_on(restore_determinism):
    torch.use_deterministic_algorithms(False)
    torch.backends.cudnn.benchmark = True
    seed.seed_everything(0, deterministic=True)
    assert torch.are_deterministic_algorithms_enabled()
    assert not torch.is_deterministic_algorithms_warn_only_enabled()
    assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark


def test_seed_everything_deterministic_false_turns_it_off(restore_determinism):
    torch.use_deterministic_algorithms(True)
    seed.seed_everything(0, deterministic=False)
    assert not torch.are_deterministic_algorithms_enabled()


# ----------------------------------------------------------------------------- training
def _blobs(n=256, seed_=0):
    g = torch.Generator().manual_seed(seed_)
    y = torch.arange(n) % 3
    centers = torch.tensor([[2.0, 0.0], [-2.0, 0.0], [0.0, 2.5]])
    x = centers[y] + 0.5 * torch.randn(n, 2, generator=g)
    return TensorDataset(x, y)


def _mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 3))


def test_fit_learns_and_returns_history():
    ds = _blobs()
    tr = DataLoader(ds, batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(0))
    model = _mlp()
    model.eval()
    hist = training.fit(model, tr, epochs=15, val_loader=DataLoader(_blobs(seed_=1), batch_size=64),
                        lr=0.02, progress=False)
    assert len(hist) == 15 and hist.stop_reason == "completed"
    assert hist["train_loss"][-1] < 0.5 * hist["train_loss"][0]
    assert hist["val_acc"][-1] > 0.9
    assert not model.training, "fit must restore the model's eval flag"
    ev = training.evaluate(model, DataLoader(_blobs(seed_=2), batch_size=50))
    assert ev["n"] == 256 and ev["accuracy"] > 0.9 and math.isfinite(ev["loss"])
    with pytest.raises(KeyError, match="no metric"):
        hist["nope"]


def test_fit_autoencoder_target_input():
    x = torch.rand(64, 4)
    model = nn.Sequential(nn.Linear(4, 4))
    hist = training.fit(model, DataLoader(x, batch_size=16), epochs=30, target="input", lr=0.05, progress=False)
    assert hist["train_loss"][-1] < hist["train_loss"][0] and "train_acc" not in hist.keys()


def test_fit_bad_input():
    model, tr = _mlp(), DataLoader(_blobs(), batch_size=32)
    with pytest.raises(ValueError, match="epochs must be >= 0"):
        training.fit(model, tr, epochs=-1)
    with pytest.raises(TypeError, match="epochs must be an int"):
        training.fit(model, tr, epochs=2.5)
    with pytest.raises(TypeError, match="nn.Module"):
        training.fit("model", tr, epochs=1)
    with pytest.raises(TypeError, match="DataLoader"):
        training.fit(model, torch.zeros(3), epochs=1)
    with pytest.raises(ValueError, match="target"):
        training.fit(model, tr, epochs=1, target="labels")
    with pytest.raises(ValueError, match="amp=True needs a CUDA"):
        training.fit(model, tr, epochs=1, amp=True)
    with pytest.raises(ValueError, match="no batches"):
        training.fit(model, [], epochs=1, progress=False)
    with pytest.raises(ValueError, match="time_budget"):
        training.fit(model, tr, epochs=1, time_budget=0)
    with pytest.raises(TypeError, match="grad_clip"):
        training.fit(model, tr, epochs=1, grad_clip="1")
    with pytest.raises(TypeError, match="amp"):
        training.fit(model, tr, epochs=1, amp="no")


def test_fit_restores_every_submodule_flag():
    """A frozen eval-mode part (say a pretrained backbone's BatchNorm) is in eval mode again after fit."""
    model, tr = _mlp(), DataLoader(_blobs(64), batch_size=32)
    model.train()
    model[0].eval()
    training.fit(model, tr, epochs=1, progress=False)
    assert model.training and not model[0].training and model[2].training
    model.eval()
    training.fit(model, tr, epochs=1, progress=False)
    assert not any(m.training for m in model.modules())


def test_model_split_over_devices_is_explained():
    model = _mlp()
    model[2].to("meta")  # a second device without needing a GPU
    with pytest.raises(ValueError, match="several devices"):
        training.model_device(model)


def test_batches_follow_the_model_device():
    # data on the CPU, model on the CPU given as device="cpu": moved automatically, no error
    model = _mlp()
    hist = training.fit(model, DataLoader(_blobs(), batch_size=64), epochs=1, device="cpu", progress=False)
    assert len(hist) == 1


def test_time_budget_stops_early():
    class Slow(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 3)

        def forward(self, x):
            time.sleep(0.01)
            return self.lin(x)

    hist = training.fit(Slow(), DataLoader(_blobs(), batch_size=8), epochs=50, time_budget=0.2, progress=False)
    assert len(hist) < 50 and "time budget" in hist.stop_reason


def test_callbacks_and_liveplot_text(capsys):
    calls = []

    class Spy:
        def on_train_begin(self, model):
            calls.append("begin")

        def on_epoch_end(self, history):
            calls.append(len(history))

        def on_train_end(self, history):
            calls.append("end")

    live = training.LivePlot(mode="text")
    training.fit(_mlp(), DataLoader(_blobs(), batch_size=64), epochs=2, callbacks=[Spy(), live], progress=False)
    assert calls == ["begin", 1, 2, "end"]
    out = capsys.readouterr().out
    assert "epoch 1: train_loss=" in out and "epoch 2:" in out
    fig = plotting.plot_history(training.History([{"train_loss": 1.0}, {"train_loss": 0.5}]))
    assert fig.axes[0].get_xlabel() == "epoch" and fig.axes[0].get_ylabel() == "loss"


def test_load_or_train(tmp_path):
    path = tmp_path / "ckpt" / "m.pt"
    model = _mlp()
    trained = []

    def train():
        trained.append(1)
        return training.fit(model, DataLoader(_blobs(), batch_size=64), epochs=2, progress=False)

    h1 = training.load_or_train(model, path, train, verbose=False)
    assert path.is_file() and trained == [1] and len(h1) == 2
    other = _mlp()
    nn.init.zeros_(other[0].weight)
    h2 = training.load_or_train(other, path, train, verbose=False)
    assert trained == [1], "a present checkpoint must be loaded, not retrained"
    assert torch.equal(other[0].weight, model[0].weight) and len(h2) == 2
    wrong = nn.Sequential(nn.Linear(2, 5))
    with pytest.raises(ValueError, match="different model"):
        training.load_checkpoint(wrong, path)
    assert not list(path.parent.glob("*.tmp")), "atomic save must not leave temp files"


def test_eval_mode_restores_submodule_flags():
    model = _mlp()
    model.train()
    model[0].eval()
    with training.eval_mode(model):
        assert not any(m.training for m in model.modules())
    assert model.training and not model[0].training and model[2].training


# ----------------------------------------------------------------------------- data
def test_shapes_are_balanced_seeded_and_boxed():
    s1 = data.make_shapes(100, 32, seed=3)
    s2 = data.make_shapes(100, 32, seed=3)
    assert torch.equal(s1.images, s2.images) and s1.images.shape == (100, 1, 32, 32)
    assert s1.images.dtype == torch.float32 and 0 <= s1.images.min() and s1.images.max() <= 1
    assert torch.bincount(s1.labels).tolist() == [20] * 5
    x0, y0, x1, y1 = s1.boxes.T
    assert (x0 < x1).all() and (y0 < y1).all() and (x1 <= 32).all() and (y1 <= 32).all()
    # the object is brighter than the background: mean inside the box > mean outside
    for i in range(10):
        a, b, c, d = s1.boxes[i].tolist()
        inside = s1.images[i, 0, b:d, a:c].mean()
        mask = torch.ones(32, 32, dtype=torch.bool)
        mask[b:d, a:c] = False
        assert inside > s1.images[i, 0][mask].mean() + 0.1
    with pytest.raises(ValueError, match="subset"):
        data.make_shapes(10, classes=("hexagon",))


def test_offline_datasets_and_unknown_name():
    tr = data.get_dataset("digits", "train")
    te = data.get_dataset("digits", "test")
    assert len(tr) + len(te) == 1797 and tr[0][0].shape == (1, 8, 8)
    assert data.get_dataset("digits", "train", size=16)[0][0].shape == (1, 16, 16)
    assert len(data.get_dataset("shapes", "test", n=100)) == 20
    with pytest.raises(ValueError, match="unknown dataset 'imagenet'.*digits, shapes"):
        data.get_dataset("imagenet")
    with pytest.raises(ValueError, match="split"):
        data.get_dataset("digits", "val")


def test_offline_without_cache_fails_fast(tmp_path, monkeypatch):
    def refuse(*a, **k):
        raise OSError("network is unreachable")

    monkeypatch.setattr(socket, "create_connection", refuse)
    t = time.perf_counter()
    with pytest.raises(data.DatasetUnavailable) as info:
        data.load_torchvision("mnist", "train", root=tmp_path)
    assert time.perf_counter() - t < 5
    msg = str(info.value)
    assert "offline" in msg and "'digits'" in msg and "'shapes'" in msg and str(tmp_path) in msg
    with pytest.raises(data.DatasetUnavailable, match="download=False"):
        data.load_torchvision("cifar10", "test", root=tmp_path, download=False)


def test_corrupt_cache_is_reported(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for rel, _md5 in data._expected_files("mnist"):
        (tmp_path / rel).write_bytes(b"not the real file")
    problems = data.verify_cache("mnist", tmp_path)
    assert problems and all(p.startswith("corrupt") for p in problems)
    with pytest.raises(data.DatasetUnavailable, match="corrupt"):
        data.load_torchvision("mnist", root=tmp_path)


def _write_idx(path, arr, magic):
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + arr.astype(np.uint8).tobytes())


def test_load_mnist_idx(tmp_path):
    imgs = np.random.default_rng(0).integers(0, 256, (7, 28, 28))
    labels = np.arange(7) % 10
    _write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", imgs, 2051)
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labels, 2049)
    ds = data.load_mnist_idx(tmp_path)
    x, y = ds.tensors
    assert x.shape == (7, 1, 28, 28) and y.tolist() == labels.tolist()
    assert torch.allclose(x[3, 0], torch.tensor(imgs[3] / 255.0, dtype=torch.float32))
    with pytest.raises(FileNotFoundError, match="train-images"):
        data.load_mnist_idx(tmp_path, prefix="train")
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", labels, 2051)
    with pytest.raises(ValueError, match="magic"):
        data.load_mnist_idx(tmp_path)


# ----------------------------------------------------------------------------- arch
def test_layer_table_matches_pytorch_and_closed_form():
    import torchvision

    m = torchvision.models.resnet18(weights=None)
    rows = arch.layer_table(m, (3, 224, 224))
    assert sum(r.params for r in rows) == sum(p.numel() for p in m.parameters()) == 11_689_512
    assert abs(sum(r.macs for r in rows) / 1e9 - 1.814) < 0.01  # the published 1.8 GMACs
    conv = nn.Conv2d(3, 8, 3, padding=1)
    (row,) = arch.layer_table(conv, (3, 10, 10))
    assert row.output_shape == (8, 10, 10) and row.macs == 8 * 10 * 10 * 3 * 9 and row.params == 8 * 27 + 8
    assert "total" in arch.format_layer_table(rows)
    with pytest.raises(ValueError, match="cannot run"):
        arch.layer_table(nn.Linear(5, 2), (3, 4, 4))


@pytest.mark.parametrize("layers,expected", [
    ([nn.Conv2d(1, 1, 3)], 3),
    ([nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3)], 5),
    ([nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3)], 7),
    ([nn.Conv2d(1, 1, 3), nn.MaxPool2d(2), nn.Conv2d(1, 1, 3)], 8),
    ([nn.Conv2d(1, 1, 3, dilation=2)], 5),
])
def test_empirical_receptive_field(layers, expected):
    torch.manual_seed(0)
    net = nn.Sequential(*layers)
    assert arch.empirical_receptive_field(net, (1, 40, 40)) == (expected, expected)


# ----------------------------------------------------------------------------- fixtures
def test_mistake_fixture_parsing(tmp_path):
    folder = tmp_path / "mistakes" / "a1"
    folder.mkdir(parents=True)
    (folder / "off_by_one.py").write_text("# cell: f\n# loses: t1, t2\n# why: forgets +1\ndef f(x):\n    return x\n")
    (m,) = fixtures.load_mistakes(tmp_path, "a1")
    assert (m.name, m.cell, m.loses, m.why) == ("off_by_one", "f", ["t1", "t2"], "forgets +1")
    assert m.source == "def f(x):\n    return x"
    (folder / "bad.py").write_text("def f(x):\n    return x\n")
    with pytest.raises(ValueError, match="header lines missing"):
        fixtures.load_mistakes(tmp_path, "a1")


def test_with_answers_types_in_the_answer_cells_only():
    import nbformat

    def nb(cells):
        out = nbformat.v4.new_notebook()
        for src, meta in cells:
            c = nbformat.v4.new_code_cell(src) if meta.get("solution") or "cell" not in meta else nbformat.v4.new_markdown_cell(src)
            c.metadata["nbgrader"] = {k: v for k, v in meta.items() if k != "cell"}
            out.cells.append(c)
        return out

    release = nb([("# Ejercicio 1", {"grade_id": "intro", "cell": "md"}), ("raise NotImplementedError()", {"grade_id": "f", "solution": True}),
                  ("assert f(1) == 2", {"grade_id": "t", "grade": True, "points": 1})])
    solution = nb([("# Exercise 1", {"grade_id": "intro", "cell": "md"}), ("def f(x):\n    return x + 1", {"grade_id": "f", "solution": True}),
                   ("assert f(1) == 2  # changed", {"grade_id": "t", "grade": True, "points": 1})])
    filled = fixtures.with_answers(release, solution)
    assert [c.source for c in filled.cells] == ["# Ejercicio 1", "def f(x):\n    return x + 1", "assert f(1) == 2"]
    assert release.cells[1].source == "raise NotImplementedError()", "the release must not be modified"


def test_fit_follows_the_loaders_shuffle_order():
    """fit must iterate a seeded DataLoader exactly like a plain ``for`` loop (one iter() per epoch)."""
    ds = _blobs(64)
    seen_fit, seen_plain = [], []

    class Spy(nn.Module):
        def __init__(self, log):
            super().__init__()
            self.lin, self.log = nn.Linear(2, 3), log

        def forward(self, x):
            self.log.append(x[:, 0].tolist())
            return self.lin(x)

    def loader():
        return DataLoader(ds, batch_size=16, shuffle=True, generator=torch.Generator().manual_seed(0))

    training.fit(Spy(seen_fit), loader(), epochs=2, progress=True)
    spy = Spy(seen_plain)
    dl = loader()
    for _ in range(2):
        for x, _y in dl:
            spy(x)
    assert seen_fit == seen_plain
