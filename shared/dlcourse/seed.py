"""One call to make a run repeatable."""
from __future__ import annotations

import os
import random

import numpy as np
import torch

from ._core import check_bool, check_int

__all__ = ["seed_everything", "seed_worker"]


def seed_everything(seed: int = 0, deterministic: bool | None = None) -> torch.Generator:
    """Seed Python, NumPy and PyTorch (CPU and all GPUs); return a seeded ``torch.Generator``.

    Only the flags asked for are touched: with the default ``deterministic=None`` PyTorch's
    deterministic-algorithms setting (and cuDNN's flags) stay as they were.

    Args:
        seed: an integer in ``[0, 2**32)``.
        deterministic: ``True`` asks PyTorch for deterministic kernels (slower on GPUs; an
            operation without one then raises instead of running non-deterministically) and
            turns cuDNN's benchmark mode off; ``False`` turns deterministic algorithms off;
            ``None`` leaves every such setting as it is.

    Returns:
        A CPU ``torch.Generator`` seeded with ``seed`` (for ``DataLoader(generator=...)``).

    Raises:
        TypeError: ``seed`` is not an int, or ``deterministic`` not a bool or None.
        ValueError: ``seed`` outside ``[0, 2**32)``.
    """
    seed = check_int(seed, "seed", min=0, max=2**32 - 1)
    if deterministic is not None:
        deterministic = check_bool(deterministic, "deterministic (True, False or None)")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    os.environ["PYTHONHASHSEED"] = str(seed)  # for subprocesses started from here
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=False)
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
    elif deterministic is False:
        torch.use_deterministic_algorithms(False)
        torch.backends.cudnn.deterministic = False
    return torch.Generator().manual_seed(seed)


def seed_worker(worker_id: int) -> None:
    """``DataLoader(worker_init_fn=seed_worker)``: derive each worker's NumPy/random seed."""
    s = torch.initial_seed() % 2**32
    np.random.seed(s)
    random.seed(s)
