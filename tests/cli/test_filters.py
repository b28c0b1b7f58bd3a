"""``--filter`` expressions: compiled to the API's metadata filter, or refused in one line."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cfaisearch.cli.filters import FilterError, compile_filters, parse_value
from tests.support.cli import invoke


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("lang=en", {"lang": {"$eq": "en"}}),
        ("lang != en", {"lang": {"$ne": "en"}}),
        ("year>=2024", {"year": {"$gte": 2024}}),
        ("year<2025", {"year": {"$lt": 2025}}),
        ("score>0.5", {"score": {"$gt": 0.5}}),
        ("score<=1e3", {"score": {"$lte": 1000.0}}),
        ("draft=false", {"draft": {"$eq": False}}),
        ("code='5'", {"code": {"$eq": "5"}}),
        ('code="true"', {"code": {"$eq": "true"}}),
        ("lang in en,fr", {"lang": {"$in": ["en", "fr"]}}),
        ("lang in en, 'a,b', 3", {"lang": {"$in": ["en", "a,b", 3]}}),
        ("lang not in en", {"lang": {"$nin": ["en"]}}),
        ("folder^=docs/", {"folder": {"$gte": "docs/", "$lt": "docs0"}}),
        ("folder^='docs/'", {"folder": {"$gte": "docs/", "$lt": "docs0"}}),
        ("title=", None),
        ("title=''", {"title": {"$eq": ""}}),
        ("op='=='", {"op": {"$eq": "=="}}),
    ],
)
def test_one_expression(expression: str, expected: dict[str, object] | None) -> None:
    if expected is None:
        with pytest.raises(FilterError, match="missing value"):
            compile_filters([expression])
    else:
        assert compile_filters([expression]) == expected


def test_expressions_on_one_key_make_a_range_and_keys_combine() -> None:
    assert compile_filters(["year>=2020", "year<2025", "lang=en"]) == {
        "year": {"$gte": 2020, "$lt": 2025},
        "lang": {"$eq": "en"},
    }


@pytest.mark.parametrize(
    ("expressions", "reason"),
    [
        (["lang"], "expected KEY OP VALUE"),
        (["=en"], "expected KEY OP VALUE"),
        (["la ng=en"], "expected KEY OP VALUE"),
        (["lang==en"], "starts with an operator"),
        (["year=>5"], "starts with an operator"),
        (["draft>true"], "not booleans"),
        (["lang='en"], "unbalanced quote"),
        (["lang in en,'fr"], "unbalanced quote"),
        (["lang in en,,fr"], "missing value"),
        (["folder^="], "at least one character"),
        (["n in 1,-9223372036854775809"], "does not fit in 64 bits"),
        (["x<1e999"], "too large a number"),
        (['x^=a"'], "unbalanced quote"),
        (["year>1", "year>2"], "already has a \\$gt"),
        (["folder^=a/", "folder>=b"], "already has a \\$gte"),
    ],
)
def test_malformed_expressions_are_refused(expressions: list[str], reason: str) -> None:
    with pytest.raises(FilterError, match=reason):
        compile_filters(expressions)


def test_a_malformed_filter_is_one_line_and_exit_2_before_any_request() -> None:
    # No configuration at all: the filter is refused before a client is even built.
    result = invoke("search", "my-docs", "query", "--filter", "year>")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: --filter 'year>': missing value")


KEYS = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.\-]{0,15}", fullmatch=True).filter(
    lambda key: key not in ("in", "not")
)
PLAIN = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters="'\","),
    min_size=1,
    max_size=20,
)
NUMBERS = st.integers(-(10**12), 10**12) | st.floats(allow_nan=False, allow_infinity=False)


def _written(value: str | int | float | bool) -> str:
    """How a user writes ``value`` so it comes back with its type."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return f"'{value}'"


@given(key=KEYS, op=st.sampled_from(["=", "!=", ">", ">=", "<", "<="]), value=NUMBERS | PLAIN)
def test_a_written_value_comes_back_with_its_type(key: str, op: str, value: object) -> None:
    assert isinstance(value, (str, int, float))
    (operators,) = compile_filters([f"{key}{op}{_written(value)}"]).values()
    (operand,) = operators.values()
    assert type(operand) is type(value)
    assert operand == value  # repr() of a float reads back exactly


@given(text=PLAIN.filter(lambda text: text[0] not in "=<>!^"))
def test_an_unquoted_word_is_a_string_unless_it_reads_as_a_number_or_boolean(text: str) -> None:
    value = parse_value(text, "k=" + text)
    if isinstance(value, str):
        assert value == text
    else:
        assert text in ("true", "false") or float(text) == value


@given(key=KEYS, prefix=PLAIN)
def test_a_prefix_range_holds_exactly_the_strings_that_start_with_it(key: str, prefix: str) -> None:
    ((_, bounds),) = compile_filters([f"{key}^={prefix}"]).items()
    low, high = bounds["$gte"], bounds["$lt"]
    assert isinstance(low, str)
    assert isinstance(high, str)
    for candidate in (prefix, prefix + "a", prefix + "\U0010fffe"):
        assert low <= candidate < high
    assert not low <= prefix[:-1] < high or prefix[:-1].startswith(prefix)


@given(st.text(max_size=30))
def test_any_text_compiles_or_raises_a_one_line_filter_error(expression: str) -> None:
    try:
        compiled = compile_filters([expression])
    except FilterError as exc:
        message = str(exc)
    else:
        assert len(compiled) == 1
        return
    assert "\n" not in message
