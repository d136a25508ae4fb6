# cell: band_filter
# loses: test_band_filter_gains
# why: wrong cutoff: bin frequencies computed against the Nyquist frequency (d = 2 / sample_rate), so every cutoff acts at twice its value
def band_filter(wave: torch.Tensor, sample_rate: int, low_hz: float, high_hz: float) -> torch.Tensor:
    if not 0 <= low_hz < high_hz <= sample_rate / 2:
        raise ValueError(f"need 0 <= low_hz < high_hz <= sample_rate / 2, got {low_hz}, {high_hz}")
    t = wave.shape[-1]
    spec = torch.fft.rfft(wave)
    freqs = torch.fft.rfftfreq(t, d=2 / sample_rate)
    keep = (freqs >= low_hz) & (freqs <= high_hz)
    return torch.fft.irfft(spec * keep, n=t)
