"""Collaborative-filtering baseline in PyTorch (CPU, 2 threads): dot product with biases, sigmoid into the
ratings' range, Adam with one-cycle, on the same ratings and split as Kindling's benchmark.

Reads a TSV of user index, item index, rating, is_valid. Prints one JSON line.
"""
import json
import sys
import time

import numpy as np
import torch
from torch import nn

path, factors, epochs, lr, wd, low, high = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6]), float(sys.argv[7])
torch.set_num_threads(2)
torch.manual_seed(0)
data = np.loadtxt(path, delimiter='\t')
users, items, ratings, valid = data[:, 0].astype(np.int64), data[:, 1].astype(np.int64), data[:, 2].astype(np.float32), data[:, 3] == 1
n_users, n_items = users.max() + 1, items.max() + 1


class DotProductBias(nn.Module):
    def __init__(self):
        super().__init__()
        self.user_factors, self.item_factors = nn.Embedding(n_users, factors), nn.Embedding(n_items, factors)
        self.user_bias, self.item_bias = nn.Embedding(n_users, 1), nn.Embedding(n_items, 1)
        for e in (self.user_factors, self.item_factors, self.user_bias, self.item_bias):
            nn.init.normal_(e.weight, std=0.01)

    def forward(self, u, i):
        score = (self.user_factors(u) * self.item_factors(i)).sum(1) + self.user_bias(u)[:, 0] + self.item_bias(i)[:, 0]
        return torch.sigmoid(score) * (high - low) + low


model = DotProductBias()
tu, ti, tr = torch.from_numpy(users[~valid]), torch.from_numpy(items[~valid]), torch.from_numpy(ratings[~valid])
vu, vi, vr = torch.from_numpy(users[valid]), torch.from_numpy(items[valid]), torch.from_numpy(ratings[valid])
batch = 512
steps = (len(tr) + batch - 1) // batch
optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd)
schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * steps, pct_start=0.25)
start = time.perf_counter()
for epoch in range(epochs):
    order = torch.randperm(len(tr))
    for s in range(steps):
        index = order[s * batch:(s + 1) * batch]
        optimizer.zero_grad()
        loss = ((model(tu[index], ti[index]) - tr[index]) ** 2).mean()
        loss.backward()
        optimizer.step()
        schedule.step()
seconds = time.perf_counter() - start
with torch.no_grad():
    mse = ((model(vu, vi) - vr) ** 2).mean().item()
print(json.dumps({"validMse": mse, "seconds": seconds}))
