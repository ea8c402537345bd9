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

os.environ.setdefault("JAX_COMPILATION_CACHE_DIR",
                      str(Path(tempfile.gettempdir()) / "jaxrl-tests-xla-cache"))
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "-1")
