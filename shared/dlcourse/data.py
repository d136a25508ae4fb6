"""Image data for the course: real data sets with a cache, and offline data that needs no network.

* ``"digits"``: scikit-learn's bundled 8x8 handwritten digits (1,797 images, offline).
* ``"shapes"``: a generated set of shapes (circle, square, triangle, cross, ring) on a noisy
  background with ground-truth object boxes (offline, any size, seeded).
* :func:`make_shape_scenes`: several shapes of *different* classes per image, each darker or
  brighter than the background at random, with every object's box: the faithfulness benchmark
  (brightness, edges or position cannot tell the target from the distractor).
* ``"mnist"``, ``"fashion-mnist"``, ``"cifar10"``: torchvision data sets stored in the cache
  directory (``$DLCOURSE_DATA``, default ``~/.cache/dlcourse``) and verified by MD5. Offline
  without a cache they fail fast with :class:`DatasetUnavailable`, naming the offline sets.
* :func:`load_mnist_idx`: MNIST-format IDX files from any folder (e.g. the test set only).

All image tensors are float32 in [0, 1], shaped ``(N, C, H, W)``; labels are int64 ``(N,)``.
"""
from __future__ import annotations

import gzip
import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Subset, TensorDataset

from . import config
from ._core import check_choice, check_float, check_int
from .lang import tr

__all__ = [
    "DatasetUnavailable",
    "DATASETS",
    "OFFLINE_DATASETS",
    "SHAPE_CLASSES",
    "ShapesData",
    "make_shapes",
    "ShapeScenes",
    "make_shape_scenes",
    "load_digits",
    "load_torchvision",
    "load_mnist_idx",
    "verify_cache",
    "get_dataset",
    "train_val_split",
    "split_tensors",
    "make_loaders",
    "DataChoice",
    "real_or_offline",
    "to_tensor_dataset",
]

OFFLINE_DATASETS = ("digits", "shapes")
TORCHVISION_DATASETS = ("mnist", "fashion-mnist", "cifar10")
DATASETS = OFFLINE_DATASETS + TORCHVISION_DATASETS
SHAPE_CLASSES = ("circle", "square", "triangle", "cross", "ring")


class DatasetUnavailable(RuntimeError):
    """A data set is not in the cache and cannot be downloaded (offline, or no permission)."""


# --------------------------------------------------------------------------- offline: shapes
@dataclass
class ShapesData:
    """Generated shapes: ``images: (N, C, S, S)`` in [0, 1], ``labels: (N,)``,
    ``boxes: (N, 4)`` = (x0, y0, x1, y1) pixel bounds of the object (x1, y1 exclusive)."""

    images: torch.Tensor
    labels: torch.Tensor
    boxes: torch.Tensor
    class_names: tuple[str, ...] = SHAPE_CLASSES

    def dataset(self) -> TensorDataset:
        """(image, label) pairs for training."""
        return TensorDataset(self.images, self.labels)

    def __len__(self) -> int:
        return self.images.shape[0]


