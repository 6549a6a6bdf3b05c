"""Date fields show and take 24.11.2026 whatever the browser's or the interface's language."""

from datetime import date

import pytest
from django import forms
from django.utils import translation

from aeroledger.tenancy.forms import DateField, DateInput


class Form(forms.Form):
    day = forms.DateField(widget=DateInput())
    swiss = DateField(required=False)


@pytest.mark.parametrize("language", ["en", "de", "fr", "it"])
def test_shows_the_swiss_format_as_text(language):
    with translation.override(language):
        html = str(Form(initial={"day": date(2026, 11, 24)})["day"])
    assert 'type="text"' in html and 'value="24.11.2026"' in html and 'type="date"' not in html
    assert "placeholder=" in html


@pytest.mark.parametrize("text", ["24.11.2026", "24.11.26", "2026-11-24", " 24.11.2026 "])
def test_takes_swiss_and_iso_dates(text):
    with translation.override("en"):
        form = Form({"day": text})
        assert form.is_valid(), form.errors
    assert form.cleaned_data["day"] == date(2026, 11, 24)


def test_an_american_date_is_refused_with_the_format():
    with translation.override("en"):
        form = Form({"day": "11/24/2026", "swiss": "31.02.2026"})
        assert not form.is_valid()
        html = str(form["day"])
    assert "day.month.year, e.g. 24.11.2026" in html  # the widget names the format under the field
    assert form.errors["swiss"] == ["Enter the date as day.month.year, e.g. 24.11.2026."]
