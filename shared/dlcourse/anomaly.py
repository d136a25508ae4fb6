"""Data and measurements for the autoencoder lecture (lecture 5) and assignment 4.

Infrastructure only: the autoencoders, their training, anomaly scoring and threshold
selection are what the lecture shows and the assignment asks for, so they are not here.

* :func:`make_transactions`: a seeded tabular "bank transactions" set, mostly normal with a
  small fraction (default 1 %) of fraud. Every fraud pattern keeps each feature inside the
  normal range; what gives it away is an unusual *combination* of features (the kind of
  structure an autoencoder trained on normal data learns and fraud breaks).
* :func:`standardize`: z-scores with statistics from a reference (training) set.
* :func:`one_class_split`, :func:`split_tensors`: train on one class, test on all of them.
* :func:`psnr`, :func:`gaussian_noise`, :func:`masking_noise`, :func:`downscale`,
  :func:`upscale_bicubic`: image metrics, corruptions and resizing for denoising and
  super-resolution.
* :func:`codec_sizes`, :func:`quantize_uniform`: bytes per image with PNG/JPEG (Pillow) and
  uniform quantization of latent codes, for the compression comparison.

Images are float tensors in [0, 1] shaped ``(N, C, H, W)``; tabular features ``(N, D)``.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "CATEGORIES",
    "FEATURE_NAMES",
    "FRAUD_PATTERNS",
    "TransactionsData",
    "make_transactions",
    "standardize",
    "split_tensors",
    "one_class_split",
    "psnr",
    "gaussian_noise",
    "masking_noise",
    "downscale",
    "upscale_bicubic",
    "codec_sizes",
    "quantize_uniform",
]

CATEGORIES = ("grocery", "restaurant", "fuel", "online_retail", "electronics", "travel")
FEATURE_NAMES = (
    "log_amount",          # log(1 + amount in EUR)
    "log_amount_vs_usual", # log(amount / this customer's usual amount in this category)
    "hour_sin",            # hour of day on the unit circle
    "hour_cos",
    "log_distance_km",     # log(1 + distance from the customer's home, km)
    "log_minutes_since_last",
    "tx_count_24h",        # transactions of this card in the previous 24 h
    "card_present",        # 1 = chip/contactless at a terminal, 0 = card-not-present (online)
    "foreign",             # 1 = merchant in another country
) + tuple(f"cat_{c}" for c in CATEGORIES)
FRAUD_PATTERNS = ("normal", "card_testing", "account_takeover", "cloned_card")

# Per category: probability, typical amount (EUR), hour mean, hour sd, P(card present),
# typical distance from home (km).
_CAT_PARAMS = {
    "grocery":       (0.30, 45.0, 13.0, 3.0, 0.97, 3.0),
    "restaurant":    (0.20, 30.0, 16.0, 4.0, 0.95, 6.0),
    "fuel":          (0.15, 55.0, 12.0, 3.5, 0.99, 15.0),
    "online_retail": (0.20, 60.0, 19.0, 3.0, 0.00, 2.0),
    "electronics":   (0.05, 280.0, 15.0, 3.0, 0.55, 10.0),
    "travel":        (0.10, 380.0, 12.0, 5.0, 0.30, 40.0),
}


@dataclass
class TransactionsData:
    """A generated transactions table.

    Attributes:
        features: ``(N, D)`` float32, columns named by ``feature_names``.
        labels: ``(N,)`` int64, 1 = fraud, 0 = normal.
        patterns: ``(N,)`` int64 index into ``FRAUD_PATTERNS`` (0 = normal).
        feature_names: the ``D`` column names.
    """

    features: torch.Tensor
    labels: torch.Tensor
    patterns: torch.Tensor
    feature_names: tuple[str, ...] = field(default=FEATURE_NAMES)

    def __len__(self) -> int:
        return self.features.shape[0]

    @property
    def fraud_rate(self) -> float:
        """Fraction of rows labelled fraud."""
        return float(self.labels.float().mean()) if len(self) else float("nan")

    def subset(self, index: torch.Tensor) -> "TransactionsData":
        """Rows ``index`` (int indices or a boolean mask of length N)."""
        return TransactionsData(self.features[index], self.labels[index], self.patterns[index], self.feature_names)

    def split(self, fractions: tuple[float, ...] = (0.6, 0.2, 0.2), *, seed: int = 0) -> tuple["TransactionsData", ...]:
        """Stratified random split (each part keeps the fraud rate) into ``len(fractions)`` parts.

        ``fractions`` must be positive and sum to 1; e.g. ``train, val, test = data.split()``.
        """
        fr = np.asarray(fractions, dtype=float)
        if fr.ndim != 1 or len(fr) < 2 or (fr <= 0).any() or not math.isclose(fr.sum(), 1.0, abs_tol=1e-6):
            raise ValueError(f"fractions must be >= 2 positive numbers summing to 1, got {fractions}")
        rng = np.random.default_rng(seed)
        parts: list[list[np.ndarray]] = [[] for _ in fr]
        labels = self.labels.numpy()
        for value in (0, 1):
            idx = np.flatnonzero(labels == value)
            rng.shuffle(idx)
            cuts = np.round(np.cumsum(fr)[:-1] * len(idx)).astype(int)
            for k, chunk in enumerate(np.split(idx, cuts)):
                parts[k].append(chunk)
        out = []
        for chunks in parts:
            idx = np.concatenate(chunks)
            rng.shuffle(idx)
            out.append(self.subset(torch.from_numpy(idx)))
        return tuple(out)


def _normal_rows(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Habits of genuine customers (see :func:`make_transactions`)."""
    names = list(_CAT_PARAMS)
    table = np.array([_CAT_PARAMS[c] for c in names])
    cat = rng.choice(len(names), size=n, p=table[:, 0] / table[:, 0].sum())
    _, typical, h_mu, h_sd, p_present, dist = table[cat].T
    level = rng.lognormal(0.0, 0.35, n)                     # how much this customer usually spends
    hour = np.mod(rng.normal(h_mu, h_sd), 24.0)
    evening = ((hour >= 19) | (hour < 1)).astype(float)
    # restaurants: dinner costs more than lunch; online shopping in the evening is smaller
    shift = np.where(cat == names.index("restaurant"), 0.6 * evening, 0.0)
    shift += np.where(cat == names.index("online_retail"), -0.3 * evening, 0.0)
    usual = typical * level
    ratio = rng.normal(shift, 0.3)
    present = (rng.random(n) < p_present).astype(float)
    traveling = rng.random(n) < 0.04                       # the customer is abroad on a trip
    log_dist = np.log(dist) + rng.normal(0.0, 0.6, n)
    log_dist = np.where(traveling & (present == 1), rng.normal(math.log(900.0), 0.7, n), log_dist)
    log_dist = np.where(present == 0, rng.normal(math.log(2.0), 0.6, n), log_dist)  # online: from home
    foreign = (traveling | (rng.random(n) < 0.01)).astype(float)
    burst = (rng.random(n) < 0.12) & (present == 1)       # fuel then shop, round of drinks, ...
    minutes = np.where(burst, rng.lognormal(math.log(8.0), 0.7, n), rng.lognormal(math.log(400.0), 0.9, n))
    count = 1 + rng.poisson(1.5, n) + burst * rng.poisson(2.5, n) + traveling * rng.poisson(1.0, n)
    return dict(cat=cat, usual=usual, ratio=ratio, hour=hour, log_dist=log_dist, minutes=minutes, count=count,
                present=present, foreign=foreign)


