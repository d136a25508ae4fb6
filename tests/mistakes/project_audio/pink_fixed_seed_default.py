# cell: pink_noise
# loses: test_pink_noise_defaults
# why: without a generator it seeds its own with 0, so every call adds the same noise
def add_pink_noise(wave: torch.Tensor, snr_db, generator: torch.Generator | None = None) -> torch.Tensor:
    if not torch.is_tensor(wave) or not wave.is_floating_point() or wave.ndim not in (1, 2):
        raise TypeError("wave must be a float tensor (T,) or (N, T)")
    t = wave.shape[-1]
    if generator is None:
        generator = torch.Generator().manual_seed(0)   # 'reproducible by default'
    white = torch.randn(wave.shape, generator=generator, dtype=wave.dtype)
    spec = torch.fft.rfft(white)
    f = torch.fft.rfftfreq(t)                        # any unit: only the shape 1/f matters
    shaping = torch.zeros_like(f)
    shaping[1:] = f[1:].rsqrt()
    pink = torch.fft.irfft(spec * shaping, n=t)
    p_signal = wave.pow(2).mean(dim=-1, keepdim=True)
    p_noise = pink.pow(2).mean(dim=-1, keepdim=True)
    snr = torch.as_tensor(snr_db, dtype=wave.dtype).reshape(-1, 1) if wave.ndim == 2 else torch.as_tensor(snr_db, dtype=wave.dtype)
    scale = torch.sqrt(p_signal / (p_noise * 10 ** (snr / 10)))
    return wave + pink * scale
