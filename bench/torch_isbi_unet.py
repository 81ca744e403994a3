"""PyTorch twin of `pnpm bench segmentation` (ISBI 2012 membranes), to explore recipes quickly on a GPU.

Reads images{size}.bin / masks{size}.bin (30 grey pictures, uint8, resized by sharp exactly as the
Kindling loaders resize them: linear for pictures, nearest for masks; 0 = membrane). Images 0-23 train,
24-29 validate. U-Net as @kindling/models builds it (two conv3x3-BN-ReLU per level, max-pool, 2x2
transposed convolutions, 1x1 head), AdamW one-cycle, cross-entropy (+ soft Dice), random crops with
flips / small rotations / zoom / lighting. Scores pixel accuracy and membrane Dice against the 256x256
masks (a model at another size has its arg-max map resized to 256 by nearest sampling).

usage: python3 torch_isbi_unet.py DATA_DIR '<json list of configs>' | configs.json  -> one JSON line per config
"""
import copy
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = sys.argv[1]
DEVICE = 'cuda' if torch.cuda.is_available() else 'cpu'


def load(size):
    images = np.fromfile(f'{DATA}/images{size}.bin', dtype=np.uint8).reshape(30, 1, size, size).astype(np.float32) / 255.0
    masks = (np.fromfile(f'{DATA}/masks{size}.bin', dtype=np.uint8).reshape(30, size, size) >= 128).astype(np.int64)
    return torch.tensor((images - 0.5) / 0.25), torch.tensor(masks)  # class 0 = membrane, 1 = cell


class Block(nn.Sequential):
    def __init__(self, cin, cout, convs=2):
        layers = []
        for i in range(convs):
            layers += [nn.Conv2d(cin if i == 0 else cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout, momentum=0.1), nn.ReLU(inplace=True)]
        super().__init__(*layers)


class UNet(nn.Module):
    def __init__(self, widths, convs=2):
        super().__init__()
        self.down = nn.ModuleList()
        cin = 1
        for w in widths:
            self.down.append(Block(cin, w, convs))
            cin = w
        self.up = nn.ModuleList()
        self.merge = nn.ModuleList()
        for w in reversed(widths[:-1]):
            self.up.append(nn.ConvTranspose2d(cin, w, 2, stride=2))
            self.merge.append(Block(2 * w, w, convs))
            cin = w
        self.head = nn.Conv2d(cin, 2, 1)

    def forward(self, x):
        skips = []
        for i, block in enumerate(self.down):
            x = block(x)
            if i < len(self.down) - 1:
                skips.append(x)
                x = F.max_pool2d(x, 2)
        for up, merge, skip in zip(self.up, self.merge, reversed(skips)):
            x = merge(torch.cat([skip, up(x)], 1))
        return self.head(x)


def augment(x, y, crop, generator, rotate=10.0, zoom=1.1, lighting=0.05, p=0.5):
    n, _, h, w = x.shape
    if crop:
        top = torch.randint(0, h - crop + 1, (n,), generator=generator)
        left = torch.randint(0, w - crop + 1, (n,), generator=generator)
        x = torch.stack([x[i, :, top[i]:top[i] + crop, left[i]:left[i] + crop] for i in range(n)])
        y = torch.stack([y[i, top[i]:top[i] + crop, left[i]:left[i] + crop] for i in range(n)])
    flip = (torch.rand(n, generator=generator) < 0.5).to(x.device)
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    y = torch.where(flip[:, None, None], y.flip(-1), y)
    angle = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(rotate) * (torch.rand(n, generator=generator) < p)
    scale = 1 / (1 + torch.rand(n, generator=generator) * (zoom - 1) * (torch.rand(n, generator=generator) < p))
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = torch.cos(angle) * scale
    theta[:, 0, 1] = -torch.sin(angle) * scale
    theta[:, 1, 0] = torch.sin(angle) * scale
    theta[:, 1, 1] = torch.cos(angle) * scale
    theta = theta.to(x.device)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode='bilinear', padding_mode='reflection', align_corners=False)
    y = F.grid_sample(y[:, None].float(), grid, mode='nearest', padding_mode='reflection', align_corners=False)[:, 0].long()
    light = (torch.rand(n, generator=generator) < p).to(x.device)
    contrast = 1 + ((torch.rand(n, generator=generator) * 2 - 1) * lighting).to(x.device)
    brightness = ((torch.rand(n, generator=generator) * 2 - 1) * lighting / 0.25).to(x.device)
    x = torch.where(light[:, None, None, None], x * contrast[:, None, None, None] + brightness[:, None, None, None], x)
    return x, y


