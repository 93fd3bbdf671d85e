"""`python -m rescue ARGS`: the same entry as the `rescue` script (e.g. for `-X importtime`)."""

from rescue.cli import run

if __name__ == "__main__":  # importing it (a walk over every module) runs nothing
    run()
