"""The PyTorch twin of Kindling's sound benchmark (CPU, 2 threads): the same clips, split, log-mel settings,
ResNet widths, augmentation and one-cycle AdamW schedule, written as a PyTorch user would write it
(waveforms augmented per item, log-mel spectrograms computed per batch with torchaudio).

argv: a JSON file {"train": [[path, label], ...], "valid": [...], "classes": n, "nFft", "hop", "mels", "topDb",
"epochs", "lr", "batchSize", "widths", "speed", "seed"}. Prints one JSON line:
{"secondsPerEpoch": ..., "accuracy": ..., "train": n, "valid": n}.
"""
import json
import math
import random
import sys
import time

import torch
import torchaudio
from torch import nn

torch.set_num_threads(2)
config = json.load(open(sys.argv[1]))
seed = config.get('seed', 42)
random.seed(seed)
torch.manual_seed(seed)
RATE, LENGTH = 8000, 8000


def load(path):
    wave, rate = torchaudio.load(path)
    wave = wave.mean(0)
    return wave if rate == RATE else torchaudio.functional.resample(wave, rate, RATE)


train = [(load(path), label) for path, label in config['train']]
valid = [(load(path), label) for path, label in config['valid']]


def fit_length(wave, randomly):
    slack = abs(wave.shape[0] - LENGTH)
    offset = random.randint(0, slack) if randomly else slack // 2
    if wave.shape[0] >= LENGTH:
        return wave[offset:offset + LENGTH]
    out = torch.zeros(LENGTH)
    out[offset:offset + wave.shape[0]] = wave
    return out


def augment(wave):
    """Speed perturbation (1% steps), a random crop or padding, a time shift of up to 10% and white noise at
    10-30 dB SNR half the time: Kindling's training augmentation."""
    if config['speed'] > 0:
        percent = round(100 * random.uniform(1 - config['speed'], 1 + config['speed']))
        if percent != 100:
            wave = torchaudio.functional.resample(wave, 100, percent)
    wave = fit_length(wave, True)
    limit = int(LENGTH * 0.1)
    shift = random.randint(-limit, limit)
    if shift > 0:
        wave = torch.cat([torch.zeros(shift), wave[:-shift]])
    elif shift < 0:
        wave = torch.cat([wave[-shift:], torch.zeros(-shift)])
    if random.random() < 0.5:
        noise = torch.randn(LENGTH)
        signal, power = (wave ** 2).sum(), (noise ** 2).sum()
        if signal > 0:
            snr = random.uniform(10, 30)
            wave = wave + torch.sqrt(signal / (power * 10 ** (snr / 10))) * noise
    return wave


mel = torchaudio.transforms.MelSpectrogram(sample_rate=RATE, n_fft=config['nFft'], hop_length=config['hop'], n_mels=config['mels'], mel_scale='htk')
to_db = torchaudio.transforms.AmplitudeToDB('power', top_db=config['topDb'])


def features(waves):
    """[batch, samples] -> [batch, 1, frames, mels], each example normalized by its own mean and std."""
    with torch.no_grad():
        spectrograms = torch.stack([to_db(s) for s in mel(waves)]).transpose(1, 2)  # top_db per example, as Kindling
        mean = spectrograms.mean(dim=(1, 2), keepdim=True)
        std = spectrograms.std(dim=(1, 2), keepdim=True, unbiased=False)
        return ((spectrograms - mean) / (std + 1e-5)).unsqueeze(1)


class Block(nn.Module):
    def __init__(self, channels, width, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, width, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width, eps=1e-3, momentum=0.1)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width, eps=1e-3, momentum=0.1)
        self.shortcut = nn.Identity() if stride == 1 and channels == width else nn.Sequential(nn.Conv2d(channels, width, 1, stride, bias=False), nn.BatchNorm2d(width, eps=1e-3, momentum=0.1))

    def forward(self, x):
        y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(y + self.shortcut(x))


def resnet(widths, classes):
    """Kindling's `resnet`: a 3×3 stem, one basic block per stage (stride 2 after the first), global average
    pooling, dropout 0.1 and a dense head."""
    layers = [nn.Conv2d(1, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0], eps=1e-3, momentum=0.1), nn.ReLU()]
    channels = widths[0]
    for stage, width in enumerate(widths):
        layers.append(Block(channels, width, 2 if stage > 0 else 1))
        channels = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.1), nn.Linear(channels, classes)]
    return nn.Sequential(*layers)


model = resnet(config['widths'], config['classes'])
epochs, batch_size = config['epochs'], config['batchSize']
steps = epochs * math.ceil(len(train) / batch_size)
# fastai's one-cycle (Kindling's fitOneCycle): AdamW betas (0.95→0.85→0.95, 0.99), eps 1e-5, weight decay 0.01,
# 25% warm-up from lr/25, cosine down to lr/1e5
optimizer = torch.optim.AdamW(model.parameters(), lr=config['lr'], betas=(0.95, 0.99), eps=1e-5, weight_decay=0.01)
schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config['lr'], total_steps=steps, pct_start=0.25, div_factor=25, final_div_factor=1e5 / 25, base_momentum=0.85, max_momentum=0.95, three_phase=False)
loss_function = nn.CrossEntropyLoss()

start = time.perf_counter()
for epoch in range(epochs):
    model.train()
    order = list(range(len(train)))
    random.shuffle(order)
    for first in range(0, len(order), batch_size):
        chosen = order[first:first + batch_size]
        x = features(torch.stack([augment(train[i][0]) for i in chosen]))
        y = torch.tensor([train[i][1] for i in chosen])
        optimizer.zero_grad()
        loss = loss_function(model(x), y)
        loss.backward()
        optimizer.step()
        schedule.step()
    model.eval()
    correct = 0
    with torch.no_grad():
        for first in range(0, len(valid), 64):
            part = valid[first:first + 64]
            x = features(torch.stack([fit_length(wave, False) for wave, _ in part]))
            correct += int((model(x).argmax(1) == torch.tensor([label for _, label in part])).sum())
    print(f'  PyTorch epoch {epoch + 1}/{epochs}: valid accuracy {100 * correct / len(valid):.2f}%', file=sys.stderr, flush=True)
elapsed = time.perf_counter() - start
print(json.dumps({'secondsPerEpoch': elapsed / epochs, 'accuracy': correct / len(valid), 'train': len(train), 'valid': len(valid)}))
