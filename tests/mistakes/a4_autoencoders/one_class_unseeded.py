# cell: one_class_detector
# loses: test_one_class_training
# why: does not seed the model and keeps train_detector's default seed, so the seed argument changes nothing
def one_class_detector(digit: int, x_train: torch.Tensor, y_train: torch.Tensor, x_val: torch.Tensor,
                       y_val: torch.Tensor, x_test: torch.Tensor, y_test: torch.Tensor, *, target_fpr: float,
                       latent_dim: int = 8, epochs: int = 30, seed: int = 0) -> dict:
    model = ConvAutoencoder(latent_dim)
    train_detector(model, x_train, (y_train != digit).long(), epochs=epochs, batch_size=32)
    threshold, flags = detect(model, x_val, (y_val != digit).long(), x_test, target_fpr)
    scores = anomaly_scores(model, x_test)
    pr_auc = float(average_precision_score((y_test != digit).numpy(), scores.numpy()))
    return {"model": model, "threshold": threshold, "flags": flags, "pr_auc": pr_auc}
