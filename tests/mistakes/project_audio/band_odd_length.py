# cell: band_filter
# loses: test_band_filter_shapes
# why: calls irfft without n=T, so clips with an odd number of samples come back one sample shorter
def band_filter(wave: torch.Tensor, sample_rate: int, low_hz: float, high_hz: float) -> torch.Tensor:
    if not 0 <= low_hz < high_hz <= sample_rate / 2:
        raise ValueError(f"need 0 <= low_hz < high_hz <= sample_rate / 2, got {low_hz}, {high_hz}")
    spec = torch.fft.rfft(wave)
    freqs = torch.fft.rfftfreq(wave.shape[-1], d=1 / sample_rate)
    keep = (freqs >= low_hz) & (freqs <= high_hz)
    return torch.fft.irfft(spec * keep)
