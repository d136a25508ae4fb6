"""Log-mel features (torchaudio transforms, batched); ``dlcourse.plotting`` draws waveform, spectrogram and log-mel.

A spoken word becomes an image: ``wave: (N, T)`` -> ``log_mel: (N, n_mels, frames)`` with
``frames = 1 + T // hop_length`` (centred STFT frames). The log keeps quiet and loud parts
of a word on a comparable scale, which is what a small CNN needs.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from .._core import check_float, check_int

__all__ = [
    "FeatureParams",
    "LogMel",
    "log_mel",
    "stft_db",
]


@dataclass(frozen=True)
class FeatureParams:
    """Everything that defines the features (and therefore part of a cache key).

    Attributes:
        sample_rate: Hz every clip is resampled to.
        clip_seconds: clips are padded/trimmed to ``round(clip_seconds * sample_rate)`` samples.
        n_fft: STFT window length (samples); ``hop_length`` the step between frames.
        n_mels: mel bands between ``f_min`` and ``f_max`` (``None`` = Nyquist).
        log_floor: power added before the log (> 0). It avoids ``log(0)`` on digital silence, and it
            sets the quietest level the features can tell apart: a floor above a microphone's
            background noise makes that noise and the silent padding look the same (FSDD's
            speakers record with different background levels; :class:`~.recipe.Recipe` uses 1e-4).
        peak_level: ``None`` keeps each clip's recorded level; a number in (0, 1] scales every
            clip (every row of a batch) so that its largest absolute sample is ``peak_level``
            before the STFT. Speakers record at very different levels (FSDD: RMS 0.011 to 0.089);
            without it the contrast between a word and the ``log_floor`` of its silent padding
            depends on the microphone, not on the word.
    """

    sample_rate: int = 8000
    clip_seconds: float = 1.0
    n_fft: int = 256
    hop_length: int = 128
    n_mels: int = 40
    f_min: float = 20.0
    f_max: float | None = None
    log_floor: float = 1e-6
    peak_level: float | None = None

    def __post_init__(self) -> None:
        for name in ("sample_rate", "n_fft", "hop_length", "n_mels"):
            v = getattr(self, name)
            check_int(v, f"FeatureParams.{name}", min=1)
        if not self.clip_seconds > 0:
            raise ValueError(f"FeatureParams.clip_seconds must be > 0, got {self.clip_seconds}")
        nyq = self.sample_rate / 2
        top = self.f_max if self.f_max is not None else nyq
        if not 0 <= self.f_min < top <= nyq:
            raise ValueError(f"need 0 <= f_min < f_max <= sample_rate / 2 = {nyq:g}, got f_min={self.f_min}, "
                             f"f_max={self.f_max}")
        check_float(self.log_floor, "FeatureParams.log_floor", min=0, min_open=True)
        if self.peak_level is not None:
            check_float(self.peak_level, "FeatureParams.peak_level", min=0, max=1, min_open=True)
        if self.hop_length > self.n_fft:
            raise ValueError(f"hop_length ({self.hop_length}) must not exceed n_fft ({self.n_fft})")

    @property
    def clip_samples(self) -> int:
        return int(round(self.clip_seconds * self.sample_rate))

    @property
    def n_frames(self) -> int:
        return 1 + self.clip_samples // self.hop_length

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_mels, n_frames)`` of one clip's features."""
        return (self.n_mels, self.n_frames)

    def to_dict(self) -> dict:
        return asdict(self)


