"""Image restoration for the autoencoder lecture (lecture 5) and assignment 4: corruptions,
the classical baseline and the measure for denoising and super-resolution.

* :func:`gaussian_noise`, :func:`masking_noise`: the corruptions a denoising autoencoder learns to undo.
* :func:`downscale`, :func:`upscale_bicubic`: the low-resolution input of super-resolution and
  its bicubic baseline.
* :func:`psnr`: peak signal-to-noise ratio per image.

Images are float tensors in [0, 1] shaped ``(N, C, H, W)``. The autoencoders themselves are what
the lecture shows and the assignment asks for, so they are not here.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from ._core import check_choice, check_float, check_int

__all__ = ["psnr", "gaussian_noise", "masking_noise", "downscale", "upscale_bicubic"]


def _check_images(x: torch.Tensor, name: str = "x") -> None:
    """A ``TypeError``/``ValueError`` unless ``x`` is a float tensor ``(N, C, H, W)``."""
    if not torch.is_tensor(x):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(f"{name} must be (N, C, H, W), got shape {tuple(x.shape)}")
    if not torch.is_floating_point(x):
        raise TypeError(f"{name} must be a float tensor in [0, 1], got dtype {x.dtype}")


def psnr(x: torch.Tensor, reference: torch.Tensor, data_range: float = 1.0, *, reduction: str = "none") -> torch.Tensor:
    """Peak signal-to-noise ratio in dB, ``10 log10(data_range^2 / MSE)``, per image.

    Args:
        x: ``(N, C, H, W)`` images (e.g. reconstructions).
        reference: ``(N, C, H, W)`` the originals, same shape.
        data_range: the largest possible pixel value (1 for images in [0, 1], 255 for bytes).
        reduction: ``"none"`` -> ``(N,)``; ``"mean"`` -> mean of the per-image PSNR (a scalar).

    Returns:
        ``(N,)`` PSNR per image, or its mean; identical images give ``inf``.

    Raises:
        TypeError: not float tensors.
        ValueError: not ``(N, C, H, W)``, shapes differ, ``data_range <= 0`` or unknown ``reduction``.
    """
    _check_images(x, "x")
    _check_images(reference, "reference")
    if x.shape != reference.shape:
        raise ValueError(f"x is {tuple(x.shape)} but reference is {tuple(reference.shape)}")
    data_range = check_float(data_range, "data_range", min=0, min_open=True)
    check_choice(reduction, "reduction", ("none", "mean"))
    mse = ((x.detach().float() - reference.detach().float()) ** 2).flatten(1).mean(1)
    out = 10 * torch.log10(data_range**2 / mse)
    return out.mean() if reduction == "mean" else out


def gaussian_noise(x: torch.Tensor, std: float, *, generator: torch.Generator | None = None,
                   clip: bool = True) -> torch.Tensor:
    """``x + N(0, std^2)`` per pixel, clipped to [0, 1] by default.

    Args:
        x: ``(N, C, H, W)`` images in [0, 1] (any device; the noise is drawn on the CPU, so a
            seeded ``generator`` gives the same noise on every device).
        std: the noise's standard deviation (>= 0).
        generator: a CPU ``torch.Generator`` for repeatable noise; ``None`` uses the global one.
        clip: clip the result to [0, 1].

    Returns:
        ``(N, C, H, W)`` noisy images on ``x``'s device and dtype.

    Raises:
        TypeError: ``x`` is not a float tensor, ``std`` not a number.
        ValueError: ``x`` is not ``(N, C, H, W)`` or ``std < 0``.
    """
    _check_images(x)
    std = check_float(std, "std", min=0)
    noisy = x + std * torch.randn(x.shape, generator=generator, device="cpu").to(x.device, x.dtype)
    return noisy.clamp(0, 1) if clip else noisy


def masking_noise(x: torch.Tensor, p: float, *, generator: torch.Generator | None = None,
                  fill: float = 0.0) -> torch.Tensor:
    """Set each pixel to ``fill`` with probability ``p`` (the same pixels in every channel).

    This is the masking noise of denoising autoencoders.

    Args:
        x: ``(N, C, H, W)`` images.
        p: probability that a pixel is masked, in [0, 1].
        generator: a CPU ``torch.Generator`` for repeatable masks.
        fill: the value of masked pixels.

    Returns:
        ``(N, C, H, W)``, same device and dtype.

    Raises:
        TypeError: ``x`` is not a float tensor, ``p`` not a number.
        ValueError: ``x`` is not ``(N, C, H, W)`` or ``p`` outside [0, 1].
    """
    _check_images(x)
    p = check_float(p, "p", min=0, max=1)
    n, _, h, w = x.shape
    drop = (torch.rand((n, 1, h, w), generator=generator, device="cpu") < p).to(x.device)
    return torch.where(drop, torch.full_like(x, fill), x)


def downscale(x: torch.Tensor, factor: int = 2) -> torch.Tensor:
    """Low-resolution version by averaging ``factor x factor`` blocks.

    Args:
        x: ``(N, C, H, W)`` images; ``H`` and ``W`` multiples of ``factor``.
        factor: a positive int.

    Returns:
        ``(N, C, H / factor, W / factor)``.

    Raises:
        TypeError: ``x`` is not a float tensor, ``factor`` not an int.
        ValueError: ``x`` is not ``(N, C, H, W)``, ``factor < 1``, or the sides are not multiples of it.
    """
    _check_images(x)
    factor = check_int(factor, "factor", min=1)
    if x.shape[-1] % factor or x.shape[-2] % factor:
        raise ValueError(f"H and W ({tuple(x.shape[-2:])}) must be multiples of factor {factor}")
    return F.avg_pool2d(x, factor)


def upscale_bicubic(x: torch.Tensor, factor: int = 2) -> torch.Tensor:
    """Bicubic upsampling by ``factor`` (the classical baseline), clipped to [0, 1].

    ``x: (N, C, H, W)`` -> ``(N, C, H * factor, W * factor)``.

    Raises:
        TypeError: ``x`` is not a float tensor, ``factor`` not an int.
        ValueError: ``x`` is not ``(N, C, H, W)`` or ``factor < 1``.
    """
    _check_images(x)
    factor = check_int(factor, "factor", min=1)
    return F.interpolate(x, scale_factor=factor, mode="bicubic", align_corners=False).clamp(0, 1)
