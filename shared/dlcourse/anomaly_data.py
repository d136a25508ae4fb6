"""Data for the anomaly-detection part of the autoencoder lecture (lecture 5) and assignment 4.

Infrastructure only: the autoencoders, their training, anomaly scoring and threshold
selection are what the lecture shows and the assignment asks for, so they are not here.

* :func:`make_transactions`: a seeded tabular "bank transactions" set, mostly normal with a
  small fraction (default 1 %) of fraud. Every fraud pattern keeps each feature inside the
  normal range; what gives it away is an unusual *combination* of features (the kind of
  structure an autoencoder trained on normal data learns and fraud breaks).
* :func:`standardize`: z-scores with statistics from a reference (training) set.
* :func:`one_class_split`: train on one class, test on all of them.

Tabular features are ``(N, D)`` float tensors. Image data and random splits of tensors are in
:mod:`dlcourse.data`; noise, resizing and PSNR for denoising and super-resolution in
:mod:`dlcourse.restoration`; PNG/JPEG sizes and latent quantization in :mod:`dlcourse.compression`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from ._core import check_float, check_int

__all__ = [
    "CATEGORIES",
    "FEATURE_NAMES",
    "FRAUD_PATTERNS",
    "TransactionsData",
    "make_transactions",
    "standardize",
    "one_class_split",
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

        Args:
            fractions: the share of the rows in each part, in order (two or more).
            seed: seeds the shuffle; the same seed gives the same parts.

        Returns:
            ``len(fractions)`` :class:`TransactionsData`, rows shuffled within each part; the
            fraud and normal rows are each cut at the cumulative fractions (rounded).

        Raises:
            ValueError: fewer than two fractions, one not positive, or a sum other than 1.
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
    n = check_int(n, "n", min=100)
    fraud_rate = check_float(fraud_rate, "fraud_rate", min=0, max=0.5, min_open=True, max_open=True)
    seed = check_int(seed, "seed", min=0)
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

    Fit on training data only (never on test data).

    Args:
        reference: ``(N, D)`` the rows whose statistics are used (N >= 2).
        *others: ``(M_i, D)`` further tables standardized with the same statistics.
        eps: floor of the standard deviation (a constant column does not divide by zero).

    Returns:
        ``(reference_z, *others_z)``, each the shape of its input.

    Raises:
        TypeError: an argument is not a tensor.
        ValueError: an argument is not ``(N, D)`` with the reference's ``D``, or fewer than 2
            reference rows.
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



# ------------------------------------------------------------------------------- one-class setting
def one_class_split(x_train: torch.Tensor, y_train: torch.Tensor, x_test: torch.Tensor, y_test: torch.Tensor,
                    normal_class: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One-class setting: train on ``normal_class`` only, test on every class.

    Args:
        x_train: ``(N, ...)`` training inputs.
        y_train: ``(N,)`` their labels.
        x_test: ``(M, ...)`` test inputs.
        y_test: ``(M,)`` their labels.
        normal_class: the class treated as normal.

    Returns:
        ``(x_normal: (N_c, ...), x_test: (M, ...), is_anomaly: (M,) int64)`` where
        ``is_anomaly = (y_test != normal_class)``.

    Raises:
        TypeError: an argument is not a tensor.
        ValueError: an ``x`` and its ``y`` differ in rows, or ``normal_class`` is not in ``y_train``.
    """
    for name, t in (("x_train", x_train), ("y_train", y_train), ("x_test", x_test), ("y_test", y_test)):
        if not torch.is_tensor(t):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    if x_train.shape[0] != y_train.shape[0] or x_test.shape[0] != y_test.shape[0]:
        raise ValueError("each x must have as many rows as its y")
    if not bool((y_train == normal_class).any()):
        raise ValueError(f"normal_class {normal_class} does not occur in y_train (classes: {y_train.unique().tolist()})")
    return x_train[y_train == normal_class], x_test, (y_test != normal_class).long()
