"""Built-in export formats (``bctrace export --format csv|jsonl|in-toto|prov``) and the import of
in-toto Statements. A built-in plugin: it registers its formats through
``bctrace_register_exporters``, the hook a third-party format uses, and imports only
:mod:`bctrace.api`."""