def _shape_mask(kind: str, size: int, cx: float, cy: float, r: float, rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    dx, dy = xx - cx, yy - cy
    if kind == "circle":
        return dx**2 + dy**2 <= r**2
    if kind == "ring":
        d2 = dx**2 + dy**2
        return (d2 <= r**2) & (d2 >= (0.55 * r) ** 2)
    if kind == "square":
        return (np.abs(dx) <= r * 0.85) & (np.abs(dy) <= r * 0.85)
    if kind == "cross":
        w = max(r * 0.3, 1.0)
        return ((np.abs(dx) <= w) & (np.abs(dy) <= r)) | ((np.abs(dy) <= w) & (np.abs(dx) <= r))
    if kind == "triangle":
        # upward triangle: apex at (cx, cy - r), base at y = cy + r*0.8
        top, base = cy - r, cy + 0.8 * r
        t = (yy - top) / (base - top)
        return (t >= 0) & (t <= 1) & (np.abs(dx) <= t * r)
    raise ValueError(f"unknown shape {kind!r}; expected one of {SHAPE_CLASSES}")


def _check_generator_args(n, size: int, min_size: int, channels, classes) -> tuple[int, int, int, tuple[str, ...]]:
    """The arguments every shape generator shares, checked: ``(n, size, channels, classes)``."""
    n = check_int(n, "n", min=1)
    if check_int(size, "size") < min_size:
        raise ValueError(f"size must be at least {min_size} pixels, got {size}")
    check_choice(channels, "channels", (1, 3))
    classes = tuple(classes) if isinstance(classes, (tuple, list)) else classes
    if not isinstance(classes, tuple) or not classes or any(c not in SHAPE_CLASSES for c in classes) \
            or len(set(classes)) != len(classes):
        raise ValueError(f"classes must be a non-empty subset of distinct names from {SHAPE_CLASSES}, got {classes!r}")
    return n, size, channels, classes


def make_shapes(n: int = 1000, size: int = 32, *, seed: int = 0, channels: int = 1, noise: float = 0.15,
                classes: tuple[str, ...] = SHAPE_CLASSES, min_radius: float | None = None,
                max_radius: float | None = None) -> ShapesData:
    """Generate ``n`` images of one shape each, balanced over ``classes``, with known boxes.

    The background is a random smooth gradient plus Gaussian noise of std ``noise``; the shape's
    intensity, size and position vary, so the class is given by the shape alone.

    Args:
        n: number of images (> 0).
        size: image side in pixels (>= 12).
        seed: the same seed gives the same images.
        channels: 1 or 3 (each channel tinted at random).
        noise: standard deviation of the background noise.
        classes: the shapes to draw, distinct names from :data:`SHAPE_CLASSES`.
        min_radius: smallest shape radius in pixels (default 0.12 of ``size``).
        max_radius: largest radius (default 0.28 of ``size``).

    Returns:
        :class:`ShapesData` with ``images: (n, channels, size, size)``, ``labels: (n,)`` and
        ``boxes: (n, 4)``.

    Raises:
        TypeError: ``n`` or ``size`` not an int.
        ValueError: ``n < 1``, ``size < 12``, ``channels`` not 1 or 3, or unknown / repeated classes.
    """
    n, size, channels, classes = _check_generator_args(n, size, 12, channels, classes)
    rng = np.random.default_rng(seed)
    rmin = min_radius if min_radius is not None else size * 0.12
    rmax = max_radius if max_radius is not None else size * 0.28
    labels = np.arange(n) % len(classes)
    rng.shuffle(labels)
    images = np.empty((n, channels, size, size), np.float32)
    boxes = np.empty((n, 4), np.int64)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    for i, lab in enumerate(labels):
        r = rng.uniform(rmin, rmax)
        cx, cy = rng.uniform(r + 1, size - r - 1, size=2)
        mask = _shape_mask(classes[lab], size, cx, cy, r, rng)
        gx, gy = rng.uniform(-0.25, 0.25, size=2)
        bg = 0.3 + gx * (xx - 0.5) + gy * (yy - 0.5)
        fg = rng.uniform(0.75, 1.0)
        for c in range(channels):
            tint = 1.0 if channels == 1 else rng.uniform(0.5, 1.0)
            img = np.where(mask, fg * tint, bg) + rng.normal(0, noise, (size, size))
            images[i, c] = np.clip(img, 0, 1)
        ys, xs = np.nonzero(mask)
        boxes[i] = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
    return ShapesData(torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64)), torch.from_numpy(boxes),
                      tuple(classes))


