"""The studio: the signed-in web app where artists work and reviewers decide.

It sits above the stages and operations (docs/architecture.md): it reads across them and
records what signed-in people do, through each stage's own functions.
"""
