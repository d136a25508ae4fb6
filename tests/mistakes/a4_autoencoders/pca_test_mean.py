# cell: pca_reconstruction_mse
# loses: test_pca_oracle
# why: directions from the training set, but centres the test rows with their own mean instead of the training mean
def pca_reconstruction_mse(x_train: torch.Tensor, x_test: torch.Tensor, k: int) -> float:
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError("k must be an int")
    a = x_train.reshape(len(x_train), -1).double()
    b = x_test.reshape(len(x_test), -1).double()
    if not 1 <= k <= min(a.shape):
        raise ValueError("k out of range")
    _, _, vh = torch.linalg.svd(a - a.mean(0), full_matrices=False)
    v = vh[:k].T
    m = b.mean(0)
    return float((((b - m) @ v @ v.T + m - b) ** 2).mean())