# --------------------------------------------------------------------------- offline: scenes of shapes
@dataclass
class ShapeScenes:
    """Generated scenes with several shapes of different classes each.

    ``images: (N, C, S, S)`` in [0, 1]; ``labels: (N, M)`` the class of each of the ``M``
    objects (all different within an image); ``boxes: (N, M, 4)`` = (x0, y0, x1, y1) of each
    object (x1, y1 exclusive); ``polarity: (N, M)`` +1 where the object is brighter than the
    background, -1 where darker. Object 0 is the benchmark's *target*, object 1 the
    *distractor* (the order is random with respect to class, size, contrast and position).
    """

    images: torch.Tensor
    labels: torch.Tensor
    boxes: torch.Tensor
    polarity: torch.Tensor
    class_names: tuple[str, ...] = SHAPE_CLASSES

    def multi_hot(self) -> torch.Tensor:
        """``(N, K)`` float: 1 for every class present in the image."""
        y = torch.zeros(self.labels.shape[0], len(self.class_names))
        return y.scatter_(1, self.labels, 1.0)

    def dataset(self) -> TensorDataset:
        """(image, multi-hot labels) pairs for multi-label training (``BCEWithLogitsLoss``)."""
        return TensorDataset(self.images, self.multi_hot())

    def __len__(self) -> int:
        return self.images.shape[0]


def make_shape_scenes(n: int = 1000, size: int = 40, *, seed: int = 0, objects: int = 2, channels: int = 1,
                      noise: float = 0.08, contrast: tuple[float, float] = (0.2, 0.4),
                      classes: tuple[str, ...] = SHAPE_CLASSES, min_radius: float | None = None,
                      max_radius: float | None = None, gap: int = 2) -> ShapeScenes:
    """Generate ``n`` scenes of ``objects`` shapes of different classes, with every object's box.

    Each image: a background of random level in [0.35, 0.65] with a random linear shade and
    Gaussian noise of std ``noise``; each object has a random class (all different), radius in
    ``[min_radius, max_radius]`` (default 0.11 and 0.22 of ``size``), position (boxes at least
    ``gap`` pixels apart, never overlapping), contrast in ``contrast`` and sign (darker or
    brighter than the background, +/-1 with equal odds). So neither brightness, edge energy nor
    position says which object is which class.

    Args:
        n: number of images (> 0).
        size: image side in pixels (>= 24).
        seed: the same seed gives the same scenes.
        objects: shapes per image (2 .. number of classes).
        channels: 1 or 3 (the same scene in every channel).
        noise: standard deviation of the Gaussian pixel noise (images are then clipped to [0, 1]).
        contrast: ``(low, high)``, ``0 < low <= high <= 0.65``: each object differs from the
            background level by a value drawn from this range, darker or brighter.
        classes: the shapes to draw, distinct names from :data:`SHAPE_CLASSES`; ``labels``
            index into it.
        min_radius: smallest object radius in pixels (default 0.11 of ``size``; at least 2).
        max_radius: largest radius in pixels (default 0.22 of ``size``; at least ``min_radius``).
        gap: least distance in pixels between two objects' boxes (>= 0).

    Returns:
        a :class:`ShapeScenes` with ``images: (n, channels, size, size)``, ``labels: (n, objects)``,
        ``boxes: (n, objects, 4)`` and ``polarity: (n, objects)`` (+1 brighter, -1 darker).

    Raises:
        TypeError: ``n``, ``size``, ``objects`` or ``gap`` not an int.
        ValueError: bad sizes or counts, or the objects cannot be placed (too large for ``size``).
    """
    n, size, channels, classes = _check_generator_args(n, size, 24, channels, classes)
    objects, gap = check_int(objects, "objects"), check_int(gap, "gap", min=0)
    if not 2 <= objects <= len(classes):
        raise ValueError(f"objects must be in 2..{len(classes)} (one class each), got {objects}")
    lo_c, hi_c = contrast
    if not 0 < lo_c <= hi_c <= 0.35 + 0.3:
        raise ValueError(f"contrast must be (low, high) with 0 < low <= high <= 0.65, got {contrast}")
    rng = np.random.default_rng(seed)
    rmin = min_radius if min_radius is not None else size * 0.11
    rmax = max_radius if max_radius is not None else size * 0.22
    if not 2 <= rmin <= rmax:
        raise ValueError(f"need 2 <= min_radius <= max_radius, got {rmin}, {rmax}")
    images = np.empty((n, channels, size, size), np.float32)
    labels = np.empty((n, objects), np.int64)
    boxes = np.empty((n, objects, 4), np.int64)
    polarity = np.empty((n, objects), np.int64)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    for i in range(n):
        labels[i] = rng.choice(len(classes), size=objects, replace=False)
        for attempt in range(200):
            masks, bxs = [], []
            for j in range(objects):
                r = rng.uniform(rmin, rmax)
                cx, cy = rng.uniform(r + 1, size - r - 1, size=2)
                m = _shape_mask(classes[labels[i, j]], size, cx, cy, r, rng)
                ys, xs = np.nonzero(m)
                b = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
                if any(b[0] < o[2] + gap and o[0] < b[2] + gap and b[1] < o[3] + gap and o[1] < b[3] + gap
                       for o in bxs):
                    break
                masks.append(m)
                bxs.append(b)
            if len(bxs) == objects:
                break
        else:
            raise ValueError(f"could not place {objects} objects of radius up to {rmax:.1f} in a {size}x{size} "
                             "image: use a larger size or smaller radii")
        level = rng.uniform(0.35, 0.65)
        gx, gy = rng.uniform(-0.15, 0.15, size=2)
        img = level + gx * (xx - 0.5) + gy * (yy - 0.5)
        for j, m in enumerate(masks):
            sign = 1 if rng.random() < 0.5 else -1
            img = np.where(m, level + sign * rng.uniform(lo_c, hi_c), img)
            polarity[i, j] = sign
            boxes[i, j] = bxs[j]
        img = img + rng.normal(0, noise, (size, size))
        images[i] = np.clip(img, 0, 1)[None]
    return ShapeScenes(torch.from_numpy(images), torch.from_numpy(labels), torch.from_numpy(boxes),
                       torch.from_numpy(polarity), tuple(classes))


