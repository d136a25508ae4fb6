"""Unit tests of dlcourse.compression: PNG/JPEG sizes and uniform quantization of codes."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from dlcourse import compression, restoration


# ------------------------------------------------------------------------------ compression
def test_png_is_lossless_and_jpeg_quality_trades_size_for_psnr():
    from dlcourse import data

    x = data.load_digits(size=32).tensors[0][:16]
    x8 = torch.round(x * 255) / 255
    png_sizes, png_dec = compression.codec_sizes(x8, "png")
    assert png_sizes.shape == (16,) and png_sizes.dtype == np.int64 and (png_sizes > 0).all()
    torch.testing.assert_close(png_dec, x8)
    lo_sizes, lo_dec = compression.codec_sizes(x8, "jpeg", quality=10)
    hi_sizes, hi_dec = compression.codec_sizes(x8, "jpeg", quality=90)
    assert lo_sizes.mean() < hi_sizes.mean()
    assert restoration.psnr(lo_dec, x8, reduction="mean") < restoration.psnr(hi_dec, x8, reduction="mean")
    rgb_sizes, rgb_dec = compression.codec_sizes(torch.rand(2, 3, 16, 16), "jpeg")
    assert rgb_dec.shape == (2, 3, 16, 16)
    with pytest.raises(ValueError, match="fmt"):
        compression.codec_sizes(x8, "gif")
    with pytest.raises(ValueError, match="quality"):
        compression.codec_sizes(x8, "jpeg", quality=0)
    with pytest.raises(ValueError, match="channels"):
        compression.codec_sizes(torch.rand(1, 2, 8, 8))


def test_quantize_uniform_levels_and_error():
    z = torch.linspace(-1, 1, 1001).view(-1, 1)
    q = compression.quantize_uniform(z, 2, -1.0, 1.0)
    assert sorted(set(q.flatten().tolist())) == pytest.approx([-1.0, -1 / 3, 1 / 3, 1.0])
    q8 = compression.quantize_uniform(z, 8, -1.0, 1.0)
    assert float((q8 - z).abs().max()) <= 1 / 255 + 1e-6
    clipped = compression.quantize_uniform(torch.tensor([[5.0, -5.0]]), 4, torch.tensor([0.0, -1.0]), torch.tensor([1.0, 1.0]))
    torch.testing.assert_close(clipped, torch.tensor([[1.0, -1.0]]))
    with pytest.raises(ValueError, match="bits"):
        compression.quantize_uniform(z, 0, -1.0, 1.0)
    with pytest.raises(ValueError, match="hi"):
        compression.quantize_uniform(z, 4, 1.0, 1.0)
