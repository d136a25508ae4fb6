"""An on-disk cache of log-mel features with K augmented variants per clip, read lazily.

Keeping every augmented and filtered version of every clip in RAM does not scale (the class
notes' point); here they are computed once, written to one memory-mapped file, and read one
batch at a time:

``<cache_dir>/<name>-<key16>/``
    ``features.f16``   raw float16 array ``(N, V, n_mels, frames)``; variant 0 is the clean clip,
                       variants 1..K are random augmentation chains (:mod:`.augment`);
    ``labels.npy``     ``(N,)`` int64;
    ``manifest.json``  the key, every parameter, the files (with size and mtime), the shape,
                       the skipped (unreadable) files with the reason, per-band statistics and
                       the build time. Written last.

* **Key.** A SHA-256 over the feature and augmentation parameters, K, the seed, an id of any
  extra augmentation function, and every input file's path, size and modification time.
  Change any of them and a new cache is built beside the old one.
* **Atomic.** A build writes into a hidden temporary folder and renames it into place at the
  end (``os.replace``): an interrupted build (exception, Ctrl-C, killed process) leaves no
  folder that looks like a cache. :meth:`FeatureCache.open` also checks the manifest and the
  file size.
* **Warm.** When the folder for the key exists and is valid, :func:`build_cache` returns it
  without reading any audio or computing any feature (``cache.stats["features_computed"] == 0``).
* **Corrupt input.** Files that cannot be read are skipped with a warning that names them and
  listed in ``cache.skipped``; the build goes on.
* **Lazy reading.** :class:`VariantDataset` opens the file on first use (also in each
  DataLoader worker) and copies out only the rows a batch asks for, with positioned reads
  (``os.preadv``) of exactly those bytes, so a training epoch's resident memory does not grow
  with the size of the data set. (The file is a plain array that ``np.memmap`` maps whole, see
  :meth:`FeatureCache.memmap`; but reading random rows *through* a map makes the kernel map far
  more than each row: about 1.2 MiB per 5 KiB row on Linux 6.18 with large page-cache folios,
  and those mapped pages count in the process's RSS.) :class:`VariantBatchSampler` picks a
  variant per clip per epoch.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import os
import re
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from .._core import check_int
from ..lang import tr
from .augment import AugmentConfig, random_variants
from .datasets import ClipSet
from .features import FeatureParams, log_mel
from .io import AudioReadError, load_clip

__all__ = [
    "CACHE_VERSION",
    "CacheWarning",
    "CorruptCache",
    "cache_key",
    "compute_variants",
    "build_cache",
    "FeatureCache",
    "VariantDataset",
    "VariantBatchSampler",
    "collate",
    "make_loader",
]

CACHE_VERSION = 1
_FEATURES = "features.f16"
_LABELS = "labels.npy"
_MANIFEST = "manifest.json"


class CacheWarning(UserWarning):
    """Something was skipped while building a cache (e.g. an unreadable audio file)."""


class CorruptCache(RuntimeError):
    """A cache folder is incomplete or damaged (delete it; the next build makes a new one)."""


ExtraAugment = Callable[[torch.Tensor, np.random.Generator], torch.Tensor]


def _extra_id(extra: ExtraAugment | None, extra_id: str | None) -> str | None:
    if extra is None:
        return None
    if extra_id is not None:
        return str(extra_id)
    try:
        src = inspect.getsource(extra)
    except (OSError, TypeError):
        raise ValueError("extra_augment has no retrievable source (defined in a console?): pass extra_id=... "
                         "naming its version so that the cache key changes when the function does") from None
    return f"{getattr(extra, '__qualname__', 'fn')}:{hashlib.sha256(src.encode()).hexdigest()[:16]}"


def cache_key(clips: ClipSet, features: FeatureParams, augment: AugmentConfig | None, n_variants: int, seed: int,
              extra_id: str | None = None, batch_size: int = 256) -> str:
    """SHA-256 (hex) over everything a cache's content depends on (see the module docstring).

    Files are identified by absolute path, size and modification time (``stat``, no reading).

    Args:
        clips: the files, labels and class names; a missing file enters the key as missing.
        features: the log-mel parameters.
        augment: how variants are drawn (left out of the key when ``n_variants`` is 0).
        n_variants: augmented variants per clip (``K``).
        seed: seed of the variants.
        extra_id: the id of an extra augmentation function (its qualified name and source hash,
            or the ``extra_id`` the caller gave), or None.
        batch_size: clips per build batch (variants are drawn batch by batch; left out when
            ``n_variants`` is 0).

    Returns:
        64 hexadecimal digits; equal inputs (and unchanged files) give the same key.
    """
    h = hashlib.sha256()
    head = {"version": CACHE_VERSION, "features": features.to_dict(),
            "augment": augment.to_dict() if augment is not None and n_variants else None,
            "n_variants": n_variants, "seed": seed, "extra": extra_id, "classes": list(clips.class_names),
            # variants are drawn batch by batch, so the batch size shapes them too
            "batch_size": batch_size if n_variants else None}
    h.update(json.dumps(head, sort_keys=True).encode())
    for p, y in zip(clips.paths, clips.labels.tolist()):
        try:
            st = os.stat(p)
            h.update(f"\n{os.path.abspath(p)}|{st.st_size}|{st.st_mtime_ns}|{y}".encode())
        except OSError:
            h.update(f"\n{os.path.abspath(p)}|missing|{y}".encode())
    return h.hexdigest()


def _check_args(clips, features, augment, n_variants, seed) -> None:
    if not isinstance(clips, ClipSet):
        raise TypeError(f"clips must be a ClipSet (see dlcourse.audio.datasets), got {type(clips).__name__}")
    if len(clips) == 0:
        raise ValueError("clips is empty: nothing to cache")
    if not isinstance(features, FeatureParams):
        raise TypeError(f"features must be a FeatureParams, got {type(features).__name__}")
    if augment is not None and not isinstance(augment, AugmentConfig):
        raise TypeError(f"augment must be an AugmentConfig or None, got {type(augment).__name__}")
    check_int(n_variants, "n_variants (augmented variants per clip)", min=0)
    if n_variants and augment is None:
        raise ValueError("n_variants > 0 needs an AugmentConfig (augment=AugmentConfig())")
    check_int(seed, "seed")


def _read_batch(paths: Sequence[Path], features: FeatureParams, pool) -> tuple[list[torch.Tensor], list[int],
                                                                               list[tuple[str, str]]]:
    def one(p):
        try:
            return load_clip(p, features.sample_rate, features.clip_samples), None
        except AudioReadError as e:
            return None, str(e)

    results = list(pool.map(one, paths)) if pool is not None else [one(p) for p in paths]
    waves, ok, bad = [], [], []
    for j, (w, err) in enumerate(results):
        if w is None:
            bad.append((str(paths[j]), err))
        else:
            waves.append(w)
            ok.append(j)
    return waves, ok, bad


def _iter_variants(clips: ClipSet, features: FeatureParams, augment: AugmentConfig | None, n_variants: int,
                   seed: int, extra: ExtraAugment | None, batch_size: int, workers: int,
                   device: torch.device | str | None = None
                   ) -> Iterator[tuple[np.ndarray, np.ndarray, list[tuple[str, str]]]]:
    """Yield ``(variants (B, 1+K, n_mels, frames) float32, kept positions (B,), skipped)`` per batch."""
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(workers) if workers > 1 else None
    try:
        for start in range(0, len(clips), batch_size):
            paths = clips.paths[start:start + batch_size]
            waves, ok, bad = _read_batch(paths, features, pool)
            if not waves:
                yield np.empty((0, 1 + n_variants, *features.shape), np.float32), np.empty(0, np.int64), bad
                continue
            x = torch.stack(waves)
            if device is not None:
                x = x.to(device)
            out = [log_mel(x, features)]
            for k in range(1, n_variants + 1):
                rng = np.random.default_rng([seed, start, k])
                v = random_variants(x, features.sample_rate, augment, rng)
                if extra is not None:
                    v = extra(v, rng)
                    if not torch.is_tensor(v) or v.shape != x.shape:
                        raise ValueError(f"extra_augment must return a tensor of shape {tuple(x.shape)}, got "
                                         f"{getattr(v, 'shape', type(v).__name__)}")
                out.append(log_mel(v.float(), features))
            yield torch.stack(out, 1).cpu().numpy(), start + np.asarray(ok, np.int64), bad
    finally:
        if pool is not None:
            pool.shutdown()


def compute_variants(clips: ClipSet, *, features: FeatureParams = FeatureParams(),
                     augment: AugmentConfig | None = None, n_variants: int = 0, seed: int = 0,
                     extra_augment: ExtraAugment | None = None, batch_size: int = 256, workers: int = 2,
                     device: torch.device | str | None = None
                     ) -> tuple[np.ndarray, np.ndarray, list[tuple[str, str]]]:
    """The same features as :func:`build_cache`, held in RAM (the pipeline the cache replaces).

    Args:
        clips: the files and labels (:mod:`.datasets`).
        features: log-mel parameters.
        augment: how variants are drawn (needed when ``n_variants > 0``).
        n_variants: augmented variants per clip (``K``), besides the clean one.
        seed: variants are reproducible from it (and from ``batch_size``).
        extra_augment: optional ``f(waves (B, T), rng) -> (B, T)`` applied after the built-in chain.
        batch_size: clips read and augmented together.
        workers: threads that read audio files.
        device: where the augmentations and features are computed (default the CPU); the
            result is a NumPy array either way.

    Returns:
        ``(features (N, 1+K, n_mels, frames) float32, labels (N,) int64, skipped)``, where
        ``N`` counts the readable clips and ``skipped`` lists ``(path, reason)`` of the others.

    Raises:
        TypeError: ``clips``, ``features`` or ``augment`` of the wrong type, or ``n_variants`` /
            ``seed`` not ints.
        ValueError: ``clips`` empty, ``n_variants > 0`` without ``augment``, or ``extra_augment``
            returned a tensor of another shape.
    """
    _check_args(clips, features, augment, n_variants, seed)
    feats, labels, skipped = [], [], []
    for arr, kept, bad in _iter_variants(clips, features, augment, n_variants, seed, extra_augment, batch_size,
                                         workers, device):
        feats.append(arr)
        labels.append(clips.labels[kept])
        skipped += bad
    return np.concatenate(feats), np.concatenate(labels), skipped


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _remove_stale_temps(cache_dir: Path) -> None:
    """Delete temporary folders left by builds whose process is gone (killed, machine crashed)."""
    for p in cache_dir.glob(".*.tmp-*"):
        m = re.search(r"\.tmp-(\d+)-", p.name)
        if m and p.is_dir() and not _pid_alive(int(m.group(1))):
            shutil.rmtree(p, ignore_errors=True)


def build_cache(clips: ClipSet, cache_dir: Path | str, *, features: FeatureParams = FeatureParams(),
                augment: AugmentConfig | None = None, n_variants: int = 0, seed: int = 0,
                extra_augment: ExtraAugment | None = None, extra_id: str | None = None, batch_size: int = 256,
                workers: int = 2, verbose: bool = True, device: torch.device | str | None = None) -> "FeatureCache":
    """Build (or find) the cache of ``clips``: clean features plus ``n_variants`` augmented ones per clip.

    Args:
        clips: the files and labels (:mod:`.datasets`).
        cache_dir: parent folder; the cache goes into ``cache_dir/<name>-<key[:16]>/``.
        features: log-mel parameters.
        augment: how variants are drawn (needed when ``n_variants > 0``).
        n_variants: augmented variants per clip (``K``); the cache holds ``V = 1 + K`` per clip.
        seed: variants are reproducible from it.
        extra_augment: optional ``f(waves (B, T), rng) -> (B, T)`` applied after the built-in chain
            (e.g. your own augmentation); its source code (or ``extra_id``) is part of the key.
        extra_id: a version name for ``extra_augment`` used in the key instead of its source
            (needed when its source cannot be read, e.g. a function typed in a console).
        batch_size: clips read and augmented together (part of the key when ``n_variants > 0``).
        workers: threads that read audio files.
        verbose: print one line on a warm or cold result (and a count of skipped files).
        device: where augmentations and features are computed (``"cuda"`` on a GPU machine;
            default the CPU). Not part of the key: the random choices are drawn on the CPU
            either way, so a GPU build holds the same variants up to float rounding.

    Returns:
        The :class:`FeatureCache`; ``cache.stats`` says whether it was built (``"cold"``) or found
        (``"warm"``), the seconds, the clips per second and ``features_computed``.

    Raises:
        TypeError: ``clips``, ``features`` or ``augment`` of the wrong type, or ``n_variants`` /
            ``seed`` not ints.
        ValueError: ``clips`` empty, ``n_variants > 0`` without ``augment``, ``extra_augment``
            without a readable source and no ``extra_id``, or no clip could be read.
    """
    _check_args(clips, features, augment, n_variants, seed)
    t0 = time.perf_counter()
    cache_dir = Path(cache_dir).expanduser()
    cache_dir.mkdir(parents=True, exist_ok=True)
    xid = _extra_id(extra_augment, extra_id)
    key = cache_key(clips, features, augment, n_variants, seed, xid, batch_size)
    final = cache_dir / f"{clips.name or 'clips'}-{key[:16]}"
    if (final / _MANIFEST).is_file():
        try:
            cache = FeatureCache.open(final)
            if cache.manifest["key"] == key:
                cache.stats = {"mode": "warm", "seconds": time.perf_counter() - t0, "features_computed": 0}
                if verbose:
                    print(tr("Cache warm: {cache}", cache=cache))
                _report_skipped(cache.skipped, verbose)
                return cache
        except CorruptCache as e:
            warnings.warn(tr("rebuilding a damaged cache: {error}", error=e), CacheWarning, stacklevel=2)
    _remove_stale_temps(cache_dir)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-{os.getpid()}-", dir=cache_dir))
    try:
        v = 1 + n_variants
        labels, kept_all, skipped = [], [], []
        band_sum = np.zeros(features.n_mels)
        band_sq = np.zeros(features.n_mels)
        frames = 0
        computed = 0
        with open(tmp / _FEATURES, "wb") as f:
            for arr, kept, bad in _iter_variants(clips, features, augment, n_variants, seed, extra_augment,
                                                 batch_size, workers, device):
                for path, reason in bad:
                    warnings.warn(tr("skipped unreadable audio file {path}: {reason}", path=path, reason=reason),
                                  CacheWarning, stacklevel=2)
                skipped += bad
                if arr.shape[0]:
                    f.write(arr.astype(np.float16).tobytes())
                    clean = arr[:, 0].astype(np.float64)
                    band_sum += clean.sum(axis=(0, 2))
                    band_sq += (clean ** 2).sum(axis=(0, 2))
                    frames += clean.shape[0] * clean.shape[2]
                    computed += arr.shape[0] * v
                labels.append(clips.labels[kept])
                kept_all.append(kept)
            f.flush()
            os.fsync(f.fileno())
        labels_arr = np.concatenate(labels) if labels else np.empty(0, np.int64)
        kept_arr = np.concatenate(kept_all) if kept_all else np.empty(0, np.int64)
        if labels_arr.size == 0:
            raise ValueError(f"no clip of {clips!r} could be read; first problems: {skipped[:3]}")
        np.save(tmp / _LABELS, labels_arr)
        mean = band_sum / frames
        std = np.sqrt(np.maximum(band_sq / frames - mean ** 2, 1e-12))
        seconds = time.perf_counter() - t0
        manifest = {
            "version": CACHE_VERSION, "key": key, "complete": True, "name": clips.name,
            "shape": [int(labels_arr.size), v, *features.shape], "dtype": "float16",
            "features": features.to_dict(), "augment": augment.to_dict() if augment and n_variants else None,
            "n_variants": n_variants, "seed": seed, "extra_augment": xid,
            "class_names": list(clips.class_names),
            "files": [str(clips.paths[i]) for i in kept_arr.tolist()],
            "speakers": [clips.speakers[i] for i in kept_arr.tolist()],
            "takes": [int(clips.takes[i]) for i in kept_arr.tolist()],
            "skipped": [{"path": p, "reason": r} for p, r in skipped],
            "band_mean": mean.tolist(), "band_std": std.tolist(),
            "build_seconds": seconds, "clips_per_second": len(clips) / seconds,
        }
        with open(tmp / _MANIFEST, "w") as f:
            json.dump(manifest, f)
            f.flush()
            os.fsync(f.fileno())
        _fsync_dir(tmp)
        if final.exists():  # a damaged cache (or a concurrent build that finished first)
            try:
                existing = FeatureCache.open(final)
                if existing.manifest["key"] == key:
                    shutil.rmtree(tmp, ignore_errors=True)
                    existing.stats = {"mode": "warm", "seconds": time.perf_counter() - t0, "features_computed": 0}
                    return existing
            except CorruptCache:
                pass
            trash = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-{os.getpid()}-old-", dir=cache_dir))
            os.replace(final, trash / "old")
            shutil.rmtree(trash, ignore_errors=True)
        os.replace(tmp, final)
        _fsync_dir(cache_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    cache = FeatureCache.open(final)
    cache.stats = {"mode": "cold", "seconds": seconds, "features_computed": computed,
                   "clips_per_second": len(clips) / seconds}
    if verbose:
        print(tr("Cache built in {seconds:.1f} s ({rate:.0f} clips/s): {cache}", seconds=seconds,
                 rate=len(clips) / seconds, cache=cache))
    _report_skipped(skipped, verbose, again=False)
    return cache


def _report_skipped(skipped, verbose: bool, again: bool = True) -> None:
    if not skipped:
        return
    if again:
        for s in skipped:
            path, reason = (s["path"], s["reason"]) if isinstance(s, dict) else s
            warnings.warn(tr("skipped unreadable audio file {path}: {reason}", path=path, reason=reason), CacheWarning,
                          stacklevel=3)
    if verbose:
        print(tr("{n} file(s) could not be read and were skipped (see cache.skipped).", n=len(skipped)),
              file=sys.stderr)


class FeatureCache:
    """A finished cache folder (open it with :meth:`open` or get it from :func:`build_cache`).

    Attributes: ``path``, ``manifest``, ``labels (N,)``, ``class_names``, ``speakers``, ``files``,
    ``skipped`` (list of ``{"path", "reason"}``), ``shape = (N, V, n_mels, frames)``,
    ``band_mean``/``band_std`` ``(n_mels,)`` statistics of the clean features, ``stats``.
    """

    def __init__(self, path: Path, manifest: dict, labels: np.ndarray):
        self.path = path
        self.manifest = manifest
        self.labels = labels
        self.stats: dict[str, Any] = {}

    @classmethod
    def open(cls, path: Path | str) -> "FeatureCache":
        """Open and validate a cache folder.

        Args:
            path: the cache folder (``<cache_dir>/<name>-<key16>/``).

        Returns:
            the cache, its labels loaded; the features stay on disk until read.

        Raises:
            CorruptCache: the manifest is missing, unreadable, of another version or marks an
                incomplete build, or the features file or labels do not match its shape.
        """
        path = Path(path)
        try:
            manifest = json.loads((path / _MANIFEST).read_text())
        except (OSError, ValueError) as e:
            raise CorruptCache(f"{path}: no readable {_MANIFEST} ({e})") from None
        if manifest.get("version") != CACHE_VERSION or not manifest.get("complete"):
            raise CorruptCache(f"{path}: manifest is from another version or marks an incomplete build")
        shape = tuple(manifest["shape"])
        want = int(np.prod(shape)) * 2
        fpath = path / _FEATURES
        if not fpath.is_file() or fpath.stat().st_size != want:
            got = fpath.stat().st_size if fpath.is_file() else "missing"
            raise CorruptCache(f"{fpath}: expected {want} bytes for float16 {shape}, found {got}")
        try:
            labels = np.load(path / _LABELS)
        except (OSError, ValueError) as e:
            raise CorruptCache(f"{path / _LABELS}: {e}") from None
        if labels.shape != (shape[0],):
            raise CorruptCache(f"{path / _LABELS}: {labels.shape[0]} labels for {shape[0]} clips")
        return cls(path, manifest, labels.astype(np.int64))

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return tuple(self.manifest["shape"])

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def n_variants(self) -> int:
        """Variants per clip, the clean one included (``1 + K``)."""
        return self.shape[1]

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(self.manifest["class_names"])

    @property
    def speakers(self) -> list[str]:
        return list(self.manifest["speakers"])

    @property
    def takes(self) -> np.ndarray:
        return np.asarray(self.manifest["takes"], np.int64)

    @property
    def files(self) -> list[str]:
        return list(self.manifest["files"])

    @property
    def skipped(self) -> list[dict]:
        return list(self.manifest["skipped"])

    @property
    def features(self) -> FeatureParams:
        return FeatureParams(**self.manifest["features"])

    @property
    def band_mean(self) -> np.ndarray:
        return np.asarray(self.manifest["band_mean"], np.float32)

    @property
    def band_std(self) -> np.ndarray:
        return np.asarray(self.manifest["band_std"], np.float32)

    @property
    def nbytes(self) -> int:
        """Size of the feature file on disk (float16)."""
        return int(np.prod(self.shape)) * 2

    def memmap(self) -> np.memmap:
        """The features as a read-only ``np.memmap`` of shape ``(N, V, n_mels, frames)`` (float16)."""
        return np.memmap(self.path / _FEATURES, dtype=np.float16, mode="r", shape=self.shape)

    def dataset(self, indices: Sequence[int] | np.ndarray | None = None, **kwargs) -> "VariantDataset":
        """A lazily reading :class:`VariantDataset` over the clips at ``indices`` (default: all)."""
        return VariantDataset(self.path / _FEATURES, self.shape, self.labels, indices=indices, **kwargs)

    def __repr__(self) -> str:
        n, v, m, f = self.shape
        return (f"FeatureCache({self.path.name}: {n} clips x {v} variants of {m}x{f} log-mel, "
                f"{self.nbytes / 2**20:.1f} MiB on disk, {len(self.skipped)} skipped)")


class VariantDataset(Dataset):
    """Items ``(x: (1, n_mels, frames) float32, y: int)`` read from a ``(N, V, n_mels, frames)`` array.

    The array is a file (a cache; opened on first use, so each DataLoader worker opens its
    own, and read row by row with positioned reads: only the requested bytes are copied, nothing
    stays mapped) or an in-RAM ``np.ndarray`` (the pipeline the cache replaces). Keys are a clip
    position ``i`` (variant ``variant``, default the clean one) or a pair ``(i, v)`` as
    :class:`VariantBatchSampler` yields them. ``__getitems__`` fetches a whole batch into one
    array.

    Args:
        source: the feature file (float16) or an array ``(N, V, n_mels, frames)``.
        shape: the file's shape (ignored for an array).
        labels: ``(N,)`` class indices.
        indices: restrict to these clips (positions into the N).
        variant: variant of integer keys (0 = clean).
    """

    def __init__(self, source: Path | str | np.ndarray, shape: Sequence[int] | None, labels: np.ndarray, *,
                 indices: Sequence[int] | np.ndarray | None = None, variant: int = 0):
        if isinstance(source, np.ndarray):
            if source.ndim != 4:
                raise ValueError(f"a features array must be (N, V, n_mels, frames), got shape {source.shape}")
            self._array: np.ndarray | None = source
            self._path = None
            self.shape = tuple(source.shape)
        else:
            if shape is None or len(shape) != 4:
                raise ValueError(f"shape must be (N, V, n_mels, frames) for a feature file, got {shape}")
            self._array = None
            self._path = Path(source)
            self.shape = tuple(int(s) for s in shape)
        self.labels = np.asarray(labels, dtype=np.int64)
        if self.labels.shape != (self.shape[0],):
            raise ValueError(f"labels must be ({self.shape[0]},), got {self.labels.shape}")
        self.indices = (np.arange(self.shape[0]) if indices is None else np.asarray(indices, dtype=np.int64))
        if self.indices.size and (self.indices.min() < 0 or self.indices.max() >= self.shape[0]):
            raise IndexError(f"indices must be in [0, {self.shape[0]})")
        if not 0 <= variant < self.shape[1]:
            raise ValueError(f"variant must be in [0, {self.shape[1]}), got {variant}")
        self.variant = variant
        self._file = None  # opened on first read, in the process that reads
        self._row_bytes = int(np.prod(self.shape[2:])) * 2  # one (n_mels, frames) float16 row
        if self._path is not None:
            size = self._path.stat().st_size if self._path.exists() else -1
            if size != int(np.prod(self.shape)) * 2:
                raise CorruptCache(f"{self._path}: expected {int(np.prod(self.shape)) * 2} bytes for float16 "
                                   f"{self.shape}, found {'no file' if size < 0 else f'{size} bytes'}")

    @property
    def n_variants(self) -> int:
        return self.shape[1]

    def __len__(self) -> int:
        return int(self.indices.size)

    def __getstate__(self) -> dict:  # never pickle an open file (DataLoader workers open their own)
        state = dict(self.__dict__)
        state["_file"] = None
        return state

    def __del__(self):
        f = getattr(self, "_file", None)
        if f is not None:
            f.close()

    def _read_rows(self, rows: np.ndarray, var: np.ndarray) -> np.ndarray:
        """``(len(rows), n_mels, frames)`` float16: row ``(rows[k], var[k])`` of the file, read with one
        positioned read each (no shared file offset, so threads and forked workers cannot mix them up)."""
        if self._file is None:
            self._file = open(self._path, "rb", buffering=0)  # noqa: SIM115 - kept open across reads
        out = np.empty((len(rows), *self.shape[2:]), np.float16)
        buf = memoryview(out).cast("B")
        rb, nv, fd = self._row_bytes, self.shape[1], self._file.fileno()
        for k, (r, v) in enumerate(zip(rows.tolist(), var.tolist())):
            view, offset = buf[k * rb:(k + 1) * rb], (r * nv + v) * rb
            if hasattr(os, "preadv"):
                n = os.preadv(fd, [view], offset)
            else:  # Windows: no positioned reads in os; one file object per process, no threads here
                self._file.seek(offset)
                n = self._file.readinto(view)
            if n != rb:
                raise CorruptCache(f"{self._path}: short read at row ({r}, {v}): {n} of {rb} bytes "
                                   "(was the cache file truncated? delete the cache folder to rebuild it)")
        return out

    def _fetch(self, pos: np.ndarray, var: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        if pos.size and (pos.min() < 0 or pos.max() >= len(self)):
            raise IndexError(f"index out of range for a dataset of {len(self)} clips")
        if var.size and (var.min() < 0 or var.max() >= self.n_variants):
            raise IndexError(f"variant out of range: this data has {self.n_variants} variants per clip")
        rows = self.indices[pos]
        arr = self._array[rows, var] if self._array is not None else self._read_rows(rows, var)
        x = torch.from_numpy(arr.astype(np.float32, copy=False)).unsqueeze(1)
        return x, torch.from_numpy(self.labels[rows])

    @staticmethod
    def _split_key(key) -> tuple[int, int | None]:
        if isinstance(key, (tuple, list)):
            if len(key) != 2:
                raise TypeError(f"a key is an int or a pair (clip, variant), got {key!r}")
            return int(key[0]), int(key[1])
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            return int(key), None
        raise TypeError(f"a key is an int or a pair (clip, variant), got {type(key).__name__}")

    def __getitem__(self, key) -> tuple[torch.Tensor, int]:
        i, v = self._split_key(key)
        if i < 0:
            i += len(self)
        x, y = self._fetch(np.array([i]), np.array([self.variant if v is None else v]))
        return x[0], int(y[0])

    def __getitems__(self, keys: Sequence) -> list[tuple[torch.Tensor, int]]:
        arr = None
        if keys and isinstance(keys[0], tuple):
            try:
                arr = np.asarray(keys)
            except ValueError:  # a mix of ints and pairs
                arr = None
        if arr is not None and arr.ndim == 2 and arr.shape[1] == 2 and arr.dtype.kind in "iu":
            pos, var = arr[:, 0].astype(np.int64), arr[:, 1].astype(np.int64)  # the sampler's (clip, variant) pairs
        else:
            pairs = [self._split_key(k) for k in keys]
            pos = np.array([i for i, _ in pairs], dtype=np.int64)
            var = np.array([self.variant if v is None else v for _, v in pairs], dtype=np.int64)
        x, y = self._fetch(pos, var)
        return _Batch(x, y)

    def arrays(self, variant: int | None = None, device: torch.device | str | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """All items of one variant at once: ``(x: (n, 1, n_mels, frames), y: (n,))`` (for t-SNE, metrics),
        on ``device`` (default the CPU)."""
        v = self.variant if variant is None else variant
        x, y = self._fetch(np.arange(len(self)), np.full(len(self), v))
        return (x, y) if device is None else (x.to(device), y.to(device))


class _Batch(list):
    """The items of a batch as a list of ``(x, y)`` (the Dataset protocol), also kept stacked so
    that :func:`collate` hands them over without copying each item again."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor):
        super().__init__(zip(x.unbind(0), y.tolist()))
        self.x, self.y = x, y


