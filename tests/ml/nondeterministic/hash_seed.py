"""Nondeterministic only through hash randomisation: the feature order comes from iterating a set
of column names, so the fitted coefficients come out in another order."""
from _common import dataset, fit_sgd, save

X, y = dataset()
names = {f"feature_{i}" for i in range(X.shape[1])}
order = [int(name.split("_")[1]) for name in names]  # set order: changes with PYTHONHASHSEED
save(fit_sgd(X[:, order], y))
