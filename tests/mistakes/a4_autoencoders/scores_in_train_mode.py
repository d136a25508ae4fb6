# cell: anomaly_scores
# loses: test_scores_threshold_visible, test_anomaly_scores
# why: scores with the model in whatever mode it is in (dropout active) and keeps the autograd graph
def anomaly_scores(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    return ((model(x) - x) ** 2).flatten(1).mean(1)
