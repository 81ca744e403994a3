"""Peers for a table with a header row: logistic regression (one-hot categories, standardized numbers, median
fill) and histogram gradient boosting, trained on one CSV and scored on another. A column is numeric when every
non-empty value parses as a number. Prints one JSON line: {"logistic": acc, "boosting": acc, "majority": acc}."""
import csv
import json
import sys

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler


def read(path):
    with open(path, newline='') as file:
        rows = list(csv.reader(file))
    return rows[0], rows[1:]


def is_number(value):
    try:
        float(value)
        return True
    except ValueError:
        return False


def main():
    train_path, test_path, target = sys.argv[1], sys.argv[2], sys.argv[3]
    header, train = read(train_path)
    _, test = read(test_path)
    t = header.index(target)
    features = [i for i in range(len(header)) if i != t]
    numeric = [i for i in features if all(is_number(r[i]) for r in train if r[i] not in ('', '?'))]
    categorical = [i for i in features if i not in numeric]

    def matrix(rows):
        # a test value that is no number in a column numeric in training (Cars93's one 'rotary' engine) is a gap
        number = np.array([[float(r[i]) if r[i] not in ('', '?') and is_number(r[i]) else np.nan for i in numeric] for r in rows], dtype=float)
        category = np.array([[r[i] for i in categorical] for r in rows], dtype=object)
        return np.concatenate([number, category], axis=1)

    labels = sorted({r[t] for r in train})
    y_train = np.array([labels.index(r[t]) for r in train])
    y_test = np.array([labels.index(r[t]) if r[t] in labels else -1 for r in test])
    x_train, x_test = matrix(train), matrix(test)
    n = len(numeric)
    number_columns, category_columns = list(range(n)), list(range(n, n + len(categorical)))
    logistic = make_pipeline(
        ColumnTransformer([('number', make_pipeline(SimpleImputer(strategy='median'), StandardScaler()), number_columns),
                           ('category', OneHotEncoder(handle_unknown='ignore'), category_columns)]),
        LogisticRegression(max_iter=3000))
    logistic.fit(x_train, y_train)
    boosting = make_pipeline(
        ColumnTransformer([('number', 'passthrough', number_columns),
                           ('category', OrdinalEncoder(handle_unknown='use_encoded_value', unknown_value=-1), category_columns)]),
        HistGradientBoostingClassifier(categorical_features=category_columns, random_state=0))
    boosting.fit(x_train, y_train)
    counts = np.bincount(y_train, minlength=len(labels))
    print(json.dumps({
        'logistic': float((logistic.predict(x_test) == y_test).mean()),
        'boosting': float((boosting.predict(x_test) == y_test).mean()),
        'majority': float((y_test == counts.argmax()).mean()),
    }))


if __name__ == '__main__':
    main()
