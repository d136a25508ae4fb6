"""Augmentations and filters for spoken words (torchaudio.functional where it has them).

Waveform operations take ``wave: (..., T)`` float tensors (a clip ``(T,)`` or a batch ``(N, T)``)
and return the same shape unless stated otherwise:

* :func:`time_shift`, :func:`gain`, :func:`add_noise` (white or given noise at an SNR in dB,
  computed from *powers*), :func:`speed` (resampling: pitch and duration change together),
  :func:`tempo` (phase vocoder: duration changes, pitch does not);
* :func:`lowpass`, :func:`highpass`, :func:`bandpass`, :func:`telephone` (300-3400 Hz):
  cascaded RBJ biquads from ``torchaudio.functional``;
* :func:`reverb`: convolution with a synthetic exponentially decaying room response;
* :class:`SpecAugment`: frequency and time masks on (normalized) log-mel features, applied
  on the fly in training mode;
* :class:`AugmentConfig` + :func:`random_variants`: the random chains that the on-disk cache
  precomputes, K per clip, reproducible from a seed.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch
from torch import nn

from .._core import check_choice, check_int
from .io import pad_or_trim

__all__ = [
    "signal_power",
    "snr_db",
    "time_shift",
    "gain",
    "add_noise",
    "speed",
    "tempo",
    "lowpass",
    "highpass",
    "bandpass",
    "telephone",
    "impulse_response",
    "reverb",
    "SpecAugment",
    "AugmentConfig",
    "FILTERS",
    "random_variants",
    "mel_centers",
    "warp_frequency",
    "FreqWarp",
    "shift_frames",
    "RandomFrameShift",
    "mixup",
]


def _check_wave(wave) -> None:
    if not torch.is_tensor(wave) or not wave.is_floating_point():
        raise TypeError(f"wave must be a floating-point torch.Tensor (..., T), got {type(wave).__name__}")
    if wave.ndim == 0 or wave.shape[-1] == 0:
        raise ValueError(f"wave must be (..., T) with T > 0, got shape {tuple(wave.shape)}")


def _check_rate(sample_rate) -> None:
    check_int(sample_rate, "sample_rate (Hz)", min=1)


def signal_power(wave: torch.Tensor) -> torch.Tensor:
    """Mean power ``mean(x**2)`` over the last axis: ``(..., T) -> (...)``."""
    _check_wave(wave)
    return wave.pow(2).mean(dim=-1)


def snr_db(clean: torch.Tensor, noisy: torch.Tensor) -> torch.Tensor:
    """Signal-to-noise ratio of ``noisy`` against ``clean`` in dB: ``10 log10(P_clean / P_(noisy - clean))``.

    Args:
        clean: the signal, ``(..., T)`` float.
        noisy: the signal plus noise, ``(..., T)``, the same shape as ``clean``.

    Returns:
        ``(...)``: one SNR in dB per clip (``+inf`` where ``noisy == clean``).

    Raises:
        TypeError: ``clean`` is not a floating-point tensor.
        ValueError: ``clean`` has no samples, or ``noisy`` has another shape.
    """
    _check_wave(clean)
    if noisy.shape != clean.shape:
        raise ValueError(f"clean {tuple(clean.shape)} and noisy {tuple(noisy.shape)} must have the same shape")
    return 10 * torch.log10(signal_power(clean) / signal_power(noisy - clean))


def time_shift(wave: torch.Tensor, shift: int, *, mode: str = "zero") -> torch.Tensor:
    """Shift ``wave: (..., T)`` by ``shift`` samples (positive = later).

    ``mode="zero"`` fills the gap with silence; ``"roll"`` wraps the samples around.

    Args:
        wave: ``(..., T)`` float samples.
        shift: samples to move by, an int (negative = earlier); with ``"zero"``,
            ``|shift| >= T`` gives silence.
        mode: ``"zero"`` or ``"roll"``.

    Returns:
        the shifted samples, ``(..., T)`` (a new tensor).

    Raises:
        TypeError: ``wave`` is not a floating-point tensor, or ``shift`` not an int.
        ValueError: ``wave`` has no samples, or ``mode`` is neither ``"zero"`` nor ``"roll"``.
    """
    _check_wave(wave)
    shift = check_int(shift, "shift (samples)")
    check_choice(mode, "mode", ("zero", "roll"))
    if mode == "roll":
        return torch.roll(wave, shift, dims=-1)
    t = wave.shape[-1]
    out = torch.zeros_like(wave)
    if abs(shift) >= t:
        return out
    if shift >= 0:
        out[..., shift:] = wave[..., : t - shift]
    else:
        out[..., :shift] = wave[..., -shift:]
    return out


def gain(wave: torch.Tensor, db: float | torch.Tensor) -> torch.Tensor:
    """Multiply the amplitude by ``10 ** (db / 20)``; ``db`` is a number or ``(N,)`` for a batch ``(N, T)``."""
    _check_wave(wave)
    db = torch.as_tensor(db, dtype=wave.dtype, device=wave.device)
    return wave * (10 ** (db / 20)).unsqueeze(-1) if db.ndim else wave * 10 ** (db / 20)


def add_noise(wave: torch.Tensor, snr: float | torch.Tensor, *, noise: torch.Tensor | None = None,
              generator: torch.Generator | None = None) -> torch.Tensor:
    """Add ``noise`` (default white Gaussian) scaled so that ``10 log10(P_wave / P_noise) = snr`` dB.

    The scaling uses powers (squared amplitudes), so 20 dB means the noise has 1/100 of the
    signal's power (1/10 of its RMS). Uses ``torchaudio.functional.add_noise``. Runs on
    ``wave``'s device (white noise is drawn on the ``generator``'s device, then moved).

    Args:
        wave: ``(..., T)`` float samples.
        snr: dB, a number or one SNR per clip: ``(N,)`` for a batch ``(N, T)``, in general a
            tensor of shape ``wave.shape[:-1]``.
        noise: ``(..., T)`` broadcastable to ``wave``; any level (it is rescaled).
        generator: draws the white noise (when ``noise`` is None), for reproducible results.

    Returns:
        ``wave`` plus the scaled noise, ``wave``'s shape, dtype and device.

    Raises:
        TypeError: ``wave`` is not a floating-point tensor, or ``noise`` is not a tensor.
        ValueError: ``wave`` has no samples, or ``noise`` has another number of samples.
    """
    import torchaudio.functional as AF

    _check_wave(wave)
    if noise is None:
        gen_dev = generator.device if generator is not None else wave.device
        noise = torch.randn(wave.shape, generator=generator, dtype=wave.dtype, device=gen_dev)
    elif not torch.is_tensor(noise):
        raise TypeError(f"noise must be a tensor (..., T), got {type(noise).__name__}")
    elif noise.shape[-1] != wave.shape[-1]:
        raise ValueError(f"noise has {noise.shape[-1]} samples but wave has {wave.shape[-1]}")
    noise = noise.to(wave.device, wave.dtype).expand_as(wave)
    snr_t = torch.as_tensor(snr, dtype=wave.dtype).to(wave.device).expand(wave.shape[:-1])
    if wave.ndim == 1:
        return AF.add_noise(wave[None], noise[None], snr_t.reshape(1))[0]
    return AF.add_noise(wave, noise, snr_t.contiguous())


def speed(wave: torch.Tensor, sample_rate: int, factor: float, *, keep_length: bool = True) -> torch.Tensor:
    """Play ``wave: (..., T)`` ``factor`` times faster by resampling (pitch rises with it).

    With ``keep_length`` the result is centre-cropped or zero-padded back to ``T`` samples;
    otherwise it has about ``T / factor`` samples. Uses ``torchaudio.functional.speed``.

    Args:
        wave: ``(..., T)`` float samples.
        sample_rate: samples per second (Hz).
        factor: speed ratio in [0.5, 2] (2 = twice as fast, an octave higher).
        keep_length: crop or pad the result back to ``T`` samples, centred.

    Returns:
        ``(..., T)`` with ``keep_length``, else ``(..., about T / factor)``; a copy when
        ``factor == 1``.

    Raises:
        TypeError: ``wave`` is not a floating-point tensor, or ``sample_rate`` not an int.
        ValueError: ``wave`` has no samples, ``sample_rate < 1``, or ``factor`` outside [0.5, 2].
    """
    import torchaudio.functional as AF

    _check_wave(wave)
    _check_rate(sample_rate)
    if not 0.5 <= factor <= 2.0:
        raise ValueError(f"factor must be in [0.5, 2] (a speed ratio), got {factor}")
    if factor == 1.0:
        return wave.clone()
    out, _ = AF.speed(wave, sample_rate, float(factor))
    return pad_or_trim(out, wave.shape[-1], mode="middle") if keep_length else out


def tempo(wave: torch.Tensor, factor: float, *, n_fft: int = 256, hop_length: int = 64,
          keep_length: bool = True) -> torch.Tensor:
    """Change the duration of ``wave: (..., T)`` by ``1 / factor`` at constant pitch (phase vocoder).

    Uses ``torch.stft`` + ``torchaudio.functional.phase_vocoder`` + ``torch.istft``.

    Args:
        wave: ``(..., T)`` float samples.
        factor: tempo ratio in [0.5, 2] (2 = twice as fast, half as long).
        n_fft: FFT size of the STFT (Hann window of the same length).
        hop_length: samples between STFT frames.
        keep_length: crop or pad the result back to ``T`` samples, centred.

    Returns:
        ``(..., T)`` with ``keep_length``, else ``(..., round(T / factor))``.

    Raises:
        TypeError: ``wave`` is not a floating-point tensor.
        ValueError: ``wave`` has no samples, or ``factor`` outside [0.5, 2].
    """
    import torchaudio.functional as AF

    _check_wave(wave)
    if not 0.5 <= factor <= 2.0:
        raise ValueError(f"factor must be in [0.5, 2] (a tempo ratio), got {factor}")
    t = wave.shape[-1]
    window = torch.hann_window(n_fft, dtype=wave.dtype, device=wave.device)
    flat = wave.reshape(-1, t)
    spec = torch.stft(flat, n_fft, hop_length, window=window, return_complex=True)
    advance = torch.linspace(0, math.pi * hop_length, n_fft // 2 + 1, dtype=wave.dtype, device=wave.device)[..., None]
    stretched = AF.phase_vocoder(spec, float(factor), advance)
    out = torch.istft(stretched, n_fft, hop_length, window=window, length=int(round(t / factor)))
    out = out.reshape(*wave.shape[:-1], out.shape[-1])
    return pad_or_trim(out, t, mode="middle") if keep_length else out


def _check_cutoff(sample_rate: int, *freqs: float) -> None:
    _check_rate(sample_rate)
    for f in freqs:
        if not 0 < f < sample_rate / 2:
            raise ValueError(f"cutoff {f} Hz must be between 0 and the Nyquist frequency {sample_rate / 2:g} Hz")


def _butterworth(kind: str, wave: torch.Tensor, sample_rate: int, cutoff: float, order: int) -> torch.Tensor:
    import torchaudio.functional as AF

    biquad = AF.lowpass_biquad if kind == "low" else AF.highpass_biquad
    _check_wave(wave)
    _check_cutoff(sample_rate, cutoff)
    for q in _butterworth_qs(order):
        wave = biquad(wave, sample_rate, cutoff, Q=q)
    return wave


def lowpass(wave: torch.Tensor, sample_rate: int, cutoff: float, *, order: int = 4) -> torch.Tensor:
    """Butterworth-like low-pass of even ``order`` (cascaded 2nd-order RBJ biquads, -3 dB at ``cutoff``).

    Args:
        wave: ``(..., T)`` float samples.
        sample_rate: samples per second (Hz).
        cutoff: the -3 dB frequency in Hz, between 0 and ``sample_rate / 2``.
        order: the filter's order, an even int >= 2 (``order / 2`` biquads; the slope is
            ``6 * order`` dB per octave).

    Returns:
        the filtered samples, ``(..., T)``.

    Raises:
        TypeError: ``wave`` is not a floating-point tensor, or ``sample_rate`` / ``order`` not an int.
        ValueError: ``wave`` has no samples, ``cutoff`` outside (0, Nyquist), or ``order`` odd or < 2.
    """
    return _butterworth("low", wave, sample_rate, cutoff, order)


def highpass(wave: torch.Tensor, sample_rate: int, cutoff: float, *, order: int = 4) -> torch.Tensor:
    """Butterworth-like high-pass of even ``order`` (cascaded RBJ biquads, -3 dB at ``cutoff``).

    Args:
        wave: ``(..., T)`` float samples.
        sample_rate, cutoff, order: as in :func:`lowpass`; frequencies below ``cutoff`` are cut.

    Returns:
        the filtered samples, ``(..., T)``; raises as :func:`lowpass` does.
    """
    return _butterworth("high", wave, sample_rate, cutoff, order)


def _butterworth_qs(order: int) -> list[float]:
    """Q factors of the biquad sections of a Butterworth filter of even ``order``."""
    if check_int(order, "order", min=2) % 2:
        raise ValueError(f"order must be an even int >= 2, got {order!r}")
    return [1 / (2 * math.cos(math.pi * (2 * k + 1) / (2 * order))) for k in range(order // 2)]


def bandpass(wave: torch.Tensor, sample_rate: int, low: float, high: float, *, order: int = 4) -> torch.Tensor:
    """Keep ``low`` .. ``high`` Hz: a high-pass at ``low`` then a low-pass at ``high`` (each of ``order``).

    Args:
        wave: ``(..., T)`` float samples.
        sample_rate: samples per second (Hz).
        low: lower -3 dB edge in Hz.
        high: upper -3 dB edge in Hz (``low < high < sample_rate / 2``).
        order: order of each of the two filters (even, >= 2).

    Returns:
        the filtered samples, ``(..., T)``.

    Raises:
        ValueError: an edge outside (0, Nyquist) or ``low >= high`` (and the errors of
            :func:`lowpass` for ``wave`` and ``order``).
    """
    _check_cutoff(sample_rate, low, high)
    if not low < high:
        raise ValueError(f"need low < high, got low={low}, high={high}")
    return lowpass(highpass(wave, sample_rate, low, order=order), sample_rate, high, order=order)


def telephone(wave: torch.Tensor, sample_rate: int) -> torch.Tensor:
    """The telephone band, 300-3400 Hz (needs ``sample_rate > 6800``)."""
    return bandpass(wave, sample_rate, 300.0, 3400.0)


def impulse_response(sample_rate: int, rt60: float, *, generator: torch.Generator | None = None,
                     direct: float = 1.0) -> torch.Tensor:
    """A synthetic room response ``(L,)``, ``L = rt60 * sample_rate``: a direct path plus Gaussian
    noise whose amplitude decays by 60 dB in ``rt60`` seconds; unit energy.

    Args:
        sample_rate: samples per second (Hz).
        rt60: reverberation time in seconds, in (0, 3]: the tail falls by 60 dB in it.
        generator: draws the noise tail, for reproducible responses.
        direct: amplitude of the first (direct-path) sample before normalizing, against a tail
            that starts at 0.1 times a standard Gaussian.

    Returns:
        ``(L,)`` float32 with ``L = max(2, int(rt60 * sample_rate))`` and unit L2 norm.

    Raises:
        TypeError: ``sample_rate`` is not an int.
        ValueError: ``sample_rate < 1``, or ``rt60`` outside (0, 3].
    """
    _check_rate(sample_rate)
    if not 0 < rt60 <= 3:
        raise ValueError(f"rt60 must be in (0, 3] seconds, got {rt60}")
    n = max(2, int(rt60 * sample_rate))
    t = torch.arange(n) / sample_rate
    ir = torch.randn(n, generator=generator) * torch.exp(-math.log(1000) * t / rt60) * 0.1
    ir[0] = direct
    return ir / ir.norm()


def reverb(wave: torch.Tensor, sample_rate: int, rt60: float = 0.3, *, ir: torch.Tensor | None = None,
           generator: torch.Generator | None = None) -> torch.Tensor:
    """Convolve ``wave: (..., T)`` with a room response (``ir: (L,)`` or ``(..., L)``, else
    :func:`impulse_response`), keep the first ``T`` samples and the input's power.

    Args:
        wave: ``(..., T)`` float samples.
        sample_rate: samples per second (Hz); used only to make a response when ``ir`` is None.
        rt60: reverberation time in seconds of the generated response (ignored with ``ir``).
        ir: a room response ``(L,)`` or ``(..., L)`` broadcasting against ``wave``.
        generator: draws the generated response.

    Returns:
        ``(..., T)``: the reverberant samples, scaled to the power of each input clip.

    Raises:
        TypeError: ``wave`` is not a floating-point tensor (or, without ``ir``, ``sample_rate`` not an int).
        ValueError: ``wave`` has no samples (or, without ``ir``, a bad ``sample_rate`` / ``rt60``).
    """
    _check_wave(wave)
    if ir is None:
        ir = impulse_response(sample_rate, rt60, generator=generator)
    ir = ir.to(wave.device, wave.dtype)
    t = wave.shape[-1]
    # FFT convolution at a power-of-two length (torchaudio's fftconvolve uses T + L - 1, often slow).
    n = 1 << (t + ir.shape[-1] - 2).bit_length()
    out = torch.fft.irfft(torch.fft.rfft(wave, n) * torch.fft.rfft(ir, n), n)[..., :t]
    scale = torch.sqrt(signal_power(wave) / signal_power(out).clamp_min(1e-20))
    return out * scale.unsqueeze(-1) if wave.ndim > 1 else out * scale


class SpecAugment(nn.Module):
    """Frequency and time masks (Park et al., 2019) on features ``(N, n_mels, frames)`` or ``(N, 1, n_mels, frames)``.

    Active only in training mode (``model.train()``); in eval mode it returns its input. Each
    item gets its own masks (``torchaudio.functional.mask_along_axis_iid``) filled with
    ``mask_value``: use it on normalized features, where 0 is the average.
    """

    def __init__(self, freq_masks: int = 2, freq_width: int = 6, time_masks: int = 2, time_width: int = 10,
                 mask_value: float = 0.0):
        super().__init__()
        for name, v in (("freq_masks", freq_masks), ("freq_width", freq_width), ("time_masks", time_masks),
                        ("time_width", time_width)):
            check_int(v, name, min=0)
        self.freq_masks, self.freq_width = freq_masks, freq_width
        self.time_masks, self.time_width = time_masks, time_width
        self.mask_value = float(mask_value)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Mask ``x`` in training mode; return it unchanged in eval mode.

        Args:
            x: features ``(N, n_mels, frames)`` or ``(N, 1, n_mels, frames)``.

        Returns:
            ``x``'s shape: ``freq_masks`` bands of up to ``freq_width`` mel bins and
            ``time_masks`` spans of up to ``time_width`` frames set to ``mask_value``, drawn
            independently for each item (``x`` itself in eval mode).

        Raises:
            ValueError: ``x`` is neither 3-D nor 4-D (checked in training mode).
        """
        import torchaudio.functional as AF

        if not self.training:
            return x
        if x.ndim not in (3, 4):
            raise ValueError(f"features must be (N, n_mels, frames) or (N, 1, n_mels, frames), got {tuple(x.shape)}")
        y = x if x.ndim == 4 else x.unsqueeze(1)
        for _ in range(self.freq_masks):
            y = AF.mask_along_axis_iid(y, self.freq_width, self.mask_value, axis=2)
        for _ in range(self.time_masks):
            y = AF.mask_along_axis_iid(y, self.time_width, self.mask_value, axis=3)
        return y if x.ndim == 4 else y.squeeze(1)

    def extra_repr(self) -> str:
        return (f"freq_masks={self.freq_masks}, freq_width={self.freq_width}, time_masks={self.time_masks}, "
                f"time_width={self.time_width}")


