# cell: model
# loses: test_model_budget
# why: normalizes the input with the mean and spread of the whole batch instead of each clip's own, so a clip's logits change with the clips it is batched with (and a batch of one is normalized to nothing)
def build_model(n_classes: int, n_mels: int) -> nn.Module:
    class BatchNormedInput(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(
                nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            )
            self.head = nn.Linear(32, n_classes)

        def forward(self, x):
            x = (x - x.mean()) / (x.std() + 1e-5)          # statistics of the whole batch
            return self.head(self.body(x).mean(dim=(2, 3)))

    return BatchNormedInput()