# --------------------------------------------------------------------------- offline: digits
def load_digits(size: int | None = None) -> TensorDataset:
    """scikit-learn's 1,797 8x8 digits as ``(N, 1, S, S)`` in [0, 1] (``S = size or 8``, bilinear).

    Raises:
        TypeError: ``size`` is not an int or None.
        ValueError: ``size < 8`` (the digits are only upsampled).
    """
    from sklearn.datasets import load_digits as _sk_digits

    if size is not None:
        size = check_int(size, "size (digits are 8x8 and only upsampled)", min=8)
    d = _sk_digits()
    x = torch.tensor(d.images, dtype=torch.float32).unsqueeze(1) / 16.0
    if size is not None and size != 8:
        x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear", align_corners=False)
    return TensorDataset(x.clamp(0, 1), torch.tensor(d.target, dtype=torch.long))


# --------------------------------------------------------------------------- torchvision data
def _tv_class(name: str):
    from torchvision import datasets as tvd

    return {"mnist": tvd.MNIST, "fashion-mnist": tvd.FashionMNIST, "cifar10": tvd.CIFAR10}[name]


def _expected_files(name: str) -> list[tuple[str, str]]:
    """(relative path under the cache root, md5) of every file the data set needs, from torchvision."""
    cls = _tv_class(name)
    if name == "cifar10":
        return [(f"{cls.base_folder}/{fn}", md5) for fn, md5 in cls.train_list + cls.test_list]
    raw = f"{cls.__name__}/raw"
    return [(f"{raw}/{fn}", md5) for fn, md5 in cls.resources]


