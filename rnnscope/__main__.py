"""Entry point of ``python -m rnnscope``."""

from rnnscope.cli import console

if __name__ == "__main__":
    console()
