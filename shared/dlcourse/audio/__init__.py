"""Audio for the course: spoken words as log-mel images, augmentations, an on-disk feature cache.

Modules (import the ones you need, e.g. ``from dlcourse.audio import features, cache``):

* :mod:`~dlcourse.audio.io` — WAV/FLAC with ``soundfile``, mono, resampling, pad/trim;
* :mod:`~dlcourse.audio.features` — batched log-mel features and their plots;
* :mod:`~dlcourse.audio.augment` — time shift, gain, noise at an SNR, speed/tempo, filters, VTLP, mixup,
  reverberation, SpecAugment masks, and the random variants the cache stores;
* :mod:`~dlcourse.audio.datasets` — FSDD, Speech Commands v2, folder-per-class trees and an
  offline generated set, as lists of files;
* :mod:`~dlcourse.audio.cache` — K augmented variants per clip precomputed into a memory-mapped
  file with a manifest, read one item at a time;
* :mod:`~dlcourse.audio.models` — the small baseline CNN of the command line;
* :mod:`~dlcourse.audio.recipe` — the training recipe (every lever for unseen speakers) the CLI follows;
* :mod:`~dlcourse.audio.diagrams` — the log-mel pipeline and the cache layout, drawn from their parameters;
* ``python -m dlcourse.audio train|evaluate`` — the baseline students run and beat.
"""
__all__ = ["io", "features", "augment", "datasets", "cache", "models", "recipe", "diagrams"]
