"""The small baseline CNN of ``python -m dlcourse.audio`` (the model students run and then beat).

``AudioCNN``: per-band normalization (statistics of the training cache, stored as buffers so a
saved model needs nothing else), SpecAugment masks in training mode, four 3x3 conv blocks
(BatchNorm, ReLU, 2x2 max-pooling after the first three), the mean over time, and one linear
layer over (channels x remaining mel bands). 22,274 parameters with the defaults (10 words, 40 mels).

Input ``x: (N, 1, n_mels, frames)`` raw log-mel features; output ``(N, n_classes)`` logits.
Any number of frames works (the time axis is averaged away).
"""
from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .._core import check_choice, check_int
from ..training import History, count_parameters, fit, load_checkpoint, save_checkpoint
from .augment import FreqWarp, RandomFrameShift, SpecAugment, mixup
from .features import FeatureParams

__all__ = ["BandNorm", "AudioCNN", "fit_within", "save_model", "load_model"]


class BandNorm(nn.Module):
    """``(x - mean[band]) / std[band]`` on ``x: (N, 1, n_mels, frames)``; ``mean``/``std`` are buffers."""

    def __init__(self, n_mels: int, mean: Sequence[float] | np.ndarray | None = None,
                 std: Sequence[float] | np.ndarray | None = None):
        super().__init__()
        m = torch.zeros(n_mels) if mean is None else torch.as_tensor(np.asarray(mean), dtype=torch.float32)
        s = torch.ones(n_mels) if std is None else torch.as_tensor(np.asarray(std), dtype=torch.float32)
        if m.shape != (n_mels,) or s.shape != (n_mels,):
            raise ValueError(f"mean and std must be ({n_mels},), got {tuple(m.shape)} and {tuple(s.shape)}")
        if (s <= 0).any():
            raise ValueError("std must be positive in every band")
        self.register_buffer("mean", m.view(1, 1, n_mels, 1))
        self.register_buffer("std", s.view(1, 1, n_mels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def _block(c_in: int, c_out: int, pool: bool) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                               nn.ReLU(inplace=True)]
    if pool:
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers)


