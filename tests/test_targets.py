"""Targets with connection settings: env_var references read at run time only, the profiles
file outside the repository, no literal secret in the committed project file, the one rule
that names a target's database, and the masking of every secret."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from snowgen import masking
from snowgen.api import RunOptions, load_project, prepare_run
from snowgen.cli import main
from snowgen.errors import SnowgenError
from snowgen.runner.session import choose_database
from snowgen.runner.targets import target_settings
from snowgen.runner.url_settings import query_settings
from snowgen.spec.env_vars import EnvReference, parts

SPECS = Path(__file__).resolve().parents[1] / "model_specs"
#: the line of the first target that with_targets writes (the line below ``targets:``)
FIRST_TARGET_LINE = (SPECS / "multi_source_deals" / "snowgen.yml").read_text().splitlines().index("targets:") + 2
SECRET = "Zq7-s3cr3t/pw@x"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """The deals project in a folder of its own, with no profiles file unless a test writes one."""
    root = tmp_path / "multi_source_deals"
    shutil.copytree(SPECS / "multi_source_deals", root)
    monkeypatch.chdir(root)
    monkeypatch.setenv("SNOWGEN_PROFILES_DIR", str(tmp_path / "profiles"))
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "profiles.yml").write_text("{}\n")
    return root


def with_targets(root: Path, targets: str) -> None:
    """Replace the project's targets with ``targets`` (YAML lines, indented under targets:)."""
    path = root / "snowgen.yml"
    text = path.read_text()
    path.write_text(text[: text.index("targets:")] + "targets:\n" + targets)


def write_profiles(root: Path, text: str) -> None:
    (root.parent / "profiles" / "profiles.yml").write_text(text)


def cli(*args: str):
    return CliRunner().invoke(main, list(args))


# -- env_var references --------------------------------------------------------------------------------


def test_env_var_references_with_and_without_a_default():
    assert parts("postgresql://me:{{ env_var('PW') }}@db/{{env_var(\"DB\", 'x')}}") == (
        "postgresql://me:",
        EnvReference("PW", None),
        "@db/",
        EnvReference("DB", "x"),
    )


def test_anything_else_between_braces_is_a_located_error(project):
    with_targets(project, '  prod: {dialect: snowflake, connection: {user: "{{ user }}"}}\n')
    result = cli("compile", "--dialect", "duckdb", "--check")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        f"snowgen.yml:{FIRST_TARGET_LINE}:49: SG102 targets.prod.connection.user: "
        "only {{ env_var('NAME') }} or "
        "{{ env_var('NAME', 'default') }} may stand between {{ and }}"
    )


def test_variables_are_read_when_running_never_when_compiling(project, monkeypatch):
    with_targets(
        project, "  prod:\n    dialect: postgres\n    connection: {password: \"{{ env_var('SNOWGEN_T_PW') }}\"}\n"
    )
    monkeypatch.delenv("SNOWGEN_T_PW", raising=False)
    assert cli("compile", "--target", "prod", "--out", "out").exit_code == 0
    result = cli("run", "--target", "prod")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.stderr.startswith(
        f"snowgen.yml:{FIRST_TARGET_LINE + 2}:28: SG304 targets.prod.connection.password: the environment variable SNOWGEN_T_PW is not set"
    )


def test_a_default_stands_in_for_a_variable_that_is_not_set(project, monkeypatch):
    with_targets(
        project, "  prod:\n    dialect: postgres\n    connection: {user: \"{{ env_var('SNOWGEN_T_USER', 'etl') }}\"}\n"
    )
    monkeypatch.delenv("SNOWGEN_T_USER", raising=False)
    assert target_settings(load_project(project), "prod") == {"user": "etl"}
    monkeypatch.setenv("SNOWGEN_T_USER", "loader")
    assert target_settings(load_project(project), "prod") == {"user": "loader"}


# -- secrets in the project file --------------------------------------------------------------------------


ENCODED = SECRET.replace("/", "%2F").replace("@", "%40")


@pytest.mark.parametrize(
    ("target", "value"),
    [
        ("{dialect: snowflake, connection: {account: a, password: " + SECRET + "}}", SECRET),
        ('{dialect: snowflake, connection: {token: "' + SECRET + '"}}', '"' + SECRET),
        ("{dialect: snowflake, connection: {private_key_file_pwd: \"{{ env_var('K', '" + SECRET + "') }}\"}}", '"{{'),
        ("{dialect: snowflake, connection: {session_parameters: {client_secret: " + SECRET + "}}}", SECRET),
        ('{dialect: postgres, db: "postgresql://me:' + ENCODED + '@db/x"}', '"postgresql'),
    ],
    ids=["password", "token", "env-default", "nested", "url"],
)
def test_a_literal_secret_in_the_project_file_is_refused_without_showing_it(project, target, value):
    line = f"  prod: {target}"
    with_targets(project, line + "\n")
    result = cli("compile", "--dialect", "duckdb", "--check")
    assert result.exit_code == 2
    assert f"snowgen.yml:{FIRST_TARGET_LINE}:{line.index(value) + 1}: SG107 targets.prod." in result.stderr
    assert "must not be written in the project file" in result.stderr
    assert SECRET not in result.output and "s3cr3t" not in result.output


def test_secrets_read_from_the_environment_are_accepted(project):
    with_targets(
        project,
        "  prod:\n    dialect: snowflake\n    connection:\n"
        "      password: \"{{ env_var('SNOWFLAKE_PASSWORD') }}\"\n"
        "      private_key_file: /keys/etl.p8\n",  # a path to a key is not the key
    )
    assert cli("compile", "--dialect", "duckdb", "--check", "--out", "nowhere").exit_code == 1  # stale, not refused


