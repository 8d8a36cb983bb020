"""scripts/system-deps, which `make test` runs first: what it decides, with stand-ins for the
system's commands (nothing is installed for real).

A machine here is a PATH of stand-in commands (java, pdftoppm, ldconfig, fc-list, id, sudo,
apt-get) and a root folder (SYSTEM_DEPS_ROOT) for the absolute paths (Chromium,
PostgreSQL's initdb). apt-get only writes down how it was called; asked to install chromium,
it puts Chromium in place.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from orchestration.settings import PROJECT_DIR

SCRIPT = PROJECT_DIR / "scripts" / "system-deps"
INSTALL = "install -y -qq --no-install-recommends"


class Machine:
    def __init__(self, tmp_path: Path):
        self.bin = tmp_path / "bin"
        self.root = tmp_path / "root"
        self.log = tmp_path / "calls.log"
        self.bin.mkdir()
        for tool in ("grep", "env"):
            (self.bin / tool).symlink_to(shutil.which(tool))
        self.command("java", 'echo \'openjdk version "17.0.13" 2024-10-15\' >&2')
        self.command("pdftoppm", "exit 0")
        self.command("ldconfig", 'echo "libpangoft2-1.0.so.0 (libc6,x86-64) => /x"')
        self.command("fc-list", 'echo "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf: DejaVu"')
        self.command("id", "echo 1000")
        self.file("usr/bin/chromium")
        self.file("usr/lib/postgresql/15/bin/initdb")

    def command(self, name: str, body: str) -> None:
        path = self.bin / name
        path.write_text(f"#!/bin/bash\n{body}\n", encoding="utf-8")
        path.chmod(0o755)

    def file(self, relative: str) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/bash\n", encoding="utf-8")
        path.chmod(0o755)

    def with_apt_get(self) -> None:
        self.command("apt-get", f'echo "apt-get $*" >> {self.log}\n'
                     f'if [[ "$*" == *chromium* ]]; then /bin/mkdir -p {self.root}/usr/bin; '
                     f'printf "#!/bin/bash\\n" > {self.root}/usr/bin/chromium; '
                     f'/bin/chmod +x {self.root}/usr/bin/chromium; fi')

    def with_sudo(self, allowed: bool) -> None:
        self.command("sudo", f'echo "sudo $*" >> {self.log}\n'
                     + ('[ "$1" = -n ] && shift; [ "$1" = true ] && exit 0; exec "$@"'
                        if allowed else "exit 1"))

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["/bin/bash", str(SCRIPT), *args],
            env={"PATH": str(self.bin), "SYSTEM_DEPS_ROOT": str(self.root)},
            capture_output=True, text=True, timeout=30,
        )

    def calls(self) -> list[str]:
        return self.log.read_text(encoding="utf-8").splitlines() if self.log.exists() else []


@pytest.fixture()
def machine(tmp_path):
    return Machine(tmp_path)


def test_everything_present_is_silent_and_asks_apt_nothing(machine):
    machine.with_apt_get()
    machine.command("id", "echo 0")
    result = machine.run()
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert machine.calls() == []


def test_as_root_the_missing_package_is_installed(machine):
    (machine.root / "usr/bin/chromium").unlink()
    machine.with_apt_get()
    machine.command("id", "echo 0")
    result = machine.run()
    assert result.returncode == 0, result.stderr
    assert machine.calls() == ["apt-get update -qq", f"apt-get {INSTALL} chromium"]
    assert (machine.root / "usr/bin/chromium").exists()


def test_without_root_sudo_installs_when_it_asks_no_password(machine):
    (machine.root / "usr/bin/chromium").unlink()
    machine.with_apt_get()
    machine.with_sudo(allowed=True)
    result = machine.run()
    assert result.returncode == 0, result.stderr
    assert machine.calls() == [
        "sudo -n true",
        "sudo -n apt-get update -qq", "apt-get update -qq",
        f"sudo -n env DEBIAN_FRONTEND=noninteractive apt-get {INSTALL} chromium",
        f"apt-get {INSTALL} chromium",
    ]


def test_without_root_or_sudo_one_line_says_what_to_install(machine):
    (machine.root / "usr/bin/chromium").unlink()
    (machine.bin / "pdftoppm").unlink()
    machine.with_apt_get()
    machine.with_sudo(allowed=False)
    result = machine.run()
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    line = result.stderr.strip()
    assert line == (f"system-deps: missing for the tests: Chromium ({machine.root}/usr/bin/"
                    "chromium), pdftoppm. Installing them needs root: run sudo apt-get install -y "
                    "--no-install-recommends chromium poppler-utils, then make test again")
    assert not any(call.startswith("apt-get") for call in machine.calls())


def test_without_apt_get_one_line_names_the_debian_packages(machine):
    shutil.rmtree(machine.root / "usr/lib/postgresql")
    machine.command("fc-list", "exit 0")
    machine.command("id", "echo 0")
    result = machine.run()
    assert result.returncode == 1
    assert result.stderr == (
        "system-deps: missing for the tests: the DejaVu fonts, PostgreSQL (initdb). There is no "
        "apt-get here: install them with the system's package manager (Debian names: "
        "fonts-dejavu-core postgresql), then run make test again\n")


def test_java_must_be_17_or_later_except_without_spark(machine):
    machine.command("java", 'echo \'openjdk version "11.0.2" 2019-01-15\' >&2')
    result = machine.run()
    assert result.returncode == 1
    assert "missing for the tests: Java 17. There is no apt-get here" in result.stderr
    assert "(Debian names: openjdk-17-jre-headless)" in result.stderr

    (machine.bin / "java").unlink()
    assert machine.run("--no-spark").returncode == 0
    machine.command("java", 'echo \'openjdk version "21.0.5" 2024-10-15\' >&2')
    assert machine.run().returncode == 0


@pytest.mark.parametrize(("target", "first"), [("test", "scripts/system-deps"),
                                               ("test-fast", "scripts/system-deps --no-spark")])
def test_make_test_checks_the_system_before_anything_else(target, first):
    # as a newcomer types it: not inside another make (`make test` runs this test), whose
    # MAKELEVEL and MAKEFLAGS would add "Entering directory" lines
    env = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS", "MFLAGS")}
    result = subprocess.run(["make", "--no-print-directory", "-n", target], cwd=PROJECT_DIR,
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == first


def test_ci_leaves_the_system_packages_to_make_test():
    lines = [line for line in (PROJECT_DIR / ".ci" / "run").read_text().splitlines()
             if line and not line.startswith("#")]
    assert lines[-1] == "make test"
    assert not any("apt-get" in line for line in lines)
