# cell: latent_sweep
# loses: test_sweep_arguments
# why: hard-codes batches of 64 and Adam's default learning rate instead of using batch_size and lr
def latent_sweep(x_train: torch.Tensor, x_test: torch.Tensor, latent_sizes: list[int], *, epochs: int,
                 batch_size: int = 64, lr: float = 2e-3, seed: int = 0) -> dict:
    results = {}
    for k in latent_sizes:
        torch.manual_seed(seed)
        model = ConvAutoencoder(k)
        optimizer = torch.optim.Adam(model.parameters())
        g = torch.Generator().manual_seed(seed)
        for _ in range(epochs):
            perm = torch.randperm(len(x_train), generator=g)
            for i in range(0, len(x_train), 64):
                train_step(model, x_train[perm[i:i + 64]], optimizer)
        model.eval()
        with torch.no_grad():
            ae_mse = float(F.mse_loss(model(x_test), x_test))
        results[k] = {"ae": ae_mse, "pca": pca_reconstruction_mse(x_train, x_test, k), "model": model}
    return results
