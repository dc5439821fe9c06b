"""The configuration examples in the README are valid tokenomics.yaml (they cannot silently rot)."""

import re
from pathlib import Path

import yaml

from tokenomics.config import parse_config

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_yaml_examples_are_valid_configuration():
    section = README.read_text().split("## Configuration (`tokenomics.yaml`)", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```yaml\n(.*?)```", section, flags=re.S)
    assert len(blocks) >= 2
    merged = {}
    for block in blocks:
        merged.update(yaml.safe_load(block))
    config = parse_config(merged)
    assert config.attribution.team and config.prices.overrides and config.budgets and config.alerts.channels
    assert config.allocation.method == "proportional"
