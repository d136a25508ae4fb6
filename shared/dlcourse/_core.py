"""The small internal core every dlcourse module shares (not part of the public API).

One place for the jobs that used to be written in several modules:

* :func:`model_device` - the one device a model's parameters and buffers live on.
* :func:`train_mode` - set a model's train/eval flag for a block, restoring *every*
  submodule's own flag afterwards (a model may hold a frozen, eval-mode backbone).
* :func:`forward_hooks` - register forward hooks for a block and always remove them.
* :func:`check_int`, :func:`check_bool`, :func:`check_float`, :func:`check_choice` -
  argument checks whose messages say what was expected and what came.
* :func:`to_numpy` - a tensor (any device, any dtype, with or without grad) or array-like
  as a NumPy array.
* :func:`atomic_write_bytes`, :func:`atomic_write_text` - write a file so that a reader
  never sees half of it and a crash leaves the old file in place.
* :func:`in_notebook` - whether the code runs in a Jupyter kernel (not a terminal IPython).

Depends on nothing else in dlcourse, so every module may import it, and it does not import torch
at import time: the grader and its sandboxed workers (which never load torch) use its argument
checks and atomic writes too. The functions that take a model import torch when called.
"""
from __future__ import annotations

import math
import os
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .lang import tr

if TYPE_CHECKING:  # only for annotations: importing this module never imports torch
    import torch
    from torch import nn

__all__ = [
    "model_device",
    "train_mode",
    "forward_hooks",
    "check_int",
    "check_bool",
    "check_float",
    "check_choice",
    "to_numpy",
    "atomic_write_bytes",
    "atomic_write_text",
    "in_notebook",
]


def model_device(model: nn.Module) -> torch.device:
    """The device of a model's parameters and buffers.

    Args:
        model: any ``torch.nn.Module``.

    Returns:
        That device; ``cpu`` for a model with neither parameters nor buffers.

    Raises:
        TypeError: ``model`` is not an ``nn.Module``.
        ValueError: its tensors are spread over several devices.
    """
    import torch
    from torch import nn

    if not isinstance(model, nn.Module):
        raise TypeError(tr("model must be a torch.nn.Module, got {type}", type=type(model).__name__))
    devices = {p.device for p in model.parameters()} | {b.device for b in model.buffers()}
    if not devices:
        return torch.device("cpu")
    if len(devices) > 1:
        raise ValueError(tr("the model's parameters live on several devices {devices}; "
                            "move it to one with model.to(device)", devices=sorted(map(str, devices))))
    return devices.pop()


@contextmanager
def train_mode(model: nn.Module, train: bool | None = False) -> Iterator[nn.Module]:
    """Set ``model.train(train)`` for the block; afterwards restore every submodule's flag.

    ``model.train(flag)`` overwrites the flag of every submodule, so restoring only the top
    module's flag would leave, say, a frozen eval-mode backbone in training mode.

    Args:
        model: the model.
        train: the mode inside the block (``False``: evaluation; ``None``: leave every flag as
            it is, and still restore them all afterwards).

    Yields:
        The model itself.
    """
    from torch import nn

    if not isinstance(model, nn.Module):
        raise TypeError(tr("model must be a torch.nn.Module, got {type}", type=type(model).__name__))
    if train is not None:
        check_bool(train, "train")
    flags = [(m, m.training) for m in model.modules()]
    if train is not None:
        model.train(train)
    try:
        yield model
    finally:
        for m, flag in flags:
            m.training = flag


@contextmanager
def forward_hooks(
    pairs: Iterable[tuple[nn.Module, Callable[..., Any]]],
) -> Iterator[list[torch.utils.hooks.RemovableHandle]]:
    """Register a forward hook on each module for the block; always remove them after.

    Args:
        pairs: ``(module, hook)`` pairs; ``hook(module, inputs, output)`` as in
            ``nn.Module.register_forward_hook``.

    Yields:
        The list of handles (already registered).
    """
    handles: list[torch.utils.hooks.RemovableHandle] = []
    try:
        for module, hook in pairs:
            handles.append(module.register_forward_hook(hook))
        yield handles
    finally:
        for h in handles:
            h.remove()


