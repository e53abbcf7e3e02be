"""bctrace's internals: everything here may change in any release.

Users import from :mod:`bctrace`; plugin authors from :mod:`bctrace.api` (and
:mod:`bctrace.errors`, :mod:`bctrace.testing`).
"""
