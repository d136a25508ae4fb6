"""dlcourse.audio.io and .features: soundfile round trips, mono/resample/pad, log-mel shapes, plots."""
from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest
import soundfile as sf
import torch

matplotlib.use("Agg")

from dlcourse.audio import features as F  # noqa: E402
from dlcourse.audio import io as aio  # noqa: E402


def _tone(freq: float, sr: int, seconds: float = 0.25, channels: int = 1, amp: float = 0.5) -> torch.Tensor:
    t = torch.arange(int(sr * seconds)) / sr
    chans = [amp * torch.sin(2 * math.pi * freq * (c + 1) * t) for c in range(channels)]
    return torch.stack(chans)


@pytest.mark.parametrize("sr", [8000, 16000, 22050, 44100])
@pytest.mark.parametrize("channels", [1, 2, 3])
@pytest.mark.parametrize("ext,subtype,tol", [(".wav", "PCM_16", 1 / 32767), (".flac", "PCM_16", 1 / 32767),
                                             (".wav", "FLOAT", 0.0), (".wav", "PCM_24", 1 / 2**23)])
def test_round_trip(tmp_path, sr, channels, ext, subtype, tol):
    wave = _tone(440, sr, channels=channels)
    path = aio.write_audio(tmp_path / f"x{ext}", wave, sr, subtype=subtype)
    info = sf.info(str(path))
    assert (info.samplerate, info.channels, info.frames) == (sr, channels, wave.shape[1])
    back, got_sr = aio.read_audio(path)
    assert got_sr == sr
    assert back.dtype == torch.float32 and back.shape == wave.shape
    torch.testing.assert_close(back, wave, atol=tol + 1e-7, rtol=0)


def test_read_mono_1d_and_write_1d(tmp_path):
    aio.write_audio(tmp_path / "m.wav", torch.zeros(100), 8000)
    w, sr = aio.read_audio(tmp_path / "m.wav")
    assert w.shape == (1, 100) and sr == 8000


def test_read_errors_name_the_file(tmp_path):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunk")
    with pytest.raises(aio.AudioReadError, match="broken.wav"):
        aio.read_audio(bad)
    with pytest.raises(aio.AudioReadError, match="missing.wav"):
        aio.read_audio(tmp_path / "missing.wav")
    empty = tmp_path / "empty.wav"
    sf.write(str(empty), np.zeros((0, 1), np.float32), 8000)
    with pytest.raises(aio.AudioReadError, match="no samples"):
        aio.read_audio(empty)
    with pytest.raises(ValueError, match="writes .wav, .flac"):
        aio.write_audio(tmp_path / "x.mp3", torch.zeros(10), 8000)
    with pytest.raises(ValueError, match="sample_rate"):
        aio.write_audio(tmp_path / "x.wav", torch.zeros(10), 0)


def test_to_mono_averages_channels():
    w = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    torch.testing.assert_close(aio.to_mono(w), torch.tensor([2.0, 3.0]))
    assert aio.to_mono(torch.ones(5)).shape == (5,)
    with pytest.raises(ValueError, match=r"\(C, T\)"):
        aio.to_mono(torch.ones(1, 2, 3))


def test_resample_keeps_frequency_and_duration():
    sr, new = 16000, 8000
    wave = _tone(500, sr, seconds=1.0)[0]
    out = aio.resample(wave, sr, new)
    assert out.shape == (new,)
    spec = torch.fft.rfft(out).abs()
    assert int(spec.argmax()) == 500  # 1 s at 8 kHz: bin k is k Hz
    assert aio.resample(wave, sr, sr) is wave


