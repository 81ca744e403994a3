"""Small public tables (under 1,000 rows, no download), split 75/25 by class with a fixed seed and written as CSV
files with a header row and a `label` column (class names), for `kindling train tabular` and sklearn_table.py.
scikit-learn ships three (python3-sklearn): breast-cancer (569 tumours, 30 measurements), wine (178 wines, 13
measurements, 3 cultivars), iris (150 flowers, 4 measurements, 3 species). R and its MASS package ship the others
(Debian r-base-core and r-cran-mass; read through Rscript; GPL-2 | GPL-3, the data public): pima (532 women of the
Pima people, diabetes), biopsy (699 breast biopsies, the patient ID dropped), birthwt (189 births, low birth weight;
the weight itself dropped), crabs (200 crabs, species; the index dropped), glass (214 glass fragments, 6 kinds),
cats (144 cats, sex from body and heart weight), survey (237 students, sex, with gaps), shuttle (256 landings, all
categorical: autolander or not), cars93 (93 cars, USA or not; names dropped), infert (248 women, infertility; the
strata dropped). Arguments: the folder to write into, the split's seed, then the sets. Prints one JSON line:
{set: {"train": path, "test": path, "rows": n}}."""
import csv
import json
import os
import shutil
import subprocess
import sys

from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.model_selection import train_test_split

SKLEARN = {'breast-cancer': load_breast_cancer, 'wine': load_wine, 'iris': load_iris}
# name: (R expression of the data frame, target column, columns dropped)
R_TABLES = {
    'pima': ('rbind(MASS::Pima.tr, MASS::Pima.te)', 'type', []),
    'biopsy': ('MASS::biopsy', 'class', ['ID']),
    'birthwt': ('MASS::birthwt', 'low', ['bwt']),
    'crabs': ('MASS::crabs', 'sp', ['index']),
    'glass': ('MASS::fgl', 'type', []),
    'cats': ('MASS::cats', 'Sex', []),
    'survey': ('MASS::survey', 'Sex', []),
    'shuttle': ('MASS::shuttle', 'use', []),
    'cars93': ('MASS::Cars93', 'Origin', ['Manufacturer', 'Model', 'Make']),
    'infert': ('datasets::infert', 'case', ['stratum', 'pooled.stratum']),
}
ALL = [*SKLEARN, *R_TABLES]


def write(path, header, rows):
    with open(path, 'w', newline='') as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)


def from_sklearn(name):
    data = SKLEARN[name]()
    header = [str(feature) for feature in data.feature_names] + ['label']
    rows = [[repr(float(value)) for value in features] + [str(data.target_names[target])] for features, target in zip(data.data, data.target)]
    return header, rows


def from_r(name, folder):
    expression, target, dropped = R_TABLES[name]
    raw = os.path.join(folder, f'{name}-r.csv')
    if not os.path.exists(raw):
        subprocess.run(['Rscript', '-e', f'write.csv({expression}, file = "{raw}", row.names = FALSE, na = "")'], check=True, capture_output=True)
    with open(raw, newline='') as file:
        table = list(csv.reader(file))
    kept = [index for index, column in enumerate(table[0]) if column not in dropped and column != target]
    at = table[0].index(target)
    header = [table[0][index] for index in kept] + ['label']
    # a row without its class (one student's sex) is left out
    return header, [[row[index] for index in kept] + [row[at]] for row in table[1:] if row[at] != '']


def main():
    folder, seed, names = sys.argv[1], int(sys.argv[2]), sys.argv[3:] or ALL
    if shutil.which('Rscript') is None and any(name in R_TABLES for name in names):
        names = [name for name in names if name not in R_TABLES]
        if seed == 0:
            print('R is not installed (Debian r-base-core and r-cran-mass): only the tables scikit-learn ships', file=sys.stderr)
    written = {}
    for name in names:
        header, rows = from_sklearn(name) if name in SKLEARN else from_r(name, folder)
        train, test = train_test_split(rows, test_size=0.25, stratify=[row[-1] for row in rows], random_state=seed)
        paths = {part: os.path.join(folder, f'{name}-{seed}-{part}.csv') for part in ('train', 'test')}
        write(paths['train'], header, train)
        write(paths['test'], header, test)
        written[name] = {**paths, 'rows': len(train)}
    print(json.dumps(written))


if __name__ == '__main__':
    main()