def soft_dice_loss(logits, y):
    probabilities = logits.softmax(1)
    onehot = F.one_hot(y, 2).permute(0, 3, 1, 2).float()
    inter = (probabilities * onehot).sum((0, 2, 3))
    total = probabilities.sum((0, 2, 3)) + onehot.sum((0, 2, 3))
    return (1 - (2 * inter + 1) / (total + 1)).mean()


def score(model, x, size):
    _, masks256 = load(256)
    truth = masks256[24:].to(DEVICE)
    model.eval()
    with torch.no_grad():
        predicted = model(x).argmax(1)
        if size != 256:
            # nearest sampling, as sharp's nearest kernel picks pixels: index = floor((i + 0.5) * size / 256)
            index = ((torch.arange(256, device=DEVICE) + 0.5) * size / 256).floor().long()
            predicted = predicted[:, index][:, :, index]
    model.train()
    correct = (predicted == truth).float().mean().item()
    called, actual = predicted == 0, truth == 0
    dice = 2 * (called & actual).sum().item() / (called.sum().item() + actual.sum().item())
    return correct, dice


def run(config):
    size = config.get('size', 256)
    widths = config.get('widths', [24, 48, 96, 192])
    epochs = config.get('epochs', 36)
    batch = config.get('batch', 2)
    crop = config.get('crop', 128)
    lr = config.get('lr', 1e-2)
    use_dice = config.get('dice', True)
    seed = config.get('seed', 42)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    images, masks = load(size)
    train_x, train_y = images[:24].to(DEVICE), masks[:24].to(DEVICE)
    valid_x = images[24:].to(DEVICE)
    model = UNet(widths, config.get('convs', 2)).to(DEVICE)
    steps_per_epoch = math.ceil(24 / batch)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.95, 0.99), weight_decay=config.get('wd', 0.01))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * steps_per_epoch, pct_start=0.25, div_factor=25, final_div_factor=1e5)
    # Kindling's averageWeights: an exponential moving average of every weight and batch-norm statistic
    # over the steps from `average_from` of the fit on (decay `average`, 0: none), put in place at the end
    decay, average_from = config.get('average', 0), config.get('average_from', 0.5)
    averaged, total_steps, done_steps = None, epochs * steps_per_epoch, 0
    start = time.time()
    trace = []
    for epoch in range(epochs):
        order = torch.randperm(24, generator=generator)
        for step in range(steps_per_epoch):
            index = order[step * batch:(step + 1) * batch].to(DEVICE)
            x, y = augment(train_x[index], train_y[index], crop if crop and crop < size else None, generator,
                           config.get('rotate', 10.0), config.get('zoom', 1.1), config.get('lighting', 0.05), config.get('p', 0.5))
            logits = model(x)
            loss = F.cross_entropy(logits, y) + (soft_dice_loss(logits, y) if use_dice else 0)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            if decay and done_steps / total_steps >= average_from:
                with torch.no_grad():
                    state = {name: value.detach().clone() for name, value in model.state_dict().items() if value.is_floating_point()}
                    if averaged is None:
                        averaged = state
                    else:
                        for name, value in state.items():
                            averaged[name].mul_(decay).add_(value, alpha=1 - decay)
            done_steps += 1
        if epoch >= epochs - 3:
            trace.append(round(score(model, valid_x, size)[0] * 100, 2))
    seconds = round(time.time() - start, 1)
    accuracy, dice = score(model, valid_x, size)
    result = {**config, 'accuracy': round(accuracy * 100, 2), 'dice': round(dice, 4), 'last3': trace, 'seconds': seconds}
    if averaged is not None:
        average_model = copy.deepcopy(model)
        average_model.load_state_dict({**model.state_dict(), **averaged})
        averaged_accuracy, averaged_dice = score(average_model, valid_x, size)
        result.update(averagedAccuracy=round(averaged_accuracy * 100, 2), averagedDice=round(averaged_dice, 4))
    return result


if __name__ == '__main__':
    argument = sys.argv[2]
    configs = json.loads(argument if argument.lstrip().startswith('[') else open(argument).read())
    for config in configs:
        print(json.dumps(run(config)), flush=True)
