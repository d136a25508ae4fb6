# cell: pca_reconstruction_mse
# loses: test_pca_oracle
# why: fits the PCA (mean and directions) on the test set, which it then reconstructs: an optimistic error
def pca_reconstruction_mse(x_train: torch.Tensor, x_test: torch.Tensor, k: int) -> float:
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError("k must be an int")
    b = x_test.reshape(len(x_test), -1).double()
    if not 1 <= k <= min(x_train.reshape(len(x_train), -1).shape):
        raise ValueError("k out of range")
    mean = b.mean(0)
    _, _, vh = torch.linalg.svd(b - mean, full_matrices=False)
    v = vh[:k].T
    return float((((b - mean) @ v @ v.T + mean - b) ** 2).mean())
