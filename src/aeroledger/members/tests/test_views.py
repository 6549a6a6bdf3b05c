import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aeroledger.members.models import Member
from aeroledger.tenancy.testing import PASSWORD, make_member, make_org, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    org = make_org("club")
    make_staff(org, "boss")
    make_staff(org, "reader", perms=())
    return org


def login(client, username):
    assert client.login(username=username, password=PASSWORD)
    return client


def test_list_query_count_does_not_grow_with_page_size(client, org):
    login(client, "boss")
    payer = make_member(org, "0")
    for i in range(5):
        make_member(org, str(100 + i), invoice_to=payer)
    url = reverse("members:list", args=["club"])
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for i in range(40):
        make_member(org, str(200 + i), invoice_to=payer)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.status_code == 200
    assert len(many) == len(few)


def test_search_and_paging(client, org):
    login(client, "boss")
    for i in range(60):
        make_member(org, str(1000 + i), last_name=f"Name{i:02d}")
    make_member(org, "9", last_name="Zürcher")
    response = client.get(reverse("members:list", args=["club"]), {"q": "zürcher"})
    assert "Zürcher" in response.text and "Name01" not in response.text
    page2 = client.get(reverse("members:list", args=["club"]), {"page": 2})
    assert page2.context["page"].number == 2


def test_create_edit_archive(client, org):
    login(client, "boss")
    response = client.post(
        reverse("members:create", args=["club"]),
        {
            "number": "42",
            "kind": "person",
            "first_name": "Lea",
            "last_name": "Frei",
            "country": "ch",
            "language": "fr",
            "is_active": "on",
        },
    )
    member = Member.objects.get(number="42")
    assert response.status_code == 302 and member.country == "CH"
    duplicate = client.post(
        reverse("members:create", args=["club"]),
        {"number": "42", "kind": "person", "last_name": "Other", "country": "CH", "language": "de"},
    )
    assert duplicate.status_code == 200 and "number" in duplicate.context["form"].errors
    client.post(
        reverse("members:edit", args=["club", member.pk]),
        {
            "number": "42",
            "kind": "person",
            "first_name": "Lea",
            "last_name": "Frei-Muster",
            "country": "CH",
            "language": "fr",
            "is_active": "on",
        },
    )
    member.refresh_from_db()
    assert member.last_name == "Frei-Muster"
    client.post(reverse("members:archive", args=["club", member.pk]))
    member.refresh_from_db()
    assert not member.is_active


def test_read_only_cannot_create(client, org):
    login(client, "reader")
    assert client.get(reverse("members:create", args=["club"])).status_code == 403
    assert client.get(reverse("members:list", args=["club"])).status_code == 200


def test_import_preview_then_commit(client, org):
    login(client, "boss")
    url = reverse("members:import", args=["club"])
    upload = SimpleUploadedFile("m.csv", "number;last_name;city\n1;Gärtner;Zürich\n".encode("cp1252"))
    preview = client.post(url, {"file": upload})
    assert preview.status_code == 200 and preview.context["plan"].ok
    assert not Member.objects.exists()
    done = client.post(url, {"token": preview.context["token"], "action": "commit"})
    assert done.status_code == 302
    assert Member.objects.get().last_name == "Gärtner"


def test_import_errors_are_listed(client, org):
    login(client, "boss")
    url = reverse("members:import", args=["club"])
    upload = SimpleUploadedFile("m.csv", b"number;last_name;email\n1;A;bad\n2;;\n")
    response = client.post(url, {"file": upload})
    assert [(e.row, e.column) for e in response.context["plan"].errors] == [(2, "email"), (3, "last_name")]
    assert not Member.objects.exists()


def test_import_preview_says_where_a_house_number_was_taken_out_of_the_street(client, org):
    login(client, "boss")
    url = reverse("members:import", args=["club"])
    text = (
        "number;salutation;first_name;last_name;street\n"
        "1;Herr;Hans;Keller;Seestrasse 12\n"
        "2;;Eva;Frei;Dorfweg\n"
    )
    preview = client.post(url, {"file": SimpleUploadedFile("m.csv", text.encode())})
    assert preview.context["plan"].ok
    assert (
        "In 1 row the house number was taken out of the street: “Seestrasse 12” becomes street "
        "“Seestrasse”, house number “12”."
    ) in preview.text
    assert "<td>Herr Hans Keller</td>" in preview.text
    unchanged = client.post(url, {"file": SimpleUploadedFile("m.csv", text.replace(" 12", "").encode())})
    assert unchanged.context["plan"].ok and 'id="streets-split"' not in unchanged.text
