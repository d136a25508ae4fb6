# cell: lenet5
# loses: test_lenet5_visible, test_lenet5_forward
# why: writes the modern variant (ReLU and max pooling) instead of the classic tanh and average-pooling subsampling
class LeNet5(nn.Module):
    def __init__(self, in_channels: int = 1, num_classes: int = 10):
        super().__init__()
        self.c1 = nn.Conv2d(in_channels, 6, kernel_size=5)
        self.c3 = nn.Conv2d(6, 16, kernel_size=5)
        self.c5 = nn.Conv2d(16, 120, kernel_size=5)
        self.f6 = nn.Linear(120, 84)
        self.output = nn.Linear(84, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or tuple(x.shape[2:]) != (32, 32):
            raise ValueError(f"LeNet-5 expects (N, C, 32, 32) inputs, got {tuple(x.shape)}")
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c3(x)), 2)
        x = F.relu(self.c5(x)).flatten(1)
        x = F.relu(self.f6(x))
        return self.output(x)
