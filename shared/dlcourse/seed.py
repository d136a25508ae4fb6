"""One call to make a run repeatable."""
from __future__ import annotations

import os
import random

import numpy as np
import torch

__all__ = ["seed_everything", "seed_worker"]


def seed_everything(seed: int = 0, deterministic: bool = False) -> torch.Generator:
    """Seed Python, NumPy and PyTorch (CPU and all GPUs); return a seeded ``torch.Generator``.

    Args:
        seed: a non-negative integer.
        deterministic: also ask PyTorch for deterministic kernels (slower on GPUs; some
            operations then raise instead of running non-deterministically).
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {type(seed).__name__}")
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    os.environ["PYTHONHASHSEED"] = str(seed)  # for subprocesses started from here
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=False)
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True
    else:
        torch.use_deterministic_algorithms(False)
    return torch.Generator().manual_seed(seed)


def seed_worker(worker_id: int) -> None:
    """``DataLoader(worker_init_fn=seed_worker)``: derive each worker's NumPy/random seed."""
    s = torch.initial_seed() % 2**32
    np.random.seed(s)
    random.seed(s)
