"""The web side of bctrace: the in-browser verifier (a static page built from ``web/verifier/``
and shipped as package data) and ``bctrace serve``, which serves it with read-only pages of the
project's own records. Needs the ``serve`` extra (Starlette, uvicorn) only for serving; the static
page itself needs nothing."""
