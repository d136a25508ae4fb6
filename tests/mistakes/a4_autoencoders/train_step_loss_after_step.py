# cell: train_step
# loses: test_train_step_oracle
# why: returns the loss recomputed after optimizer.step(), not the loss that was back-propagated
def train_step(model: nn.Module, x: torch.Tensor, optimizer: torch.optim.Optimizer) -> float:
    model.train()
    optimizer.zero_grad()
    F.mse_loss(model(x), x).backward()
    optimizer.step()
    with torch.no_grad():
        return F.mse_loss(model(x), x).item()