def verify_cache(name: str, root: Path | str | None = None) -> list[str]:
    """Check every file of a cached torchvision data set against its MD5.

    Args:
        name: ``"mnist"``, ``"fashion-mnist"`` or ``"cifar10"``.
        root: the cache folder; default :func:`dlcourse.config.data_dir`.

    Returns:
        The list of problems (missing or corrupt files); empty when the cache is complete.

    Raises:
        ValueError: an unknown data set name.
    """
    from torchvision.datasets.utils import check_integrity

    _check_name(name, TORCHVISION_DATASETS)
    root = Path(root) if root is not None else config.data_dir()
    problems = []
    for rel, md5 in _expected_files(name):
        path = root / rel
        if not path.exists():
            problems.append(f"missing {path}")
        elif not check_integrity(str(path), md5):
            problems.append(f"corrupt {path} (MD5 differs from {md5}); delete it to download again")
    return problems


def _download_hosts(name: str) -> list[str]:
    cls = _tv_class(name)
    urls = list(getattr(cls, "mirrors", [])) or [getattr(cls, "url", "")]
    return [h for h in (urlparse(u).hostname for u in urls) if h]


def _online(hosts: list[str], timeout: float = 3.0) -> bool:
    for host in hosts:
        try:
            with socket.create_connection((host, 443), timeout=timeout):
                return True
        except OSError:
            continue
    return False


def _check_name(name: str, allowed) -> None:
    if not isinstance(name, str) or name not in allowed:
        raise ValueError(f"unknown dataset {name!r}; expected one of {', '.join(allowed)}")


def load_torchvision(name: str, split: str = "train", *, root: Path | str | None = None, download: bool = True,
                     transform=None, timeout: float = 3.0) -> Dataset:
    """MNIST / Fashion-MNIST / CIFAR-10 from the cache, downloading (and verifying) when allowed.

    Args:
        name: ``"mnist"``, ``"fashion-mnist"`` or ``"cifar10"``.
        split: ``"train"`` or ``"test"``.
        root: the cache folder; default :func:`dlcourse.config.data_dir`.
        download: download missing files when the hosts answer.
        transform: applied to each image; default ``ToTensor()``.
        timeout: seconds to wait for a download host before calling the machine offline.

    Returns:
        A torchvision dataset whose items are ``(image: (C, H, W) float in [0, 1], label)``
        unless ``transform`` is given.

    Raises:
        ValueError: unknown name or split.
        DatasetUnavailable: not cached and not downloadable (offline), or a cached file is corrupt.
    """
    from torchvision.transforms import ToTensor

    _check_name(name, TORCHVISION_DATASETS)
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    root = Path(root) if root is not None else config.data_dir()
    problems = verify_cache(name, root)
    corrupt = [p for p in problems if p.startswith("corrupt")]
    if corrupt:
        raise DatasetUnavailable(f"{name}: cached files are corrupt: " + "; ".join(corrupt))
    if problems:
        offline_hint = (f"Use an offline data set instead (dlcourse.data.get_dataset('digits') or "
                        f"get_dataset('shapes')), or copy the files into {root} (set $DLCOURSE_DATA to change it).")
        if not download:
            raise DatasetUnavailable(f"{name} is not in the cache at {root} and download=False. {offline_hint}")
        hosts = _download_hosts(name)
        if not _online(hosts, timeout):
            raise DatasetUnavailable(
                f"{name} is not in the cache at {root} and its download hosts ({', '.join(hosts)}) cannot be "
                f"reached: this machine looks offline. {offline_hint}")
    cls = _tv_class(name)
    ds = cls(str(root), train=(split == "train"), download=bool(problems), transform=transform or ToTensor())
    if problems:
        still = verify_cache(name, root)
        if still:
            raise DatasetUnavailable(f"{name}: the download did not verify: " + "; ".join(still))
    return ds


