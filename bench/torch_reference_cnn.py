"""The reference CNN in PyTorch (CPU, 2 threads): the baseline Kindling's training throughput is compared to.

64x64x3 -> conv32 3x3 relu -> maxpool -> conv64 3x3 relu -> maxpool -> dense 10, batch 32, Adam.
Prints one JSON line: {"imagesPerSecond": ..., "steps": ..., "threads": ...}.
"""
import json
import sys
import time

import torch
from torch import nn

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 20
torch.set_num_threads(2)
torch.manual_seed(0)
model = nn.Sequential(
    nn.Conv2d(3, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(64 * 14 * 14, 10),
)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_function = nn.CrossEntropyLoss()
x = torch.rand(32, 3, 64, 64)
y = torch.randint(0, 10, (32,))


def step():
    optimizer.zero_grad()
    loss = loss_function(model(x), y)
    loss.backward()
    optimizer.step()


for _ in range(3):
    step()
start = time.perf_counter()
for _ in range(steps):
    step()
elapsed = time.perf_counter() - start
print(json.dumps({"imagesPerSecond": steps * 32 / elapsed, "steps": steps, "threads": torch.get_num_threads()}))
