"""Dates in news text, written out: each case is a phrase as Arabic or English news writes it."""

from __future__ import annotations

from datetime import date

import pytest

from rag.dates import find_dates, fold, parse_published, period


def values(text: str, published: str | None = None) -> list[str]:
    return [m.value for m in find_dates(text, published)]


@pytest.mark.parametrize(
    ("text", "published", "expected"),
    [
        # Levantine / Egyptian month names, paired as the outlets write them; the year from publication
        ("اجتماع عقد بالبيت الأبيض يوم 15 نيسان/أبريل، مستقبل التحالف", "2024-04-15", ["2024-04-15"]),
        ("في 31 ديسمبر/ كانون الأول 2021، ضمن الاتفاق", None, ["2021-12-31"]),
        ("الحوار الاستراتيجي في يوليو/ تموز 2021", None, ["2021-07"]),
        ("ولجنة التنسيق العليا في فبراير/ شباط 2023", None, ["2023-02"]),
        ("وقع الاتفاق في 3 آذار/مارس 2023", None, ["2023-03-03"]),
        ("في 20 تشرين الأول 2019", None, ["2019-10-20"]),
        ("يوم 5 جويلية 2019", None, ["2019-07-05"]),
        ("أبريل (نيسان) 2024", None, ["2024-04"]),
        # Arabic-Indic and Eastern Arabic-Indic digits
        ("زار الوفد بغداد في ١٥ نيسان ٢٠٢٤", None, ["2024-04-15"]),
        ("في ۱۵ أبریل ۲۰۲۴", None, ["2024-04-15"]),
        # months with الماضي / المقبل, parts of a month
        ("أواخر كانون الثاني/يناير الماضي", "2024-04-15", ["2024-01"]),
        ("في تموز/يوليو المقبل", "2024-04-15", ["2024-07"]),
        ("منذ أن بدأت إسرائيل حربها على غزة في أكتوبر الماضي", "2024-04-15", ["2023-10"]),
        ("في مايو المقبل", "2024-11-03", ["2025-05"]),
        ("في 10 ديسمبر", "2024-01-05", ["2023-12-10"]),
        # relative days and weeks
        ("وبدأ الوفد، الاثنين الماضي، زيارة", "2023-08-09", ["2023-08-07"]),
        ("أعلنت بغداد وواشنطن، مساء أمس الثلاثاء، استمرار التعاون", "2023-08-09", ["2023-08-08"]),
        ("في الاجتماع الذي عقد يوم الاثنين", "2024-04-15", ["2024-04-15"]),
        ("بواشنطن اليوم الاثنين", "2024-09-30", ["2024-09-30"]),
        ("الخميس المقبل", "2024-04-15", ["2024-04-18"]),
        ("صدر القرار أول أمس", "2024-04-15", ["2024-04-13"]),
        ("سيعقد الاجتماع غداً", "2024-04-15", ["2024-04-16"]),
        ("إعلان الولايات المتحدة الأسبوع الماضي بنيويورك", "2024-09-30", ["2024-W39"]),
        ("في سلسلة من الاجتماعات خلال الأسبوع الجاري", "2024-04-15", ["2024-W16"]),
        ("الأسبوع المقبل", "2024-04-17", ["2024-W17"]),
        ("الشهر الماضي", "2024-01-10", ["2023-12"]),
        ("انتهاء المهمة القتالية بنهاية العام الجاري", "2021-07-26", ["2021"]),
        ("في وقت لاحق من هذا العام", "2024-04-15", ["2024"]),
        ("السنة المقبلة", "2024-12-30", ["2025"]),
        ("إنه قبل 10 سنوات حشدت الولايات المتحدة ائتلافا", "2024-09-30", ["2014"]),
        ("قبل عامين", "2024-04-15", ["2022"]),
        ("منذ ثلاثة أشهر", "2024-04-15", ["2024-01"]),
        # years and fiscal years
        ("دخلت القوات العراق في عام 2003، وبعد انسحابها في عام 2011", None, ["2003", "2011"]),
        ("استجابة لطلب العراق في 2014 لدعم حملتها", None, ["2014"]),
        ("منذ عام 2014", None, ["2014"]),
        ("بحلول سبتمبر 2025", None, ["2025-09"]),
        ("خلال العام المالي 2025 نحو 380 مليون دولار", None, ["FY2025"]),
        ("fiscal year 2025 and FY24", None, ["FY2025", "FY2024"]),
        # Hijri
        ("أعلن ذلك في 15 رمضان 1445 هـ", None, ["2024-03-25"]),
        ("في ١ محرم ١٤٤٦ هـ", None, ["2024-07-07"]),
        ("في عام 1445 هـ", None, ["AH1445"]),
        ("في 10 شوال", "2024-04-15", ["2024-04-19"]),
        # English
        ("The talks on April 15, 2024 and 15 April", "2024-04-20", ["2024-04-15", "2024-04-15"]),
        (
            "last Monday, next week, two years ago, yesterday",
            "2024-04-17",
            ["2024-04-15", "2024-W17", "2022", "2024-04-16"],
        ),
        ("by September 2025", None, ["2025-09"]),
        ("in 2014", None, ["2014"]),
    ],
)
def test_find_dates_written_examples_resolve(text, published, expected):
    assert values(text, published) == expected


