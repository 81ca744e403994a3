"""The peer for Balabit mouse dynamics: hand-made movement statistics of each window with histogram gradient
boosting, the usual recipe of the mouse-dynamics literature. Sessions are read as `kindling train pointer` reads
them (client timestamps, events off a 1920x1080 screen dropped, time order restored, exact duplicates dropped),
cut the same way (windows of 50 events, never across a 10 s pause, a tail of at least 25 kept, at most 100 evenly
spaced windows a session) and split the same way (the validation sessions named on the command line, every window
of a session on one side). A session's answer is its windows' mean class probabilities.

usage: sklearn_pointer.py <training_files> <validation session names, comma separated>
Prints one JSON line: {"window": acc, "session": acc, "sessions": n, "majority": acc}."""
import csv
import json
import math
import os
import sys

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

SCREEN = (1920, 1080)
SIZE, MIN_EVENTS, IDLE_GAP, MAX_WINDOWS = 50, 25, 10_000, 100


def read_session(path):
    events = []
    with open(path, newline='') as file:
        for row in csv.DictReader(file):
            t = float(row['client timestamp']) * 1000
            x, y = float(row['x']), float(row['y'])
            if not (math.isfinite(t) and math.isfinite(x) and math.isfinite(y)):
                continue
            if x < 0 or y < 0 or x > SCREEN[0] or y > SCREEN[1]:
                continue
            state = row['state']
            kind = {'Move': 'move', 'Drag': 'move', 'Pressed': 'down', 'Released': 'up'}.get(state, 'wheel')
            events.append((t, kind, x, y, row['button']))
    events.sort(key=lambda event: event[0])
    cleaned = []
    for event in events:
        if cleaned and cleaned[-1] == event:
            continue
        cleaned.append(event)
    return cleaned


def windows_of(events):
    parts, current = [], []
    for event in events:
        if current and event[0] - current[-1][0] > IDLE_GAP:
            parts.append(current)
            current = []
        current.append(event)
    if current:
        parts.append(current)
    windows = []
    for part in parts:
        for start in range(0, len(part), SIZE):
            window = part[start:start + SIZE]
            if len(window) == SIZE or len(window) >= MIN_EVENTS:
                windows.append(window)
            if start + SIZE >= len(part):
                break
    if len(windows) > MAX_WINDOWS:
        step = len(windows) / MAX_WINDOWS
        windows = [windows[int(index * step)] for index in range(MAX_WINDOWS)]
    return windows


def stats(values):
    if len(values) == 0:
        return [0.0] * 5
    values = np.asarray(values, dtype=np.float64)
    return [values.mean(), values.std(), np.median(values), np.percentile(values, 90), values.max()]


def features(window):
    t = np.array([event[0] for event in window])
    x = np.array([event[2] for event in window])
    y = np.array([event[3] for event in window])
    kinds = [event[1] for event in window]
    dt = np.maximum(np.diff(t), 1.0)
    dx, dy = np.diff(x), np.diff(y)
    step = np.hypot(dx, dy)
    speed = step / dt
    acceleration = np.diff(speed) / dt[1:] if len(speed) > 1 else np.array([])
    moving = step > 0
    angle = np.arctan2(dy[moving], dx[moving])
    turn = np.abs(np.angle(np.exp(1j * np.diff(angle)))) if len(angle) > 1 else np.array([])
    direction = np.histogram(angle, bins=8, range=(-math.pi, math.pi))[0] / max(1, len(angle))
    distance = step.sum()
    displacement = math.hypot(x[-1] - x[0], y[-1] - y[0])
    return [
        t[-1] - t[0],
        distance,
        displacement / distance if distance > 0 else 0.0,
        kinds.count('down'),
        kinds.count('wheel'),
        sum(1 for event in window if event[4] not in ('NoButton',) and event[1] == 'move') / len(window),
        x.mean() / SCREEN[0], y.mean() / SCREEN[1], x.std() / SCREEN[0], y.std() / SCREEN[1],
        (x.max() - x.min()) / SCREEN[0], (y.max() - y.min()) / SCREEN[1],
        *stats(speed), *stats(np.abs(acceleration)), *stats(turn), *stats(dt),
        (dt > 100).mean(),
        *direction,
    ]


def main():
    root, valid = sys.argv[1], set(sys.argv[2].split(','))
    users = sorted(entry for entry in os.listdir(root) if os.path.isdir(os.path.join(root, entry)))
    train_x, train_y, valid_x, valid_y, valid_session = [], [], [], [], []
    for label, user in enumerate(users):
        for session in sorted(os.listdir(os.path.join(root, user))):
            rows = [features(window) for window in windows_of(read_session(os.path.join(root, user, session)))]
            if session in valid:
                valid_x += rows
                valid_y += [label] * len(rows)
                valid_session += [session] * len(rows)
            else:
                train_x += rows
                train_y += [label] * len(rows)
    model = HistGradientBoostingClassifier(random_state=0).fit(np.array(train_x), np.array(train_y))
    probabilities = model.predict_proba(np.array(valid_x))
    valid_y = np.array(valid_y)
    window_accuracy = float((model.classes_[probabilities.argmax(1)] == valid_y).mean())
    right, labels = 0, []
    for session in sorted(set(valid_session)):
        rows = [index for index, name in enumerate(valid_session) if name == session]
        labels.append(valid_y[rows[0]])
        right += int(model.classes_[probabilities[rows].mean(0).argmax()] == valid_y[rows[0]])
    majority = max(labels.count(label) for label in set(labels)) / len(labels)
    print(json.dumps({'window': window_accuracy, 'session': right / len(labels), 'sessions': len(labels), 'majority': majority}))


if __name__ == '__main__':
    main()