def _fraud_rows(rng: np.random.Generator, n: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """The three fraud patterns (see :func:`make_transactions`)."""
    names = list(_CAT_PARAMS)
    ci = names.index
    typical = np.array([_CAT_PARAMS[c][1] for c in names])
    pattern = rng.choice([1, 2, 3], size=n, p=[0.4, 0.35, 0.25])
    testing, takeover, cloned = pattern == 1, pattern == 2, pattern == 3
    cat = np.where(testing, rng.choice([ci("online_retail"), ci("electronics")], n, p=[0.8, 0.2]),
                   np.where(takeover, rng.choice([ci("online_retail"), ci("electronics"), ci("travel")], n,
                                                 p=[0.5, 0.35, 0.15]),
                            rng.choice([ci("grocery"), ci("fuel"), ci("electronics")], n, p=[0.4, 0.2, 0.4])))
    level = rng.lognormal(0.0, 0.35, n)
    usual = typical[cat] * level
    # card testing: small amounts, burst, any hour; takeover: well above usual at night;
    # cloned card: chip purchase abroad, far from home, somewhat above usual, in daytime
    ratio = np.where(testing, rng.normal(-0.5, 0.3, n), np.where(takeover, rng.normal(0.7, 0.25, n),
                                                                 rng.normal(0.4, 0.3, n)))
    hour = np.where(testing, rng.uniform(0, 24, n), np.where(takeover, rng.normal(3.0, 1.5, n), rng.normal(14.0, 3.0, n)))
    present = cloned.astype(float)
    foreign = np.where(cloned, 1.0, (rng.random(n) < 0.2).astype(float))
    log_dist = np.where(cloned, rng.normal(math.log(2500.0), 0.6, n), rng.normal(math.log(2.0), 0.6, n))
    minutes = np.where(testing, rng.lognormal(math.log(5.0), 0.7, n), rng.lognormal(math.log(300.0), 1.0, n))
    count = 1 + rng.poisson(np.where(testing, 5.0, np.where(takeover, 1.5, 2.5)))
    return dict(cat=cat, usual=usual, ratio=ratio, hour=np.mod(hour, 24.0), log_dist=log_dist, minutes=minutes,
                count=count, present=present, foreign=foreign), pattern


def make_transactions(n: int = 20_000, fraud_rate: float = 0.01, *, seed: int = 0) -> TransactionsData:
    """Generate ``n`` card transactions, a fraction ``fraud_rate`` of them fraudulent.

    Normal transactions follow per-category habits: typical amounts scaled by the customer's
    spending level (dinner costs more than lunch), hours of the day, card present or not,
    distance from home, trips abroad (4 %), and bursts of quick successive chip purchases.
    Three fraud patterns break these habits in *combination*, while every feature on its own
    stays within the range of normal transactions:

    * ``card_testing``: small card-not-present purchases in a quick burst, at any hour;
    * ``account_takeover``: card-not-present purchases at night, well above the usual amount;
    * ``cloned_card``: chip purchases far away abroad in everyday categories, above the usual amount.

    Args:
        n: number of rows (>= 100).
        fraud_rate: fraction of fraud rows in (0, 0.5); real card data is around 0.1-2 %.
        seed: the generator's seed; the same seed gives the same table.

    Returns:
        :class:`TransactionsData` with ``features: (n, 15)``, ``labels: (n,)``, ``patterns: (n,)``.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if n < 100:
        raise ValueError(f"n must be at least 100, got {n}")
    if isinstance(fraud_rate, bool) or not isinstance(fraud_rate, (float, int)) or not 0 < fraud_rate < 0.5:
        raise ValueError(f"fraud_rate must be a number in (0, 0.5), got {fraud_rate!r}")
    rng = np.random.default_rng(seed)
    n_fraud = max(1, int(round(n * fraud_rate)))
    normal = _normal_rows(rng, n - n_fraud)
    fraud, pattern = _fraud_rows(rng, n_fraud)
    rows = {k: np.concatenate([normal[k], fraud[k]]) for k in normal}
    amount = rows["usual"] * np.exp(rows["ratio"])
    cols = [
        np.log1p(amount),
        rows["ratio"],
        np.sin(2 * np.pi * rows["hour"] / 24),
        np.cos(2 * np.pi * rows["hour"] / 24),
        np.log1p(np.exp(rows["log_dist"])),
        np.log(rows["minutes"]),
        rows["count"].astype(float),
        rows["present"],
        rows["foreign"],
    ]
    onehot = np.eye(len(CATEGORIES))[rows["cat"]]
    x = np.column_stack(cols + [onehot]).astype(np.float32)
    patterns = np.concatenate([np.zeros(n - n_fraud, int), pattern])
    order = rng.permutation(n)
    x, patterns = x[order], patterns[order]
    return TransactionsData(
        torch.from_numpy(x),
        torch.from_numpy((patterns > 0).astype(np.int64)),
        torch.from_numpy(patterns.astype(np.int64)),
    )


def standardize(reference: torch.Tensor, *others: torch.Tensor, eps: float = 1e-6) -> tuple[torch.Tensor, ...]:
    """Z-score columns with the mean and std of ``reference: (N, D)``; apply the same to ``others``.

    Fit on training data only (never on test data). Returns ``(reference_z, *others_z)``.
    """
    tensors = (reference, *others)
    for i, t in enumerate(tensors):
        if not torch.is_tensor(t):
            raise TypeError(f"argument {i} must be a torch.Tensor, got {type(t).__name__}")
        if t.ndim != 2 or t.shape[1] != reference.shape[1]:
            raise ValueError(f"argument {i} must be (N, {reference.shape[1] if reference.ndim == 2 else 'D'}), "
                             f"got shape {tuple(t.shape)}")
    if reference.shape[0] < 2:
        raise ValueError(f"reference needs at least 2 rows to estimate a std, got {reference.shape[0]}")
    mean = reference.mean(0, keepdim=True)
    std = reference.std(0, keepdim=True).clamp_min(eps)
    return tuple((t - mean) / std for t in tensors)


# ------------------------------------------------------------------------------- splits
def split_tensors(x: torch.Tensor, y: torch.Tensor, n_test: int, *, seed: int = 0
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random split of ``x: (N, ...)`` and ``y: (N,)`` into ``(x_train, y_train, x_test, y_test)``.

    ``n_test`` rows go to the test part; the permutation depends only on ``seed`` and ``N``.
    """
    if not torch.is_tensor(x) or not torch.is_tensor(y):
        raise TypeError("x and y must be torch tensors")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x has {x.shape[0]} rows but y has {y.shape[0]}")
    if not 0 < n_test < x.shape[0]:
        raise ValueError(f"n_test must be in (0, {x.shape[0]}), got {n_test}")
    perm = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(seed))
    test, train = perm[:n_test], perm[n_test:]
    return x[train], y[train], x[test], y[test]


