"""Plots of sound: waveform, spectrogram, log-mel, and the diagrams of the audio pipeline and cache.

The numbers come from ``dlcourse.audio`` (``features.stft_db``, ``features.log_mel``,
``diagrams.pipeline_stages``, ``cache.shape``); here they are only drawn.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

from .._core import check_int
from ..lang import tr
from .core import as_array, as_array_of_ndim, new_ax, require

__all__ = ["plot_waveform", "plot_spectrogram", "plot_log_mel", "plot_logmel_pipeline", "plot_cache_layout"]

_SIZE = (6, 2.6)


def plot_waveform(wave: torch.Tensor | np.ndarray, sample_rate: int, *, ax: Axes | None = None,
                  title: str | None = None) -> Figure:
    """Plot ``wave: (T,)`` against time in seconds.

    Args:
        wave: the samples, ``(T,)`` (a tensor or an array).
        sample_rate: samples per second.
        ax: draw into this Axes; ``None`` makes a new detached figure.
        title: the Axes title; default ``"Waveform"`` (in the notebook's language).

    Returns:
        The figure drawn into.

    Raises:
        ValueError: ``wave`` is not 1-D.
    """
    w = as_array_of_ndim(wave, 1, "wave", "(T,)")
    sample_rate = check_int(sample_rate, "sample_rate", min=1)
    fig, ax = new_ax(ax, _SIZE)
    ax.plot(np.arange(w.size) / sample_rate, w, lw=0.6)
    ax.set_xlim(0, w.size / sample_rate)
    ax.set_title(tr("Waveform") if title is None else title)
    ax.set_xlabel(tr("time (s)"))
    ax.set_ylabel(tr("amplitude"))
    return fig


def plot_spectrogram(spec_db: torch.Tensor | np.ndarray, sample_rate: int, *, hop_length: int = 64,
                     ax: Axes | None = None, title: str | None = None, vmin: float = -80.0) -> Figure:
    """Draw a linear-frequency power spectrogram in dB (re. the maximum).

    Args:
        spec_db: ``(n_fft // 2 + 1, frames)`` from ``audio.features.stft_db(wave, n_fft, hop_length)``.
        sample_rate: samples per second of the wave (the top row is ``sample_rate / 2``).
        hop_length: the hop ``stft_db`` used (sets the time axis).
        ax: draw into this Axes; ``None`` makes a new detached figure.
        title: the Axes title; default ``"Spectrogram"`` (in the notebook's language).
        vmin: the dB value drawn darkest (the maximum is 0 dB).

    Returns:
        The figure drawn into.

    Raises:
        ValueError: ``spec_db`` is not 2-D.
    """
    spec = as_array_of_ndim(spec_db, 2, "spec_db", "(frequency bins, frames) from stft_db")
    fig, ax = new_ax(ax, _SIZE)
    t_end = (spec.shape[1] - 1) * hop_length / sample_rate
    im = ax.imshow(spec, origin="lower", aspect="auto", cmap="magma", vmin=vmin, vmax=0,
                   extent=(0, t_end, 0, sample_rate / 2))
    fig.colorbar(im, ax=ax, label="dB")
    ax.set_title(tr("Spectrogram") if title is None else title)
    ax.set_xlabel(tr("time (s)"))
    ax.set_ylabel(tr("frequency (Hz)"))
    return fig


def plot_log_mel(features: torch.Tensor | np.ndarray, params: Any, *, ax: Axes | None = None,
                 title: str | None = None, vmin: float | None = None, vmax: float | None = None,
                 colorbar: bool = True) -> Figure:
    """Show ``features: (n_mels, frames)`` (or ``(1, n_mels, frames)``) with time in seconds.

    Args:
        features: a log-mel spectrogram ``(n_mels, frames)`` or ``(1, n_mels, frames)``
            (``audio.features.log_mel``), a tensor or an array.
        params: the ``FeatureParams`` it was computed with (``hop_length``, ``sample_rate``).
        ax: draw into this Axes; ``None`` makes a new detached figure.
        title: the Axes title; default ``"Log-mel spectrogram"`` (in the notebook's language).
        vmin: the value drawn darkest (default: the minimum).
        vmax: the value drawn brightest (default: the maximum).
        colorbar: draw a colour bar.

    Returns:
        The figure drawn into.

    Raises:
        ValueError: ``features`` is not ``(n_mels, frames)``.
        TypeError: ``params`` is not a FeatureParams.
    """
    require(params, ("hop_length", "sample_rate"), "a FeatureParams (from audio.features)", "params")
    f = as_array(features)
    if f.ndim == 3 and f.shape[0] == 1:
        f = f[0]
    if f.ndim != 2:
        raise ValueError(f"features must be (n_mels, frames), got shape {f.shape}")
    fig, ax = new_ax(ax, _SIZE)
    t_end = (f.shape[1] - 1) * params.hop_length / params.sample_rate
    im = ax.imshow(f, origin="lower", aspect="auto", cmap="viridis", vmin=vmin, vmax=vmax,
                   extent=(0, t_end, -0.5, f.shape[0] - 0.5))
    if colorbar:
        fig.colorbar(im, ax=ax, label=tr("log power"))
    ax.set_title(tr("Log-mel spectrogram") if title is None else title)
    ax.set_xlabel(tr("time (s)"))
    ax.set_ylabel(tr("mel band"))
    return fig


def plot_logmel_pipeline(stages: Sequence[tuple[str, str]], *, ax: Axes | None = None,
                         title: str | None = None) -> Figure:
    """Boxes and arrows for the stages of ``audio.diagrams.pipeline_stages(params)``, output shapes under the boxes.

    Args:
        stages: ``[(step, output shape), ...]``, the file first and the CNN input last.
        ax: draw into this Axes; ``None`` makes a new detached figure.
        title: the Axes title; default ``"From a recording to the CNN's input"`` (in the notebook's language).

    Returns:
        The figure drawn into.

    Raises:
        ValueError: ``stages`` is empty or not ``(step, shape)`` pairs.
    """
    stages = [tuple(st) for st in stages]
    if not stages or any(len(st) != 2 for st in stages):
        raise ValueError("stages must be (step, output shape) pairs: use audio.diagrams.pipeline_stages(params)")
    fig, ax = new_ax(ax, (15, 2.6))
    n = len(stages)
    w, gap = 1.7, 0.55
    for i, (step, shape) in enumerate(stages):
        x = i * (w + gap)
        ax.add_patch(FancyBboxPatch((x, 0), w, 1, boxstyle="round,pad=0.05", fc="#e8f0fe" if i not in (0, n - 1)
                                    else "#fde8d8", ec="#345"))
        ax.text(x + w / 2, 0.5, step, ha="center", va="center", fontsize=8.5)
        if i + 1 < n:
            ax.add_patch(FancyArrowPatch((x + w + 0.05, 0.5), (x + w + gap - 0.05, 0.5), arrowstyle="-|>",
                                         mutation_scale=12, color="#345"))
        ax.text(x + w / 2, -0.28, shape, ha="center", va="center", fontsize=8.5, family="monospace", color="#036")
    ax.set_xlim(-0.2, n * (w + gap) - gap + 0.2)
    ax.set_ylim(-0.55, 1.2)
    ax.axis("off")
    ax.set_title(tr("From a recording to the CNN's input") if title is None else title)
    return fig


def plot_cache_layout(shape: Sequence[int], *, name: str = "fsdd-0123456789abcdef", max_rows: int = 5,
                      ax: Axes | None = None, title: str | None = None) -> Figure:
    """The cache folder and its ``features.f16`` array of ``shape = (N, V, n_mels, frames)``.

    Args:
        shape: the cache's shape (``cache.shape``).
        name: the folder name (``cache.path.name``).
        max_rows: clips drawn before the ellipsis.
        ax: draw into this Axes; ``None`` makes a new detached figure.
        title: the Axes title; default ``"The feature cache on disk"`` (in the notebook's language).

    Returns:
        The figure drawn into.

    Raises:
        ValueError: ``shape`` is not four positive sizes.
    """
    if len(shape) != 4 or min(shape) < 1:
        raise ValueError(f"shape must be (N, V, n_mels, frames) with positive sizes, got {tuple(shape)}")
    n, v, m, f = (int(s) for s in shape)
    row_kib = m * f * 2 / 1024
    max_rows = check_int(max_rows, "max_rows", min=1)
    fig, ax = new_ax(ax, (13, 4.2))
    # left: the folder
    files = [(f"features.f16  ({n * v * m * f * 2 / 2**20:.1f} MiB)", tr("float16 array ({n}, {v}, {m}, {f})", n=n, v=v, m=m, f=f)),
             (tr("labels.npy  ({n} ints)", n=n), tr("class of each clip")),
             (tr("manifest.json  (written last)"), tr("key, parameters, files, speakers,\nskipped files, band statistics"))]
    ax.text(0, 4.3, f"<cache_dir>/{name}/", fontsize=10, family="monospace", weight="bold")
    for i, (fname, what) in enumerate(files):
        y = 3.4 - i * 1.2
        ax.add_patch(FancyBboxPatch((0.2, y - 0.35), 4.2, 0.8, boxstyle="round,pad=0.04", fc="#f4f4f4", ec="#555"))
        ax.text(0.35, y + 0.15, fname, fontsize=9, family="monospace", va="center")
        ax.text(0.35, y - 0.15, what, fontsize=7.5, va="center", color="#444")
    # right: the array, rows = clips, columns = variants
    x0, cw, rh = 6.0, 1.25, 0.62
    rows = min(n, max_rows)
    for j in range(v):
        ax.text(x0 + j * cw + cw / 2, 4.35, tr("clean") if j == 0 else tr("variant {j}", j=j), ha="center", fontsize=8.5)
    for i in range(rows):
        y = 3.9 - (i + 1) * rh
        ax.text(x0 - 0.15, y + rh / 2, tr("clip {i}", i=i), ha="right", va="center", fontsize=8.5)
        for j in range(v):
            ax.add_patch(Rectangle((x0 + j * cw, y), cw * 0.92, rh * 0.85, fc="#cfe3c8" if j == 0 else "#f6e3b4",
                                   ec="#555"))
    y_end = 3.9 - (rows + 1) * rh
    if n > rows:
        ax.text(x0 + v * cw / 2, y_end + rh * 0.4, tr("... {n} more clips", n=n - rows), ha="center", fontsize=9)
    ax.text(x0 + v * cw + 0.3, 3.9 - rh / 2, tr("one cell = one ({m}, {f}) log-mel\n= {kib:.1f} KiB, read\n"
               "with one positioned read;\na row = one clip's variants,\nstored side by side", m=m, f=f, kib=row_kib),
            fontsize=8.5, va="top")
    ax.add_patch(FancyArrowPatch((4.5, 3.4), (x0 - 0.9, 3.9 - rh), arrowstyle="-|>", mutation_scale=12,
                                 color="#345"))
    ax.set_xlim(-0.1, x0 + v * cw + 3.6)
    ax.set_ylim(min(-0.2, y_end - 0.2), 4.7)
    ax.axis("off")
    ax.set_title(tr("The feature cache on disk") if title is None else title)
    return fig