class AudioCNN(nn.Module):
    """Small CNN for log-mel spectrograms.

    Args:
        n_classes: number of words.
        n_mels: mel bands of the input.
        channels: output channels of the conv blocks (pooling after all but the last).
        dropout: before the linear layer.
        band_mean, band_std: ``(n_mels,)`` statistics for :class:`BandNorm` (e.g. ``cache.band_mean``).
        spec_augment: masks applied in training mode (``None`` for none).
        utterance_norm: ``None``; ``"band"`` subtracts each clip's own mean of every band over
            time (cepstral mean normalization: a fixed microphone or vocal-tract colouring is a
            constant per band and goes away); ``"clip"`` subtracts each clip's mean and divides by
            its standard deviation over all bands and frames.
        freq_warp: :class:`~.augment.FreqWarp` (VTLP) applied to the raw features in training mode.
        frame_shift: :class:`~.augment.RandomFrameShift` applied in training mode.
        time_pool: ``"mean"`` averages the last feature maps over time; ``"max"`` takes their
            maximum over time, which does not change when a word is padded with more silence
            (a fast speaker's short word and a slow speaker's long one give the same pooled
            features). Both accept any number of frames.
        deltas: also feed the time derivative of the normalized features
            (``torchaudio.functional.compute_deltas``) as a second input channel: how each band
            moves, which changes less from voice to voice than where it sits.

    Raises:
        ValueError: a bad ``n_classes``, ``channels``, ``n_mels``, ``utterance_norm`` or ``time_pool``.
    """

    def __init__(self, n_classes: int, n_mels: int = 40, *, channels: Sequence[int] = (8, 16, 32, 48),
                 dropout: float = 0.1, band_mean=None, band_std=None, spec_augment: SpecAugment | None = None,
                 utterance_norm: str | None = None, freq_warp: FreqWarp | None = None,
                 frame_shift: RandomFrameShift | None = None, time_pool: str = "mean", deltas: bool = False):
        super().__init__()
        check_int(n_classes, "n_classes", min=2)
        if not channels:
            raise ValueError("channels must name at least one conv block")
        n_pool = len(channels) - 1
        if n_mels < 2 ** n_pool:
            raise ValueError(f"n_mels={n_mels} is too small for {n_pool} poolings (need >= {2 ** n_pool})")
        if utterance_norm not in (None, "band", "clip"):
            raise ValueError(f"utterance_norm must be None, 'band' or 'clip', got {utterance_norm!r}")
        check_choice(time_pool, "time_pool", ("mean", "max"))
        self.config = {"n_classes": n_classes, "n_mels": n_mels, "channels": list(channels), "dropout": dropout,
                       "utterance_norm": utterance_norm, "time_pool": time_pool, "deltas": bool(deltas)}
        self.freq_warp = freq_warp if freq_warp is not None else nn.Identity()
        self.frame_shift = frame_shift if frame_shift is not None else nn.Identity()
        self.norm = BandNorm(n_mels, band_mean, band_std)
        self.spec_augment = spec_augment if spec_augment is not None else nn.Identity()
        blocks, c = [], 2 if deltas else 1
        for i, c_out in enumerate(channels):
            blocks.append(_block(c, c_out, pool=i < n_pool))
            c = c_out
        self.features = nn.Sequential(*blocks)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(c * (n_mels >> n_pool), n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits of a batch of log-mel features.

        Args:
            x: ``(N, 1, n_mels, frames)`` raw log-mel features (any number of frames); the
                augmentations run only in training mode, the normalization always.

        Returns:
            ``(N, n_classes)`` logits.

        Raises:
            ValueError: ``x`` is not ``(N, 1, n_mels, frames)`` for this model's ``n_mels``.
        """
        if x.ndim != 4 or x.shape[1] != 1 or x.shape[2] != self.config["n_mels"]:
            raise ValueError(f"x must be (N, 1, {self.config['n_mels']}, frames), got {tuple(x.shape)}")
        z = self.norm(self.frame_shift(self.freq_warp(x)))    # augment raw log-mel, then normalize per band
        if self.config["utterance_norm"] == "band":
            z = z - z.mean(dim=3, keepdim=True)
        elif self.config["utterance_norm"] == "clip":
            z = (z - z.mean(dim=(2, 3), keepdim=True)) / z.std(dim=(2, 3), keepdim=True).clamp_min(1e-3)
        z = self.spec_augment(z)
        if self.config["deltas"]:
            import torchaudio.functional as AF

            z = torch.cat([z, AF.compute_deltas(z)], dim=1)  # (N, 2, n_mels, frames)
        h = self.features(z)                                 # (N, C, n_mels / 2^p, frames / 2^p)
        h = (h.amax(dim=3) if self.config["time_pool"] == "max" else h.mean(dim=3)).flatten(1)  # (N, C * bands)
        return self.classifier(self.dropout(h))


class _MixupLoader:
    """Wraps a loader of ``(x, y)`` batches into mixed batches ``(x, soft targets)``."""

    def __init__(self, loader: Iterable, n_classes: int | None, alpha: float, generator: torch.Generator | None):
        if n_classes is None:
            raise ValueError("mixup needs a model with config['n_classes'] (an AudioCNN)")
        self.loader, self.n_classes, self.alpha, self.generator = loader, n_classes, alpha, generator

    def __iter__(self):
        for x, y in self.loader:
            yield mixup(x, y, self.n_classes, self.alpha, generator=self.generator)

    def __len__(self) -> int:
        return len(self.loader)


def fit_within(model: nn.Module, loader: Iterable, *, max_epochs: int, time_budget: float | None = None,
               lr: float = 3e-3, weight_decay: float = 1e-3, val_loader: Iterable | None = None,
               callbacks: Sequence[Any] = (), final_lr_fraction: float = 0.02, mixup_alpha: float = 0.0,
               mixup_seed: int | None = None, label_smoothing: float = 0.0) -> History:
    """Train with AdamW and a cosine learning-rate decay over the epochs that fit in ``time_budget``.

    The first epoch runs at ``lr`` and is timed; the plan is then ``min(max_epochs,
    time_budget / first_epoch_seconds)`` epochs, the learning rate decays along a cosine to
    ``final_lr_fraction * lr`` over them, and :func:`dlcourse.training.fit` stops between steps
    if the budget runs out anyway. Without a budget, ``max_epochs`` are planned. Returns the
    merged :class:`~dlcourse.training.History` (``seconds`` counts from the start).

    ``mixup_alpha > 0`` trains on :func:`~.augment.mixup` batches (soft targets; the history then
    has no ``train_acc``, since a mixed item has no single label).

    Args:
        model: the network (trained where its parameters are).
        loader: batches ``(x: (B, 1, n_mels, frames), y: (B,))`` (e.g. :func:`~.cache.make_loader`).
        max_epochs: most epochs (>= 1); the cosine runs over this many when there is no budget.
        time_budget: seconds for the whole run (> 0), or ``None`` for no limit.
        lr: AdamW's learning rate in the first epoch.
        weight_decay: AdamW's decoupled weight decay.
        val_loader: evaluated after every epoch (``val_loss``, ``val_acc``) when given.
        callbacks: objects whose ``on_epoch_end(history)`` is called after each epoch.
        final_lr_fraction: the learning rate of the last planned epoch, as a share of ``lr``.
        mixup_alpha: Beta parameter of mixup (0 = off); needs a model with
            ``config["n_classes"]`` (an :class:`AudioCNN`).
        mixup_seed: seeds the generator of mixup's weights and pairs (two runs with one seed mix
            alike); ``None`` draws them from torch's global generator.
        label_smoothing: share of each target spread evenly over all classes
            (``torch.nn.CrossEntropyLoss(label_smoothing=...)``), in [0, 1).

    Returns:
        the :class:`~dlcourse.training.History`, one record per epoch with ``epoch`` and
        ``seconds``; ``stop_reason`` says when the budget ended it.

    Raises:
        TypeError: ``max_epochs`` is not an int.
        ValueError: ``max_epochs < 1``, ``time_budget <= 0``, ``mixup_alpha < 0``, mixup on a
            model without ``config["n_classes"]``, or ``label_smoothing`` outside [0, 1).
    """
    check_int(max_epochs, "max_epochs", min=1)
    if time_budget is not None and time_budget <= 0:
        raise ValueError(f"time_budget must be positive seconds, got {time_budget}")
    if not mixup_alpha >= 0:
        raise ValueError(f"mixup_alpha must be >= 0, got {mixup_alpha}")
    if not 0 <= label_smoothing < 1:
        raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
    if mixup_alpha > 0:
        gen = None if mixup_seed is None else torch.Generator().manual_seed(int(mixup_seed))
        loader = _MixupLoader(loader, model.config["n_classes"] if hasattr(model, "config") else None, mixup_alpha,
                              gen)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    history = History()
    start = time.perf_counter()
    planned = max_epochs
    for epoch in range(max_epochs):
        if epoch > 0:
            progress = epoch / max(1, planned - 1)
            for g in optimizer.param_groups:
                g["lr"] = lr * (final_lr_fraction + (1 - final_lr_fraction) * 0.5 * (1 + math.cos(math.pi * progress)))
        left = None if time_budget is None else time_budget - (time.perf_counter() - start)
        if left is not None and left <= 0:
            history.stop_reason = f"time budget of {time_budget:g} s reached after {epoch} epochs"
            break
        h = fit(model, loader, epochs=1, optimizer=optimizer, loss_fn=loss_fn, val_loader=val_loader,
                time_budget=left, progress=False)
        rec = dict(h.last, epoch=float(epoch + 1), seconds=time.perf_counter() - start)
        history.append(rec)
        for cb in callbacks:
            if hasattr(cb, "on_epoch_end"):
                cb.on_epoch_end(history)
        if h.stop_reason != "completed":
            history.stop_reason = f"time budget of {time_budget:g} s reached in epoch {epoch + 1}"
            break
        if epoch == 0 and time_budget is not None:
            planned = max(1, min(max_epochs, int(time_budget / rec["seconds"])))
        if epoch + 1 >= planned:
            break
    return history


def save_model(model: AudioCNN, folder: Path | str, *, class_names: Sequence[str], features: FeatureParams,
               history=None, **meta: Any) -> Path:
    """Write ``folder/model.pt`` (weights, via :func:`dlcourse.training.save_checkpoint`) and
    ``folder/model.json`` (architecture, class names, feature parameters, ``meta``).

    Args:
        model: the trained network.
        folder: where the two files go (created).
        class_names: the name of each output class, in order.
        features: the log-mel parameters the model was trained on (needed to predict).
        history: its training :class:`~dlcourse.training.History`, stored with the weights.
        **meta: further JSON-serializable facts written into ``model.json`` (data set, accuracy, ...).

    Returns:
        ``folder`` as a :class:`pathlib.Path`.

    Raises:
        TypeError: ``model`` is not an :class:`AudioCNN`.
    """
    if not isinstance(model, AudioCNN):
        raise TypeError(f"save_model saves an AudioCNN, got {type(model).__name__}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    spec = model.spec_augment
    info = {"architecture": model.config, "class_names": list(class_names), "features": features.to_dict(),
            "spec_augment": spec.extra_repr() if isinstance(spec, SpecAugment) else None,
            "n_params": count_parameters(model), **meta}
    save_checkpoint(model, folder / "model.pt", history)
    tmp = folder / "model.json.tmp"
    tmp.write_text(json.dumps(info, indent=1))
    tmp.replace(folder / "model.json")
    return folder


def load_model(folder: Path | str, device: torch.device | str = "cpu") -> tuple[AudioCNN, dict]:
    """Load what :func:`save_model` wrote; returns ``(model in eval mode, info dict)``.

    Args:
        folder: the folder holding ``model.json`` and ``model.pt``.
        device: where to put the model.

    Returns:
        ``(model, info)``: the :class:`AudioCNN` in eval mode on ``device`` (without its
        training-time augmentations) and the contents of ``model.json``.

    Raises:
        FileNotFoundError: ``model.json`` or ``model.pt`` is missing (the message says how to
            train one).
        ValueError: ``model.pt`` is not a checkpoint of this architecture.
    """
    folder = Path(folder)
    if not (folder / "model.json").is_file() or not (folder / "model.pt").is_file():
        raise FileNotFoundError(f"{folder} holds no trained model (model.json + model.pt); run "
                                f"`python -m dlcourse.audio train ... --out {folder}` first")
    info = json.loads((folder / "model.json").read_text())
    arch = info["architecture"]
    model = AudioCNN(arch["n_classes"], arch["n_mels"], channels=arch["channels"], dropout=arch["dropout"],
                     utterance_norm=arch.get("utterance_norm"), time_pool=arch.get("time_pool", "mean"),
                     deltas=arch.get("deltas", False))
    model.to(device)
    load_checkpoint(model, folder / "model.pt")
    model.eval()
    return model, info
