# cell: train_denoiser
# loses: test_denoiser_target
# why: always uses batches of 64 whatever batch_size says
def train_denoiser(model: nn.Module, x_clean: torch.Tensor, noise_fn, *, epochs: int, batch_size: int = 64,
                   lr: float = 2e-3, seed: int = 0) -> list[float]:
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    model.train()
    history = []
    for _ in range(epochs):
        perm = torch.randperm(len(x_clean), generator=g)
        losses = []
        for i in range(0, len(x_clean), 64):
            clean = x_clean[perm[i:i + 64]]
            loss = F.mse_loss(model(noise_fn(clean)), clean)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        history.append(float(np.mean(losses)))
    return history