def load_mnist_idx(root: Path | str, prefix: str = "t10k") -> TensorDataset:
    """Read MNIST-format IDX files ``{prefix}-images-idx3-ubyte[.gz]`` and ``{prefix}-labels-idx1-ubyte[.gz]``.

    Returns:
        ``TensorDataset(images: (N, 1, 28, 28) float in [0, 1], labels: (N,) int64)``.

    Raises:
        FileNotFoundError: a file is missing from ``root``.
        ValueError: a file is not an IDX file of the expected type, is truncated, or the counts differ.
    """
    root = Path(root)

    def _read(stem: str, magic: int) -> np.ndarray:
        for path in (root / f"{stem}.gz", root / stem):
            if path.exists():
                data = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
                break
        else:
            raise FileNotFoundError(f"no {stem}[.gz] in {root}")
        got = int.from_bytes(data[:4], "big")
        if got != magic:
            raise ValueError(f"{path} is not an IDX file of the expected type (magic {got}, expected {magic})")
        ndim = data[3]
        dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
        arr = np.frombuffer(data, np.uint8, offset=4 + 4 * ndim)
        if arr.size != int(np.prod(dims)):
            raise ValueError(f"{path} is truncated: header says {dims}, found {arr.size} values")
        return arr.reshape(dims)

    images = _read(f"{prefix}-images-idx3-ubyte", 2051)
    labels = _read(f"{prefix}-labels-idx1-ubyte", 2049)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{images.shape[0]} images but {labels.shape[0]} labels in {root}")
    x = torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
    return TensorDataset(x, torch.from_numpy(labels.astype(np.int64)))


# --------------------------------------------------------------------------- one entry point
def get_dataset(name: str, split: str = "train", *, seed: int = 0, n: int | None = None, size: int | None = None,
                root: Path | str | None = None, download: bool = True, test_fraction: float = 0.2) -> Dataset:
    """One entry point for every image data set of the course.

    ``digits`` and ``shapes`` are split into ``train``/``test`` with a fixed ``seed``
    (``test_fraction`` of the data is test).

    Args:
        name: one of :data:`DATASETS`.
        split: ``"train"`` or ``"test"``.
        seed: seed of the offline sets' split (and of the generated shapes).
        n: number of generated shapes (default 2,000).
        size: image side (digits are upsampled, shapes drawn at that size).
        root: cache folder of the torchvision sets.
        download: allow downloading a torchvision set.
        test_fraction: fraction of an offline set that is test data.

    Returns:
        A dataset of ``(image: (C, H, W) float in [0, 1], label)`` items.

    Raises:
        ValueError: an unknown name or split, or bad sizes.
        DatasetUnavailable: a torchvision set that is neither cached nor downloadable.
    """
    _check_name(name, DATASETS)
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    if name in TORCHVISION_DATASETS:
        return load_torchvision(name, split, root=root, download=download)
    if name == "digits":
        full = load_digits(size)
    else:
        data = make_shapes(n or 2000, size or 32, seed=seed)
        full = data.dataset()
    train, test = train_val_split(full, test_fraction, seed=seed)
    return train if split == "train" else test


def train_val_split(dataset: Dataset, val_fraction: float = 0.2, *, seed: int = 0) -> tuple[Subset, Subset]:
    """Random split into ``(train, val)`` with a fixed seed.

    Args:
        dataset: any sized map-style data set.
        val_fraction: share of the items in the validation part, in (0, 1); at least one item.
        seed: seed of the permutation (the split depends only on it and ``len(dataset)``).

    Returns:
        ``(train, val)`` :class:`torch.utils.data.Subset` views, ``round(N * val_fraction)``
        (at least 1) items in ``val`` and the rest in ``train``.

    Raises:
        TypeError: ``val_fraction`` is not a number.
        ValueError: ``val_fraction`` outside (0, 1).
    """
    check_float(val_fraction, "val_fraction", min=0, max=1, min_open=True, max_open=True)
    n = len(dataset)
    n_val = max(1, int(round(n * val_fraction)))
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
    return Subset(dataset, perm[n_val:]), Subset(dataset, perm[:n_val])


