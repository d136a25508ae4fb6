# cell: latent_sweep
# loses: test_sweep_curve, test_sweep_arguments
# why: one optimiser step per epoch on the first batch_size images only (the loop over batches is missing)
def latent_sweep(x_train: torch.Tensor, x_test: torch.Tensor, latent_sizes: list[int], *, epochs: int,
                 batch_size: int = 64, lr: float = 2e-3, seed: int = 0) -> dict:
    results = {}
    for k in latent_sizes:
        torch.manual_seed(seed)
        model = ConvAutoencoder(k)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        for _ in range(epochs):
            train_step(model, x_train[:batch_size], optimizer)
        model.eval()
        with torch.no_grad():
            ae_mse = float(F.mse_loss(model(x_test), x_test))
        results[k] = {"ae": ae_mse, "pca": pca_reconstruction_mse(x_train, x_test, k), "model": model}
    return results
