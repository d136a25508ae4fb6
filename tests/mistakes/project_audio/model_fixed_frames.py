# cell: model
# loses: test_model_budget
# why: flattens the last feature maps into a Linear layer sized for 63 frames, so any other clip length fails
def build_model(n_classes: int, n_mels: int) -> nn.Module:
    return nn.Sequential(
        nn.BatchNorm2d(1),
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(8 * (n_mels // 8) * (63 // 8), n_classes),
    )
