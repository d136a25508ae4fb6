# cell: design
# loses: test_design_heldout
# why: its own residual unit creates self.relu but forward never calls it (nor does the stem): the whole network is linear
class ResidualUnit(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(out_channels))

    def forward(self, x):
        return self.bn2(self.conv2(self.bn1(self.conv1(x)))) + self.shortcut(x)


def build_net(in_channels: int = 1, num_classes: int = 5) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(in_channels, 12, 3, padding=1, bias=False), nn.BatchNorm2d(12),
        ResidualUnit(12, 12), ResidualUnit(12, 24, stride=2), ResidualUnit(24, 32, stride=2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, num_classes))
