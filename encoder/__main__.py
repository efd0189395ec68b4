"""``python -m encoder``: the same as the ``encoder`` command."""
from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
