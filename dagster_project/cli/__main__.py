"""`python -m dagster_project.cli`: the `shazam` command (how the GPU render pod starts it)."""

from dagster_project.cli import main

if __name__ == "__main__":
    main()
