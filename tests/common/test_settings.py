"""Settings precedence: defaults → TOML file → KIOSK_* environment (→ explicit overrides)."""

from __future__ import annotations

import pytest

from common import settings
from common.errors import ConfigError


def test_defaults_follow_the_data_dir(tmp_path):
    s = settings.load(env={"KIOSK_DATA_DIR": str(tmp_path)})
    assert s.database_url == f"sqlite:///{tmp_path / 'kiosk.db'}"
    assert s.printer == f"spool:{tmp_path / 'spool'}"
    assert s.response_interval == 5.0
    assert s.rating_levels == ["very_satisfied", "satisfied", "unsatisfied"]


def test_toml_overrides_defaults_and_env_overrides_toml(tmp_path):
    config = tmp_path / "kiosk.toml"
    config.write_text(
        'commune_name = "UBND xã Tân Lập"\nresponse_interval = 8\nrating_levels = ["very_satisfied", "satisfied", '
        '"neutral", "unsatisfied"]\n[rating_labels]\nunsatisfied = "Chưa hài lòng"\n',
        encoding="utf-8",
    )
    from_file = settings.load(config, env={})
    assert from_file.commune_name == "UBND xã Tân Lập"
    assert from_file.response_interval == 8.0
    assert from_file.rating_levels[2] == "neutral"
    assert from_file.rating_labels == {"unsatisfied": "Chưa hài lòng"}

    from_env = settings.load(
        config, env={"KIOSK_RESPONSE_INTERVAL": "3.5", "KIOSK_RATING_LEVELS": "satisfied,unsatisfied"}
    )
    assert from_env.response_interval == 3.5
    assert from_env.rating_levels == ["satisfied", "unsatisfied"]
    assert from_env.commune_name == "UBND xã Tân Lập"  # not overridden: the file still counts

    overridden = settings.load(config, env={"KIOSK_COMMUNE_NAME": "env"}, overrides={"commune_name": "explicit"})
    assert overridden.commune_name == "explicit"


def test_env_json_setting(tmp_path):
    s = settings.load(env={"KIOSK_RATING_LABELS": '{"unsatisfied": "Chưa hài lòng"}', "KIOSK_DATA_DIR": str(tmp_path)})
    assert s.rating_labels["unsatisfied"] == "Chưa hài lòng"


def test_bad_value_names_the_setting_and_its_source():
    with pytest.raises(ConfigError, match="response_interval.*KIOSK_RESPONSE_INTERVAL"):
        settings.load(env={"KIOSK_RESPONSE_INTERVAL": "soon"})


def test_unknown_key_in_file_is_refused(tmp_path):
    config = tmp_path / "kiosk.toml"
    config.write_text("respons_interval = 3\n")
    with pytest.raises(ConfigError, match="respons_interval"):
        settings.load(config, env={})


def test_invalid_toml_and_missing_file_are_clear(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("commune_name = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        settings.load(bad, env={})
    with pytest.raises(ConfigError, match="does not exist"):
        settings.load(tmp_path / "missing.toml", env={})
    assert isinstance(ConfigError("x"), ValueError)
