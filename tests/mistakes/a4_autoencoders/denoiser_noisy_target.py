# cell: train_denoiser
# loses: test_denoiser_visible, test_denoiser_target
# why: compares the output with the noisy input instead of the clean image (a plain autoencoder of noisy data)
def train_denoiser(model: nn.Module, x_clean: torch.Tensor, noise_fn, *, epochs: int, batch_size: int = 64,
                   lr: float = 2e-3, seed: int = 0) -> list[float]:
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(seed)
    model.train()
    history = []
    for _ in range(epochs):
        perm = torch.randperm(len(x_clean), generator=g)
        losses = []
        for i in range(0, len(x_clean), batch_size):
            noisy = noise_fn(x_clean[perm[i:i + batch_size]])
            loss = F.mse_loss(model(noisy), noisy)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        history.append(float(np.mean(losses)))
    return history
