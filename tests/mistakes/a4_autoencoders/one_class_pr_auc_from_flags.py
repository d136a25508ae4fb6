# cell: one_class_detector
# loses: test_one_class_visible, test_one_class_pr_auc
# why: computes the average precision of the 0/1 flags instead of the continuous scores (one point of the curve, not its area)
def one_class_detector(digit: int, x_train: torch.Tensor, y_train: torch.Tensor, x_val: torch.Tensor,
                       y_val: torch.Tensor, x_test: torch.Tensor, y_test: torch.Tensor, *, target_fpr: float,
                       latent_dim: int = 8, epochs: int = 30, seed: int = 0) -> dict:
    torch.manual_seed(seed)
    model = ConvAutoencoder(latent_dim)
    train_detector(model, x_train, (y_train != digit).long(), epochs=epochs, batch_size=32, seed=seed)
    threshold, flags = detect(model, x_val, (y_val != digit).long(), x_test, target_fpr)
    pr_auc = float(average_precision_score((y_test != digit).numpy(), flags.numpy()))
    return {"model": model, "threshold": threshold, "flags": flags, "pr_auc": pr_auc}
