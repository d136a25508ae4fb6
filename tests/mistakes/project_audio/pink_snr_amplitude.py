# cell: pink_noise
# loses: test_pink_noise_visible, test_pink_noise_snr
# why: SNR from amplitudes: scales the RMS ratio by 10**(snr/10) (the power formula), so the achieved SNR is twice the asked one
def add_pink_noise(wave: torch.Tensor, snr_db, generator: torch.Generator | None = None) -> torch.Tensor:
    t = wave.shape[-1]
    white = torch.randn(wave.shape, generator=generator, dtype=wave.dtype)
    f = torch.fft.rfftfreq(t)
    shaping = torch.zeros_like(f)
    shaping[1:] = f[1:].rsqrt()
    pink = torch.fft.irfft(torch.fft.rfft(white) * shaping, n=t)
    rms_signal = wave.pow(2).mean(dim=-1, keepdim=True).sqrt()
    rms_noise = pink.pow(2).mean(dim=-1, keepdim=True).sqrt()
    snr = torch.as_tensor(snr_db, dtype=wave.dtype)
    if wave.ndim == 2:
        snr = snr.reshape(-1, 1)
    return wave + pink * rms_signal / (rms_noise * 10 ** (snr / 10))
