"""Kindling's distributed bench twin in PyTorch: the reference CNN (64x64x3 -> conv32 3x3 relu -> maxpool -> conv64 3x3
relu -> maxpool -> dense 10) on random pictures, a global batch of 32, Adam, on OMP_NUM_THREADS threads. Under
torchrun it is one DistributedDataParallel worker (gloo, env://) of WORLD_SIZE, on its DistributedSampler share of
every batch; rank 0 prints one JSON line: images/s over the steps after the warm-up.
    python3 torch_ddp_twin.py <steps> <warmup>
"""
import json
import os
import sys
import time

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 30
warmup = int(sys.argv[2]) if len(sys.argv) > 2 else 5
torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
if distributed:
    dist.init_process_group("gloo")
workers = dist.get_world_size() if distributed else 1
rank = dist.get_rank() if distributed else 0
torch.manual_seed(0)
batch = 32
rows = (steps + warmup) * batch
data = TensorDataset(torch.rand(rows, 3, 64, 64), torch.randint(0, 10, (rows,)))
model = nn.Sequential(
    nn.Conv2d(3, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(64 * 14 * 14, 10),
)
if distributed:
    model = nn.parallel.DistributedDataParallel(model)
sampler = DistributedSampler(data, shuffle=True, seed=6) if distributed else None
loader = DataLoader(data, batch_size=batch // workers, sampler=sampler, shuffle=sampler is None)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_function = nn.CrossEntropyLoss()
started = 0.0
done = 0
for x, y in loader:
    optimizer.zero_grad()
    loss = loss_function(model(x), y)
    loss.backward()
    optimizer.step()
    done += 1
    if done == warmup:
        started = time.perf_counter()
elapsed = time.perf_counter() - started
if rank == 0:
    print(json.dumps({"imagesPerSecond": (done - warmup) * batch / elapsed, "steps": done - warmup, "workers": workers, "threads": torch.get_num_threads(), "loss": loss.item()}))
if distributed:
    dist.destroy_process_group()
