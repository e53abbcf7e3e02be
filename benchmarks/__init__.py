"""bctrace's benchmarks: ``python -m benchmarks`` runs every one beside its baseline in the same
run and writes ``benchmarks/results/<date>.json``, a Markdown table and PNG plots."""
