"""One typed settings object: every field documented, overridable by PATHWAYS_*, and the
README's table written from it."""

from pathlib import Path

from config.settings import PROJECT_ROOT, Settings, settings_table


def test_every_setting_is_described():
    missing = [name for name, f in Settings.model_fields.items() if not (f.description or "").strip()]
    assert missing == []


def test_a_pathways_variable_overrides_a_default(monkeypatch):
    monkeypatch.setenv("PATHWAYS_SUPPRESSION_THRESHOLD", "10")
    monkeypatch.setenv("PATHWAYS_CATEGORISATION_RULES", '{"attainment_red_pp": 12}')
    s = Settings()
    assert s.suppression_threshold == 10 and s.categorisation_rules == {"attainment_red_pp": 12}


def test_the_warehouse_follows_the_data_folder_unless_set(tmp_path):
    assert Settings(data_dir=tmp_path).warehouse == tmp_path / "warehouse.duckdb"
    assert Settings(data_dir=tmp_path, warehouse_path=tmp_path / "w.duckdb").warehouse == tmp_path / "w.duckdb"


def test_the_readme_settings_table_is_the_one_generated_from_the_settings():
    readme = (PROJECT_ROOT / "README.md").read_text()
    assert settings_table() in readme, "regenerate it: python -c 'from config.settings import settings_table; print(settings_table())'"


def test_the_readme_folder_table_matches_the_tree():
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("## Where things live", 1)[1].split("\n## ", 1)[0]
    listed = {line.split("`")[1].rstrip("/") for line in section.splitlines() if line.startswith("| `")}
    # every folder of the project, leaving out hidden ones and data/ (the working data, git-ignored)
    folders = {p.name for p in Path(PROJECT_ROOT).iterdir()
               if p.is_dir() and not p.name.startswith((".", "_")) and p.name != "data"}
    assert listed == folders


def test_every_environment_variable_the_code_reads_is_in_the_readme():
    """Settings are PATHWAYS_* fields (the table above); anything else read from the environment is listed too."""
    import re

    readme = (PROJECT_ROOT / "README.md").read_text()
    pattern = re.compile(r"""(?:environ\.get|getenv|environ\[)\(?\s*["']([A-Z][A-Z0-9_]+)["']""")
    read = set()
    for folder in ("config", "ingest", "expectations", "publish", "synthetic", "orchestration", "pathways", "scorecard",
                   "bench", "notebooks"):
        for path in (PROJECT_ROOT / folder).rglob("*.py"):
            read |= set(pattern.findall(path.read_text()))
    assert read, "the pattern no longer finds os.environ.get(...)"
    missing = sorted(v for v in read if f"`{v}`" not in readme)
    assert missing == [], f"document these in README.md, 'Settings': {missing}"
