# cell: train_detector
# loses: test_train_detector_normal_only, test_train_detector_arguments
# why: walks through the normal rows in the same order every epoch (no shuffle, seed unused)
def train_detector(model: nn.Module, x_train: torch.Tensor, y_train: torch.Tensor, *, epochs: int,
                   batch_size: int = 128, lr: float = 3e-3, seed: int = 0) -> list[float]:
    normal = x_train[y_train == 0]
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for _ in range(epochs):
        losses = [train_step(model, normal[i:i + batch_size], optimizer) for i in range(0, len(normal), batch_size)]
        history.append(float(np.mean(losses)))
    return history
