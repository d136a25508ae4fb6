# cell: detect
# loses: test_detector_visible, test_detect_threshold
# why: picks the threshold as the (1 - target_fpr) quantile of the test scores, which contain the anomalies
def detect(model: nn.Module, x_val: torch.Tensor, y_val: torch.Tensor, x_test: torch.Tensor,
           target_fpr: float) -> tuple[float, torch.Tensor]:
    test_scores = anomaly_scores(model, x_test)
    threshold = threshold_for_fpr(test_scores, target_fpr)
    return threshold, test_scores > threshold
