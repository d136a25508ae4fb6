# cell: train_detector
# loses: test_train_detector_normal_only
# why: trains the autoencoder on every training row, frauds included, so it learns to rebuild them too
def train_detector(model: nn.Module, x_train: torch.Tensor, y_train: torch.Tensor, *, epochs: int,
                   batch_size: int = 128, lr: float = 3e-3, seed: int = 0) -> list[float]:
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    history = []
    for _ in range(epochs):
        perm = torch.randperm(len(x_train), generator=g)
        losses = [train_step(model, x_train[perm[i:i + batch_size]], optimizer)
                  for i in range(0, len(x_train), batch_size)]
        history.append(float(np.mean(losses)))
    return history