def test_pad_or_trim():
    w = torch.arange(1, 11, dtype=torch.float32)
    assert aio.pad_or_trim(w, 10) is w
    p = aio.pad_or_trim(w, 14)
    torch.testing.assert_close(p, torch.cat([torch.zeros(2), w, torch.zeros(2)]))
    torch.testing.assert_close(aio.pad_or_trim(w, 12, mode="left"), torch.cat([w, torch.zeros(2)]))
    torch.testing.assert_close(aio.pad_or_trim(w, 4, mode="left"), w[:4])
    burst = torch.zeros(100)
    burst[70:80] = 1.0
    t = aio.pad_or_trim(burst, 20)  # keeps the loudest window
    assert t.shape == (20,) and float(t.sum()) == 10.0
    with pytest.raises(ValueError, match="length"):
        aio.pad_or_trim(w, 0)
    with pytest.raises(ValueError, match="mode"):
        aio.pad_or_trim(w, 5, mode="right")
    with pytest.raises(TypeError, match="length"):
        aio.pad_or_trim(w, 5.0)
    with pytest.raises(TypeError, match="numpy"):
        aio.pad_or_trim([1.0, 2.0], 5)


def test_pad_or_trim_middle_batches_and_numpy():
    """One helper for tensors and arrays: the middle crop keeps the centre, batches keep their rows."""
    burst = torch.zeros(2, 100)
    burst[:, 70:80] = 1.0
    mid = aio.pad_or_trim(burst, 20, mode="middle")
    torch.testing.assert_close(mid, burst[:, 40:60])          # the middle, not the loud part
    loud = aio.pad_or_trim(burst, 20)
    assert loud.shape == (2, 20) and float(loud.sum()) == 20.0
    a = np.arange(1, 6, dtype=np.float32)
    out = aio.pad_or_trim(a, 9)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32
    np.testing.assert_array_equal(out, [0, 0, 1, 2, 3, 4, 5, 0, 0])
    np.testing.assert_array_equal(aio.pad_or_trim(np.arange(10.0), 4, mode="middle"), [3, 4, 5, 6])
    np.testing.assert_array_equal(aio.pad_or_trim(np.arange(10.0), 4, mode="left"), [0, 1, 2, 3])
    np.testing.assert_array_equal(aio.pad_or_trim(np.zeros((2, 3)), 5).shape, (2, 5))


def test_load_clip_stereo_44k_to_mono_8k(tmp_path):
    wave = _tone(300, 44100, seconds=0.5, channels=2)
    aio.write_audio(tmp_path / "s.flac", wave, 44100)
    clip = aio.load_clip(tmp_path / "s.flac", 8000, 8000)
    assert clip.shape == (8000,) and clip.dtype == torch.float32
    assert float(clip[:2000].abs().max()) == 0.0  # 0.5 s of sound centred in 1 s


def test_feature_params_validation_and_shape():
    p = F.FeatureParams()
    assert p.clip_samples == 8000 and p.shape == (40, 63)
    with pytest.raises(ValueError, match="n_mels"):
        F.FeatureParams(n_mels=0)
    with pytest.raises(ValueError, match="f_max"):
        F.FeatureParams(sample_rate=8000, f_max=5000.0)
    with pytest.raises(ValueError, match="hop_length"):
        F.FeatureParams(n_fft=64, hop_length=128)


def test_log_mel_batched_equals_single_and_shape():
    p = F.FeatureParams(sample_rate=16000, n_fft=512, hop_length=160, n_mels=64)
    waves = torch.randn(3, p.clip_samples) * 0.1
    batch = F.log_mel(waves, p)
    assert batch.shape == (3, *p.shape) == (3, 64, 101)
    torch.testing.assert_close(batch[1], F.log_mel(waves[1], p), atol=1e-4, rtol=1e-4)
    assert torch.isfinite(F.log_mel(torch.zeros(p.clip_samples), p)).all()  # digital silence: log floor


def test_log_mel_puts_a_tone_in_the_right_band():
    p = F.FeatureParams()
    low = F.log_mel(_tone(300, 8000, 1.0)[0], p).mean(1)
    high = F.log_mel(_tone(3000, 8000, 1.0)[0], p).mean(1)
    assert int(low.argmax()) < int(high.argmax())
    with pytest.raises(TypeError):
        F.log_mel(torch.zeros(8000, dtype=torch.int16), p)


