"""Pick the best available device when a function runs, and say why.

Order: CUDA (NVIDIA, or AMD through a ROCm build of PyTorch), Apple MPS, then CPU. PyTorch
drives AMD GPUs only through ROCm, which exists for Linux: on Windows (or with a CUDA/CPU
build of PyTorch) an AMD card is not used, and the explanation says so.
"""
from __future__ import annotations

import os
import platform
from dataclasses import dataclass

import torch

from ._core import check_bool, check_choice
from .lang import tr

__all__ = ["DeviceChoice", "choose_device", "pick_device", "describe_device", "to_device"]


@dataclass(frozen=True)
class DeviceChoice:
    """The device picked and a one-line explanation of why."""

    device: torch.device
    reason: str

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.reason


def _amd_gpu_present() -> bool:
    """Best-effort detection of an AMD GPU that PyTorch is not using."""
    if os.path.exists("/dev/kfd"):  # the ROCm kernel driver on Linux
        return True
    if platform.system() == "Windows":
        # PROCESSOR/driver registry probing is unreliable; look for the AMD display driver DLL.
        sysroot = os.environ.get("SystemRoot", r"C:\Windows")
        return os.path.exists(os.path.join(sysroot, "System32", "amdxc64.dll"))
    return False


def choose_device(prefer: str | None = None) -> DeviceChoice:
    """Choose a device now (never at import time) and explain the choice.

    Args:
        prefer: ``None``/``"auto"`` for the best available, or ``"cuda"``, ``"mps"``, ``"cpu"``
            to request one.

    Returns:
        A :class:`DeviceChoice`: the device and one line saying why (why not a GPU, on a CPU).

    Raises:
        ValueError: an unknown ``prefer``.
        RuntimeError: the requested device is not available.
    """
    check_choice(prefer, "prefer", (None, "auto", "cuda", "mps", "cpu"))
    hip = getattr(torch.version, "hip", None)
    has_cuda = torch.cuda.is_available()
    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps and mps.is_available())

    if prefer == "cpu":
        return DeviceChoice(torch.device("cpu"), tr("CPU, as requested."))
    if prefer == "cuda" and not has_cuda:
        raise RuntimeError("a CUDA/ROCm device was requested but torch.cuda.is_available() is False")
    if prefer == "mps" and not has_mps:
        raise RuntimeError("an Apple MPS device was requested but torch.backends.mps.is_available() is False")

    if has_cuda and prefer in (None, "auto", "cuda"):
        name = torch.cuda.get_device_name(0)
        kind = tr("AMD GPU through ROCm {version}", version=hip) if hip else \
            tr("NVIDIA GPU through CUDA {version}", version=torch.version.cuda)
        n = torch.cuda.device_count()
        extra = tr(" ({n} GPUs visible, using cuda:0)", n=n) if n > 1 else ""
        return DeviceChoice(torch.device("cuda", 0), f"cuda:0 = {name}: {kind}{extra}.")
    if has_mps:
        return DeviceChoice(torch.device("mps"), tr("mps: Apple-silicon GPU through Metal (MPS)."))

    system = platform.system()
    why = tr("CPU: no CUDA, ROCm or MPS device is available to this PyTorch build")
    if _amd_gpu_present():
        if system == "Windows":
            why += tr(
                "; an AMD GPU seems present, but PyTorch drives AMD GPUs only through ROCm on "
                "Linux, not on Windows (use Linux/WSL with a ROCm build, Colab, or the CPU)"
            )
        elif not hip:
            why += tr(
                "; an AMD GPU seems present: install a ROCm build of PyTorch "
                "(pytorch.org 'Get started', Linux + ROCm) to use it"
            )
    elif system == "Windows":
        why += tr(" (note: on Windows PyTorch uses NVIDIA GPUs only; AMD GPUs need ROCm on Linux)")
    elif torch.cuda.device_count() == 0 and torch.version.cuda is None and not hip:
        why += tr(" (this is a CPU-only build of PyTorch)")
    threads = torch.get_num_threads()
    return DeviceChoice(torch.device("cpu"), tr("{why}. Using {threads} CPU thread(s).", why=why, threads=threads))


def pick_device(prefer: str | None = None, *, verbose: bool = True) -> torch.device:
    """Return the best device now; with ``verbose`` print the one-line explanation.

    Raises:
        ValueError, RuntimeError: as :func:`choose_device`.
    """
    check_bool(verbose, "verbose")
    choice = choose_device(prefer)
    if verbose:
        print(tr("Device: {reason}", reason=choice.reason))
    return choice.device


def describe_device(device: torch.device | str | None = None) -> str:
    """Human-readable name of ``device`` (default: the one :func:`choose_device` picks)."""
    dev = torch.device(device) if device is not None else choose_device().device
    if dev.type == "cuda":
        return torch.cuda.get_device_name(dev)
    if dev.type == "mps":
        return "Apple MPS"
    return f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def to_device(obj, device: torch.device | str, non_blocking: bool | None = None):
    """Move a tensor, or a (nested) tuple/list/dict of tensors, to ``device``.

    Args:
        obj: a tensor, a (named) tuple, list or dict of them, nested; anything else is returned as is.
        device: the target device.
        non_blocking: asynchronous copies; default True for CUDA targets (overlaps copies from
            pinned memory).

    Returns:
        ``obj`` with every tensor on ``device`` (containers rebuilt with the same types).

    Raises:
        TypeError: ``non_blocking`` is not a bool or None.
        RuntimeError: ``device`` is not a valid device string.
    """
    device = torch.device(device)
    if non_blocking is None:
        non_blocking = device.type == "cuda"
    check_bool(non_blocking, "non_blocking")
    if torch.is_tensor(obj):
        return obj.to(device, non_blocking=non_blocking)
    if isinstance(obj, (list, tuple)):
        moved = [to_device(o, device, non_blocking) for o in obj]
        return type(obj)(moved) if not hasattr(obj, "_fields") else type(obj)(*moved)
    if isinstance(obj, dict):
        return {k: to_device(v, device, non_blocking) for k, v in obj.items()}
    return obj
