"""Unit tests of dlcourse._core, the internal core every module shares: model device, the train/eval
context manager, the hooks context manager, argument checks, to_numpy, atomic writes and notebook
detection. Oracles: PyTorch's own module flags and hook dictionaries, NumPy, the file system."""
from __future__ import annotations

import math
import os
import sys
import types

import numpy as np
import pytest
import torch
from torch import nn

from dlcourse import _core


def _net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.Dropout(0.5), nn.Flatten(), nn.Linear(2 * 4 * 4, 3))


def _flags(model: nn.Module) -> list[bool]:
    return [m.training for m in model.modules()]


def _hook_count(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) for m in model.modules())


# ----------------------------------------------------------------------------- model_device
def test_model_device_cpu_meta_and_empty():
    assert _core.model_device(_net()) == torch.device("cpu")
    assert _core.model_device(nn.ReLU()) == torch.device("cpu"), "a model without tensors is on the CPU"
    with torch.device("meta"):
        meta = nn.Linear(2, 2)
    assert _core.model_device(meta).type == "meta"
    buffers_only = nn.BatchNorm1d(3, affine=False).to("meta")  # buffers count, not only parameters
    assert _core.model_device(buffers_only).type == "meta"


def test_model_device_refuses_split_models_and_non_modules():
    net = _net()
    net[4].to("meta")
    with pytest.raises(ValueError, match="several devices"):
        _core.model_device(net)
    with pytest.raises(TypeError, match="nn.Module"):
        _core.model_device(torch.zeros(2))


# ----------------------------------------------------------------------------- train_mode
@pytest.mark.parametrize("inside", [False, True])
def test_train_mode_sets_the_mode_inside_and_restores_every_submodule(inside):
    net = _net().train()
    net[1].eval()   # a frozen BatchNorm inside a model in training mode
    before = _flags(net)
    with _core.train_mode(net, inside) as m:
        assert m is net
        assert all(flag is inside for flag in _flags(net))
    assert _flags(net) == before, "train_mode must restore each submodule's own flag, not only the top one"


def test_train_mode_restores_flags_when_the_block_raises():
    net = _net().eval()
    net[2].train()
    before = _flags(net)
    with pytest.raises(RuntimeError, match="boom"):
        with _core.train_mode(net, True):
            raise RuntimeError("boom")
    assert _flags(net) == before


def test_train_mode_eval_really_changes_the_output():
    """Dropout is off in eval mode: two forward passes agree inside the block, and differ after it."""
    net = _net().train()
    x = torch.rand(4, 1, 6, 6)
    with _core.train_mode(net), torch.no_grad():
        torch.testing.assert_close(net(x), net(x))
    assert net.training and net[2].training
    with pytest.raises(TypeError, match="train must be True or False"):
        with _core.train_mode(net, "eval"):
            pass


# ----------------------------------------------------------------------------- forward_hooks
def test_forward_hooks_record_and_are_removed_after_the_block():
    net = _net()
    seen = []
    pairs = [(net[0], lambda m, i, o: seen.append(("conv", tuple(o.shape)))),
             (net[4], lambda m, i, o: seen.append(("fc", tuple(o.shape))))]
    with _core.forward_hooks(pairs) as handles:
        assert len(handles) == 2 and _hook_count(net) == 2
        net(torch.rand(1, 1, 6, 6))
    assert seen == [("conv", (1, 2, 4, 4)), ("fc", (1, 3))]
    assert _hook_count(net) == 0
    net(torch.rand(1, 1, 6, 6))
    assert len(seen) == 2, "a removed hook must not run again"


def test_forward_hooks_are_removed_when_the_forward_pass_raises():
    net = _net()
    with pytest.raises(RuntimeError):
        with _core.forward_hooks([(m, lambda *a: None) for m in net]):
            assert _hook_count(net) == len(net)
            net(torch.rand(1, 1, 7, 7))  # the Linear gets 2*5*5 features instead of 2*4*4
    assert _hook_count(net) == 0


def test_forward_hooks_registered_before_a_failure_are_removed():
    """A bad pair in the middle (not a module) must not leave the first hooks behind."""
    net = _net()
    with pytest.raises(AttributeError):
        with _core.forward_hooks([(net[0], lambda *a: None), ("not a module", lambda *a: None)]):
            pass  # pragma: no cover - never reached
    assert _hook_count(net) == 0


# ----------------------------------------------------------------------------- argument checks
def test_check_int():
    assert _core.check_int(3, "n") == 3
    assert type(_core.check_int(np.int64(3), "n")) is int
    assert _core.check_int(5, "n", min=5, max=5) == 5
    for bad in (True, 3.0, "3", None):
        with pytest.raises(TypeError, match="n must be an int"):
            _core.check_int(bad, "n")
    with pytest.raises(ValueError, match="n must be >= 1, got 0"):
        _core.check_int(0, "n", min=1)
    with pytest.raises(ValueError, match="n must be <= 4, got 5"):
        _core.check_int(5, "n", max=4)


def test_argument_errors_follow_the_notebook_language(monkeypatch):
    """In a Spanish notebook the checks explain a bad argument in Spanish; the argument's name and value stay."""
    monkeypatch.setenv("DLCOURSE_LANG", "es")
    cases = [(lambda: _core.check_int(0, "epochs", min=1), ValueError, "epochs debe ser >= 1; se recibió 0"),
             (lambda: _core.check_int(2.5, "epochs"), TypeError, "epochs debe ser un int; se recibió float 2.5"),
             (lambda: _core.check_bool(1, "verbose"), TypeError, "verbose debe ser True o False; se recibió int 1"),
             (lambda: _core.check_float(math.inf, "lr"), ValueError, "lr debe ser finito; se recibió inf"),
             (lambda: _core.check_float(0.0, "lr", min=0, min_open=True), ValueError, "lr debe ser > 0; se recibió 0.0"),
             (lambda: _core.check_float(1.0, "p", max=1, max_open=True), ValueError, "p debe ser < 1; se recibió 1.0"),
             (lambda: _core.check_choice("x", "pool", ["max", "avg"]), ValueError,
              "pool debe ser uno de 'max', 'avg'; se recibió 'x'"),
             (lambda: _core.model_device("no"), TypeError, "model debe ser un torch.nn.Module; se recibió str")]
    for call, exc, text in cases:
        with pytest.raises(exc) as info:
            call()
        assert str(info.value) == text


