"""CSV imports within limits (issue 13, item 7 and the CSV 500s): size and row caps with clear
messages, the file kept server-side between preview and import, over-long cells and absurd
numbers as row errors."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from aeroledger.flights.imports import import_flights
from aeroledger.flights.models import Flight
from aeroledger.members.imports import import_members
from aeroledger.members.models import Member
from aeroledger.tenancy.csvfiles import RowError, read_rows
from aeroledger.tenancy.models import PendingImport
from aeroledger.tenancy.testing import PASSWORD, make_fleet, make_member, make_org, make_staff

pytestmark = pytest.mark.django_db


def members_csv(n: int, start: int = 1) -> bytes:
    lines = ["number;first_name;last_name;city"]
    lines += [f"{i};Anna;Muster{i};Bern" for i in range(start, start + n)]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def org():
    org = make_org("club")
    make_staff(org, "boss")
    make_staff(org, "other")
    return org


def logged_in(username) -> Client:
    client = Client()
    assert client.login(username=username, password=PASSWORD)
    return client


# --- Limits -----------------------------------------------------------------------------------------


def test_a_file_over_the_size_limit_is_refused_with_the_limit_named(org, settings):
    settings.AEROLEDGER_CSV_MAX_BYTES = 1024 * 1024
    data = members_csv(80_000)  # about 2 MB
    assert len(data) > 1024 * 1024
    response = logged_in("boss").post(
        reverse("members:import", args=["club"]), {"file": SimpleUploadedFile("m.csv", data)}
    )
    assert response.status_code == 200
    errors = response.context["form"].errors["file"]
    assert errors == [f"The file is {len(data) / 1024 / 1024:.1f} MB; at most 1 MB can be imported "
                      "at once (split the file)."]  # fmt: skip
    assert "plan" not in response.context
    assert not PendingImport.objects.exists() and not Member.objects.exists()


def test_the_upload_handler_keeps_nothing_past_the_limit(settings):
    from aeroledger.tenancy.uploads import SizeLimitUploadHandler, TooLarge

    settings.AEROLEDGER_CSV_MAX_BYTES = 100
    handler = SizeLimitUploadHandler()
    handler.new_file("file", "m.csv", "text/csv", None)
    assert handler.receive_data_chunk(b"x" * 60, 0) == b"x" * 60
    assert handler.receive_data_chunk(b"x" * 60, 60) is None  # over the limit: not passed on
    assert handler.receive_data_chunk(b"x" * 60, 120) is None
    done = handler.file_complete(180)
    assert isinstance(done, TooLarge) and done.size == 180 and done.read() == b""


def test_a_file_with_too_many_rows_is_refused_at_the_first_row_over(org, settings):
    settings.AEROLEDGER_CSV_MAX_ROWS = 50
    plan = import_members(org, members_csv(51))
    assert [(e.row, e.column) for e in plan.errors] == [(52, "")]
    assert plan.errors[0].message == (
        "The file has more than 50 rows; at most 50 rows can be imported at once (split the file)."
    )
    assert import_members(org, members_csv(50)).ok


def test_reading_stops_at_the_row_limit_without_reading_the_rest(settings):
    """Streaming: 1,000,000 rows, a limit of 100: the parser reads a few kilobytes of them."""
    settings.AEROLEDGER_CSV_MAX_ROWS = 100
    settings.AEROLEDGER_CSV_MAX_BYTES = 10**9

    class Counting(io.BytesIO):
        parsed = 0

        def read1(self, size=-1):  # what TextIOWrapper uses while parsing
            chunk = super().read1(size)
            Counting.parsed += len(chunk)
            return chunk

    data = members_csv(1_000_000)
    stream = Counting(data)
    with pytest.raises(Exception, match="more than 100 rows"):
        read_rows(stream, required={"number"}, known={"number", "first_name", "last_name", "city"})
    assert Counting.parsed < 64 * 1024 < len(data)


def test_a_cell_over_the_csv_modules_limit_is_a_row_error_not_a_500(org):
    text = "number;last_name\n1;A\n2;" + "x" * 131_073 + "\n"
    plan = import_members(org, text)
    assert [(e.row, e.column) for e in plan.errors] == [(3, "")]
    assert "cannot be read" in plan.errors[0].message
    # And through the page: the error table, not a 500.
    response = logged_in("boss").post(
        reverse("members:import", args=["club"]), {"file": SimpleUploadedFile("m.csv", text.encode())}
    )
    assert response.status_code == 200 and not response.context["plan"].ok


def test_a_long_cell_is_an_error_of_its_row_and_column(org):
    plan = import_members(org, "number;last_name;city\n1;A;Bern\n2;B;" + "y" * 1001 + "\n")
    assert plan.errors == [RowError(3, "city", "At most 1'000 characters (this cell has 1'001).")]


def test_absurd_flight_numbers_are_row_errors(org):
    aircraft, aerodrome = make_fleet(org)
    make_member(org, "1")
    text = (
        "date;aircraft;pilot;block_minutes;landings\n"
        f"24.11.2026;{aircraft.registration};1;60;{aerodrome.icao}:100000000000000000000\n"
        f"24.11.2026;{aircraft.registration};1;99999999999;{aerodrome.icao}:2\n"
        f"24.11.2026;{aircraft.registration};1;60;{aerodrome.icao}:" + "9" * 5000 + "\n"
        f"01.01.0001;{aircraft.registration};1;60;\n"
        f"24.11.2026;{aircraft.registration};1;²;\n"
    )
    plan = import_flights(org, text)
    assert [(e.row, e.column) for e in plan.errors] == [
        (2, "landings"),
        (3, "block_minutes"),
        (4, "landings"),
        (5, "date"),
        (6, "block_minutes"),
    ]
    assert plan.errors[0].message == f"The number of landings at {aerodrome.icao} must be from 1 to 99."
    assert plan.errors[1].message == "Block minutes must be a whole number from 1 to 1440."
    assert plan.errors[3].message == "The date must be in the years 1900 to 2100."
    assert not Flight.objects.exists()


# --- The file stays on the server between preview and import -------------------------------------------


def test_the_confirmation_posts_a_token_not_the_file(org, settings):
    # Django refuses form data over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB by default): the old page
    # posted the whole text back, so a file above it could never be imported.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2000
    data = members_csv(300)
    assert len(data) > 2000
    client = logged_in("boss")
    url = reverse("members:import", args=["club"])
    preview = client.post(url, {"file": SimpleUploadedFile("m.csv", data)})
    assert preview.status_code == 200 and preview.context["plan"].ok
    html = preview.content.decode()
    assert "Muster300" not in html.split('name="token"')[1]  # nothing of the file in the form
    assert 'name="csv_text"' not in html
    token = preview.context["token"]
    assert bytes(PendingImport.objects.get(token=token).data) == data
    assert not Member.objects.exists()
    done = client.post(url, {"token": token, "action": "commit"})
    assert done.status_code == 302
    assert Member.objects.count() == 300
    assert not PendingImport.objects.exists()  # used once
    again = client.post(url, {"token": token, "action": "commit"})
    assert "expired or was already imported" in again.content.decode()
    assert Member.objects.count() == 300


def test_the_token_is_bound_to_user_organisation_import_and_time(org):
    from datetime import timedelta

    from django.utils import timezone

    make_staff(make_org("other-club"), "stranger")
    boss = logged_in("boss")
    preview = boss.post(
        reverse("members:import", args=["club"]), {"file": SimpleUploadedFile("m.csv", members_csv(3))}
    )
    token = preview.context["token"]
    commit = {"token": token, "action": "commit"}
    # Another user of the same organisation, the flight import, and an expired token: refused.
    assert (
        "expired"
        in logged_in("other").post(reverse("members:import", args=["club"]), commit).content.decode()
    )
    assert "expired" in boss.post(reverse("flights:import", args=["club"]), commit).content.decode()
    PendingImport.objects.filter(token=token).update(created_at=timezone.now() - timedelta(hours=2))
    assert "expired" in boss.post(reverse("members:import", args=["club"]), commit).content.decode()
    assert not Member.objects.exists()


def test_the_flight_import_page_keeps_the_file_too(org):
    aircraft, aerodrome = make_fleet(org)
    make_member(org, "1")
    data = "date;aircraft;pilot;block_minutes;landings\n"
    data += f"24.11.2026;{aircraft.registration};1;45;{aerodrome.icao}:2\n"
    client = logged_in("boss")
    url = reverse("flights:import", args=["club"])
    preview = client.post(url, {"file": SimpleUploadedFile("f.csv", data.encode())})
    assert preview.context["plan"].ok, preview.context["plan"].errors
    assert client.post(url, {"token": preview.context["token"], "action": "commit"}).status_code == 302
    assert Flight.objects.get().landings.get().count == 2


def test_the_page_names_the_limits(org, settings):
    settings.AEROLEDGER_CSV_MAX_ROWS = 20_000
    html = logged_in("boss").get(reverse("members:import", args=["club"])).content.decode()
    assert "At most 5 MB and 20'000 rows per file." in html


# --- Commands --------------------------------------------------------------------------------------------


def test_command_refuses_a_big_file_before_reading_it(org, settings, tmp_path):
    settings.AEROLEDGER_CSV_MAX_BYTES = 1000
    path = tmp_path / "m.csv"
    path.write_bytes(members_csv(100))
    with pytest.raises(CommandError, match=r"at most 0\.0 MB|at most"):
        call_command("import_members", "--org", "club", str(path))
    assert not Member.objects.exists()


def test_command_refuses_too_many_rows(org, settings, tmp_path, capsys):
    settings.AEROLEDGER_CSV_MAX_ROWS = 10
    path = tmp_path / "m.csv"
    path.write_bytes(members_csv(11))
    with pytest.raises(CommandError, match="1 problem"):
        call_command("import_members", "--org", "club", str(path))
    assert "row 12, column -: The file has more than 10 rows" in capsys.readouterr().err
    assert not Member.objects.exists()


def test_flights_have_their_own_row_limit(org, settings):
    settings.AEROLEDGER_CSV_MAX_ROWS = 100
    settings.AEROLEDGER_CSV_MAX_FLIGHT_ROWS = 3
    aircraft, aerodrome = make_fleet(org)
    make_member(org, "1")
    text = "date;aircraft;pilot;block_minutes\n" + f"24.11.2026;{aircraft.registration};1;60\n" * 4
    plan = import_flights(org, text)
    assert [(e.row, e.message[:30]) for e in plan.errors] == [(5, "The file has more than 3 rows;")]
    html = logged_in("boss").get(reverse("flights:import", args=["club"])).content.decode()
    assert "At most 5 MB and 3 rows per file." in html
