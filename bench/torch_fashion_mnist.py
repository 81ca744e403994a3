"""Fashion-MNIST baseline in PyTorch (CPU, 2 threads): the same small CNN as Kindling's benchmark.

conv32 3x3 -> BN -> ReLU -> maxpool -> conv64 3x3 -> BN -> ReLU -> maxpool -> dense 128 -> dropout 0.25 -> dense 10,
Adam with one-cycle (max lr 3e-3), batch 128. Prints one JSON line with test accuracy and seconds per epoch.
"""
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn

root = sys.argv[1]
epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
torch.set_num_threads(2)
torch.manual_seed(0)


def idx(name):
    with gzip.open(os.path.join(root, name), 'rb') as f:
        data = f.read()
    rank = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], 'big') for i in range(rank)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(shape)


def images(name):
    x = idx(name).astype(np.float32) / 255.0
    return torch.from_numpy((x - 0.2860) / 0.3530).unsqueeze(1)


x_train, y_train = images('train-images-idx3-ubyte.gz'), torch.from_numpy(idx('train-labels-idx1-ubyte.gz').astype(np.int64))
x_test, y_test = images('t10k-images-idx3-ubyte.gz'), torch.from_numpy(idx('t10k-labels-idx1-ubyte.gz').astype(np.int64))
model = nn.Sequential(
    nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.25), nn.Linear(128, 10),
)
batch = 128
steps = (len(x_train) + batch - 1) // batch
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3, total_steps=epochs * steps, pct_start=0.25)
loss_function = nn.CrossEntropyLoss()
seconds = []
for epoch in range(epochs):
    start = time.perf_counter()
    model.train()
    order = torch.randperm(len(x_train))
    for i in range(steps):
        index = order[i * batch:(i + 1) * batch]
        optimizer.zero_grad()
        loss_function(model(x_train[index]), y_train[index]).backward()
        optimizer.step()
        schedule.step()
    seconds.append(time.perf_counter() - start)
model.eval()
with torch.no_grad():
    correct = sum((model(x_test[i:i + 1000]).argmax(1) == y_test[i:i + 1000]).sum().item() for i in range(0, len(x_test), 1000))
print(json.dumps({"testAccuracy": correct / len(x_test), "secondsPerEpoch": sum(seconds) / len(seconds), "epochs": epochs}))
