"""Nondeterministic only through Python's unseeded `random`: it shuffles the training rows of an
order-sensitive model (SGD without its own shuffling)."""
import random

from _common import dataset, fit_sgd, save

X, y = dataset()
order = list(range(len(y)))
random.shuffle(order)
save(fit_sgd(X[order], y[order]))
