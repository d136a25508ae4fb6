"""Diagrams of the audio pipeline (audio.diagrams measures, dlcourse.plotting draws) agree with the code."""
from __future__ import annotations

import pytest
import torch
from matplotlib.figure import Figure

from dlcourse import plotting
from dlcourse.audio import diagrams, features


@pytest.mark.parametrize("params", [features.FeatureParams(), features.FeatureParams(hop_length=64, n_mels=32),
                                    features.FeatureParams(sample_rate=16000, n_fft=512, hop_length=160)])
def test_pipeline_stages_show_the_shapes_the_code_produces(params):
    stages = diagrams.pipeline_stages(params)
    wave = torch.randn(params.clip_samples)
    spec = torch.stft(wave, params.n_fft, params.hop_length, window=torch.hann_window(params.n_fft),
                      return_complex=True)
    feats = features.log_mel(wave, params)
    shapes = [s for _, s in stages]
    assert shapes[1] == f"({params.clip_samples},)"
    assert shapes[2] == f"{tuple(spec.shape)} complex".replace("(", "(", 1)
    assert shapes[4] == shapes[5] == str(tuple(feats.shape))
    assert shapes[6] == str((1, *feats.shape))
    fig = plotting.plot_logmel_pipeline(stages)
    assert isinstance(fig, Figure) and fig.axes[0].get_title()
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert set(shapes) <= texts and {s for s, _ in stages} <= texts  # every stage and shape is drawn
    with pytest.raises(TypeError, match="FeatureParams"):
        diagrams.pipeline_stages({"n_mels": 40})


def test_cache_layout_draws_the_shape_and_rejects_bad_ones():
    fig = plotting.plot_cache_layout((2000, 4, 40, 63), name="fsdd-abc")
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "(2000, 4, 40, 63)" in texts and "38.5 MiB" in texts and "1995 more clips" in texts
    assert "variant 3" in texts and "variant 4" not in texts
    with pytest.raises(ValueError, match="shape"):
        plotting.plot_cache_layout((10, 4, 40))


def test_plot_logmel_pipeline_rejects_what_is_not_stages():
    with pytest.raises(ValueError, match="pipeline_stages"):
        plotting.plot_logmel_pipeline([])
    with pytest.raises(ValueError, match="pipeline_stages"):
        plotting.plot_logmel_pipeline([("only a step",)])
