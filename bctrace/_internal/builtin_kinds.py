"""Built-in plugin: the record kinds bctrace knows, registered through ``bctrace_register_kinds``
as a third party's would be. ``ml-run`` is the ML plugin's (:mod:`bctrace.ml.kind`).

The models are registered by reference (:mod:`.builtin_kind_models`): building the plugin
manager, which every command does, then costs no pydantic model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .hookspecs import hookimpl

if TYPE_CHECKING:
    from .registry import KindRegistry

_MODELS = "bctrace._internal.builtin_kind_models"


@hookimpl
def bctrace_register_kinds(registry: KindRegistry) -> None:
    registry.add("donation", f"{_MODELS}:Donation", private=("donor",),
                 description="A donation: donor, recipient, amount (decimal text), ISO 4217 currency, purpose")
    registry.add("supply-step", f"{_MODELS}:SupplyStep", description="A hand-over of a lot or item: from, to, location, time, quantity and unit")
    registry.add("authorship", f"{_MODELS}:Authorship", description="A claim of authorship: the work's sha256, its authors, when claimed")
    registry.add("file", f"{_MODELS}:File", description="A file by its hash (bctrace stamp FILE)")
    registry.add("dataset", f"{_MODELS}:Dataset", description="A dataset or folder by its manifest (bctrace stamp FOLDER)")
    registry.add("text", f"{_MODELS}:TextBody", description="A text by its (salted) hash (bctrace stamp -)")
