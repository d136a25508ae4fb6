"""Compression for the autoencoder lecture (lecture 5): what a PNG or JPEG file of an image costs,
and uniform quantization of latent codes, so an autoencoder's code can be priced in bits.

* :func:`codec_sizes`: bytes per image with PNG/JPEG (Pillow) and the decoded images (for PSNR,
  :func:`dlcourse.restoration.psnr`).
* :func:`quantize_uniform`: ``2**bits`` evenly spaced levels per latent dimension.

Images are float tensors in [0, 1] shaped ``(N, C, H, W)``; codes ``(N, L)``.
"""
from __future__ import annotations

import io

import numpy as np
import torch

from ._core import check_choice, check_int, to_numpy
from .restoration import _check_images

__all__ = ["codec_sizes", "quantize_uniform"]


def _to_pil(img: np.ndarray):
    """``(C, H, W)`` floats in [0, 1] as an 8-bit Pillow image (``L`` for one channel, ``RGB`` for three)."""
    from PIL import Image

    arr = np.round(np.clip(img, 0, 1) * 255).astype(np.uint8)
    return Image.fromarray(arr[0] if arr.shape[0] == 1 else arr.transpose(1, 2, 0))


def codec_sizes(images: torch.Tensor, fmt: str = "png", *, quality: int = 75) -> tuple[np.ndarray, torch.Tensor]:
    """Encode each image as a PNG or JPEG file in memory (8 bits per channel, Pillow).

    Args:
        images: ``(N, C, H, W)`` in [0, 1] with ``C`` in {1, 3}.
        fmt: ``"png"`` (lossless, ``optimize=True``) or ``"jpeg"`` (lossy).
        quality: JPEG quality 1-95 (ignored for PNG).

    Returns:
        ``(sizes, decoded)``: file size in bytes per image ``(N,)`` (headers included) and the
        decoded images ``(N, C, H, W)`` in [0, 1] (for PSNR).

    Raises:
        TypeError: ``images`` is not a float tensor, ``quality`` not an int.
        ValueError: not ``(N, C, H, W)`` with 1 or 3 channels, unknown ``fmt``, ``quality``
            outside [1, 95].
    """
    from PIL import Image

    _check_images(images, "images")
    if images.shape[1] not in (1, 3):
        raise ValueError(f"images must have 1 or 3 channels, got {images.shape[1]}")
    if not isinstance(fmt, str):
        raise TypeError(f"fmt must be 'png' or 'jpeg', got {type(fmt).__name__}")
    fmt = check_choice(fmt.lower(), "fmt", ("png", "jpeg", "jpg"))
    if fmt != "png":
        quality = check_int(quality, "quality (JPEG)", min=1, max=95)
    arr = to_numpy(images.float())
    sizes = np.empty(len(arr), dtype=np.int64)
    decoded = np.empty_like(arr)
    for i, img in enumerate(arr):
        buf = io.BytesIO()
        if fmt == "png":
            _to_pil(img).save(buf, format="PNG", optimize=True)
        else:
            _to_pil(img).save(buf, format="JPEG", quality=quality)
        sizes[i] = buf.tell()
        buf.seek(0)
        back = np.asarray(Image.open(buf), dtype=np.float32) / 255.0
        decoded[i] = back[None] if back.ndim == 2 else back.transpose(2, 0, 1)
    return sizes, torch.from_numpy(decoded)


def quantize_uniform(z: torch.Tensor, bits: int, lo: torch.Tensor | float, hi: torch.Tensor | float) -> torch.Tensor:
    """Quantize ``z`` to ``2**bits`` evenly spaced levels in ``[lo, hi]`` and return the levels' values.

    ``lo``/``hi`` broadcast against ``z: (N, L)`` (per-dimension ranges measured on training
    codes, e.g. ``z_train.amin(0)``); values outside are clipped. A code of ``L`` numbers then
    costs ``L * bits`` bits.

    Args:
        z: ``(N, L)`` latent codes (any shape that ``lo``/``hi`` broadcast against).
        bits: bits per number, 1 to 16.
        lo: lowest level, a number or a tensor broadcasting against ``z`` (e.g. ``(L,)``).
        hi: highest level, greater than ``lo`` everywhere: a number or a tensor broadcasting
            against ``z`` (e.g. ``(L,)``).

    Returns:
        The quantized codes, ``z``'s shape, dtype and device.

    Raises:
        TypeError: ``z`` is not a tensor, ``bits`` not an int.
        ValueError: ``bits`` outside [1, 16], or ``hi <= lo`` somewhere.
    """
    if not torch.is_tensor(z):
        raise TypeError(f"z must be a torch.Tensor, got {type(z).__name__}")
    bits = check_int(bits, "bits", min=1, max=16)
    lo_t = torch.as_tensor(lo, dtype=z.dtype, device=z.device)
    hi_t = torch.as_tensor(hi, dtype=z.dtype, device=z.device)
    if bool((hi_t <= lo_t).any()):
        raise ValueError("hi must be greater than lo everywhere")
    levels = 2**bits - 1
    step = (hi_t - lo_t) / levels
    q = torch.round((z.clamp(min=lo_t, max=hi_t) - lo_t) / step)
    return lo_t + q * step
