"""The member form (new and edit): salutation, title, and the house number in its own field."""

import pytest
from django.urls import reverse

from aeroledger.members.models import Member
from aeroledger.tenancy.models import Organisation
from aeroledger.tenancy.testing import PASSWORD, make_member, make_org, make_staff

pytestmark = pytest.mark.django_db

PERSON = {
    "number": "42",
    "kind": "person",
    "first_name": "Hans",
    "last_name": "Keller",
    "street": "Seestrasse",
    "house_number": "12",
    "postcode": "8800",
    "city": "Thalwil",
    "country": "CH",
    "language": "de",
    "is_active": "on",
}


@pytest.fixture
def boss(client):
    org = make_org("club")
    make_staff(org, "boss")
    assert client.login(username="boss", password=PASSWORD)
    return client


def create(client, **changes):
    return client.post(reverse("members:create", args=["club"]), {**PERSON, **changes})


def test_form_offers_salutations_and_a_title(boss):
    form = boss.get(reverse("members:create", args=["club"])).context["form"]
    assert [value for value, _label in form.fields["salutation"].choices] == [None, "mr", "ms", "family"]
    assert "title" in form.fields
    assert "house number" in form.fields["street"].help_text


def test_salutation_and_title_are_saved_and_edited(boss):
    response = create(boss, salutation="mr", title=" Dr. ")
    member = Member.objects.get(number="42")
    assert response.status_code == 302
    assert (member.salutation, member.title) == ("mr", "Dr.")
    edit = reverse("members:edit", args=["club", member.pk])
    boss.post(edit, {**PERSON, "salutation": "ms", "title": "Prof. Dr."})
    member.refresh_from_db()
    assert (member.salutation, member.title) == ("ms", "Prof. Dr.")
    boss.post(edit, {**PERSON, "salutation": "", "title": ""})
    member.refresh_from_db()
    assert (member.salutation, member.title) == ("", "")


def test_number_in_the_street_is_an_error_that_says_where_it_goes(boss):
    response = create(boss, street="Seestrasse 12", house_number="")
    assert response.status_code == 200 and not Member.objects.exists()
    assert response.context["form"].errors["street"] == [
        "Put the house number in its own field: street “Seestrasse”, house number “12”."
    ]
    assert "has-error" in response.text


def test_an_old_address_with_the_number_in_the_street_is_fixed_at_the_next_edit(boss):
    member = make_member(Organisation.objects.get(slug="club"), "7")
    Member.objects.filter(pk=member.pk).update(street="Dorfstrasse 3", house_number="")
    edit = reverse("members:edit", args=["club", member.pk])
    refused = boss.post(edit, {**PERSON, "number": "7", "street": "Dorfstrasse 3", "house_number": ""})
    assert "street" in refused.context["form"].errors
    boss.post(edit, {**PERSON, "number": "7", "street": "Dorfstrasse", "house_number": "3"})
    member.refresh_from_db()
    assert (member.street, member.house_number) == ("Dorfstrasse", "3")


def test_a_company_gets_no_salutation(boss):
    response = create(boss, kind="company", company_name="Aero AG", salutation="mr", title="Dr.")
    assert response.status_code == 200 and not Member.objects.exists()
    assert {"salutation", "title"} <= set(response.context["form"].errors)
