"""German ships complete: every message of every app (the bexio ones included) has a German
translation, nothing is fuzzy, and the committed .mo files match their .po files.

The messages are extracted afresh (makemessages on a copy of the source tree, merged with the
committed catalogues), so a new string without a German translation fails here.
"""

import importlib.util
import shutil
from pathlib import Path

import polib
import pytest

PROJECT = Path(__file__).resolve().parents[2]
ROOT = PROJECT.parent.parent


def _messages_script():
    spec = importlib.util.spec_from_file_location("messages_script", ROOT / "scripts" / "messages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


messages = _messages_script()
CATALOGUES = [*messages.APPS, "."]


def _has_python_or_templates(directory: Path) -> bool:
    return any(directory.rglob("*.py")) or any(directory.rglob("*.html"))


def _problems(po: polib.POFile) -> list[str]:
    problems = []
    for entry in po:
        if entry.obsolete:
            continue
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {entry.msgid!r}")
        elif entry.msgid_plural:
            if not entry.msgstr_plural or not all(entry.msgstr_plural.values()):
                problems.append(f"untranslated plural: {entry.msgid!r}")
        elif not entry.msgstr:
            problems.append(f"untranslated: {entry.msgid!r}")
    return problems


@pytest.fixture(scope="module")
def fresh_tree(tmp_path_factory):
    """A copy of src/aeroledger with freshly extracted German catalogues."""
    copy = tmp_path_factory.mktemp("i18n") / "aeroledger"
    shutil.copytree(PROJECT, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo"))
    for app in messages.APPS:
        if (copy / app).is_dir():
            messages.extract_app(copy / app, ["de"])
    messages.extract_project(copy, ["de"])
    return copy


@pytest.mark.parametrize("catalogue", CATALOGUES)
def test_german_is_complete(fresh_tree, catalogue):
    committed = PROJECT / catalogue / "locale" / "de" / "LC_MESSAGES" / "django.po"
    fresh = fresh_tree / catalogue / "locale" / "de" / "LC_MESSAGES" / "django.po"
    assert (PROJECT / catalogue).is_dir(), f"{catalogue} is listed in scripts/messages.py but does not exist"
    if not fresh.exists() or not [e for e in polib.pofile(str(fresh)) if e.msgid]:
        return  # nothing to translate
    assert committed.exists(), f"{catalogue}: no German catalogue; run `make messages` and translate it"
    problems = _problems(polib.pofile(str(fresh)))
    assert not problems, (
        f"{catalogue}: German translations missing (run `make messages`, translate "
        f"{committed.relative_to(ROOT)}, commit .po and .mo):\n  " + "\n  ".join(problems)
    )
    assert not _problems(polib.pofile(str(committed))), f"{catalogue}: committed catalogue is incomplete"


def _translations(catalogue) -> dict:
    table = {}
    for entry in catalogue:
        if not entry.msgid or entry.obsolete or "fuzzy" in entry.flags:
            continue
        key = (entry.msgctxt, entry.msgid, entry.msgid_plural)
        if entry.msgid_plural:
            value = tuple(v for _k, v in sorted(entry.msgstr_plural.items()))
            if not all(value):
                continue
        else:
            value = entry.msgstr
            if not value:
                continue
        table[key] = value
    return table


def _all_po_files():
    return sorted(PROJECT.glob("**/locale/*/LC_MESSAGES/django.po"))


@pytest.mark.parametrize("po_path", _all_po_files(), ids=lambda p: str(p.relative_to(PROJECT)))
def test_mo_files_are_up_to_date(po_path):
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path.relative_to(ROOT)} is missing: run `make messages`"
    assert _translations(polib.pofile(str(po_path))) == _translations(polib.mofile(str(mo_path))), (
        f"{mo_path.relative_to(ROOT)} is out of date: run `make messages` (compilemessages)"
    )


def test_every_app_with_strings_has_all_catalogues():
    for app in messages.APPS:
        locale = PROJECT / app / "locale"
        if not (PROJECT / app).is_dir() or not _has_python_or_templates(PROJECT / app) or not locale.is_dir():
            continue
        for lang in messages.LANGUAGES:
            assert (locale / lang / "LC_MESSAGES" / "django.po").exists(), f"{app}: no {lang} catalogue"


def test_german_interface_shows_german(client, django_user_model):
    from aeroledger.tenancy.testing import PASSWORD, make_member, make_org, make_staff

    org = make_org("club")
    make_staff(org, "leser", perms=(), language="de")
    make_member(org, "1")
    client.login(username="leser", password=PASSWORD)
    page = client.get("/o/club/members/").text
    assert "Mitglieder" in page and "Neues Mitglied" not in page  # read only: no create button
    assert "Suchen" in page
