"""A sample third-party bctrace plugin: the smallest real backend a plugin author would write."""
