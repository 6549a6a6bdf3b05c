"""Issue 13, item 6, under races (PostgreSQL, two requests at the same moment): a bexio contact that is
a candidate for two members (the number of one, the e-mail of the other) is linked to one of them
only, and the other person is told; never a 500."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from aeroledger.billing.tests.race import race, raised
from aeroledger.tenancy.models import Membership
from bexio.models import ContactCreate

from ..models import ContactLink
from .conftest import member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROUNDS = 10


@pytest.fixture
def admin(org):
    user = get_user_model().objects.create_user("admin", password="pw")
    Membership.objects.create(user=user, organisation=org, manage_settings=True, manage_members=True)
    return user


def test_two_members_linked_to_one_contact_at_the_same_moment(org, bx, ready, use_client, admin):
    use_client(bx)
    owner = ready.user.bexio_id
    for n in range(ROUNDS):
        a, b = member(org, 100 + 2 * n), member(org, 101 + 2 * n)
        shared = bx.contacts.create(
            ContactCreate(contact_type_id=2, name_1=f"Shared {n}", nr=a.number, mail=b.email,
                          user_id=owner, owner_id=owner, contact_group_ids=[ready.contact_group.bexio_id])
        )  # fmt: skip
        first, second = Client(), Client()
        first.force_login(admin)
        second.force_login(admin)
        data = {"bexio_id": shared.id, "confirm": "1"}
        results = race(
            lambda: first.post(reverse("bexio_masterdata:contact_link", args=[org.slug, a.pk]), data),
            lambda: second.post(reverse("bexio_masterdata:contact_link", args=[org.slug, b.pk]), data),
            delays=[0, 0.01 * (n % 5)],
        )
        assert not raised(results), f"round {n}: {results}"
        assert ContactLink.objects.filter(bexio_id=shared.id).count() == 1, f"round {n}"
        texts = [str(m) for r in results for m in r.wsgi_request._messages]
        assert sum("is now linked" in t for t in texts) == 1, texts
