"""PyTorch twin of `kindling train segment` with its defaults, for `pnpm bench defaults` (multi-class sets).

Reads DATA_DIR/meta.json ({"width", "height", "count", "train", "classes", "void"}), images.bin (count x height x
width x 3 uint8, resized by sharp as the Kindling loaders resize them) and masks.bin (count x height x width class
indices, nearest); the first `train` pictures train, the rest validate. The same U-Net as @kindling/models
builds (two conv3x3-BN-ReLU per level, max-pool, 2x2 transposed convolutions, 1x1 head; He-normal initialisation and
Keras's batch norm, momentum 0.9 / eps 1e-3, as Kindling's), AdamW one-cycle
(betas 0.9/0.99, weight decay 0.01, as Kindling's adam), cross-entropy (+ soft Dice when the config says so),
void ignored (class weights when the config has them), random crops, flips, small rotations, zoom and lighting. The same settings as the Kindling run
(size, crop, batch, epochs, learning rate, loss) come in the config. Scores pixel accuracy, each class's IoU
and Dice on the whole validation pictures, and their mean IoU (over the classes in the truth or the answer).

usage: python3 torch_scenes_unet.py DATA_DIR '<json config>'  -> one JSON line
"""
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DATA = sys.argv[1]
CONFIG = json.loads(sys.argv[2])
torch.set_num_threads(CONFIG.get('threads', 2))


def norm(width):
    # Keras's batch norm as Kindling's U-Net has it: moving averages kept at 0.9 (PyTorch's momentum 0.1), eps 1e-3
    return nn.BatchNorm2d(width, eps=1e-3, momentum=0.1)


class Block(nn.Sequential):
    def __init__(self, cin, cout):
        super().__init__(
            nn.Conv2d(cin, cout, 3, padding=1, bias=False), norm(cout), nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False), norm(cout), nn.ReLU(inplace=True))


class UNet(nn.Module):
    def __init__(self, widths, classes):
        super().__init__()
        self.down = nn.ModuleList()
        cin = 3
        for width in widths:
            self.down.append(Block(cin, width))
            cin = width
        self.up, self.merge = nn.ModuleList(), nn.ModuleList()
        for width in reversed(widths[:-1]):
            self.up.append(nn.ConvTranspose2d(cin, width, 2, stride=2))
            self.merge.append(Block(2 * width, width))
            cin = width
        self.head = nn.Conv2d(cin, classes, 1)
        # Kindling's initialisation (not PyTorch's default, a third of the variance): He normal for the 3x3 and the
        # transposed convolutions, Glorot uniform for the 1x1 head, biases zero
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
                if module is self.head:
                    nn.init.xavier_uniform_(module.weight)
                else:
                    nn.init.kaiming_normal_(module.weight, mode='fan_out' if isinstance(module, nn.ConvTranspose2d) else 'fan_in', nonlinearity='relu')
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def forward(self, x):
        skips = []
        for index, block in enumerate(self.down):
            x = block(x)
            if index < len(self.down) - 1:
                skips.append(x)
                x = F.max_pool2d(x, 2)
        for up, merge, skip in zip(self.up, self.merge, reversed(skips)):
            x = merge(torch.cat([skip, up(x)], 1))
        return self.head(x)


def augment(x, y, crop, generator, void, std, rotate=10.0, zoom=1.15, lighting=0.15, p=0.75):
    n, _, h, w = x.shape
    if crop and crop < h:
        top = torch.randint(0, h - crop + 1, (n,), generator=generator)
        left = torch.randint(0, w - crop + 1, (n,), generator=generator)
        x = torch.stack([x[i, :, top[i]:top[i] + crop, left[i]:left[i] + crop] for i in range(n)])
        y = torch.stack([y[i, top[i]:top[i] + crop, left[i]:left[i] + crop] for i in range(n)])
    flip = torch.rand(n, generator=generator) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    y = torch.where(flip[:, None, None], y.flip(-1), y)
    angle = (torch.rand(n, generator=generator) * 2 - 1) * math.radians(rotate) * (torch.rand(n, generator=generator) < p)
    scale = 1 / (1 + torch.rand(n, generator=generator) * (zoom - 1) * (torch.rand(n, generator=generator) < p))
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = torch.cos(angle) * scale
    theta[:, 0, 1] = -torch.sin(angle) * scale
    theta[:, 1, 0] = torch.sin(angle) * scale
    theta[:, 1, 1] = torch.cos(angle) * scale
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode='bilinear', padding_mode='reflection', align_corners=False)
    y = F.grid_sample(y[:, None].float(), grid, mode='nearest', padding_mode='reflection', align_corners=False)[:, 0].long()
    contrast = 1 + (torch.rand(n, generator=generator) * 2 - 1) * lighting
    brightness = (torch.rand(n, generator=generator) * 2 - 1) * lighting / std  # a share of [0, 1], normalized
    x = x * contrast[:, None, None, None] + brightness[:, None, None, None]
    return x, y


