"""The SQLite outbox (the default) passes the outbox conformance suite."""

from pathlib import Path

import pytest

from bctrace._internal.outbox import SQLiteOutbox
from bctrace.testing import OutboxTests


class TestSQLiteOutbox(OutboxTests):
    @pytest.fixture
    def outbox_factory(self, tmp_path: Path):
        return lambda: SQLiteOutbox(tmp_path / "state")


def test_outbox_setting_other_than_sqlite_or_postgresql_is_one_line(tmp_path: Path) -> None:
    from bctrace._internal.config import load_config
    from bctrace.errors import ConfigError

    config = tmp_path / "bctrace.toml"
    config.write_text('outbox = "mysql://root:pw@db/x"\n')
    with pytest.raises(ConfigError, match="field 'outbox' must be \"sqlite\" or a postgresql:// URL, not mysql") as info:
        load_config(config)
    assert "pw" not in str(info.value)
    config.write_text('outbox = "sqlite"\n')
    assert load_config(config).outbox is None