class LogMel(nn.Module):
    """``wave: (..., T)`` -> natural-log mel power ``(..., n_mels, 1 + T // hop_length)``.

    With ``params.peak_level`` each row of ``wave`` is first scaled to that peak amplitude.
    """

    def __init__(self, params: FeatureParams = FeatureParams()):
        super().__init__()
        import torchaudio.transforms as AT

        if not isinstance(params, FeatureParams):
            raise TypeError(f"params must be a FeatureParams, got {type(params).__name__}")
        self.params = params
        # Spectrogram (complex) + MelScale = MelSpectrogram, with |X|^2 taken from the real and
        # imaginary parts (faster on CPU than the complex abs() MelSpectrogram uses).
        self.spec = AT.Spectrogram(n_fft=params.n_fft, hop_length=params.hop_length, power=None, center=True)
        self.mel = AT.MelScale(n_mels=params.n_mels, sample_rate=params.sample_rate, f_min=params.f_min,
                               f_max=params.f_max, n_stft=params.n_fft // 2 + 1, norm="slaney", mel_scale="slaney")

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        """Log-mel features of ``wave``.

        Args:
            wave: ``(..., T)`` float samples at ``params.sample_rate``, with
                ``T >= n_fft // 2 + 1``.

        Returns:
            ``(..., n_mels, 1 + T // hop_length)``: ``log(mel power + log_floor)``, natural log.

        Raises:
            TypeError: ``wave`` is not a floating-point tensor.
            ValueError: ``wave`` is shorter than ``n_fft // 2 + 1`` samples (the centred STFT's
                reflection padding needs that many).
        """
        if not torch.is_tensor(wave) or not wave.is_floating_point():
            raise TypeError(f"wave must be a floating-point tensor (..., T), got {type(wave).__name__}")
        if wave.shape[-1] < self.params.n_fft // 2 + 1:
            raise ValueError(f"wave has {wave.shape[-1]} samples; need at least n_fft // 2 + 1 = "
                             f"{self.params.n_fft // 2 + 1}")
        if self.params.peak_level is not None:
            wave = wave * (self.params.peak_level / wave.abs().amax(dim=-1, keepdim=True).clamp_min(1e-8))
        ri = torch.view_as_real(self.spec(wave))
        power = torch.addcmul(ri[..., 0].square(), ri[..., 1], ri[..., 1])  # re^2 + im^2
        return torch.log(self.mel(power) + self.params.log_floor)


_LOGMEL_CACHE: dict[tuple[FeatureParams, str], LogMel] = {}


@torch.no_grad()
def log_mel(wave: torch.Tensor, params: FeatureParams = FeatureParams()) -> torch.Tensor:
    """Batched log-mel features: ``wave: (N, T)`` or ``(T,)`` -> ``(N, n_mels, frames)`` or ``(n_mels, frames)``.

    Computed on ``wave``'s device (CPU, CUDA, MPS) and returned there, float32. The mel filter
    bank is built once per ``params`` and device and reused.

    Args:
        wave: ``(N, T)`` or ``(T,)`` float samples at ``params.sample_rate`` (converted to
            float32), ``T >= n_fft // 2 + 1``.
        params: the feature settings (:class:`FeatureParams`).

    Returns:
        ``(N, n_mels, 1 + T // hop_length)`` or ``(n_mels, 1 + T // hop_length)`` float32 (see
        :class:`LogMel`), computed without gradients.

    Raises:
        TypeError: ``wave`` is not a floating-point tensor, or ``params`` not a ``FeatureParams``.
        ValueError: ``wave`` is too short (see :meth:`LogMel.forward`).
    """
    if not torch.is_tensor(wave) or not wave.is_floating_point():
        raise TypeError(f"wave must be a floating-point tensor (N, T) or (T,), got "
                        f"{getattr(wave, 'dtype', type(wave).__name__)}")
    if not isinstance(params, FeatureParams):
        raise TypeError(f"params must be a FeatureParams, got {type(params).__name__}")
    key = (params, str(wave.device))
    mod = _LOGMEL_CACHE.get(key)
    if mod is None:
        mod = _LOGMEL_CACHE[key] = LogMel(params).to(wave.device)
    return mod(wave.to(torch.float32))


@torch.no_grad()
def stft_db(wave: torch.Tensor, n_fft: int = 256, hop_length: int = 64) -> torch.Tensor:
    """Power spectrogram in dB (re. max): ``wave: (T,)`` -> ``(n_fft // 2 + 1, frames)``, on ``wave``'s device.

    Args:
        wave: one clip ``(T,)`` (converted to float32).
        n_fft: FFT size (Hann window of the same length).
        hop_length: samples between frames (centred frames: ``frames = 1 + T // hop_length``).

    Returns:
        ``(n_fft // 2 + 1, frames)``: ``10 log10(power / max power + 1e-10)``, so 0 dB at the
        loudest bin and about -100 dB at the floor.

    Raises:
        ValueError: ``wave`` is not a 1-D tensor.
    """
    if not torch.is_tensor(wave) or wave.ndim != 1:
        raise ValueError(f"wave must be a (T,) tensor, got {getattr(wave, 'shape', type(wave).__name__)}")
    spec = torch.stft(wave.float(), n_fft, hop_length, window=torch.hann_window(n_fft, device=wave.device),
                      return_complex=True)
    power = spec.abs().pow(2)
    return 10 * torch.log10(power / power.max().clamp_min(1e-20) + 1e-10)
