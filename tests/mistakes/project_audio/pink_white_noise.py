# cell: pink_noise
# loses: test_pink_noise_spectrum, test_pink_noise_snr, test_pink_noise_defaults
# why: forgets the 1/f shaping: adds white noise (flat spectrum) at the right SNR
def add_pink_noise(wave: torch.Tensor, snr_db, generator: torch.Generator | None = None) -> torch.Tensor:
    noise = torch.randn(wave.shape, generator=generator, dtype=wave.dtype)
    p_signal = wave.pow(2).mean(dim=-1, keepdim=True)
    p_noise = noise.pow(2).mean(dim=-1, keepdim=True)
    snr = torch.as_tensor(snr_db, dtype=wave.dtype)
    if wave.ndim == 2:
        snr = snr.reshape(-1, 1)
    return wave + noise * torch.sqrt(p_signal / (p_noise * 10 ** (snr / 10)))
