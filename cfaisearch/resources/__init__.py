"""Async resources: the source of truth for the generated sync facade.

All are hand-written but ``instances.py`` and ``jobs.py``, the deprecated
top-level family, which scripts/gen_sync.py derives from
``namespace_instances.py`` and ``namespace_jobs.py``; it also writes the
instance settings (declared in ``types/params.py``) into their signatures.

Importing a resource module loads no models and no other resource, so a client
pays at startup only for the resources it reaches: names used only in
annotations are imported under ``TYPE_CHECKING``, models are reached at call
time through the lazy ``cfaisearch.types`` package (``_types.Job``), and a
sub-resource property imports its class when first read (scripts/gen_sync.py
requires that). tests/test_startup.py checks it.
"""
