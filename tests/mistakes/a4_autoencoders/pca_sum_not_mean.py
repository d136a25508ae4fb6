# cell: pca_reconstruction_mse
# loses: test_pca_oracle
# why: returns the squared error summed over the pixels of each image (averaged over images), not the mean per element
def pca_reconstruction_mse(x_train: torch.Tensor, x_test: torch.Tensor, k: int) -> float:
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError("k must be an int")
    a = x_train.reshape(len(x_train), -1).double()
    b = x_test.reshape(len(x_test), -1).double()
    if not 1 <= k <= min(a.shape):
        raise ValueError("k out of range")
    mean = a.mean(0)
    _, _, vh = torch.linalg.svd(a - mean, full_matrices=False)
    v = vh[:k].T
    return float((((b - mean) @ v @ v.T + mean - b) ** 2).sum(1).mean())