# -- the profiles file --------------------------------------------------------------------------------------


def test_the_profiles_file_adds_settings_and_targets(project):
    with_targets(project, "  prod: {dialect: postgres, connection: {host: db.internal, user: etl}}\n")
    write_profiles(
        project,
        "other_project: {targets: {prod: {dialect: nonsense}}}\n"
        "multi_source_deals:\n  targets:\n"
        f"    prod: {{connection: {{user: loader, password: '{SECRET}'}}}}\n"
        "    ci: {dialect: postgres, db: 'postgresql://ci@localhost/ci'}\n",
    )
    loaded = load_project(project)
    assert target_settings(loaded, "prod") == {"host": "db.internal", "user": "loader", "password": SECRET}
    assert loaded.spec.targets["prod"].dialect == "postgres"
    assert choose_database(loaded, "ci", None).url == "postgresql://ci@localhost/ci"


def test_a_target_only_in_the_profiles_file_needs_its_dialect(project):
    write_profiles(project, "multi_source_deals:\n  targets:\n    ci: {db: 'postgresql://ci@localhost/ci'}\n")
    with pytest.raises(SnowgenError) as caught:
        load_project(project)
    assert "profiles.yml:3:5: SG103 missing required key 'dialect'" in caught.value.format()


def test_the_profiles_file_keeps_vars_in_the_project(project):
    write_profiles(project, "multi_source_deals:\n  targets:\n    dev: {vars: {start_date: 2020-01-01}}\n")
    with pytest.raises(SnowgenError) as caught:
        load_project(project)
    assert "profiles.yml:3:11: SG101 unknown key 'vars'" in caught.value.format()


def test_a_profiles_folder_asked_for_by_name_must_hold_the_file(project, tmp_path, monkeypatch):
    monkeypatch.setenv("SNOWGEN_PROFILES_DIR", str(tmp_path / "missing"))
    with pytest.raises(SnowgenError) as caught:
        load_project(project)
    assert caught.value.format() == f"snowgen: SG003 no profiles.yml in SNOWGEN_PROFILES_DIR={tmp_path / 'missing'}"


def test_the_default_profiles_file_is_in_the_home_folder(project, tmp_path, monkeypatch):
    monkeypatch.delenv("SNOWGEN_PROFILES_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home" / ".snowgen").mkdir(parents=True)
    (tmp_path / "home" / ".snowgen" / "profiles.yml").write_text(
        "multi_source_deals: {targets: {prod: {connection: {account: from-home}}}}\n"
    )
    assert target_settings(load_project(project), "prod") == {"account": "from-home"}


# -- the database a target names ----------------------------------------------------------------------------


def test_a_target_with_settings_and_no_db_connects_by_its_dialect_scheme(project):
    with_targets(
        project,
        "  prod: {dialect: snowflake, connection: {account: acme}}\n"
        "  dev: {dialect: duckdb}\n"
        "  pg: {dialect: postgres, db: 'postgresql://me@db/x'}\n",
    )
    loaded = load_project(project)
    assert choose_database(loaded, "prod", None).url == "snowflake://"
    assert choose_database(loaded, "dev", None).url == "snowgen.duckdb"
    assert choose_database(loaded, "pg", None).url == "postgresql://me@db/x"
    assert choose_database(loaded, "prod", "snowflake://u@other").url == "snowflake://u@other"


def test_prepared_runs_carry_the_resolved_settings(project, monkeypatch):
    with_targets(
        project,
        "  prod:\n    dialect: snowflake\n    connection: {account: acme, user: \"{{ env_var('SNOWGEN_T_USER') }}\"}\n",
    )
    monkeypatch.setenv("SNOWGEN_T_USER", "etl")
    from snowgen.api import CompileOptions

    prepared = prepare_run(load_project(project), RunOptions(CompileOptions(target="prod")))
    assert prepared.url == "snowflake://" and prepared.settings == {"account": "acme", "user": "etl"}


def test_query_parameters_are_settings_typed_as_the_clients_expect():
    url = "snowflake://u@a/db?port=8080&protocol=http&insecure_mode=true&warehouse=007&password=123&role=R"
    assert query_settings(url) == {
        "port": 8080,
        "protocol": "http",
        "insecure_mode": True,
        "warehouse": "007",
        "password": "123",  # a secret stays text
        "role": "R",
    }


# -- masking ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        ("password", True),
        ("private_key_file_pwd", True),
        ("private_key", True),
        ("token", True),
        ("client_secret", True),
        ("aws_secret_access_key", True),
        ("keyfile_json", True),
        ("private_key_file", False),
        ("user", False),
        ("keyfile", False),
        ("account", False),
    ],
)
def test_which_settings_are_secrets(key, secret):
    assert masking.is_secret_key(key) is secret


def test_a_registered_secret_is_masked_in_every_spelling():
    with masking.secrets_scope():
        masking.register(SECRET)
        text = f"a {SECRET} b {SECRET.replace('/', '%2F').replace('@', '%40')} c"
        assert masking.mask(text) == "a *** b *** c"
    assert masking.mask(SECRET) == SECRET  # the scope is over


def test_short_values_from_the_environment_are_not_masked_unless_secret():
    with masking.secrets_scope():
        masking.register("on", secret=False)
        masking.register("ab", secret=True)
        assert masking.mask("on ab") == "on ***"


def test_the_masked_stream_masks_what_passes_through_it():
    out = io.StringIO()
    with masking.secrets_scope():
        masking.register(SECRET)
        stream = masking.MaskedStream(out)
        stream.write(f"connect to u:{SECRET}@h failed\n")
    assert out.getvalue() == "connect to u:***@h failed\n"
