"""How every script ends on bad input: one line, `PROGRAM: error: ...`, exit 1 (no traceback)."""
import os
import subprocess
import sys


def program():
    """The script's name (scripts/train.py makes it "train.py STAGE")."""
    return os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "diffbench_tools"


def fail(message):
    sys.exit(f"{program()}: error: {message}")


def run(main):
    """Run a script's main() and exit with its code; an interrupt, a failed command or an OS error
    ends in one line, never a traceback."""
    try:
        code = main()
    except KeyboardInterrupt:
        fail("interrupted")
    except subprocess.CalledProcessError as e:
        fail(f"{' '.join(map(str, e.cmd))} failed with exit {e.returncode}")
    except OSError as e:
        fail(str(e))
    sys.exit(code or 0)
