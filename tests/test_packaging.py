"""What installing the package pulls in: the page, Dask and EMA only with their extras."""

import re
import tomllib
from importlib import metadata

from tests.conftest import ROOT


def _names(requirements):
    return {re.split(r"[\[<>=!~; ]", r, maxsplit=1)[0].lower() for r in requirements}


def test_a_plain_install_pulls_neither_solara_nor_dask():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = _names(project["dependencies"])
    assert not base & {"solara", "solara-server", "dask", "distributed", "ema_workbench", "ipyvuetify"}
    assert {"solara", "dask", "ema_workbench"} <= _names(r for extra in project["optional-dependencies"].values()
                                                          for r in extra)
    installed = [r for r in metadata.requires("negotiation-sim") or [] if "extra ==" not in r]
    assert not _names(installed) & {"solara", "dask"}


def test_the_version_is_written_once():
    import sim

    assert "version" in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dynamic"]
    assert metadata.version("negotiation-sim") == sim.__version__
