"""dlcourse.audio.augment: numerical properties (achieved SNR, filter gains), shapes, reproducibility."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dlcourse.audio import augment as A

SR = 8000


def _tone(freq: float, seconds: float = 1.0, sr: int = SR) -> torch.Tensor:
    return torch.sin(2 * math.pi * freq * torch.arange(int(sr * seconds)) / sr) * 0.5


def _gain_db(filtered: torch.Tensor, original: torch.Tensor, skip: int = 2000) -> float:
    """Steady-state gain in dB (the first ``skip`` samples hold the filter's transient)."""
    return float(10 * torch.log10(filtered[..., skip:].pow(2).mean() / original[..., skip:].pow(2).mean()))


@pytest.mark.parametrize("snr", [0.0, 10.0, 20.0, 35.0])
def test_add_noise_achieves_the_snr_in_power(snr):
    g = torch.Generator().manual_seed(0)
    clean = _tone(440)
    noisy = A.add_noise(clean, snr, generator=g)
    assert noisy.shape == clean.shape
    achieved = float(A.snr_db(clean, noisy))
    assert abs(achieved - snr) < 0.01, f"asked {snr} dB, got {achieved:.3f} dB"
    noise_rms = float((noisy - clean).pow(2).mean().sqrt())
    clean_rms = float(clean.pow(2).mean().sqrt())
    # power, not amplitude: at 20 dB the noise RMS is 1/10 (not 1/100) of the signal's
    assert noise_rms / clean_rms == pytest.approx(10 ** (-snr / 20), rel=1e-3)


def test_add_noise_batched_one_snr_per_clip_and_given_noise():
    clean = torch.stack([_tone(300), 0.1 * _tone(900), 0.01 * _tone(1500)])
    snr = torch.tensor([5.0, 15.0, 30.0])
    noisy = A.add_noise(clean, snr, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(A.snr_db(clean, noisy), snr, atol=0.01, rtol=0)
    brown = torch.cumsum(torch.randn(SR, generator=torch.Generator().manual_seed(2)), 0)
    noisy = A.add_noise(clean, 12.0, noise=brown)
    torch.testing.assert_close(A.snr_db(clean, noisy), torch.full((3,), 12.0), atol=0.01, rtol=0)
    with pytest.raises(ValueError, match="samples"):
        A.add_noise(clean, 10.0, noise=torch.randn(100))


@pytest.mark.parametrize("cutoff", [500.0, 1000.0, 2000.0])
def test_lowpass_gain_at_chosen_frequencies(cutoff):
    # 4th-order Butterworth: -3 dB at the cutoff, ~0 dB an octave below, ~-24 dB an octave above
    assert _gain_db(A.lowpass(_tone(cutoff), SR, cutoff), _tone(cutoff)) == pytest.approx(-3.0, abs=0.3)
    assert _gain_db(A.lowpass(_tone(cutoff / 4), SR, cutoff), _tone(cutoff / 4)) == pytest.approx(0.0, abs=0.2)
    above = _gain_db(A.lowpass(_tone(cutoff * 1.9), SR, cutoff), _tone(cutoff * 1.9))
    assert above < -20, f"an octave above the cutoff the gain is {above:.1f} dB"


def test_highpass_and_telephone_band_gains():
    assert _gain_db(A.highpass(_tone(1000), SR, 1000.0), _tone(1000)) == pytest.approx(-3.0, abs=0.3)
    assert _gain_db(A.highpass(_tone(3000), SR, 1000.0), _tone(3000)) == pytest.approx(0.0, abs=0.2)
    assert _gain_db(A.highpass(_tone(250), SR, 1000.0), _tone(250)) < -40
    for f, lo, hi in [(1000, -0.5, 0.3), (100, -99, -30), (3800, -99, -8), (300, -4, -2)]:
        g = _gain_db(A.telephone(_tone(f), SR), _tone(f))
        assert lo <= g <= hi, f"telephone band: {g:.1f} dB at {f} Hz, expected [{lo}, {hi}]"
    with pytest.raises(ValueError, match="Nyquist"):
        A.lowpass(_tone(100), SR, 4000.0)
    with pytest.raises(ValueError, match="low < high"):
        A.bandpass(_tone(100), SR, 2000.0, 1000.0)
    with pytest.raises(ValueError, match="even"):
        A.lowpass(_tone(100), SR, 1000.0, order=3)


def test_filters_work_on_batches():
    batch = torch.stack([_tone(200), _tone(3000)])
    out = A.lowpass(batch, SR, 1000.0)
    assert out.shape == batch.shape
    torch.testing.assert_close(out[1], A.lowpass(batch[1], SR, 1000.0))


def test_time_shift_and_gain():
    w = torch.arange(1.0, 6.0)
    torch.testing.assert_close(A.time_shift(w, 2), torch.tensor([0, 0, 1, 2, 3.0]))
    torch.testing.assert_close(A.time_shift(w, -2), torch.tensor([3, 4, 5, 0, 0.0]))
    torch.testing.assert_close(A.time_shift(w, 2, mode="roll"), torch.tensor([4, 5, 1, 2, 3.0]))
    assert float(A.time_shift(w, 9).abs().sum()) == 0
    torch.testing.assert_close(A.gain(w, 20.0), w * 10)
    b = torch.ones(2, 3)
    torch.testing.assert_close(A.gain(b, torch.tensor([0.0, -20.0])), torch.tensor([[1.0] * 3, [0.1] * 3]))
    with pytest.raises(TypeError, match="shift"):
        A.time_shift(w, 1.5)


def test_speed_changes_pitch_and_tempo_keeps_it():
    w = _tone(500)
    fast = A.speed(w, SR, 1.25, keep_length=False)
    assert abs(fast.shape[-1] - SR / 1.25) <= 2
    spec = torch.fft.rfft(fast).abs()
    assert abs(float(spec.argmax()) * SR / fast.shape[-1] - 625) < 10  # pitch x 1.25
    slow = A.tempo(w, 0.8, keep_length=False)
    assert abs(slow.shape[-1] - SR / 0.8) <= 2
    spec = torch.fft.rfft(slow[1000:-1000]).abs()
    assert abs(float(spec.argmax()) * SR / (slow.shape[-1] - 2000) - 500) < 10  # pitch kept
    assert A.speed(torch.stack([w, w]), SR, 0.9).shape == (2, SR)
    assert A.tempo(torch.stack([w, w]), 1.1).shape == (2, SR)
    with pytest.raises(ValueError, match="factor"):
        A.speed(w, SR, 3.0)


def test_reverb_keeps_power_and_spreads_an_impulse():
    click = torch.zeros(SR)
    click[100] = 1.0
    wet = A.reverb(click, SR, rt60=0.3, generator=torch.Generator().manual_seed(0))
    assert wet.shape == click.shape
    torch.testing.assert_close(wet.pow(2).mean(), click.pow(2).mean(), rtol=1e-4, atol=0)
    tail = wet[100 + int(0.05 * SR):100 + int(0.3 * SR)]
    assert float(tail.abs().max()) > 1e-3  # energy after the direct sound
    assert float(wet[:100].abs().max()) < 1e-6  # causal
    ir = A.impulse_response(SR, 0.2, generator=torch.Generator().manual_seed(0))
    assert ir.shape == (int(0.2 * SR),) and float(ir.norm()) == pytest.approx(1.0)
    # 60 dB of decay over rt60: the last 10 % is far weaker than the first 10 %
    n = ir.shape[0] // 10
    assert float(ir[1:n].pow(2).mean() / ir[-n:].pow(2).mean()) > 1e3


def test_spec_augment_masks_only_in_training():
    torch.manual_seed(0)
    sa = A.SpecAugment(freq_masks=1, freq_width=8, time_masks=1, time_width=20)
    x = torch.ones(16, 1, 40, 101)
    sa.train()
    y = sa(x)
    assert y.shape == x.shape
    masked = (y == 0)
    assert masked.any() and not masked.all()
    # a frequency mask covers whole rows, a time mask whole columns
    rows = masked.all(dim=3).sum(dim=(1, 2))
    cols = masked.all(dim=2).sum(dim=(1, 2))
    assert (rows <= 8).all() and (cols <= 20).all() and (rows + cols > 0).any()
    assert not torch.equal(y[0], y[1]) or not torch.equal(y[2], y[3])  # per-item masks
    sa.eval()
    assert sa(x) is x
    sa.train()
    assert sa(torch.ones(4, 40, 101)).shape == (4, 40, 101)
    with pytest.raises(ValueError, match="features"):
        sa(torch.ones(40, 101))


def test_random_variants_reproducible_and_varied():
    cfg = A.AugmentConfig()
    x = torch.stack([_tone(f) for f in (200, 400, 800, 1600)] * 4)
    a = A.random_variants(x, SR, cfg, np.random.default_rng(5))
    b = A.random_variants(x, SR, cfg, np.random.default_rng(5))
    c = A.random_variants(x, SR, cfg, np.random.default_rng(6))
    assert a.shape == x.shape and torch.isfinite(a).all()
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c)
    assert not torch.allclose(a, x)
    quiet = A.AugmentConfig(shift_s=0, gain_db=(0, 0), p_noise=0, p_speed=0, filter_probs=(1, 0, 0, 0),
                            p_reverb=0)
    torch.testing.assert_close(A.random_variants(x, SR, quiet, np.random.default_rng(0)), x)
    with pytest.raises(ValueError, match="filter_probs"):
        A.AugmentConfig(filter_probs=(0.5, 0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="probability"):
        A.AugmentConfig(p_noise=1.5)
    with pytest.raises(ValueError, match=r"\(N, T\)"):
        A.random_variants(x[0], SR, cfg, np.random.default_rng(0))
