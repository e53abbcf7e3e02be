"""The shared anchoring service: many producers send records (or bare digests) over HTTP, one
service anchors them all on a schedule, and each producer fetches its proofs (``/v1`` routes of
``bctrace serve``)."""
