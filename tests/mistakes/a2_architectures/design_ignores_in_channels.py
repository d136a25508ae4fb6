# cell: design
# loses: test_design_structure
# why: hard-codes one input channel in the stem (Conv2d(1, ...)): trains fine on the grey shapes, breaks for in_channels=3
def build_net(in_channels: int = 1, num_classes: int = 5) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 12, 3, padding=1, bias=False), nn.BatchNorm2d(12), nn.ReLU(inplace=True),
        BasicBlock(12, 12), BasicBlock(12, 24, stride=2), BasicBlock(24, 32, stride=2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(32, num_classes))
