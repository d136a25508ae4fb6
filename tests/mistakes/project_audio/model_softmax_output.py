# cell: model
# loses: test_model_budget
# why: ends with a softmax, so the model returns probabilities instead of the logits the text asks for (CrossEntropyLoss applies the softmax again: training is slower, and the output has the wrong range)
def build_model(n_classes: int, n_mels: int) -> nn.Module:
    return nn.Sequential(
        nn.BatchNorm2d(1),
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, n_classes),
        nn.Softmax(dim=1),
    )
