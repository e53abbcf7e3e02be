"""Integrations of bctrace ML runs with training frameworks.

Each submodule imports its framework, so import only the one you use (each is an optional extra):

- :mod:`bctrace.ml.integrations.sklearn` — ``fit`` / ``predict`` helpers for scikit-learn.
- :mod:`bctrace.ml.integrations.torch` — state_dict hashing and seeded DataLoader arguments.
- :mod:`bctrace.ml.integrations.lightning` — ``BctraceCallback`` for PyTorch Lightning.
- :mod:`bctrace.ml.integrations.transformers` — ``BctraceCallback`` for the Hugging Face Trainer.
- :mod:`bctrace.ml.integrations.mlflow` — anchor an MLflow run and tag it with the anchor.

This package itself imports no framework.
"""
