"""The ``[service]`` table: the token is a reference (``"env:VAR"``), never a value, and a
pasted token never appears in the error."""

from __future__ import annotations

import pytest

from bctrace._internal.config import load_config
from bctrace.errors import ConfigError


def test_a_pasted_token_is_refused_without_repeating_it(tmp_path):
    config = tmp_path / "bctrace.toml"
    config.write_text('[service]\nurl = "https://anchor.example"\ntoken = "bct_supersecretvalue"\n')
    with pytest.raises(ConfigError) as info:
        load_config(config)
    assert "service" in str(info.value) and "env:" in str(info.value)
    assert "supersecret" not in str(info.value) and "\n" not in str(info.value)


def test_a_service_table_with_an_env_token_and_a_bad_url(tmp_path):
    config = tmp_path / "bctrace.toml"
    config.write_text('[service]\nurl = "https://anchor.example"\ntoken = "env:LAB_TOKEN"\n')
    assert load_config(config).service.url == "https://anchor.example"
    config.write_text('[service]\nurl = "ftp://anchor.example"\ntoken = "env:LAB_TOKEN"\n')
    with pytest.raises(ConfigError, match="url"):
        load_config(config)