def collate(batch):
    """``default_collate``, with a shortcut for batches that :meth:`VariantDataset.__getitems__` stacked already."""
    from torch.utils.data import default_collate

    if isinstance(batch, _Batch):
        return batch.x, batch.y
    return default_collate(batch)


class VariantBatchSampler(Sampler):
    """Batches of ``(clip, variant)`` keys: a new shuffle and a new variant per clip every epoch.

    Epoch ``e`` draws from ``numpy.random.default_rng([seed, e])``, so runs are reproducible.
    ``variants="random"`` picks uniformly among all ``n_variants`` (the clean one included);
    ``"clean"`` always takes variant 0.
    """

    def __init__(self, n_items: int, n_variants: int, batch_size: int, *, shuffle: bool = True, seed: int = 0,
                 variants: str = "random", drop_last: bool = False):
        if n_items <= 0 or n_variants <= 0 or batch_size <= 0:
            raise ValueError(f"n_items, n_variants and batch_size must be positive, got {n_items}, {n_variants}, "
                             f"{batch_size}")
        if variants not in ("random", "clean"):
            raise ValueError(f"variants must be 'random' or 'clean', got {variants!r}")
        self.n_items, self.n_variants, self.batch_size = n_items, n_variants, batch_size
        self.shuffle, self.seed, self.variants, self.drop_last = shuffle, seed, variants, drop_last
        self.epoch = 0

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        rng = np.random.default_rng([self.seed, self.epoch])
        self.epoch += 1
        order = rng.permutation(self.n_items) if self.shuffle else np.arange(self.n_items)
        var = (rng.integers(0, self.n_variants, self.n_items) if self.variants == "random"
               else np.zeros(self.n_items, np.int64))
        for s in range(0, self.n_items, self.batch_size):
            if self.drop_last and s + self.batch_size > self.n_items:
                return
            yield list(zip(order[s:s + self.batch_size].tolist(), var[s:s + self.batch_size].tolist()))

    def __len__(self) -> int:
        full, rest = divmod(self.n_items, self.batch_size)
        return full + (0 if self.drop_last or not rest else 1)


