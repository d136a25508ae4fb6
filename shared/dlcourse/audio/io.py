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
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)) or sample_rate <= 0:
        raise ValueError(f"sample_rate must be a positive int (Hz), got {sample_rate!r}")


def to_mono(wave: torch.Tensor) -> torch.Tensor:
    """Average the channels: ``(C, T) -> (T,)``; a ``(T,)`` input is returned as is."""
    if not torch.is_tensor(wave):
        raise TypeError(f"wave must be a torch.Tensor, got {type(wave).__name__}")
    if wave.ndim == 1:
        return wave
    if wave.ndim != 2:
        raise ValueError(f"wave must be (C, T) or (T,), got shape {tuple(wave.shape)}")
    return wave.mean(dim=0)


def resample(wave: torch.Tensor, orig_rate: int, new_rate: int) -> torch.Tensor:
    """Resample ``wave: (..., T)`` from ``orig_rate`` to ``new_rate`` Hz (torchaudio's windowed sinc)."""
    import torchaudio.functional as AF

    _check_rate(orig_rate)
    _check_rate(new_rate)
    if orig_rate == new_rate:
        return wave
    return AF.resample(wave, int(orig_rate), int(new_rate))


def pad_or_trim(wave: torch.Tensor, length: int, *, mode: str = "center") -> torch.Tensor:
    """Zero-pad or cut ``wave: (..., T)`` to ``(..., length)``.

    Modes: ``"center"`` pads both sides equally and, when trimming, keeps the ``length``-sample
    window with the most energy (spoken words are short bursts in longer recordings);
    ``"left"`` pads at the end and keeps the first ``length`` samples.
    """
    if not torch.is_tensor(wave):
        raise TypeError(f"wave must be a torch.Tensor, got {type(wave).__name__}")
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length <= 0:
        raise ValueError(f"length must be a positive int (samples), got {length!r}")
    if mode not in ("center", "left"):
        raise ValueError(f"mode must be 'center' or 'left', got {mode!r}")
    t = wave.shape[-1]
    if t == length:
        return wave
    if t < length:
        before = (length - t) // 2 if mode == "center" else 0
        return torch.nn.functional.pad(wave, (before, length - t - before))
    if mode == "left":
        return wave[..., :length]
    start = _loudest_start(wave.detach().cpu().reshape(-1, t).numpy(), length)
    return wave[..., start:start + length]


def _loudest_start(x: np.ndarray, length: int) -> int:
    """Start of the ``length``-sample window of ``x: (C, T)`` with the most energy (cumulative sum)."""
    energy = np.square(x, dtype=np.float64).sum(0)
    csum = np.concatenate([[0.0], np.cumsum(energy)])
    return int(np.argmax(csum[length:] - csum[:-length]))


def _pad_or_trim_np(x: np.ndarray, length: int, mode: str) -> np.ndarray:
    t = x.shape[-1]
    if t == length:
        return x
    if t < length:
        before = (length - t) // 2 if mode == "center" else 0
        out = np.zeros(length, dtype=x.dtype)
        out[before:before + t] = x
        return out
    start = 0 if mode == "left" else _loudest_start(x[None], length)
    return x[start:start + length]


def load_clip(path: Path | str, sample_rate: int, length: int | None = None, *, mode: str = "center") -> torch.Tensor:
    """Read a file, mix to mono, resample to ``sample_rate`` and pad/trim to ``length`` samples.

    Returns ``wave: (T,)`` float32 (``T = length`` when given).
    """
    # NumPy until the end: per-clip torch calls cost more than the work on short clips.
    data, sr = _read_np(path)
    mono = data[:, 0] if data.shape[1] == 1 else data.mean(axis=1)
    if sr != sample_rate:
        mono = resample(torch.from_numpy(np.ascontiguousarray(mono)), sr, sample_rate).numpy()
    if length is not None:
        if mode not in ("center", "left"):
            raise ValueError(f"mode must be 'center' or 'left', got {mode!r}")
        mono = _pad_or_trim_np(mono, length, mode)
    return torch.from_numpy(np.ascontiguousarray(mono, dtype=np.float32))
