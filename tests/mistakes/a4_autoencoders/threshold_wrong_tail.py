# cell: threshold_for_fpr
# loses: test_scores_threshold_visible, test_threshold_for_fpr
# why: takes the target_fpr quantile instead of the (1 - target_fpr) quantile, flagging 1 - target_fpr of normal data
def threshold_for_fpr(normal_scores: torch.Tensor, target_fpr: float) -> float:
    if not 0 < target_fpr < 1:
        raise ValueError(f"target_fpr must be in (0, 1), got {target_fpr}")
    return float(torch.quantile(torch.as_tensor(normal_scores, dtype=torch.float64), target_fpr))
