"""The training recipe of the audio baseline: every lever for unseen speakers in one place.

A :class:`Recipe` says how the cache's variants are drawn (speed, filters, reverberation, noise
at an SNR, time shift: :class:`~.augment.AugmentConfig`), what happens to the features on the
fly in training mode (per-utterance normalization, vocal-tract-length perturbation, frame
shift, SpecAugment, mixup), how long to train, how many models to average (an ensemble) and
which test-time variants to average (test-time augmentation). ``Recipe()`` is what
``python -m dlcourse.audio train`` does with no options; ``bench/audio_fsdd.py`` measures it and
its ablations, speaker by speaker.

* :func:`build_model` — one :class:`~.models.AudioCNN` for a cache and a recipe;
* :func:`train_models` — the recipe's model(s), trained on some clips of a cache;
* :func:`predict_proba` — class probabilities averaged over the models and the test-time variants.
"""
from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import torch

from .. import seed as _seed
from .._core import check_int
from .augment import AugmentConfig, FreqWarp, RandomFrameShift, SpecAugment, mel_centers, shift_frames, warp_frequency
from .features import FeatureParams
from .models import AudioCNN, fit_within

__all__ = ["Recipe", "build_model", "train_models", "predict_proba"]


@dataclass(frozen=True)
class Recipe:
    """Everything that decides how the baseline is trained and evaluated.

    Attributes:
        features: the front end (:class:`~.features.FeatureParams`) of the cache the recipe trains on:
            every clip scaled to a peak of 0.5, and a log floor of 1e-4, above the background noise
            of the noisiest FSDD speaker's microphone, so that no speaker's room noise is a feature.
        variants: augmented variants per clip in the cache (``augment`` draws them).
        augment: the waveform chain of the cache's variants.
        spec_augment: frequency/time masks in training mode (off by default: with the other levers on,
            it lowered the held-out-speaker accuracy; ``bench/audio_fsdd.py --ablation`` measures it).
        utterance_norm: ``None``, ``"band"`` or ``"clip"`` (see :class:`~.models.AudioCNN`).
        max_warp: VTLP factor range ``1 ± max_warp`` in training mode (0 = off).
        frame_shift: random shift of the features by up to this many frames in training (0 = off).
        mixup_alpha: Beta parameter of mixup (0 = off); model ``k``'s mixes are drawn from a generator
            seeded with its seed, so a rerun mixes alike.
        label_smoothing: share of each training target spread over all classes (0 = off).
        weight_decay: AdamW's decoupled weight decay.
        ensemble: models trained (with seeds ``seed, seed + 1, ...``) and averaged; they share
            ``time_budget``.
        tta_warps, tta_shifts: test-time variants (warp factor x frame shift grid) whose
            probabilities are averaged; ``(1.0,)`` and ``(0,)`` = no test-time augmentation.
        max_epochs, time_budget: training length. The default is a number of epochs and no
            wall-clock budget, so that the result does not depend on the machine's load; a budget
            in seconds (all models together) stops training earlier on a slow machine.
        lr, batch_size, channels, dropout, time_pool, deltas: optimizer and model (``time_pool``,
            ``deltas``: see :class:`~.models.AudioCNN`).
    """

    features: FeatureParams = FeatureParams(peak_level=0.5, log_floor=1e-4)
    variants: int = 3
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    spec_augment: bool = False
    utterance_norm: str | None = "band"
    max_warp: float = 0.1
    frame_shift: int = 6
    mixup_alpha: float = 0.0
    label_smoothing: float = 0.1
    weight_decay: float = 1e-3
    ensemble: int = 1
    tta_warps: tuple[float, ...] = (0.92, 1.0, 1.08)
    tta_shifts: tuple[int, ...] = (-3, 0, 3)
    max_epochs: int = 100
    time_budget: float | None = None
    lr: float = 3e-3
    batch_size: int = 32
    channels: tuple[int, ...] = (8, 16, 32, 48)
    dropout: float = 0.1
    time_pool: str = "max"
    deltas: bool = False

    def __post_init__(self) -> None:
        check_int(self.variants, "Recipe.variants", min=0)
        check_int(self.ensemble, "Recipe.ensemble", min=1)
        if not self.tta_warps or not self.tta_shifts:
            raise ValueError("tta_warps and tta_shifts must each name at least one value ((1.0,) and (0,) = none)")
        if not isinstance(self.features, FeatureParams):
            raise TypeError(f"Recipe.features must be a FeatureParams, got {type(self.features).__name__}")
        if not 0 <= self.label_smoothing < 1:
            raise ValueError(f"Recipe.label_smoothing must be in [0, 1), got {self.label_smoothing}")
        if not self.weight_decay >= 0:
            raise ValueError(f"Recipe.weight_decay must be >= 0, got {self.weight_decay}")
        if not isinstance(self.augment, AugmentConfig):
            raise TypeError(f"Recipe.augment must be an AugmentConfig, got {type(self.augment).__name__}")

    def replace(self, **changes) -> "Recipe":
        """A copy with some fields changed (``dataclasses.replace``)."""
        return replace(self, **changes)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["augment"] = self.augment.to_dict()
        d["features"] = self.features.to_dict()
        return d