#: the filters a random variant can go through (None = unfiltered)
FILTERS = ("none", "telephone", "lowpass", "highpass")


@dataclass(frozen=True)
class AugmentConfig:
    """How the random variants of a clip are drawn (part of the cache key).

    Each variant applies, in order: speed (prob. ``p_speed``, factor from ``speeds``), a filter
    (one of :data:`FILTERS` with ``filter_probs``; low-pass at ``lowpass_hz``, high-pass at
    ``highpass_hz``, Butterworth of ``filter_order``), reverberation (prob. ``p_reverb``, RT60 in ``rt60``), gain (dB uniform in
    ``gain_db``), white noise (prob. ``p_noise``, SNR uniform in ``snr_db``) and a time shift
    (uniform in ``±shift_s`` seconds).
    """

    shift_s: float = 0.1
    gain_db: tuple[float, float] = (-6.0, 6.0)
    p_noise: float = 0.8
    snr_db: tuple[float, float] = (10.0, 30.0)
    p_speed: float = 0.5
    speeds: tuple[float, ...] = (0.9, 0.95, 1.05, 1.1)
    filter_probs: tuple[float, float, float, float] = (0.55, 0.15, 0.15, 0.15)
    lowpass_hz: float = 2000.0
    highpass_hz: float = 400.0
    filter_order: int = 2
    p_reverb: float = 0.25
    rt60: tuple[float, float] = (0.1, 0.4)

    def __post_init__(self) -> None:
        for name in ("p_noise", "p_speed", "p_reverb"):
            p = getattr(self, name)
            if not 0 <= p <= 1:
                raise ValueError(f"AugmentConfig.{name} must be a probability in [0, 1], got {p}")
        if len(self.filter_probs) != len(FILTERS) or abs(sum(self.filter_probs) - 1) > 1e-6 or \
                min(self.filter_probs) < 0:
            raise ValueError(f"filter_probs must be {len(FILTERS)} probabilities for {FILTERS} that sum to 1, "
                             f"got {self.filter_probs}")
        if not self.speeds or not all(0.5 <= s <= 2 for s in self.speeds):
            raise ValueError(f"speeds must be non-empty factors in [0.5, 2], got {self.speeds}")
        for name in ("gain_db", "snr_db", "rt60"):
            lo, hi = getattr(self, name)
            if lo > hi:
                raise ValueError(f"AugmentConfig.{name} must be (low, high) with low <= high, got {(lo, hi)}")
        _butterworth_qs(self.filter_order)
        if self.shift_s < 0:
            raise ValueError(f"shift_s must be >= 0, got {self.shift_s}")

    def to_dict(self) -> dict:
        return asdict(self)


