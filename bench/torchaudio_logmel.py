"""Log-mel throughput of torchaudio (Debian python3-torchaudio) on the same WAV files and settings as
Kindling's sound benchmark: reading excluded, spectrogram + dB only. Prints one JSON line."""
import json
import sys
import time

import torch
import torchaudio

torch.set_num_threads(2)
files = sys.argv[1].split(',') if sys.argv[1].endswith('.wav') else open(sys.argv[1]).read().split('\n')
n_fft, hop, mels = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
waves = [torchaudio.load(f)[0][0] for f in files if f]
rate = 8000
transform = torch.nn.Sequential(
    torchaudio.transforms.MelSpectrogram(sample_rate=rate, n_fft=n_fft, hop_length=hop, n_mels=mels),
    torchaudio.transforms.AmplitudeToDB('power', top_db=80))
seconds_of_audio = sum(w.shape[0] for w in waves) / rate
start = time.perf_counter()
with torch.no_grad():
    for w in waves:
        transform(w)
elapsed = time.perf_counter() - start
print(json.dumps({'audioSeconds': seconds_of_audio, 'seconds': elapsed, 'realtime': seconds_of_audio / elapsed}))
