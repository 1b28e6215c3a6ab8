"""Figures read the same whatever the spelling; qualifiers make intervals (rag/quantities.py)."""

from __future__ import annotations

import pytest

from rag.quantities import find_quantities


def one(text: str):
    found = find_quantities(text)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(
    "text",
    [
        "2500 جندي",
        "2,500 جندي",
        "٢٥٠٠ جندي",
        "٢٬٥٠٠ جندي",
        "ألفين وخمسمائة جندي",
        "2,500 troops",
        "two thousand five hundred troops",
    ],
)
def test_find_quantities_spellings_same_value(text):
    q = one(text)
    assert q.value == 2500 and q.unit == "troops" and q.qualifier == "exact"


@pytest.mark.parametrize(
    ("text", "qualifier", "low", "high"),
    [
        ("تحتفظ الولايات المتحدة بحوالي 2500 جندي", "about", 2250, 2750),
        ("بنحو 138 مليون دولار", "about", 124.2e6, 151.8e6),
        ("وبعدد لا يتجاوز ألفي عسكري", "at_most", 0, 2000),
        ("no more than 2,000 troops", "at_most", 0, 2000),
        ("أكثر من 87 دولة", "at_least", 87, float("inf")),
    ],
)
def test_find_quantities_qualifiers_make_intervals(text, qualifier, low, high):
    q = one(text)
    assert q.qualifier == qualifier
    assert q.low == pytest.approx(low) and q.high == pytest.approx(high)


def test_quantities_agreement_by_interval():
    about, cap, same = (one(t) for t in ("بحوالي 2500 جندي", "لا يتجاوز ألفي عسكري", "2,500 troops"))
    assert not about.agrees_with(cap)  # about 2,500 cannot be at most 2,000
    assert about.agrees_with(same) and same.agrees_with(about)
    assert one("نحو 380 مليون دولار").agrees_with(one("380 مليون دولار"))


def test_find_quantities_scales_and_units():
    assert one("وسيقدم الصندوق نحو 380 مليون دولار").value == 380e6
    assert one("بـ25 مليون دولار").unit == "usd"
    assert one("$380 million").value == 380e6
    assert one("على بعد 130 كيلومتراً من مدينة الرمادي").unit == "km"
    q = one("ثلاثة آلاف جندي")
    assert q.value == 3000


def test_find_quantities_years_and_dates_are_not_figures():
    """Years after «عام»/«في» and the day of «15 نيسان» are dates, not figures."""
    assert find_quantities("دخلت القوات العراق في عام 2003") == []
    assert find_quantities("اجتماع عقد يوم 15 نيسان/أبريل") == []
    assert find_quantities("خلال العام المالي 2025") == []


def test_find_quantities_range_shares_unit():
    first, second = find_quantities("حيث نما هذا الائتلاف من 12 إلى 87 دولة")
    assert (first.value, first.unit) == (12, "countries") and (second.value, second.unit) == (87, "countries")
