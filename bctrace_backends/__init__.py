"""Built-in chain backends. Each is a plugin registered through ``bctrace_register_backends``,
the same hook a third-party plugin uses."""