def split_tensors(x: torch.Tensor, y: torch.Tensor, n_test: int, *, seed: int = 0
                  ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Random split of ``x: (N, ...)`` and ``y: (N,)`` into ``(x_train, y_train, x_test, y_test)``.

    ``n_test`` rows go to the test part; the permutation depends only on ``seed`` and ``N``.

    Args:
        x: ``(N, ...)`` inputs.
        y: ``(N,)`` labels.
        n_test: rows of the test part, in ``(0, N)``.
        seed: seed of the permutation.

    Returns:
        ``x_train: (N - n_test, ...)``, ``y_train: (N - n_test,)``, ``x_test: (n_test, ...)``,
        ``y_test: (n_test,)``.

    Raises:
        TypeError: ``x`` or ``y`` not tensors, ``n_test`` not an int.
        ValueError: ``x`` and ``y`` differ in rows, or ``n_test`` outside ``(0, N)``.
    """
    if not torch.is_tensor(x) or not torch.is_tensor(y):
        raise TypeError(f"x and y must be torch tensors, got {type(x).__name__} and {type(y).__name__}")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x has {x.shape[0]} rows but y has {y.shape[0]}")
    n_test = check_int(n_test, "n_test")
    if not 0 < n_test < x.shape[0]:
        raise ValueError(f"n_test must be in (0, {x.shape[0]}), got {n_test}")
    perm = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(seed))
    test, train = perm[:n_test], perm[n_test:]
    return x[train], y[train], x[test], y[test]


def make_loaders(train: Dataset, test: Dataset | None = None, *, batch_size: int = 64, seed: int = 0,
                 num_workers: int = 0, device: torch.device | str | None = None) -> tuple[DataLoader, DataLoader | None]:
    """DataLoaders with a seeded shuffle for ``train``; memory pinned when the device is CUDA.

    Args:
        train: the training set (shuffled with a generator seeded by ``seed``).
        test: an evaluation set (not shuffled), or ``None``.
        batch_size: items per batch.
        seed: seed of the shuffle.
        num_workers: worker processes per loader.
        device: where the batches will go; CUDA pins host memory for ``non_blocking`` copies.

    Returns:
        ``(train_loader, test_loader or None)``.

    Raises:
        TypeError, ValueError: ``batch_size`` not a positive int, ``num_workers`` not an int >= 0.
    """
    batch_size = check_int(batch_size, "batch_size", min=1)
    num_workers = check_int(num_workers, "num_workers", min=0)
    pin = torch.device(device).type == "cuda" if device is not None else False
    g = torch.Generator().manual_seed(seed)
    train_loader = DataLoader(train, batch_size=batch_size, shuffle=True, generator=g, num_workers=num_workers,
                              pin_memory=pin)
    te = DataLoader(test, batch_size=batch_size, num_workers=num_workers, pin_memory=pin) if test is not None else None
    return train_loader, te


# --------------------------------------------------------------------------- real data when it can be had
@dataclass
class DataChoice:
    """What :func:`real_or_offline` found: the data set used, its two splits and one line saying so."""

    name: str
    train: Dataset
    test: Dataset
    real: bool
    note: str


def real_or_offline(preferred: tuple[str, ...] | list[str] = ("fashion-mnist", "cifar10"), *, fallback: str = "digits",
                    root: Path | str | None = None, download: bool = True, timeout: float = 3.0,
                    fallback_size: int | None = None) -> DataChoice:
    """The first of ``preferred`` real data sets that can be had (cache or download), else an offline one.

    Each name is tried with :func:`load_torchvision` (the cache at ``root``, then a download when
    ``download`` is true and the hosts answer within ``timeout`` seconds). When none can be had,
    ``fallback`` (``"digits"`` or ``"shapes"``, at ``fallback_size`` pixels) is used and ``note``
    says why, naming the first reason.

    Args:
        preferred: names from ``TORCHVISION_DATASETS``, tried in order.
        fallback: the offline data set used when none can be had (``"digits"`` or ``"shapes"``).
        root: the cache folder; default :func:`dlcourse.config.data_dir`.
        download: try to download a data set missing from the cache.
        timeout: seconds to wait for a download host before calling the machine offline.
        fallback_size: image side of the fallback (``None``: its native size).

    Returns:
        a :class:`DataChoice`; ``note`` is one printable line ("data: fashion-mnist (real, ...)" or
        "data: offline fallback to digits: ...").

    Raises:
        ValueError: an unknown name, ``preferred`` empty, or a real set given as ``fallback``.
    """
    if isinstance(preferred, str) or not preferred:
        raise ValueError(f"preferred must be a non-empty list of names from {TORCHVISION_DATASETS}, got {preferred!r}")
    for name in preferred:
        _check_name(name, TORCHVISION_DATASETS)
    _check_name(fallback, OFFLINE_DATASETS)
    reasons = []
    for name in preferred:
        try:
            train = load_torchvision(name, "train", root=root, download=download, timeout=timeout)
            test = load_torchvision(name, "test", root=root, download=download, timeout=timeout)
        except DatasetUnavailable as e:
            reasons.append(f"{name}: {str(e).split('. ')[0]}")
            continue
        where = Path(root) if root is not None else config.data_dir()
        return DataChoice(name, train, test, True,
                          tr("data: {name} (real: {n_train:,} training and {n_test:,} test images, cache {where})",
                             name=name, n_train=len(train), n_test=len(test), where=where))
    train = get_dataset(fallback, "train", size=fallback_size)
    test = get_dataset(fallback, "test", size=fallback_size)
    return DataChoice(fallback, train, test, False,
                      tr("data: offline fallback to the shipped {name} ({n_train:,} + {n_test:,} images): {reasons}",
                         name=fallback, n_train=len(train), n_test=len(test), reasons="; ".join(reasons)))


def to_tensor_dataset(dataset: Dataset, *, n: int | None = None, size: int | None = None,
                      channels: int | None = None, seed: int = 0) -> TensorDataset:
    """Materialise (a seeded random subset of) an image data set as tensors, optionally resized / recoloured.

    Args:
        dataset: items ``(image: (C, H, W) float tensor, label)``.
        n: number of items (a random subset drawn with ``seed``); ``None`` keeps all, in order.
        size: side of the square output images (bilinear, antialiased); ``None`` keeps the size.
        channels: 1 (RGB averaged to grey) or 3 (grey repeated); ``None`` keeps the channels.
        seed: seed of the random subset (unused when ``n`` is None).

    Returns:
        ``TensorDataset(x: (n, C, S, S) float32, y: (n,) int64)``.

    Raises:
        TypeError: ``n`` / ``size`` not ints (or None).
        ValueError: ``n`` / ``size`` not positive, ``n`` larger than the data set, bad ``channels``,
            or items that are not ``(C, H, W)`` tensors.
    """
    total = len(dataset)
    n = None if n is None else check_int(n, "n (or None)", min=1)
    size = None if size is None else check_int(size, "size (or None)", min=1)
    if n is not None and n > total:
        raise ValueError(f"n={n} is larger than the data set ({total} items)")
    if channels not in (None, 1, 3):
        raise ValueError(f"channels must be 1, 3 or None, got {channels!r}")
    if n is None:
        idx = list(range(total))
    else:
        idx = torch.randperm(total, generator=torch.Generator().manual_seed(seed))[:n].tolist()
    items = [dataset[i] for i in idx]
    if not items or not all(torch.is_tensor(x) and x.ndim == 3 for x, _ in items):
        raise ValueError("dataset items must be (image: (C, H, W) tensor, label); pass a transform such as ToTensor")
    x = torch.stack([it[0] for it in items]).float()
    y = torch.tensor([int(it[1]) for it in items], dtype=torch.long)
    if channels == 1 and x.shape[1] != 1:
        x = x.mean(dim=1, keepdim=True)
    elif channels == 3 and x.shape[1] == 1:
        x = x.repeat(1, 3, 1, 1)
    if size is not None and x.shape[-2:] != (size, size):
        x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear", align_corners=False,
                                            antialias=size < x.shape[-1])
    return TensorDataset(x.clamp(0, 1), y)
