"""Peers for small grey pictures given as raw bytes: an RBF support-vector machine and logistic regression on
the pixels (scaled to [0, 1]), trained on one set and scored on another.
Arguments: train.bin train-labels.bin test.bin test-labels.bin side. Prints one JSON line."""
import json
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC


def load(pictures, labels, side):
    x = np.fromfile(pictures, dtype=np.uint8).reshape(-1, side * side).astype(np.float32) / 255
    return x, np.fromfile(labels, dtype=np.uint8)


def main():
    side = int(sys.argv[5])
    x_train, y_train = load(sys.argv[1], sys.argv[2], side)
    x_test, y_test = load(sys.argv[3], sys.argv[4], side)
    svm = SVC(kernel='rbf', gamma='scale').fit(x_train, y_train)
    logistic = LogisticRegression(max_iter=2000).fit(x_train, y_train)
    print(json.dumps({'svm': float((svm.predict(x_test) == y_test).mean()), 'logistic': float((logistic.predict(x_test) == y_test).mean())}))


if __name__ == '__main__':
    main()
