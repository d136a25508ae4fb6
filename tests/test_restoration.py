"""Unit tests of dlcourse.restoration: PSNR, Gaussian and masking noise, downscaling and the bicubic baseline."""
from __future__ import annotations

import math

import pytest
import torch

from dlcourse import restoration


# ------------------------------------------------------------------------------ image metrics
def test_psnr_matches_closed_form():
    ref = torch.zeros(2, 1, 4, 4)
    x = ref.clone()
    x[0] += 0.1                      # MSE 0.01 -> 20 dB
    x[1, 0, 0, 0] = 1.0              # MSE 1/16 -> 10 log10(16) dB
    out = restoration.psnr(x, ref)
    torch.testing.assert_close(out, torch.tensor([20.0, 10 * math.log10(16)]))
    torch.testing.assert_close(restoration.psnr(x, ref, reduction="mean"), out.mean())
    assert math.isinf(float(restoration.psnr(ref, ref)[0]))
    torch.testing.assert_close(restoration.psnr(x * 255, ref, data_range=255.0), out)
    with pytest.raises(ValueError, match="reference"):
        restoration.psnr(x, ref[:, :, :2])
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        restoration.psnr(x[0], ref[0])


def test_gaussian_noise_statistics_and_seed():
    x = torch.full((4, 1, 64, 64), 0.5)
    g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    a, b = restoration.gaussian_noise(x, 0.1, generator=g1), restoration.gaussian_noise(x, 0.1, generator=g2)
    assert torch.equal(a, b)
    assert abs(float((a - x).std()) - 0.1) < 0.005 and abs(float((a - x).mean())) < 0.005
    assert restoration.gaussian_noise(x, 2.0).min() >= 0 and restoration.gaussian_noise(x, 2.0).max() <= 1
    assert restoration.gaussian_noise(x, 2.0, clip=False).max() > 1
    with pytest.raises(ValueError):
        restoration.gaussian_noise(x, -1.0)


def test_masking_noise_drops_the_requested_fraction_in_every_channel():
    x = torch.rand(8, 3, 32, 32) + 1.0
    out = restoration.masking_noise(x, 0.3, generator=torch.Generator().manual_seed(0))
    dropped = out == 0
    assert abs(float(dropped.float().mean()) - 0.3) < 0.02
    assert torch.equal(dropped[:, 0], dropped[:, 1]) and torch.equal(dropped[:, 0], dropped[:, 2])
    torch.testing.assert_close(out[~dropped], x[~dropped])
    assert torch.equal(restoration.masking_noise(x, 0.0), x)
    with pytest.raises(ValueError):
        restoration.masking_noise(x, 1.5)
    with pytest.raises(TypeError):
        restoration.masking_noise(x.long(), 0.1)


def test_downscale_and_bicubic_upscale():
    x = torch.rand(2, 1, 8, 8)
    low = restoration.downscale(x, 2)
    assert low.shape == (2, 1, 4, 4)
    torch.testing.assert_close(low[0, 0, 0, 0], x[0, 0, :2, :2].mean())
    up = restoration.upscale_bicubic(low, 2)
    assert up.shape == x.shape and up.min() >= 0 and up.max() <= 1
    flat = torch.full((1, 1, 4, 4), 0.25)
    torch.testing.assert_close(restoration.upscale_bicubic(flat, 2), torch.full((1, 1, 8, 8), 0.25))
    with pytest.raises(ValueError, match="multiples"):
        restoration.downscale(torch.rand(1, 1, 5, 5), 2)



def test_image_grid_vrange_pins_one_scale_for_every_image():
    """Lecture 5 shows half-contrast and blank inputs: with vrange=(0, 1) they must look dark, not stretched."""
    import matplotlib.pyplot as plt

    from dlcourse import plotting

    imgs = torch.stack([torch.full((1, 4, 4), 0.5), torch.zeros(1, 4, 4), torch.rand(1, 4, 4)])
    imgs[0, 0, 0, 0] = 0.2                                   # not constant: autoscale would stretch it to 0..1
    fig = plotting.plot_image_grid(imgs, normalize=False, vrange=(0, 1))
    clims = [ax.images[0].get_clim() for ax in fig.axes if ax.images]
    assert clims == [(0, 1)] * 3
    auto = plotting.plot_image_grid(imgs, normalize=False)
    assert [ax.images[0].get_clim() for ax in auto.axes if ax.images][0] == pytest.approx((0.2, 0.5))
    for bad in ((1, 0), (0, 0), (0,)):
        with pytest.raises(ValueError, match="vrange"):
            plotting.plot_image_grid(imgs, normalize=False, vrange=bad)
    plt.close(fig)
    plt.close(auto)
