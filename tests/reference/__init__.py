"""Scripts that write the torch / scikit-learn reference vectors, and the vectors.

Tests import a script as ``reference.make_<area>_vectors`` (pytest puts ``tests/`` on the
path); run one as ``python tests/reference/make_<area>_vectors.py`` to rewrite its vectors.
"""
