"""Uses every CPU source the audit knows and pins each: Python random, NumPy, scikit-learn's
random_state, a set iterated in sorted order, a sorted folder listing, one thread."""
import os
import random

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from threadpoolctl import threadpool_limits

from _common import dataset, save

random.seed(0)
np.random.seed(0)
threadpool_limits(1)
X, y = dataset()
shards = sorted(os.listdir("shards"))
columns = sorted({f"feature_{i}" for i in range(X.shape[1])})
order = [int(c.split("_")[1]) for c in columns]
rows = np.random.permutation(len(y))
random.shuffle(shards)  # seeded: the same every run
save(RandomForestClassifier(n_estimators=5, max_depth=3, n_jobs=1, random_state=0).fit(X[rows][:, order], y[rows]))