def build_model(n_classes: int, features: FeatureParams, recipe: Recipe, *, band_mean=None,
                band_std=None) -> AudioCNN:
    """The :class:`~.models.AudioCNN` of ``recipe`` for ``features`` (training-mode augmentations included).

    Args:
        n_classes: number of words (>= 2).
        features: the log-mel parameters of the inputs (``n_mels``, and the band centres of VTLP).
        recipe: the model settings (``channels``, ``dropout``, ``time_pool``, ``utterance_norm``) and
            the training-mode augmentations (``spec_augment``, ``max_warp``, ``frame_shift``).
        band_mean: ``(n_mels,)`` per-band mean of the training features (``cache.band_mean``), or
            None for no shift.
        band_std: ``(n_mels,)`` per-band standard deviation, or None for no scaling.

    Returns:
        a new, untrained :class:`~.models.AudioCNN` on the CPU.
    """
    return AudioCNN(n_classes, features.n_mels, channels=recipe.channels, dropout=recipe.dropout,
                    band_mean=band_mean, band_std=band_std,
                    spec_augment=SpecAugment() if recipe.spec_augment else None,
                    utterance_norm=recipe.utterance_norm,
                    freq_warp=FreqWarp(mel_centers(features), recipe.max_warp) if recipe.max_warp else None,
                    frame_shift=RandomFrameShift(recipe.frame_shift) if recipe.frame_shift else None,
                    time_pool=recipe.time_pool, deltas=recipe.deltas)


def train_models(cache, recipe: Recipe, indices: Sequence[int] | np.ndarray | None = None, *, seed: int = 0,
                 callbacks: Sequence = (), device: torch.device | str | None = None) -> tuple[list[AudioCNN], list]:
    """Train ``recipe.ensemble`` models on the clips ``indices`` of ``cache`` (a :class:`~.cache.FeatureCache`).

    Each model gets ``time_budget / ensemble`` seconds and its own seed.

    Args:
        cache: the :class:`~.cache.FeatureCache` to train on (class names, features, band
            statistics and the variants).
        recipe: what to build and how to train it.
        indices: positions of the training clips in ``cache``; ``None`` uses all.
        seed: model ``k`` is trained with seed ``seed + k`` (initialization, shuffle, variants).
        callbacks: passed to :func:`~.models.fit_within` for every model.
        device: where to train; ``None`` keeps the CPU.

    Returns:
        ``(models in eval mode, their histories)``: ``recipe.ensemble`` of each.

    Raises:
        TypeError: ``recipe`` is not a :class:`Recipe`.
    """
    from .cache import make_loader

    if not isinstance(recipe, Recipe):
        raise TypeError(f"recipe must be a Recipe, got {type(recipe).__name__}")
    models, histories = [], []
    budget = None if recipe.time_budget is None else recipe.time_budget / recipe.ensemble
    for k in range(recipe.ensemble):
        _seed.seed_everything(seed + k)
        model = build_model(len(cache.class_names), cache.features, recipe, band_mean=cache.band_mean,
                            band_std=cache.band_std)
        if device is not None:
            model.to(device)
        loader = make_loader(cache.dataset(indices), batch_size=recipe.batch_size, seed=seed + k)
        hist = fit_within(model, loader, max_epochs=recipe.max_epochs, time_budget=budget, lr=recipe.lr,
                          callbacks=callbacks, mixup_alpha=recipe.mixup_alpha, mixup_seed=seed + k,
                          label_smoothing=recipe.label_smoothing, weight_decay=recipe.weight_decay)
        models.append(model.eval())
        histories.append(hist)
    return models, histories


@torch.no_grad()
def predict_proba(models: AudioCNN | Sequence[AudioCNN], x: torch.Tensor, *, tta_warps: Sequence[float] = (1.0,),
                  tta_shifts: Sequence[int] = (0,), features: FeatureParams | None = None,
                  batch_size: int = 512) -> torch.Tensor:
    """Class probabilities ``(N, n_classes)`` for features ``x: (N, 1, n_mels, frames)``, averaged over the
    models and every (warp factor, frame shift) pair; computed on the models' device, returned there.

    ``features`` (the parameters ``x`` was made with) places the mel bands for the warps; default
    ``FeatureParams(n_mels=x.shape[2])``.

    Args:
        models: one :class:`~.models.AudioCNN` or several (an ensemble), on one device; each is
            run in eval mode and left in the mode it was in.
        x: features ``(N, 1, n_mels, frames)``, on any device.
        tta_warps: frequency warp factors of the test-time variants (1.0 = none).
        tta_shifts: frame shifts of the test-time variants (0 = none).
        features: see above.
        batch_size: items per forward pass.

    Returns:
        ``(N, n_classes)`` probabilities (rows sum to 1) on the models' device.

    Raises:
        ValueError: no model, or ``x`` is not a 4-D tensor.
    """
    models = [models] if isinstance(models, AudioCNN) else list(models)
    if not models:
        raise ValueError("models is empty")
    if not torch.is_tensor(x) or x.ndim != 4:
        raise ValueError(f"x must be features (N, 1, n_mels, frames), got {getattr(x, 'shape', type(x).__name__)}")
    dev = next(models[0].parameters()).device
    centers = None
    out = None
    for i in range(0, len(x), batch_size):
        xb = x[i:i + batch_size].to(dev, torch.float32)
        p = 0
        for a, s in itertools.product(tta_warps, tta_shifts):
            v = xb
            if a != 1.0:
                if centers is None:
                    centers = mel_centers(features or FeatureParams(n_mels=x.shape[2]))
                v = warp_frequency(v, float(a), centers)
            if s:
                v = shift_frames(v, int(s))
            for m in models:
                was = m.training
                m.eval()
                p = p + torch.softmax(m(v), dim=1)
                m.train(was)
        p = p / (len(models) * len(tta_warps) * len(tta_shifts))
        out = p if out is None else torch.cat([out, p])
    return out