def _apply_filter(x: torch.Tensor, name: str, sample_rate: int, cfg: AugmentConfig) -> torch.Tensor:
    order = cfg.filter_order
    if name == "telephone":
        return bandpass(x, sample_rate, 300.0, min(3400.0, 0.42 * sample_rate), order=order)
    if name == "lowpass":
        return lowpass(x, sample_rate, min(cfg.lowpass_hz, 0.45 * sample_rate), order=order)
    if name == "highpass":
        return highpass(x, sample_rate, cfg.highpass_hz, order=order)
    return x


@torch.no_grad()
def random_variants(waves: torch.Tensor, sample_rate: int, config: AugmentConfig, rng: np.random.Generator
                    ) -> torch.Tensor:
    """One random augmentation chain per row of ``waves: (N, T)``; returns ``(N, T)``.

    Every random choice comes from ``rng`` (a NumPy generator), so the same seed gives the same
    variants. Rows that draw the same speed factor / filter are processed together (batched).
    Runs on ``waves``' device (the random numbers are drawn on the CPU, so a CUDA run makes the
    same choices as a CPU run).

    Args:
        waves: ``(N, T)`` float clips, all of the same length.
        sample_rate: samples per second (Hz).
        config: the probabilities and ranges of each step (see :class:`AugmentConfig`).
        rng: ``numpy.random.Generator`` that draws every choice; it is advanced.

    Returns:
        ``(N, T)``: row ``i`` is ``waves[i]`` through speed, filter, reverberation, gain, noise
        and time shift as drawn for it (``waves`` is not changed).

    Raises:
        TypeError: ``waves`` is not a floating-point tensor, or ``config`` not an ``AugmentConfig``.
        ValueError: ``waves`` is not ``(N, T)`` with ``T > 0``.
    """
    _check_wave(waves)
    if waves.ndim != 2:
        raise ValueError(f"waves must be (N, T), got shape {tuple(waves.shape)}")
    if not isinstance(config, AugmentConfig):
        raise TypeError(f"config must be an AugmentConfig, got {type(config).__name__}")
    n, t = waves.shape
    x = waves.clone()
    # Speed: group rows by factor.
    factors = np.where(rng.random(n) < config.p_speed, rng.choice(np.array(config.speeds), n), 1.0)
    for f in np.unique(factors):
        if f != 1.0:
            rows = np.flatnonzero(factors == f)
            x[rows] = speed(x[rows], sample_rate, float(f))
    # Filters: group rows by filter.
    which = rng.choice(len(FILTERS), n, p=np.asarray(config.filter_probs))
    for k in np.unique(which):
        if FILTERS[k] != "none":
            rows = np.flatnonzero(which == k)
            x[rows] = _apply_filter(x[rows], FILTERS[k], sample_rate, config)
    # Reverberation: one room per row, convolved as a batch.
    rev = np.flatnonzero(rng.random(n) < config.p_reverb)
    if rev.size:
        g = torch.Generator().manual_seed(int(rng.integers(2**62)))
        rt = rng.uniform(*config.rt60, size=rev.size)
        length = int(config.rt60[1] * sample_rate)
        irs = torch.stack([torch.nn.functional.pad(impulse_response(sample_rate, float(r), generator=g),
                                                   (0, length - int(r * sample_rate))) for r in rt])
        x[rev] = reverb(x[rev], sample_rate, ir=irs)
    # Gain and noise (vectorized), then the time shift.
    x = gain(x, torch.from_numpy(rng.uniform(*config.gain_db, size=n)).float().to(x.device))
    noisy = np.flatnonzero(rng.random(n) < config.p_noise)
    if noisy.size:
        g = torch.Generator().manual_seed(int(rng.integers(2**62)))
        snr = torch.from_numpy(rng.uniform(*config.snr_db, size=noisy.size)).float()
        x[noisy] = add_noise(x[noisy], snr, generator=g)
    max_shift = int(config.shift_s * sample_rate)
    if max_shift:  # one gather for the whole batch: out[i, j] = x[i, j - shift_i] (zero outside)
        shifts = torch.from_numpy(rng.integers(-max_shift, max_shift + 1, size=n)).to(x.device)
        src = torch.arange(t, device=x.device)[None] - shifts[:, None]
        valid = (src >= 0) & (src < t)
        x = x.gather(1, src.clamp(0, t - 1)) * valid
    return x


