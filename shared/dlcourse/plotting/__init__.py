"""Every figure of the course, in one package: ``from dlcourse import plotting``.

Compute elsewhere, draw here: the numbers a plot shows come from a compute function of the
topic's module (``viz``, ``diagrams``, ``rf_explorer``, ``audio``, ``training``) and are passed in;
nothing here trains, measures or runs a model. The package imports nothing of ``dlcourse`` but
the internal core, so every module may use it.

Conventions:

* every public function is ``plot_*(...) -> Figure`` and never calls ``plt.show()``: a notebook
  displays the returned figure;
* a one-panel plot takes ``ax=None`` (draw into that Axes, or make a new figure); a multi-panel
  plot takes ``fig=None`` (draw into that Figure, cleared, or SubFigure, or make a new one);
* the figures made here are *detached* from pyplot (:func:`subplots`, :func:`figure`), so a
  notebook shows each once.

Submodules by topic: :mod:`~dlcourse.plotting.core` (detached figures), :mod:`~.training` (learning
curves, confusion matrix, bars), :mod:`~.images` (image grids, feature maps, filters, image rows),
:mod:`~.embeddings`, :mod:`~.attribution` (heat maps, deletion / insertion curves),
:mod:`~.architectures` (layer stacks, dataflow graphs, trade-offs), :mod:`~.receptive_fields`
(the explorer, field maps, field pyramids, layer patterns) and :mod:`~.audio` (waveform,
spectrogram, log-mel, the pipeline and the cache). Their functions are all importable from here.
"""
from __future__ import annotations

from .architectures import KIND_COLORS, format_shape, plot_layer_stack, plot_model_graph, plot_tradeoffs
from .attribution import plot_deletion_curves, plot_heatmaps
from .audio import plot_cache_layout, plot_log_mel, plot_logmel_pipeline, plot_spectrogram, plot_waveform
from .core import figure, subplots
from .embeddings import plot_embedding, plot_embedding_panels
from .images import plot_feature_maps, plot_filters, plot_image_grid, plot_image_rows, plot_layer_activations
from .receptive_fields import plot_explorer, plot_field_map, plot_field_pyramid, plot_stack_pattern
from .training import plot_bars, plot_confusion_matrix, plot_history

__all__ = [
    "subplots",
    "figure",
    # training and evaluation
    "plot_history",
    "plot_confusion_matrix",
    "plot_bars",
    # images
    "plot_image_grid",
    "plot_feature_maps",
    "plot_layer_activations",
    "plot_filters",
    "plot_image_rows",
    # embeddings
    "plot_embedding",
    "plot_embedding_panels",
    # attribution
    "plot_heatmaps",
    "plot_deletion_curves",
    # architectures
    "KIND_COLORS",
    "format_shape",
    "plot_layer_stack",
    "plot_model_graph",
    "plot_tradeoffs",
    # receptive fields
    "plot_explorer",
    "plot_field_map",
    "plot_field_pyramid",
    "plot_stack_pattern",
    # audio
    "plot_waveform",
    "plot_spectrogram",
    "plot_log_mel",
    "plot_logmel_pipeline",
    "plot_cache_layout",
]
