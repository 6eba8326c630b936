"""Entry point of ``python -m rnnscope``."""

from rnnscope.cli import main

if __name__ == "__main__":
    main()
