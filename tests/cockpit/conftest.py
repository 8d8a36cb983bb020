"""The browser of the cockpit's tests: pytest-playwright's Chromium is Debian's package
(scripts/system-deps installs it), with a window large enough for the portfolio."""

import pytest

from tests.cockpit_fixtures import CHROMIUM


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM),
            "args": ["--no-sandbox"]}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1400, "height": 1000},
            "accept_downloads": True}
