"""The suite's shared setting: XLA's compiled programs kept in a persistent cache.

Many tests compile the same programs (the stopped, resumed and reference runs of a
resume test; the processes of a multi-process run; the README's blocks and the
examples run in processes of their own): JAX's persistent compilation cache, set here
before JAX starts and inherited by every subprocess, compiles each once per machine. A
cached program is the very program compiled (results are bit-identical); a value
already in the environment is left as it is.
"""

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("JAX_COMPILATION_CACHE_DIR",
                      str(Path(tempfile.gettempdir()) / "jaxrl-tests-xla-cache"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "-1")


@pytest.fixture
def usage_error(capsys):
    """``check(argv, message)``: ``jaxrl ARGV`` exits 2 with one line ``jaxrl: error:
    ...`` holding ``message``, no traceback, and (``quiet``) nothing on stdout."""
    from jaxrl import cli

    def check(argv: list[str], message: str, quiet: bool = True) -> None:
        capsys.readouterr()
        assert cli.main(argv) == 2
        captured = capsys.readouterr()
        err = captured.err.strip()
        assert err.startswith("jaxrl: error:") and message in err, err
        assert len(err.splitlines()) == 1 and "Traceback" not in captured.out + err
        if quiet:
            assert captured.out == ""  # no "compiling", no empty bar before the error

    return check