def make_loader(dataset: VariantDataset, *, batch_size: int = 64, shuffle: bool = True, variants: str = "random",
                seed: int = 0, num_workers: int = 0, drop_last: bool = False, pin_memory: bool = False) -> DataLoader:
    """A DataLoader over ``dataset`` with a :class:`VariantBatchSampler` (batches ``x: (B, 1, n_mels, frames)``, ``y: (B,)``).

    ``pin_memory=True`` (for a CUDA model) lets :func:`dlcourse.training.fit` copy batches with
    ``non_blocking=True``.

    Args:
        dataset: the cached (or in-RAM) features.
        batch_size: clips per batch (> 0).
        shuffle: a new order every epoch.
        variants: ``"random"`` (one of the ``V`` variants per clip per epoch, the clean one
            included) or ``"clean"`` (always variant 0, for evaluation).
        seed: epoch ``e`` draws order and variants from ``numpy.random.default_rng([seed, e])``.
        num_workers: DataLoader worker processes (each opens the cache file itself).
        drop_last: leave out a last, smaller batch.
        pin_memory: put batches in page-locked memory.

    Returns:
        the DataLoader; each batch is ``(x: (B, 1, n_mels, frames) float32, y: (B,) int64)``.

    Raises:
        TypeError: ``dataset`` is not a :class:`VariantDataset`.
        ValueError: ``batch_size`` not positive, the dataset empty, or an unknown ``variants``.
    """
    if not isinstance(dataset, VariantDataset):
        raise TypeError(f"dataset must be a VariantDataset, got {type(dataset).__name__}")
    sampler = VariantBatchSampler(len(dataset), dataset.n_variants, batch_size, shuffle=shuffle, seed=seed,
                                  variants=variants, drop_last=drop_last)
    return DataLoader(dataset, batch_sampler=sampler, num_workers=num_workers, collate_fn=collate,
                      pin_memory=pin_memory)