# --- Feature-level augmentations applied on the fly (they follow the input's device) -------------------

def mel_centers(params) -> torch.Tensor:
    """Centre frequency (Hz) of each mel band of ``params`` (a :class:`~.features.FeatureParams`): ``(n_mels,)``.

    The centroid of each triangular filter of ``torchaudio.functional.melscale_fbanks`` (the
    filters :class:`~.features.LogMel` uses), increasing with the band index.
    """
    import torchaudio.functional as AF

    fb = AF.melscale_fbanks(params.n_fft // 2 + 1, params.f_min, params.f_max or params.sample_rate / 2,
                            params.n_mels, params.sample_rate, norm="slaney", mel_scale="slaney")
    freqs = torch.linspace(0, params.sample_rate / 2, params.n_fft // 2 + 1)
    return (freqs[:, None] * fb).sum(0) / fb.sum(0).clamp_min(1e-12)


def warp_frequency(x: torch.Tensor, alpha: float | torch.Tensor, centers: torch.Tensor) -> torch.Tensor:
    """Vocal-tract-length perturbation on features: band ``b`` of the result holds what the input had at
    frequency ``centers[b] / alpha`` (linear interpolation between bands; the edges are repeated).

    ``alpha > 1`` moves every formant up by that factor (a shorter vocal tract), ``alpha < 1`` down.

    Args:
        x: features ``(N, 1, n_mels, frames)`` or ``(N, n_mels, frames)``.
        alpha: one factor or ``(N,)`` factors (each in [0.5, 2]).
        centers: ``(n_mels,)`` band centre frequencies in Hz (:func:`mel_centers`).

    Returns:
        The warped features, same shape, dtype and device as ``x``.

    Raises:
        ValueError: ``x`` is not a float 3-D or 4-D tensor, ``centers`` is not ``(n_mels,)``,
            ``alpha`` is neither one number nor ``(N,)``, or a factor is outside [0.5, 2].
    """
    if not torch.is_tensor(x) or x.ndim not in (3, 4) or not x.is_floating_point():
        raise ValueError(f"x must be float features (N, 1, n_mels, frames) or (N, n_mels, frames), got "
                         f"{getattr(x, 'shape', type(x).__name__)}")
    m = x.shape[-2]
    c = torch.as_tensor(centers, dtype=torch.float32, device=x.device)
    if c.shape != (m,):
        raise ValueError(f"centers must be ({m},) for {m} mel bands, got {tuple(c.shape)}")
    a = torch.as_tensor(alpha, dtype=torch.float32, device=x.device).reshape(-1)
    if a.numel() == 1:
        a = a.expand(x.shape[0])
    if a.shape != (x.shape[0],):
        raise ValueError(f"alpha must be a number or ({x.shape[0]},), got {tuple(a.shape)}")
    if ((a < 0.5) | (a > 2)).any():
        raise ValueError("alpha must be in [0.5, 2] (a frequency scale factor)")
    src = (c[None, :] / a[:, None]).clamp(c[0], c[-1])               # (N, M) source frequencies
    hi = torch.searchsorted(c, src.contiguous()).clamp(1, m - 1)
    lo = hi - 1
    w = ((src - c[lo]) / (c[hi] - c[lo])).clamp(0, 1).to(x.dtype)  # (N, M)
    shape = (x.shape[0],) + (1,) * (x.ndim - 3) + (m, 1)
    lo_i = lo.reshape(shape).expand(*x.shape[:-2], m, x.shape[-1])
    hi_i = hi.reshape(shape).expand_as(lo_i)
    w = w.reshape(shape)
    return x.gather(-2, lo_i) * (1 - w) + x.gather(-2, hi_i) * w


class FreqWarp(nn.Module):
    """Random vocal-tract-length perturbation (VTLP, Jaitly & Hinton, 2013) on features, training mode only.

    Each item gets ``alpha ~ U(1 - max_warp, 1 + max_warp)`` and goes through :func:`warp_frequency`.

    Args:
        centers: ``(n_mels,)`` band centres in Hz (:func:`mel_centers`), stored as a buffer.
        max_warp: in [0, 0.5).
    """

    def __init__(self, centers: torch.Tensor, max_warp: float = 0.1):
        super().__init__()
        if not 0 <= max_warp < 0.5:
            raise ValueError(f"max_warp must be in [0, 0.5), got {max_warp}")
        self.max_warp = float(max_warp)
        # not saved with the model: a training-time augmentation, rebuilt from the features' parameters
        self.register_buffer("centers", torch.as_tensor(centers, dtype=torch.float32).clone(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.max_warp == 0:
            return x
        alpha = 1 + (torch.rand(x.shape[0], device=x.device) * 2 - 1) * self.max_warp
        return warp_frequency(x, alpha, self.centers)

    def extra_repr(self) -> str:
        return f"max_warp={self.max_warp}"


def shift_frames(x: torch.Tensor, shift: int | torch.Tensor) -> torch.Tensor:
    """Shift features ``(..., frames)`` by ``shift`` frames (an int, or ``(N,)`` per item), filling the gap
    with each item's quietest value (what silence looks like in log-mel).

    Args:
        x: features ``(N, ..., frames)``, e.g. ``(N, 1, n_mels, frames)``.
        shift: frames to move by (positive = later): one int for every item, or an integer
            tensor ``(N,)``, one per item.

    Returns:
        ``x``'s shape; the frames shifted in from outside hold the item's minimum over all its
        values.

    Raises:
        ValueError: ``x`` is not a tensor of at least 2 dimensions, or ``shift`` is neither one
            number nor ``(N,)``.
    """
    if not torch.is_tensor(x) or x.ndim < 2:
        raise ValueError(f"x must be a tensor (N, ..., frames), got {getattr(x, 'shape', type(x).__name__)}")
    t = x.shape[-1]
    s = torch.as_tensor(shift, device=x.device).reshape(-1).long()
    if s.numel() == 1:
        s = s.expand(x.shape[0])
    if s.shape != (x.shape[0],):
        raise ValueError(f"shift must be an int or ({x.shape[0]},), got {tuple(s.shape)}")
    src = torch.arange(t, device=x.device)[None] - s[:, None]          # (N, T)
    valid = ((src >= 0) & (src < t)).reshape(x.shape[0], *([1] * (x.ndim - 2)), t)
    idx = src.clamp(0, t - 1).reshape(x.shape[0], *([1] * (x.ndim - 2)), t).expand_as(x)
    floor = x.flatten(1).amin(1).reshape(x.shape[0], *([1] * (x.ndim - 1)))
    return torch.where(valid, x.gather(-1, idx), floor)


class RandomFrameShift(nn.Module):
    """Shift each item's features by a random number of frames in ``[-max_frames, max_frames]`` (training only)."""

    def __init__(self, max_frames: int = 6):
        super().__init__()
        check_int(max_frames, "max_frames", min=0)
        self.max_frames = max_frames

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.max_frames == 0:
            return x
        s = torch.randint(-self.max_frames, self.max_frames + 1, (x.shape[0],), device=x.device)
        return shift_frames(x, s)

    def extra_repr(self) -> str:
        return f"max_frames={self.max_frames}"


def mixup(x: torch.Tensor, y: torch.Tensor, n_classes: int, alpha: float = 0.2, *,
          generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Mixup (Zhang et al., 2018): ``lam * x + (1 - lam) * x[perm]`` with ``lam ~ Beta(alpha, alpha)``.

    Each item is mixed with the item a random permutation pairs it with and keeps the larger
    share (``lam`` is replaced by ``max(lam, 1 - lam)``).

    Args:
        x: a batch ``(N, ...)``.
        y: ``(N,)`` class indices in ``[0, n_classes)``.
        n_classes: width of the soft targets.
        alpha: Beta parameter (> 0); small values keep most mixes close to one of the two items.
        generator: draws both the mix weights ``lam`` and the permutation, so a seeded generator
            gives the same mix every time; ``None`` draws them from torch's global generator.

    Returns:
        ``(mixed x (N, ...), soft targets (N, n_classes))`` on ``x``'s device; the targets' rows sum to 1
        (``torch.nn.CrossEntropyLoss`` accepts them).

    Raises:
        ValueError: ``x`` or ``y`` is not a tensor, ``y`` is not ``(N,)`` for ``N = len(x)``, or
            ``alpha <= 0``.
    """
    if not torch.is_tensor(x) or not torch.is_tensor(y) or y.ndim != 1 or y.shape[0] != x.shape[0]:
        raise ValueError("x must be (N, ...) and y (N,) class indices")
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha}")
    n = x.shape[0]
    # Beta(a, a) as G1 / (G1 + G2) with Gamma(a) draws from ``generator`` (torch's Beta sampler takes none):
    # a seed for numpy's Gamma sampler is drawn from the generator, so the generator decides lam too.
    seed = int(torch.randint(0, 2 ** 62, (1,), generator=generator))
    g = np.random.default_rng(seed).standard_gamma(float(alpha), size=(2, n))
    lam = torch.from_numpy(g[0] / np.maximum(g[0] + g[1], 1e-300)).to(torch.float32).to(x.device)
    lam = torch.maximum(lam, 1 - lam)                       # the item keeps the larger share
    perm = torch.randperm(n, generator=generator).to(x.device)
    shape = (n,) + (1,) * (x.ndim - 1)
    xm = lam.reshape(shape).to(x.dtype) * x + (1 - lam.reshape(shape)).to(x.dtype) * x[perm]
    oh = torch.nn.functional.one_hot(y.long(), n_classes).to(torch.float32)
    ym = lam[:, None] * oh + (1 - lam[:, None]) * oh[perm]
    return xm, ym
