# cell: pink_noise
# loses: test_pink_noise_snr
# why: measures the signal and noise power over the whole batch instead of per clip, so quiet clips get too much noise
def add_pink_noise(wave: torch.Tensor, snr_db, generator: torch.Generator | None = None) -> torch.Tensor:
    t = wave.shape[-1]
    white = torch.randn(wave.shape, generator=generator, dtype=wave.dtype)
    f = torch.fft.rfftfreq(t)
    shaping = torch.zeros_like(f)
    shaping[1:] = f[1:].rsqrt()
    pink = torch.fft.irfft(torch.fft.rfft(white) * shaping, n=t)
    snr = torch.as_tensor(snr_db, dtype=wave.dtype)
    if wave.ndim == 2:
        snr = snr.reshape(-1, 1)
    return wave + pink * torch.sqrt(wave.pow(2).mean() / (pink.pow(2).mean() * 10 ** (snr / 10)))
