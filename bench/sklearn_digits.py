"""scikit-learn's copy of the UCI handwritten digits (1,797 pictures of 8x8, shipped inside scikit-learn, no
download), split 75/25 by class with a fixed seed and written as raw bytes (grey levels 0-16 scaled to 0-255) for
Kindling and for sklearn_pixels.py. Argument: the folder to write train.bin, train-labels.bin, test.bin and
test-labels.bin into. Prints one JSON line with the counts."""
import json
import os
import sys

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def main():
    folder = sys.argv[1]
    digits = load_digits()
    pixels = np.round(digits.images.reshape(len(digits.images), -1) * (255 / 16)).astype(np.uint8)
    labels = digits.target.astype(np.uint8)
    x_train, x_test, y_train, y_test = train_test_split(pixels, labels, test_size=0.25, stratify=labels, random_state=0)
    for name, array in [('train.bin', x_train), ('train-labels.bin', y_train), ('test.bin', x_test), ('test-labels.bin', y_test)]:
        array.tofile(os.path.join(folder, name))
    print(json.dumps({'train': int(len(y_train)), 'test': int(len(y_test))}))


if __name__ == '__main__':
    main()
