"""Diagrams of the audio pipeline, drawn from the numbers that define it (so they cannot disagree with the code).

* :func:`pipeline_stages` + :func:`plot_logmel_pipeline` — file -> waveform -> STFT -> power ->
  mel bands -> log -> CNN input, each box with the shape it produces;
* :func:`plot_cache_layout` — the cache folder (three files) and the ``(N, V, n_mels, frames)``
  array inside ``features.f16``: one row per clip, variant 0 clean, the rest augmented.
"""
from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

from .. import plotting
from .features import FeatureParams

__all__ = ["pipeline_stages", "plot_logmel_pipeline", "plot_cache_layout"]


def pipeline_stages(params: FeatureParams = FeatureParams()) -> list[tuple[str, str]]:
    """``[(step, output shape), ...]`` of the log-mel pipeline for ``params`` (what :func:`plot_logmel_pipeline` draws)."""
    if not isinstance(params, FeatureParams):
        raise TypeError(f"params must be a FeatureParams, got {type(params).__name__}")
    bins, frames, t = params.n_fft // 2 + 1, params.n_frames, params.clip_samples
    return [
        ("audio file\n(any rate, mono or stereo)", "file"),
        (f"load_clip: mono,\nresample to {params.sample_rate} Hz,\npad/trim to {params.clip_seconds:g} s", f"({t},)"),
        (f"STFT: window {params.n_fft},\nhop {params.hop_length} (centred)", f"({bins}, {frames}) complex"),
        ("power\nre² + im²", f"({bins}, {frames})"),
        (f"{params.n_mels} mel filters\n({params.n_mels} x {bins} matrix)", f"({params.n_mels}, {frames})"),
        (f"log( · + {params.log_floor:g})", f"({params.n_mels}, {frames})"),
        ("CNN input\n(a 1-channel image)", f"(1, {params.n_mels}, {frames})"),
    ]


def plot_logmel_pipeline(params: FeatureParams = FeatureParams(), *, ax=None,
                         title: str = "From a recording to the CNN's input") -> Figure:
    """Boxes and arrows for the stages of :func:`pipeline_stages`, output shapes under the arrows."""
    stages = pipeline_stages(params)
    if ax is None:
        fig, ax = plotting.subplots(figsize=(15, 2.6), layout="constrained")
    else:
        fig = ax.figure
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
    ax.set_title(title)
    return fig


def plot_cache_layout(shape: Sequence[int], *, name: str = "fsdd-0123456789abcdef", max_rows: int = 5, ax=None,
                      title: str = "The feature cache on disk") -> Figure:
    """The cache folder and its ``features.f16`` array of ``shape = (N, V, n_mels, frames)``.

    Args:
        shape: the cache's shape (``cache.shape``).
        name: the folder name (``cache.path.name``).
        max_rows: clips drawn before the ellipsis.
    """
    if len(shape) != 4 or min(shape) < 1:
        raise ValueError(f"shape must be (N, V, n_mels, frames) with positive sizes, got {tuple(shape)}")
    n, v, m, f = (int(s) for s in shape)
    row_kib = m * f * 2 / 1024
    if ax is None:
        fig, ax = plotting.subplots(figsize=(13, 4.2), layout="constrained")
    else:
        fig = ax.figure
    # left: the folder
    files = [(f"features.f16  ({n * v * m * f * 2 / 2**20:.1f} MiB)", f"float16 array ({n}, {v}, {m}, {f})"),
             (f"labels.npy  ({n} ints)", "class of each clip"),
             ("manifest.json  (written last)", "key, parameters, files, speakers,\nskipped files, band statistics")]
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
        ax.text(x0 + j * cw + cw / 2, 4.35, "clean" if j == 0 else f"variant {j}", ha="center", fontsize=8.5)
    for i in range(rows):
        y = 3.9 - (i + 1) * rh
        ax.text(x0 - 0.15, y + rh / 2, f"clip {i}", ha="right", va="center", fontsize=8.5)
        for j in range(v):
            ax.add_patch(Rectangle((x0 + j * cw, y), cw * 0.92, rh * 0.85, fc="#cfe3c8" if j == 0 else "#f6e3b4",
                                   ec="#555"))
    y_end = 3.9 - (rows + 1) * rh
    if n > rows:
        ax.text(x0 + v * cw / 2, y_end + rh * 0.4, f"... {n - rows} more clips", ha="center", fontsize=9)
    ax.text(x0 + v * cw + 0.3, 3.9 - rh / 2, f"one cell = one ({m}, {f}) log-mel\n= {row_kib:.1f} KiB, read\n"
            "with one positioned read;\na row = one clip's variants,\nstored side by side",
            fontsize=8.5, va="top")
    ax.add_patch(FancyArrowPatch((4.5, 3.4), (x0 - 0.9, 3.9 - rh), arrowstyle="-|>", mutation_scale=12,
                                 color="#345"))
    ax.set_xlim(-0.1, x0 + v * cw + 3.6)
    ax.set_ylim(min(-0.2, y_end - 0.2), 4.7)
    ax.axis("off")
    ax.set_title(title)
    return fig