def one_class_split(x_train: torch.Tensor, y_train: torch.Tensor, x_test: torch.Tensor, y_test: torch.Tensor,
                    normal_class: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One-class setting: train on ``normal_class`` only, test on every class.

    Args:
        x_train: ``(N, ...)`` with labels ``y_train: (N,)``; x_test ``(M, ...)``, y_test ``(M,)``.
        normal_class: the class treated as normal.

    Returns:
        ``(x_normal: (N_c, ...), x_test: (M, ...), is_anomaly: (M,) int64)`` where
        ``is_anomaly = (y_test != normal_class)``.
    """
    for name, t in (("x_train", x_train), ("y_train", y_train), ("x_test", x_test), ("y_test", y_test)):
        if not torch.is_tensor(t):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if x_train.shape[0] != y_train.shape[0] or x_test.shape[0] != y_test.shape[0]:
        raise ValueError("each x must have as many rows as its y")
    if not bool((y_train == normal_class).any()):
        raise ValueError(f"normal_class {normal_class} does not occur in y_train (classes: {y_train.unique().tolist()})")
    return x_train[y_train == normal_class], x_test, (y_test != normal_class).long()


# ------------------------------------------------------------------------------- images
def _check_images(x: torch.Tensor, name: str = "x") -> None:
    if not torch.is_tensor(x):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"{name} must be (N, C, H, W), got shape {tuple(x.shape)}")
    if not torch.is_floating_point(x):
        raise TypeError(f"{name} must be a float tensor in [0, 1], got dtype {x.dtype}")


def psnr(x: torch.Tensor, reference: torch.Tensor, data_range: float = 1.0, *, reduction: str = "none") -> torch.Tensor:
    """Peak signal-to-noise ratio in dB, ``10 log10(data_range^2 / MSE)``, per image.

    Args:
        x, reference: ``(N, C, H, W)`` images of the same shape.
        reduction: ``"none"`` -> ``(N,)``; ``"mean"`` -> mean of the per-image PSNR (a scalar).

    Identical images give ``inf``.
    """
    _check_images(x, "x")
    _check_images(reference, "reference")
    if x.shape != reference.shape:
        raise ValueError(f"x is {tuple(x.shape)} but reference is {tuple(reference.shape)}")
    if reduction not in ("none", "mean"):
        raise ValueError(f"reduction must be 'none' or 'mean', got {reduction!r}")
    mse = ((x.detach().float() - reference.detach().float()) ** 2).flatten(1).mean(1)
    out = 10 * torch.log10(data_range**2 / mse)
    return out.mean() if reduction == "mean" else out


def gaussian_noise(x: torch.Tensor, std: float, *, generator: torch.Generator | None = None,
                   clip: bool = True) -> torch.Tensor:
    """``x + N(0, std^2)`` per pixel (clipped to [0, 1] by default). ``x: (N, C, H, W)``."""
    _check_images(x)
    if std < 0:
        raise ValueError(f"std must be >= 0, got {std}")
    noisy = x + std * torch.randn(x.shape, generator=generator, device="cpu").to(x.device, x.dtype)
    return noisy.clamp(0, 1) if clip else noisy


def masking_noise(x: torch.Tensor, p: float, *, generator: torch.Generator | None = None,
                  fill: float = 0.0) -> torch.Tensor:
    """Set each pixel to ``fill`` with probability ``p`` (the same pixels in every channel).

    ``x: (N, C, H, W)`` -> same shape. This is the masking noise of denoising autoencoders.
    """
    _check_images(x)
    if not 0 <= p <= 1:
        raise ValueError(f"p must be in [0, 1], got {p}")
    n, _, h, w = x.shape
    drop = (torch.rand((n, 1, h, w), generator=generator, device="cpu") < p).to(x.device)
    return torch.where(drop, torch.full_like(x, fill), x)


def downscale(x: torch.Tensor, factor: int = 2) -> torch.Tensor:
    """Low-resolution version by averaging ``factor x factor`` blocks: ``(N, C, H, W)`` -> ``(N, C, H/f, W/f)``."""
    _check_images(x)
    if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
        raise ValueError(f"factor must be a positive int, got {factor!r}")
    if x.shape[-1] % factor or x.shape[-2] % factor:
        raise ValueError(f"H and W ({tuple(x.shape[-2:])}) must be multiples of factor {factor}")
    return F.avg_pool2d(x, factor)


def upscale_bicubic(x: torch.Tensor, factor: int = 2) -> torch.Tensor:
    """Bicubic upsampling by ``factor`` (the classical baseline), clipped to [0, 1]."""
    _check_images(x)
    if isinstance(factor, bool) or not isinstance(factor, int) or factor < 1:
        raise ValueError(f"factor must be a positive int, got {factor!r}")
    return F.interpolate(x, scale_factor=factor, mode="bicubic", align_corners=False).clamp(0, 1)


# ------------------------------------------------------------------------------- compression
def _to_pil(img: np.ndarray):
    from PIL import Image

    arr = np.round(np.clip(img, 0, 1) * 255).astype(np.uint8)
    return Image.fromarray(arr[0], mode="L") if arr.shape[0] == 1 else Image.fromarray(arr.transpose(1, 2, 0), mode="RGB")


def codec_sizes(images: torch.Tensor, fmt: str = "png", *, quality: int = 75) -> tuple[np.ndarray, torch.Tensor]:
    """Encode each image as a PNG or JPEG file in memory (8 bits per channel, Pillow).

    Args:
        images: ``(N, C, H, W)`` in [0, 1] with ``C`` in {1, 3}.
        fmt: ``"png"`` (lossless, ``optimize=True``) or ``"jpeg"`` (lossy).
        quality: JPEG quality 1-95 (ignored for PNG).

    Returns:
        ``(sizes, decoded)``: file size in bytes per image ``(N,)`` (headers included) and the
        decoded images ``(N, C, H, W)`` in [0, 1] (for PSNR).
    """
    from PIL import Image

    _check_images(images, "images")
    if images.shape[1] not in (1, 3):
        raise ValueError(f"images must have 1 or 3 channels, got {images.shape[1]}")
    fmt = fmt.lower()
    if fmt not in ("png", "jpeg", "jpg"):
        raise ValueError(f"fmt must be 'png' or 'jpeg', got {fmt!r}")
    if fmt != "png" and not (isinstance(quality, int) and 1 <= quality <= 95):
        raise ValueError(f"quality must be an int in [1, 95], got {quality!r}")
    arr = images.detach().cpu().float().numpy()
    sizes = np.empty(len(arr), dtype=np.int64)
    decoded = np.empty_like(arr)
    for i, img in enumerate(arr):
        buf = io.BytesIO()
        if fmt == "png":
            _to_pil(img).save(buf, format="PNG", optimize=True)
        else:
            _to_pil(img).save(buf, format="JPEG", quality=quality)
        sizes[i] = buf.tell()
        buf.seek(0)
        back = np.asarray(Image.open(buf), dtype=np.float32) / 255.0
        decoded[i] = back[None] if back.ndim == 2 else back.transpose(2, 0, 1)
    return sizes, torch.from_numpy(decoded)


def quantize_uniform(z: torch.Tensor, bits: int, lo: torch.Tensor | float, hi: torch.Tensor | float) -> torch.Tensor:
    """Quantize ``z`` to ``2**bits`` evenly spaced levels in ``[lo, hi]`` and return the levels' values.

    ``lo``/``hi`` broadcast against ``z: (N, L)`` (per-dimension ranges measured on training
    codes, e.g. ``z_train.amin(0)``); values outside are clipped. A code of ``L`` numbers then
    costs ``L * bits`` bits.
    """
    if not torch.is_tensor(z):
        raise TypeError(f"z must be a torch.Tensor, got {type(z).__name__}")
    if isinstance(bits, bool) or not isinstance(bits, int) or not 1 <= bits <= 16:
        raise ValueError(f"bits must be an int in [1, 16], got {bits!r}")
    lo_t = torch.as_tensor(lo, dtype=z.dtype, device=z.device)
    hi_t = torch.as_tensor(hi, dtype=z.dtype, device=z.device)
    if bool((hi_t <= lo_t).any()):
        raise ValueError("hi must be greater than lo everywhere")
    levels = 2**bits - 1
    step = (hi_t - lo_t) / levels
    q = torch.round((z.clamp(min=lo_t, max=hi_t) - lo_t) / step)
    return lo_t + q * step
