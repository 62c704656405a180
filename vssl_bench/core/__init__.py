"""Leaf utilities every layer may use: user errors, registries, plugin loading, atomic file I/O,
locks, file names, console output, precision and provenance. Imports nothing above itself."""
