"""Nondeterministic only through scikit-learn's own seed: a random forest without random_state.
The script seeds nothing else and draws nothing else."""
from sklearn.ensemble import RandomForestClassifier

from _common import dataset, save

X, y = dataset()
save(RandomForestClassifier(n_estimators=5, max_depth=3, n_jobs=1).fit(X, y))
