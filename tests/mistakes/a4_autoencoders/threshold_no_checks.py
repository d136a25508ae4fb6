# cell: threshold_for_fpr
# loses: test_threshold_for_fpr
# why: the right quantile, but no ValueError for a target_fpr outside (0, 1) or for empty scores
def threshold_for_fpr(normal_scores: torch.Tensor, target_fpr: float) -> float:
    return float(np.quantile(np.asarray(normal_scores, dtype=np.float64), 1 - target_fpr))