@pytest.mark.parametrize(
    "text",
    [
        "لقي أب وابنه حتفهما",  # آب is also "father"
        "you may go in march",  # English modals and verbs
        "تحتفظ الولايات المتحدة بحوالي 2500 جندي في العراق",
        "2500 جندي في 2000 موقع",  # a count after في is not a year
        "في شهر رمضان",  # a Hijri month alone names no period
        "انخفض الرقم إلى صفر",  # صفر is also "zero"
    ],
)
def test_find_dates_words_that_are_not_dates_are_skipped(text):
    assert find_dates(text, "2024-04-15") == []


def test_find_dates_relative_without_publication_is_skipped():
    """A relative date cannot be resolved without the publication date: skipped, not guessed."""
    assert find_dates("الاثنين الماضي و15 نيسان/أبريل وأمس") == []
    assert values("الاثنين الماضي وفي عام 2017") == ["2017"]


def test_find_dates_offsets_point_into_original_text():
    text = "وقال بلينكن، الاثنين، إنَّ المُهِمَّة تنتهي بحلول سبتمبر ٢٠٢٥."
    for m in find_dates(text, "2024-09-30"):
        assert text[m.start : m.end] == m.text
    assert [m.text for m in find_dates(text, "2024-09-30")] == ["الاثنين", "سبتمبر ٢٠٢٥"]


def test_find_dates_one_reading_per_span():
    """«31 ديسمبر/ كانون الأول 2021» is one day, not a day plus a year plus a month."""
    found = find_dates("في 31 ديسمبر/ كانون الأول 2021")
    assert len(found) == 1 and found[0].granularity == "day" and found[0].kind == "absolute"


def test_date_mention_periods_and_containment():
    year, day = find_dates("بنهاية العام الجاري", "2021-07-26")[0], find_dates("في 31 ديسمبر 2021")[0]
    assert year.contains(day) and not day.contains(year) and year.overlaps(day)
    assert year.qualifier == "late" and year.anchored and not day.anchored
    assert day.to_dict()["first"] == "2021-12-31"


def test_period_parses_values():
    assert period("2024-W39")[:2] == (date(2024, 9, 23), date(2024, 9, 29))
    assert period("2024-02")[1] == date(2024, 2, 29)
    assert period("FY2025")[2] == "year"
    assert period("soon") is None


def test_parse_published_rejects_non_dates():
    assert parse_published("2024-04-15T10:00:00") == date(2024, 4, 15)
    assert parse_published("unknown") is None and parse_published("") is None


def test_fold_keeps_offsets():
    folded, where = fold("إنَّ ١٥")
    assert folded == "ان 15" and len(where) == len(folded) + 1
