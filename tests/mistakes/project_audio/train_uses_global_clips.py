# cell: train
# loses: test_train_arguments
# why: builds the cache from the notebook's train_clips instead of the clips argument (passes in the notebook, where they are the same)
def my_augment(waves: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    # Your augmentation of a batch of clips (B, T) for the cache; rng is a NumPy random generator.
    out = waves.clone()
    g = torch.Generator().manual_seed(int(rng.integers(2**62)))
    noisy = np.flatnonzero(rng.random(len(out)) < 0.5)
    if noisy.size:
        out[noisy] = add_pink_noise(out[noisy], torch.from_numpy(rng.uniform(5, 30, noisy.size)).float(), generator=g)
    banded = np.flatnonzero(rng.random(len(out)) < 0.3)     # one random band for these clips
    if banded.size:
        out[banded] = band_filter(out[banded], SR, float(rng.uniform(0, 400)), float(rng.uniform(2500, SR / 2)))
    return out


def train(model: nn.Module, clips: datasets.ClipSet, time_budget: float) -> nn.Module:
    start = time.perf_counter()
    the_cache = cache.build_cache(train_clips, CACHE, features=FEATURES, augment=augment.AugmentConfig(), n_variants=2,
                                  extra_augment=my_augment, extra_id="pink+band v1", verbose=False)
    loader = cache.make_loader(the_cache.dataset(), batch_size=32, seed=0)
    left = time_budget - (time.perf_counter() - start) - 1.0
    models.fit_within(model, loader, max_epochs=60, time_budget=max(left, 1.0), lr=4e-3)
    return model