def soft_dice_loss(logits, y, classes, void):
    valid = (y != void) if void is not None else torch.ones_like(y, dtype=torch.bool)
    probabilities = logits.softmax(1) * valid[:, None]
    onehot = F.one_hot(torch.where(valid, y, torch.zeros_like(y)), classes).permute(0, 3, 1, 2).float() * valid[:, None]
    inter = (probabilities * onehot).sum((0, 2, 3))
    total = probabilities.sum((0, 2, 3)) + onehot.sum((0, 2, 3))
    return (1 - (2 * inter + 1) / (total + 1)).mean()


def main():
    meta = json.load(open(f'{DATA}/meta.json'))
    width, height, count, train, classes, void = meta['width'], meta['height'], meta['count'], meta['train'], meta['classes'], meta.get('void')
    images = np.fromfile(f'{DATA}/images.bin', dtype=np.uint8).reshape(count, height, width, 3).astype(np.float32) / 255.0
    masks = np.fromfile(f'{DATA}/masks.bin', dtype=np.uint8).reshape(count, height, width).astype(np.int64)
    # normalized per channel with the training pictures' statistics, as Kindling's loaders do
    mean, std = images[:train].mean((0, 1, 2)), images[:train].std((0, 1, 2)) + 1e-7
    x_all = torch.tensor((images - mean) / std).permute(0, 3, 1, 2).contiguous()
    y_all = torch.tensor(masks)
    train_x, train_y, valid_x, valid_y = x_all[:train], y_all[:train], x_all[train:], y_all[train:]
    seed = CONFIG.get('seed', 42)
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    model = UNet(CONFIG['widths'], classes)
    epochs, batch, lr = CONFIG['epochs'], CONFIG['batch'], CONFIG['lr']
    steps_per_epoch = max(1, train // batch)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.99), eps=1e-5, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * steps_per_epoch, pct_start=0.25, div_factor=25, final_div_factor=1e5)
    ignore = void if void is not None else -100
    # Kindling's class weights: the weighted mean over the pixels, as F.cross_entropy's weight gives it
    weights = torch.tensor(CONFIG['classWeights'], dtype=torch.float32) if CONFIG.get('classWeights') else None
    start = time.time()
    for _ in range(epochs):
        order = torch.randperm(train, generator=generator)
        for step in range(steps_per_epoch):
            index = order[step * batch:(step + 1) * batch]
            x, y = augment(train_x[index], train_y[index], CONFIG.get('crop'), generator, void, float(std.mean()))
            logits = model(x)
            loss = F.cross_entropy(logits, y, weight=weights, ignore_index=ignore)
            if CONFIG.get('dice'):
                loss = loss + soft_dice_loss(logits, y, classes, void)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
    seconds = time.time() - start
    model.eval()
    with torch.no_grad():
        predicted = torch.cat([model(valid_x[i:i + 8]).argmax(1) for i in range(0, len(valid_x), 8)])
    keep = valid_y != ignore
    truth, answer = valid_y[keep], predicted[keep]
    iou, dice = [], []
    for code in range(classes):
        if code == void:
            iou.append(None)
            dice.append(None)
            continue
        called, actual = answer == code, truth == code
        inter, union = (called & actual).sum().item(), (called | actual).sum().item()
        total = called.sum().item() + actual.sum().item()
        iou.append(inter / union if union > 0 else None)
        dice.append(2 * inter / total if total > 0 else None)
    present = [value for value in iou if value is not None]
    print(json.dumps({'pixelAccuracy': (truth == answer).float().mean().item(), 'meanIoU': sum(present) / len(present), 'iou': iou, 'dice': dice, 'seconds': round(seconds, 1)}), flush=True)


main()
