# cell: train
# loses: test_train_visible, test_train_heldout
# why: builds the cache and a loader but never runs the optimizer (returns the untrained model)
def my_augment(waves: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    return waves


def train(model: nn.Module, clips: datasets.ClipSet, time_budget: float) -> nn.Module:
    the_cache = cache.build_cache(clips, CACHE, features=FEATURES, verbose=False)
    loader = cache.make_loader(the_cache.dataset(), batch_size=32)
    model.eval()
    return model
