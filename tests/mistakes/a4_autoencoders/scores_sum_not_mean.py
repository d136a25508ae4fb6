# cell: anomaly_scores
# loses: test_anomaly_scores
# why: sums the squared error over the pixels instead of averaging it (the ranking is the same, the score is not the MSE asked for)
def anomaly_scores(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return ((model(x) - x) ** 2).flatten(1).sum(1)
    finally:
        model.train(was_training)