def test_check_bool():
    assert _core.check_bool(True, "flag") is True
    assert _core.check_bool(np.bool_(False), "flag") is False
    for bad in (0, 1, "True", None):
        with pytest.raises(TypeError, match="flag must be True or False"):
            _core.check_bool(bad, "flag")


def test_check_float():
    assert _core.check_float(2, "x") == 2.0 and type(_core.check_float(np.float32(0.5), "x")) is float
    assert _core.check_float(0.0, "x", min=0) == 0.0
    with pytest.raises(ValueError, match="x must be > 0"):
        _core.check_float(0.0, "x", min=0, min_open=True)
    assert _core.check_float(1.0, "x", max=1) == 1.0
    with pytest.raises(ValueError, match="x must be < 1"):
        _core.check_float(1.0, "x", max=1, max_open=True)
    with pytest.raises(ValueError, match="x must be >= -1"):
        _core.check_float(-2, "x", min=-1)
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(ValueError, match="finite"):
            _core.check_float(bad, "x")
    for bad in (True, np.bool_(True), "1.0", None, torch.tensor(1.0)):
        with pytest.raises(TypeError, match="x must be a number"):
            _core.check_float(bad, "x")


def test_check_choice():
    assert _core.check_choice("mean", "reduction", ("none", "mean")) == "mean"
    assert _core.check_choice(None, "prefer", (None, "cpu")) is None
    with pytest.raises(ValueError, match="reduction must be one of 'none', 'mean'; got 'sum'"):
        _core.check_choice("sum", "reduction", ("none", "mean"))


# ----------------------------------------------------------------------------- to_numpy
def test_to_numpy_tensors_of_every_kind():
    x = torch.rand(2, 3, requires_grad=True)
    out = _core.to_numpy(x * 2)  # needs a detach
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    np.testing.assert_allclose(out, 2 * x.detach().numpy())
    for dtype in (torch.float16, torch.bfloat16):
        half = _core.to_numpy(torch.ones(2, dtype=dtype))
        assert half.dtype == np.float32 and half.tolist() == [1.0, 1.0]
    assert _core.to_numpy(torch.arange(3)).dtype == np.int64
    assert _core.to_numpy([1, 2]).tolist() == [1, 2]
    arr = np.zeros(3)
    assert _core.to_numpy(arr) is arr, "an array passes through without a copy"


# ----------------------------------------------------------------------------- atomic writes
def test_atomic_write_creates_parents_and_replaces(tmp_path):
    path = tmp_path / "a" / "b" / "file.bin"
    assert _core.atomic_write_bytes(path, b"one") == path
    assert path.read_bytes() == b"one"
    _core.atomic_write_text(str(path), "twó")
    assert path.read_text(encoding="utf-8") == "twó"
    _core.atomic_write_text(path, "x", encoding="latin-1")
    assert path.read_bytes() == b"x"
    assert sorted(p.name for p in path.parent.iterdir()) == ["file.bin"], "no temporary file is left"


def test_atomic_write_failure_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    path.write_bytes(b"old")

    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        _core.atomic_write_bytes(path, b"new")
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]
    with pytest.raises(TypeError):
        _core.atomic_write_bytes(tmp_path / "x", "text, not bytes")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


# ----------------------------------------------------------------------------- in_notebook
def _fake_ipython(monkeypatch, shell):
    fake = types.ModuleType("IPython")
    fake.get_ipython = lambda: shell
    monkeypatch.setitem(sys.modules, "IPython", fake)


def test_in_notebook_false_in_a_script(monkeypatch):
    _fake_ipython(monkeypatch, None)
    assert _core.in_notebook() is False
    monkeypatch.setitem(sys.modules, "IPython", None)  # IPython not installed: import fails
    assert _core.in_notebook() is False


def test_in_notebook_recognizes_kernels_not_terminals(monkeypatch):
    class ZMQInteractiveShell:
        config: dict = {}

    class ColabShell(ZMQInteractiveShell):  # Colab's shell subclasses the kernel's
        pass

    class TerminalInteractiveShell:
        config: dict = {}

    class CustomKernelShell:
        config = {"IPKernelApp": {"connection_file": "kernel.json"}}

    for shell, expected in ((ZMQInteractiveShell(), True), (ColabShell(), True),
                            (TerminalInteractiveShell(), False), (CustomKernelShell(), True)):
        _fake_ipython(monkeypatch, shell)
        assert _core.in_notebook() is expected, type(shell).__name__


def test_importing_the_core_does_not_import_torch():
    """The grader and its sandboxed workers never load torch, and they use the core's checks."""
    import subprocess
    import sys

    code = "import sys, dlcourse._core as c; c.check_int(1, 'n'); c.atomic_write_text; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False", "dlcourse._core imported torch at import time"


def test_train_mode_none_keeps_the_flags_and_restores_them():
    from torch import nn

    from dlcourse._core import train_mode

    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout())
    model.train()
    model[1].eval()
    with train_mode(model, None):
        assert [m.training for m in model.modules()] == [True, True, False]
        model.eval()
    assert [m.training for m in model.modules()] == [True, True, False]
