"""The stages of the audio pipeline, computed from the numbers that define it (so a diagram cannot disagree).

:func:`pipeline_stages` lists file -> waveform -> STFT -> power -> mel bands -> log -> CNN input,
each with the shape it produces; ``plotting.plot_logmel_pipeline`` draws them, and
``plotting.plot_cache_layout`` draws the feature cache of a given ``cache.shape``.
"""
from __future__ import annotations

from .features import FeatureParams

__all__ = ["pipeline_stages"]


def pipeline_stages(params: FeatureParams = FeatureParams()) -> list[tuple[str, str]]:
    """``[(step, output shape), ...]`` of the log-mel pipeline for ``params`` (what ``plotting.plot_logmel_pipeline`` draws).

    Args:
        params: the feature parameters.

    Returns:
        ``[(step, output shape), ...]``, the file first and the CNN input last.

    Raises:
        TypeError: ``params`` is not a FeatureParams.
    """
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
