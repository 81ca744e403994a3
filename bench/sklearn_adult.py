"""UCI Adult baselines with scikit-learn on the given train/test split: logistic regression
(one-hot categories, standardized numbers) and histogram gradient boosting. Prints one JSON line."""
import json
import sys
import time

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

COLUMNS = ['age', 'workclass', 'fnlwgt', 'education', 'education-num', 'marital-status', 'occupation',
           'relationship', 'race', 'sex', 'capital-gain', 'capital-loss', 'hours-per-week', 'native-country', 'income']
CONTINUOUS = ['age', 'fnlwgt', 'education-num', 'capital-gain', 'capital-loss', 'hours-per-week']
CATEGORICAL = [c for c in COLUMNS[:-1] if c not in CONTINUOUS]


def read(path):
    rows = []
    with open(path) as file:
        for line in file:
            fields = [f.strip() for f in line.split(',')]
            if len(fields) != len(COLUMNS):
                continue
            rows.append(fields)
    X_cont = np.array([[float(r[COLUMNS.index(c)]) for c in CONTINUOUS] for r in rows])
    X_cat = np.array([[r[COLUMNS.index(c)] for c in CATEGORICAL] for r in rows], dtype=object)
    y = np.array([r[-1].rstrip('.') == '>50K' for r in rows], dtype=int)
    return X_cont, X_cat, y


def main():
    train_path, test_path = sys.argv[1], sys.argv[2]
    cont_train, cat_train, y_train = read(train_path)
    cont_test, cat_test, y_test = read(test_path)
    X_train = np.concatenate([cont_train, cat_train], axis=1)
    X_test = np.concatenate([cont_test, cat_test], axis=1)
    n = len(CONTINUOUS)
    cont_idx, cat_idx = list(range(n)), list(range(n, n + len(CATEGORICAL)))
    results = {}
    start = time.perf_counter()
    logistic = make_pipeline(
        ColumnTransformer([('cont', StandardScaler(), cont_idx), ('cat', OneHotEncoder(handle_unknown='ignore'), cat_idx)]),
        LogisticRegression(max_iter=2000))
    logistic.fit(X_train, y_train)
    results['logistic'] = {'accuracy': float((logistic.predict(X_test) == y_test).mean()), 'seconds': time.perf_counter() - start}
    start = time.perf_counter()
    boosting = make_pipeline(
        ColumnTransformer([('cont', 'passthrough', cont_idx), ('cat', OrdinalEncoder(handle_unknown='use_encoded_value', unknown_value=-1), cat_idx)]),
        HistGradientBoostingClassifier(categorical_features=list(range(n, n + len(CATEGORICAL))), random_state=0))
    boosting.fit(X_train, y_train)
    results['boosting'] = {'accuracy': float((boosting.predict(X_test) == y_test).mean()), 'seconds': time.perf_counter() - start}
    results['majority'] = float(max(y_test.mean(), 1 - y_test.mean()))
    print(json.dumps(results))


if __name__ == '__main__':
    main()
