# cell: design
# loses: test_design_structure, test_design_visible, test_design_heldout
# why: writes its own block and returns relu(F(x)), forgetting "+ shortcut(x)": a plain network, not a residual one
class Unit(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True), nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels))

    def forward(self, x):
        return F.relu(self.body(x))


def build_net(in_channels: int = 1, num_classes: int = 5) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(in_channels, 12, 3, padding=1, bias=False), nn.BatchNorm2d(12), nn.ReLU(inplace=True),
        Unit(12, 12), Unit(12, 24, stride=2), Unit(24, 32, stride=2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, num_classes))
