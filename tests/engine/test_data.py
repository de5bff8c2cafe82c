"""engine.data: generators, real sets, CSV loading, split, standardize, make_dataset."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn import datasets as skd
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

from descentlab.engine import data as D

GENERATORS = {
    "linear": lambda rng: D.linear(50, 0.1, [1.0, -2.0], 0.5, rng),
    "polynomial": lambda rng: D.polynomial(40, 3, 0.2, rng),
    "blobs2": lambda rng: D.blobs2(41, 3.0, rng),
    "moons": lambda rng: D.moons(41, 0.1, rng),
    "circles": lambda rng: D.circles(41, 0.05, 0.5, rng),
    "blobs": lambda rng: D.blobs(61, centers=4, rng=rng),
}


# ---------------------------------------------------------------- generators


@pytest.mark.parametrize("name", GENERATORS)
def test_generators_are_seeded_and_shaped(name):
    X1, y1 = GENERATORS[name](np.random.default_rng(5))
    X2, y2 = GENERATORS[name](np.random.default_rng(5))
    X3, _ = GENERATORS[name](np.random.default_rng(6))
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    assert X1.ndim == 2 and y1.shape == (X1.shape[0],)
    assert np.all(np.isfinite(X1))
    if name in ("linear", "polynomial"):
        assert y1.dtype == np.float64
    else:
        assert y1.dtype == np.int64
        counts = np.bincount(y1)
        assert counts.max() - counts.min() <= 1  # balanced classes


def test_int_seed_equals_generator_and_rng_is_required():
    X1, _ = D.moons(20, 0.1, 3)
    X2, _ = D.moons(20, 0.1, np.random.default_rng(3))
    np.testing.assert_array_equal(X1, X2)
    with pytest.raises(ValueError, match="rng must be"):
        D.moons(20, 0.1)


def test_linear_without_noise_is_exact():
    X, y = D.linear(30, 0.0, [2.0, -1.0], 0.5, 0)
    np.testing.assert_allclose(y, X @ [2.0, -1.0] + 0.5)
    assert np.all(np.abs(X) <= 1)


def test_polynomial_without_noise_is_a_polynomial_of_its_degree():
    X, y = D.polynomial(50, 3, 0.0, 1)
    c = np.polynomial.polynomial.polyfit(X[:, 0], y, 3)
    np.testing.assert_allclose(np.polynomial.polynomial.polyval(X[:, 0], c), y, atol=1e-10)
    c2 = np.polynomial.polynomial.polyfit(X[:, 0], y, 2)
    assert np.abs(np.polynomial.polynomial.polyval(X[:, 0], c2) - y).max() > 1e-3


def test_shapes_without_noise_match_their_geometry():
    X, y = D.circles(40, 0.0, 0.3, 0)
    r = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(r[y == 0], 1.0)
    np.testing.assert_allclose(r[y == 1], 0.3)
    X, y = D.moons(40, 0.0, 0)
    np.testing.assert_allclose(np.hypot(X[y == 0, 0], X[y == 0, 1]), 1.0)
    np.testing.assert_allclose(np.hypot(X[y == 1, 0] - 1, X[y == 1, 1] - 0.5), 1.0)
    X, y = D.blobs2(2000, 6.0, 0)
    assert X[y == 0, 0].mean() == pytest.approx(-3, abs=0.15)
    assert X[y == 1, 0].mean() == pytest.approx(3, abs=0.15)


def test_generator_arguments_are_validated():
    with pytest.raises(ValueError, match="noise"):
        D.moons(10, -0.1, 0)
    with pytest.raises(ValueError, match="factor"):
        D.circles(10, 0.1, 1.5, 0)
    with pytest.raises(ValueError, match="n must be"):
        D.blobs2(0, 1.0, 0)


# ---------------------------------------------------------------- real sets


def test_real_sets_equal_sklearn_bundled_files():
    for ours, loader, task in [(D.diabetes, skd.load_diabetes, float),
                               (D.breast_cancer, skd.load_breast_cancer, int),
                               (D.iris, skd.load_iris, int)]:
        t = ours()
        ref = loader()
        np.testing.assert_array_equal(t.X, ref.data)
        np.testing.assert_array_equal(t.y, ref.target)
        assert t.feature_names == tuple(ref.feature_names)
        assert np.issubdtype(t.y.dtype, np.floating if task is float else np.integer)


# ---------------------------------------------------------------- CSV

CSV = "age,height,weight\n30,1.7,70\n41,1.8,82.5\n25,1.6,55\n37,1.75,77\n52,1.65,68\n"


@pytest.mark.parametrize("kind", ["text", "bytes", "path", "memoryview"])
def test_load_csv_sources(kind, tmp_path):
    if kind == "text":
        src = CSV
    elif kind == "bytes":
        src = ("\ufeff" + CSV).encode()  # with a BOM, as spreadsheets write
    elif kind == "memoryview":
        src = memoryview(CSV.encode())
    else:
        src = tmp_path / "people.csv"
        src.write_text(CSV)
    t = D.load_csv(src)
    assert t.feature_names == ("age", "height") and t.target_name == "weight"
    np.testing.assert_array_equal(t.X[1], [41, 1.8])
    np.testing.assert_array_equal(t.y, [70, 82.5, 55, 77, 68])


def test_load_csv_choose_columns_and_semicolons():
    t = D.load_csv(CSV.replace(",", ";"), features=["weight"], target="age")
    assert t.feature_names == ("weight",) and t.target_name == "age"
    np.testing.assert_array_equal(t.X[:, 0], [70, 82.5, 55, 77, 68])


def test_load_csv_categorical_target():
    text = "x,label\n1,cat\n2,dog\n3,cat\n4,bird\n5,dog\n"
    t = D.load_csv(text, categorical_target=True)
    assert t.classes == ("bird", "cat", "dog")
    np.testing.assert_array_equal(t.y, [1, 2, 1, 0, 2])


@pytest.mark.parametrize("text, kw, message", [
    (CSV.replace("41,1.8", "41,abc"), {}, r"row 2, column 'height': 'abc' is not a number"),
    (CSV.replace("25,1.6", "25,"), {}, r"row 3, column 'height': missing value"),
    (CSV.replace("37,1.75", "NA,1.75"), {}, r"row 4, column 'age': missing value"),
    (CSV.replace("age,height", "age,age"), {}, "duplicate column names"),
    (CSV, {"target": "bmi"}, "unknown target column 'bmi'"),
    (CSV, {"features": ["age", "shoe"]}, r"unknown feature column\(s\) \['shoe'\]"),
    ("a,b,y\n1,5,1\n2,5,2\n3,5,3\n4,5,4\n5,5,5\n", {}, "column 'b' is constant"),
    ("a,y\n1,2\n3,2\n4,2\n5,2\n6,2\n", {}, "column 'y' \\(the target\\) is constant"),
    ("a,y\n1,2\n2,3\n", {}, "2 data rows; at least 5"),
    (CSV.replace("25,1.6,55", "25,1.6"), {}, "row 3 has 2 fields"),
    ("", {}, "empty"),
    (CSV, {"features": ["weight"]}, "both a feature and the target"),
])
def test_load_csv_errors_name_row_and_column(text, kw, message):
    with pytest.raises(ValueError, match=message):
        D.load_csv(text, **kw)


def test_load_csv_missing_file():
    with pytest.raises(ValueError, match="cannot read CSV file"):
        D.load_csv("/nonexistent/file.csv")


# ---------------------------------------------------------------- split, standardize


@given(st.integers(2, 200), st.floats(0.05, 0.95), st.integers(0, 2**32 - 1))
def test_split_partitions_rows(N, f, seed):
    rng = np.random.default_rng(seed)
    X = np.arange(N, dtype=float)[:, None] * [1.0, -1.0]
    y = np.arange(N) % 3
    s = D.split(X, y, f, rng)
    assert len(s.X_val) == min(max(int(np.ceil(f * N)), 1), N - 1)
    ids = np.concatenate([s.X_train[:, 0], s.X_val[:, 0]])
    np.testing.assert_array_equal(np.sort(ids), np.arange(N))  # a partition
    np.testing.assert_array_equal(s.y_train, s.X_train[:, 0].astype(int) % 3)  # rows kept whole
    np.testing.assert_array_equal(s.y_val, s.X_val[:, 0].astype(int) % 3)


def test_split_is_stratified_and_seeded():
    y = np.repeat([0, 1, 2], [100, 50, 10])
    X = np.arange(160.0)[:, None]
    s = D.split(X, y, 0.2, 0)
    np.testing.assert_array_equal(np.bincount(s.y_val), [20, 10, 2])
    s2 = D.split(X, y, 0.2, 0)
    np.testing.assert_array_equal(s.X_val, s2.X_val)
    assert not np.array_equal(s.X_val, D.split(X, y, 0.2, 1).X_val)
    with pytest.raises(ValueError, match=r"val_fraction must be in \(0, 1\)"):
        D.split(X, y, 1.0, 0)


def test_standardize_equals_sklearn_scaler_fitted_on_train():
    rng = np.random.default_rng(2)
    train = rng.normal(3.0, 5.0, size=(40, 3))
    train[:, 2] = 7.0  # zero variance
    val = rng.normal(size=(10, 3))
    (a, b), mean, std = D.standardize(train, val)
    sc = StandardScaler().fit(train)
    np.testing.assert_allclose(a, sc.transform(train), atol=1e-12)
    np.testing.assert_allclose(b, sc.transform(val), atol=1e-12)
    np.testing.assert_allclose(mean, sc.mean_)
    np.testing.assert_allclose(std, sc.scale_)
    assert std[2] == 1.0
    with pytest.raises(ValueError, match="array 1"):
        D.standardize(train, np.zeros((2, 2)))


def test_polynomial_features():
    x = np.linspace(-2, 2, 9)
    np.testing.assert_allclose(D.polynomial_features(x, 4),
                               PolynomialFeatures(4, include_bias=False).fit_transform(x[:, None]))
    X = np.array([[1.0, 2.0], [3.0, -1.0]])
    np.testing.assert_allclose(D.polynomial_features(X, 2),
                               [[1, 2, 1, 4], [3, -1, 9, 1]])
    with pytest.raises(ValueError, match="degree"):
        D.polynomial_features(x, 0)


# ---------------------------------------------------------------- make_dataset


@pytest.mark.parametrize("name", D.names())
def test_make_dataset(name):
    d = D.make_dataset(name, seed=3)
    assert d.name == name and d.task in ("regression", "binary", "multiclass")
    N, F = d.X_train.shape
    assert d.X_val.shape[1] == F and len(d.feature_names) == F
    assert d.y_train.shape == (N,) and d.y_val.shape == (d.X_val.shape[0],)
    np.testing.assert_allclose(d.X_train.mean(0), 0, atol=1e-10)
    np.testing.assert_allclose(d.X_train.std(0), 1, atol=1e-10)
    if d.task == "regression":
        assert d.n_classes == 0 and d.y_train.dtype == np.float64
    else:
        assert d.y_train.dtype == np.int64
        assert set(np.unique(d.y_train)) == set(range(d.n_classes))
        assert d.n_classes == (2 if d.task == "binary" else d.n_classes) >= 2
    again = D.make_dataset(name, seed=3)
    np.testing.assert_array_equal(d.X_val, again.X_val)


def test_make_dataset_options_and_unknown_name():
    d = D.make_dataset("polynomial", n=25, degree=2, fit_degree=9, seed=0)
    assert d.X_train.shape[1] == 9 and d.feature_names[-1] == "x^9"
    d = D.make_dataset("blobs", centers=5, seed=0)
    assert d.n_classes == 5 and d.task == "multiclass"
    d = D.make_dataset("iris")
    assert d.task == "multiclass" and d.n_classes == 3 and d.target_name == "species"
    with pytest.raises(ValueError, match="valid names are.*'moons'"):
        D.make_dataset("mnist")


def test_from_arrays_on_a_csv_table():
    t = D.load_csv("x,label\n1,a\n2,b\n3,a\n4,b\n5,a\n6,b\n", categorical_target=True)
    d = D.from_arrays(t.X, t.y, feature_names=t.feature_names, val_fraction=0.34, seed=0)
    assert d.task == "binary" and d.n_classes == 2 and d.feature_names == ("x",)
    assert len(d.y_val) == 3 and sorted(np.bincount(d.y_val)) == [1, 2]
