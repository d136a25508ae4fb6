"""Audio file I/O with ``soundfile`` and the waveform plumbing every pipeline needs.

``torchaudio.load`` goes through TorchCodec/FFmpeg since torchaudio 2.9; the course reads and
writes WAV/FLAC with ``soundfile`` (libsndfile) instead, and uses torchaudio only for the
signal processing (``torchaudio.functional.resample``).

Shapes: a waveform is ``(C, T)`` (channels, samples) or, once mono, ``(T,)``; batches are
``(N, T)``. Samples are float32 in [-1, 1].
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from .._core import check_choice, check_int, to_numpy

__all__ = [
    "AUDIO_EXTENSIONS",
    "AudioReadError",
    "read_audio",
    "write_audio",
    "to_mono",
    "resample",
    "pad_or_trim",
    "load_clip",
]

AUDIO_EXTENSIONS = (".wav", ".flac")


class AudioReadError(ValueError):
    """An audio file could not be read (missing, truncated, not audio); the message names it."""


def _read_np(path: Path | str) -> tuple[np.ndarray, int]:
    """``(data: (T, C) float32, sample_rate)``; raises :class:`AudioReadError` naming the file."""
    try:
        data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError, ValueError) as e:
        raise AudioReadError(f"cannot read audio file {path}: {e}") from None
    if data.shape[0] == 0:
        raise AudioReadError(f"audio file {path} holds no samples")
    if not np.isfinite(data).all():
        raise AudioReadError(f"audio file {path} holds NaN or infinite samples")
    return data, int(sr)


def read_audio(path: Path | str) -> tuple[torch.Tensor, int]:
    """Read a WAV/FLAC file with soundfile.

    Returns:
        ``(wave, sample_rate)`` with ``wave: (C, T)`` float32 in [-1, 1].

    Raises:
        AudioReadError: the file is missing, empty or not readable audio (the message names it).
    """
    data, sr = _read_np(path)
    return torch.from_numpy(np.ascontiguousarray(data.T)), sr


def write_audio(path: Path | str, wave: torch.Tensor | np.ndarray, sample_rate: int, *,
                subtype: str | None = None) -> Path:
    """Write ``wave: (T,)`` or ``(C, T)`` to a WAV or FLAC file (format from the extension).

    ``subtype`` defaults to ``"PCM_16"`` (both formats); ``"FLOAT"`` keeps float32 WAV samples.
    Samples outside [-1, 1] are clipped by the PCM encoders.

    Args:
        path: the file to write, ending in ``.wav`` or ``.flac``; missing folders are created.
        wave: ``(T,)`` or ``(C, T)`` float samples in [-1, 1], a tensor (any device) or an array.
        sample_rate: samples per second (Hz).
        subtype: a soundfile subtype (``"PCM_16"``, ``"PCM_24"``, ``"FLOAT"``, ...).

    Returns:
        ``path`` as a :class:`pathlib.Path`.

    Raises:
        ValueError: another extension, ``sample_rate < 1``, or ``wave`` not ``(T,)`` / ``(C, T)``
            with ``T > 0``.
        TypeError: ``sample_rate`` is not an int.
    """
    path = Path(path)
    if path.suffix.lower() not in AUDIO_EXTENSIONS:
        raise ValueError(f"write_audio writes {', '.join(AUDIO_EXTENSIONS)} files, got {path.name!r}")
    _check_rate(sample_rate)
    arr = wave.detach().cpu().numpy() if torch.is_tensor(wave) else np.asarray(wave)
    if arr.ndim == 1:
        arr = arr[None]
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise ValueError(f"wave must be (T,) or (C, T) with T > 0, got shape {arr.shape}")
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), arr.T.astype(np.float32), int(sample_rate), subtype=subtype or "PCM_16")
    return path


def _check_rate(sample_rate) -> None:
    check_int(sample_rate, "sample_rate (Hz)", min=1)


def to_mono(wave: torch.Tensor) -> torch.Tensor:
    """Average the channels: ``(C, T) -> (T,)``; a ``(T,)`` input is returned as is.

    Args:
        wave: ``(C, T)`` or ``(T,)`` samples.

    Returns:
        ``(T,)``: the mean over channels (``wave`` itself when it is already 1-D).

    Raises:
        TypeError: ``wave`` is not a tensor.
        ValueError: ``wave`` is neither 1-D nor 2-D.
    """
    if not torch.is_tensor(wave):
        raise TypeError(f"wave must be a torch.Tensor, got {type(wave).__name__}")
    if wave.ndim == 1:
        return wave
    if wave.ndim != 2:
        raise ValueError(f"wave must be (C, T) or (T,), got shape {tuple(wave.shape)}")
    return wave.mean(dim=0)


def resample(wave: torch.Tensor, orig_rate: int, new_rate: int) -> torch.Tensor:
    """Resample ``wave: (..., T)`` from ``orig_rate`` to ``new_rate`` Hz (torchaudio's windowed sinc).

    Args:
        wave: ``(..., T)`` float samples.
        orig_rate: the samples' rate in Hz.
        new_rate: the rate wanted in Hz.

    Returns:
        ``(..., ceil(T * new_rate / orig_rate))``; ``wave`` itself when the rates are equal.

    Raises:
        TypeError, ValueError: a rate is not an int >= 1.
    """
    import torchaudio.functional as AF

    _check_rate(orig_rate)
    _check_rate(new_rate)
    if orig_rate == new_rate:
        return wave
    return AF.resample(wave, int(orig_rate), int(new_rate))


def pad_or_trim(wave: torch.Tensor | np.ndarray, length: int, *, mode: str = "center"
                ) -> torch.Tensor | np.ndarray:
    """Zero-pad or cut ``wave: (..., T)`` to ``(..., length)`` (a tensor, or a NumPy array for NumPy input).

    The one pad/crop helper of the audio package (reading clips, speed and tempo changes use it).

    Args:
        wave: ``(..., T)`` samples, a ``torch.Tensor`` or a ``numpy.ndarray``.
        length: samples wanted (> 0).
        mode: ``"center"`` pads both sides equally and, when trimming, keeps the ``length``-sample
            window with the most energy (over all rows: spoken words are short bursts in longer
            recordings); ``"middle"`` pads both sides equally and keeps the middle ``length``
            samples (a stretched clip stays centred where it was); ``"left"`` pads at the end and
            keeps the first ``length`` samples.

    Returns:
        ``wave`` itself when it already has ``length`` samples, else a new tensor/array ``(..., length)``.

    Raises:
        TypeError: ``wave`` is neither a tensor nor an array, or ``length`` is not an int.
        ValueError: ``length <= 0`` or an unknown ``mode``.
    """
    if not isinstance(wave, (torch.Tensor, np.ndarray)):
        raise TypeError(f"wave must be a torch.Tensor or numpy.ndarray (..., T), got {type(wave).__name__}")
    length = check_int(length, "length (samples)", min=1)
    check_choice(mode, "mode", ("center", "middle", "left"))
    t = wave.shape[-1]
    if t == length:
        return wave
    if t < length:
        before = 0 if mode == "left" else (length - t) // 2
        if isinstance(wave, np.ndarray):
            return np.pad(wave, [(0, 0)] * (wave.ndim - 1) + [(before, length - t - before)])
        return torch.nn.functional.pad(wave, (before, length - t - before))
    if mode == "left":
        start = 0
    elif mode == "middle":
        start = (t - length) // 2
    else:
        start = _loudest_start(to_numpy(wave).reshape(-1, t), length)
    return wave[..., start:start + length]


def _loudest_start(x: np.ndarray, length: int) -> int:
    """Start of the ``length``-sample window of ``x: (C, T)`` with the most energy (cumulative sum)."""
    energy = np.square(x, dtype=np.float64).sum(0)
    csum = np.concatenate([[0.0], np.cumsum(energy)])
    return int(np.argmax(csum[length:] - csum[:-length]))


def load_clip(path: Path | str, sample_rate: int, length: int | None = None, *, mode: str = "center") -> torch.Tensor:
    """Read a file, mix to mono, resample to ``sample_rate`` and pad/trim to ``length`` samples.

    Args:
        path: a WAV/FLAC file.
        sample_rate: Hz of the result.
        length: samples of the result (``None`` keeps the resampled length).
        mode: how :func:`pad_or_trim` fits it (``"center"``, ``"middle"`` or ``"left"``).

    Returns:
        ``wave: (T,)`` float32 (``T = length`` when given).

    Raises:
        AudioReadError: the file is missing or not readable audio.
        ValueError: a bad ``sample_rate``, ``length`` or ``mode``.
    """
    # NumPy until the end: per-clip torch calls cost more than the work on short clips.
    data, sr = _read_np(path)
    mono = data[:, 0] if data.shape[1] == 1 else data.mean(axis=1)
    if sr != sample_rate:
        mono = resample(torch.from_numpy(np.ascontiguousarray(mono)), sr, sample_rate).numpy()
    if length is not None:
        mono = pad_or_trim(mono, length, mode=mode)
    return torch.from_numpy(np.ascontiguousarray(mono, dtype=np.float32))
