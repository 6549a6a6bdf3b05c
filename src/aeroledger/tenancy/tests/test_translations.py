"""German, French and Italian ship complete: every message of every app (the bexio ones included)
has a translation in each of them, nothing is fuzzy, and the committed .mo files match their .po
files.

The messages are extracted afresh (makemessages on a copy of the source tree, merged with the
committed catalogues), so a new string without a translation in any of the three fails here.
"""

import importlib.util
import re
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
LANGUAGES = ["de", "fr", "it"]
LANGUAGE_NAMES = {"de": "German", "fr": "French", "it": "Italian"}


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
    """A copy of src/aeroledger with freshly extracted German, French and Italian catalogues."""
    copy = tmp_path_factory.mktemp("i18n") / "aeroledger"
    shutil.copytree(PROJECT, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo"))
    for app in messages.APPS:
        if (copy / app).is_dir():
            messages.extract_app(copy / app, LANGUAGES)
    messages.extract_project(copy, LANGUAGES)
    return copy


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("catalogue", CATALOGUES)
def test_language_is_complete(fresh_tree, catalogue, language):
    name = LANGUAGE_NAMES[language]
    committed = PROJECT / catalogue / "locale" / language / "LC_MESSAGES" / "django.po"
    fresh = fresh_tree / catalogue / "locale" / language / "LC_MESSAGES" / "django.po"
    assert (PROJECT / catalogue).is_dir(), f"{catalogue} is listed in scripts/messages.py but does not exist"
    if not fresh.exists() or not [e for e in polib.pofile(str(fresh)) if e.msgid]:
        return  # nothing to translate
    assert committed.exists(), f"{catalogue}: no {name} catalogue; run `make messages` and translate it"
    problems = _problems(polib.pofile(str(fresh)))
    assert not problems, (
        f"{catalogue}: {name} translations missing (run `make messages`, translate "
        f"{committed.relative_to(ROOT)}, commit .po and .mo):\n  " + "\n  ".join(problems)
    )
    assert not _problems(polib.pofile(str(committed))), (
        f"{catalogue}: committed {name} catalogue is incomplete"
    )


def test_every_app_is_extracted():
    """An app missing from scripts/messages.py would have its strings in no catalogue."""
    apps = {p.parent.relative_to(PROJECT).as_posix() for p in PROJECT.glob("**/apps.py")}
    missing = sorted(apps - set(messages.APPS))
    assert not missing, f"apps not in scripts/messages.py APPS: {missing}"


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


@pytest.mark.parametrize("language", LANGUAGES)
def test_same_message_same_translation_in_every_app(language):
    """One English message has one translation per language, whichever app's catalogue it is in
    (a message that needs two gets a context: pgettext)."""
    seen: dict = {}
    clashes = []
    for po_path in PROJECT.glob(f"**/locale/{language}/LC_MESSAGES/django.po"):
        app = po_path.parents[3].relative_to(PROJECT).as_posix()
        for key, value in _translations(polib.pofile(str(po_path))).items():
            other = seen.setdefault(key, (app, value))
            if other[1] != value:
                clashes.append(f"{key[1]!r}: {other[0]} {other[1]!r} / {app} {value!r}")
    assert not clashes, f"{LANGUAGE_NAMES[language]}: translated differently:\n  " + "\n  ".join(clashes)


NAMED = re.compile(r"%\([a-z_0-9]+\)[sdif]|\{[a-z_0-9]+\}|</?[a-z][a-z0-9]*")
POSITIONAL = re.compile(r"%[sdif]|\{\}")


def _placeholders(text: str) -> tuple:
    """Named placeholders and tags may repeat (a translation may name someone twice); positional
    ones must be there exactly as often."""
    return set(NAMED.findall(text)), sorted(POSITIONAL.findall(text.replace("%%", "")))


@pytest.mark.parametrize("po_path", _all_po_files(), ids=lambda p: str(p.relative_to(PROJECT)))
def test_translations_keep_placeholders_and_tags(po_path):
    wrong = []
    for (_ctxt, msgid, msgid_plural), value in _translations(polib.pofile(str(po_path))).items():
        sources = [msgid] if not msgid_plural else [msgid, *[msgid_plural] * (len(value) - 1)]
        targets = [value] if not msgid_plural else list(value)
        for source, target in zip(sources, targets, strict=True):
            if _placeholders(source) != _placeholders(target):
                wrong.append(f"{source!r} -> {target!r}")
    assert not wrong, "placeholders or tags differ:\n  " + "\n  ".join(wrong)


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
