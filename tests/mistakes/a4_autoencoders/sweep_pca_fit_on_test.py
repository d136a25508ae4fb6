# cell: latent_sweep
# loses: test_sweep_curve
# why: passes the arguments of pca_reconstruction_mse the wrong way round (fits PCA on the test images, scores the training images)
def latent_sweep(x_train: torch.Tensor, x_test: torch.Tensor, latent_sizes: list[int], *, epochs: int,
                 batch_size: int = 64, lr: float = 2e-3, seed: int = 0) -> dict:
    results = {}
    for k in latent_sizes:
        torch.manual_seed(seed)
        model = ConvAutoencoder(k)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        g = torch.Generator().manual_seed(seed)
        for _ in range(epochs):
            perm = torch.randperm(len(x_train), generator=g)
            for i in range(0, len(x_train), batch_size):
                train_step(model, x_train[perm[i:i + batch_size]], optimizer)
        model.eval()
        with torch.no_grad():
            ae_mse = float(F.mse_loss(model(x_test), x_test))
        results[k] = {"ae": ae_mse, "pca": pca_reconstruction_mse(x_test, x_train, k), "model": model}
    return results
