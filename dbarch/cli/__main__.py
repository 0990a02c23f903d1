"""`python -m dbarch.cli`: the dbarch executable without the console script installed."""

from dbarch.cli import run

if __name__ == "__main__":
    run()