def check_int(
    value: Any, name: str, *, min: int | None = None, max: int | None = None
) -> int:
    """``value`` as an ``int`` (a bool is refused; NumPy integers are accepted).

    Args:
        value: the argument.
        name: its name, for the message.
        min: smallest allowed value (inclusive), or ``None``.
        max: largest allowed value (inclusive), or ``None``.

    Returns:
        ``int(value)``.

    Raises:
        TypeError: not an integer.
        ValueError: outside ``[min, max]``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(tr("{name} must be an int, got {type} {value!r}", name=name, type=type(value).__name__,
                           value=value))
    value = int(value)
    if min is not None and value < min:
        raise ValueError(tr("{name} must be >= {bound}, got {value}", name=name, bound=min, value=value))
    if max is not None and value > max:
        raise ValueError(tr("{name} must be <= {bound}, got {value}", name=name, bound=max, value=value))
    return value


def check_bool(value: Any, name: str) -> bool:
    """``value`` if it is a bool (NumPy bools too); otherwise a ``TypeError`` naming it."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(tr("{name} must be True or False, got {type} {value!r}", name=name,
                           type=type(value).__name__, value=value))
    return bool(value)


def check_float(
    value: Any,
    name: str,
    *,
    min: float | None = None,
    max: float | None = None,
    min_open: bool = False,
    max_open: bool = False,
) -> float:
    """``value`` as a finite ``float`` within the given bounds (a bool is refused).

    Args:
        value: the argument (int, float or NumPy scalar).
        name: its name, for the message.
        min: lower bound or ``None``; ``min_open`` makes it exclusive.
        max: upper bound or ``None``; ``max_open`` makes it exclusive.
        min_open: exclude ``min`` itself.
        max_open: exclude ``max`` itself.

    Returns:
        ``float(value)``.

    Raises:
        TypeError: not a real number.
        ValueError: not finite, or out of bounds.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(tr("{name} must be a number, got {type} {value!r}", name=name, type=type(value).__name__,
                           value=value))
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(tr("{name} must be finite, got {value}", name=name, value=value))
    if min is not None and (value <= min if min_open else value < min):
        raise ValueError(tr("{name} must be {op} {bound}, got {value}", name=name, op=">" if min_open else ">=",
                            bound=min, value=value))
    if max is not None and (value >= max if max_open else value > max):
        raise ValueError(tr("{name} must be {op} {bound}, got {value}", name=name, op="<" if max_open else "<=",
                            bound=max, value=value))
    return value


def check_choice(value: Any, name: str, choices: Sequence[Any]) -> Any:
    """``value`` if it is one of ``choices``; otherwise a ``ValueError`` listing them."""
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(tr("{name} must be one of {choices}; got {value!r}", name=name, choices=listed, value=value))
    return value


def to_numpy(x: Any) -> np.ndarray:
    """A tensor (any device or dtype, detached) or array-like as a NumPy array.

    Floating tensors of half or bfloat16 precision become float32 (NumPy has no bfloat16);
    other dtypes keep theirs.
    """
    torch = sys.modules.get("torch")  # a tensor exists only once torch is imported
    if torch is not None and torch.is_tensor(x):
        x = x.detach().cpu()
        if x.dtype in (torch.float16, torch.bfloat16):
            x = x.float()
        return x.numpy()
    return np.asarray(x)


def atomic_write_bytes(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    A reader sees the old file or the new one, never a part; on any error the temporary
    file is removed and the old file is left as it was. Creates missing parent folders.

    Returns:
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: Path | str, text: str, encoding: str = "utf-8") -> Path:
    """:func:`atomic_write_bytes` for text."""
    return atomic_write_bytes(path, text.encode(encoding))


def in_notebook() -> bool:
    """True in a Jupyter kernel (Lab, Notebook, Colab, VS Code); False in a script or terminal IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    ip = get_ipython()
    if ip is None:
        return False
    # Jupyter kernels run a ZMQInteractiveShell (Colab's Shell subclasses it); a kernel is
    # also recognizable by its config even when the shell class is a custom subclass.
    return any(c.__name__ == "ZMQInteractiveShell" for c in type(ip).__mro__) or "IPKernelApp" in getattr(ip, "config", {})
