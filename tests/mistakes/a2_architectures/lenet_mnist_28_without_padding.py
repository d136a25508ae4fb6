# cell: lenet5
# loses: test_lenet5_visible, test_lenet5_hidden, test_lenet5_forward
# why: adapts LeNet-5 to 28x28 inputs with padding=2 in C1 and flattens whatever size comes out, so other input sizes are accepted silently
class LeNet5(nn.Module):
    def __init__(self, in_channels: int = 1, num_classes: int = 10):
        super().__init__()
        self.c1 = nn.Conv2d(in_channels, 6, kernel_size=5, padding=2)
        self.c3 = nn.Conv2d(6, 16, kernel_size=5)
        self.c5 = nn.Conv2d(16, 120, kernel_size=5)
        self.f6 = nn.Linear(120, 84)
        self.output = nn.Linear(84, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.avg_pool2d(torch.tanh(self.c1(x)), 2)
        x = F.avg_pool2d(torch.tanh(self.c3(x)), 2)
        x = torch.tanh(self.c5(x)).mean(dim=(2, 3))
        x = torch.tanh(self.f6(x))
        return self.output(x)
