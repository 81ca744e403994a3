"""Small tables scikit-learn ships (no download), split 75/25 by class with a fixed seed and written as CSV files
with a header row and a `label` column (class names), for `kindling train tabular` and sklearn_table.py.
Arguments: the folder to write into, the split's seed, then the sets (breast-cancer: 569 tumours, 30 measurements, 2 classes;
wine: 178 wines, 13 measurements, 3 cultivars). Prints one JSON line: {set: {"train": path, "test": path, "rows": n}}."""
import csv
import json
import os
import sys

from sklearn.datasets import load_breast_cancer, load_wine
from sklearn.model_selection import train_test_split

LOADERS = {'breast-cancer': load_breast_cancer, 'wine': load_wine}


def write(path, header, rows):
    with open(path, 'w', newline='') as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)


def main():
    folder, seed, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    written = {}
    for name in names:
        data = LOADERS[name]()
        header = [str(feature) for feature in data.feature_names] + ['label']
        rows = [[repr(float(value)) for value in features] + [str(data.target_names[target])] for features, target in zip(data.data, data.target)]
        train, test = train_test_split(rows, test_size=0.25, stratify=data.target, random_state=seed)
        paths = {part: os.path.join(folder, f'{name}-{seed}-{part}.csv') for part in ('train', 'test')}
        write(paths['train'], header, train)
        write(paths['test'], header, test)
        written[name] = {**paths, 'rows': len(train)}
    print(json.dumps(written))


if __name__ == '__main__':
    main()
