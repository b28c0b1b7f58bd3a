"""Modules that scripts/gen_sync.py copies into the package, with a few parts filled in.

Each is a real module, linted and type-checked as it stands (``nox -s
typecheck``): it imports ``cfaisearch`` by absolute name, which the generator
turns into the relative imports of the generated package, and a comment marks
each part the generator replaces.
"""
