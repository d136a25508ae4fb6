# cell: train_denoiser
# loses: test_denoiser_target
# why: corrupts the training set once before the loop, so every epoch sees the same noise instead of fresh noise per batch
def train_denoiser(model: nn.Module, x_clean: torch.Tensor, noise_fn, *, epochs: int, batch_size: int = 64,
                   lr: float = 2e-3, seed: int = 0) -> list[float]:
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    x_noisy = noise_fn(x_clean)
    model.train()
    history = []
    for _ in range(epochs):
        perm = torch.randperm(len(x_clean), generator=g)
        losses = []
        for i in range(0, len(x_clean), batch_size):
            idx = perm[i:i + batch_size]
            loss = F.mse_loss(model(x_noisy[idx]), x_clean[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        history.append(float(np.mean(losses)))
    return history
