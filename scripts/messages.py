"""`make messages`: extract the translatable strings of every app into its own locale/, then compile.

Each Django app keeps its catalogue in <app>/locale/<lang>/LC_MESSAGES/django.po; the project's
own strings (base template, includes, settings, formats) go to src/aeroledger/locale/. Run it after
changing strings, translate the new entries in German, French and Italian (English is the source
language), commit the .po and .mo files. tenancy/tests/test_translations.py checks all three.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "src" / "aeroledger"
BIN = Path(sys.executable).parent
LANGUAGES = ["de", "fr", "it"]
APPS = [
    "tenancy",
    "members",
    "flights",
    "billing",
    "dashboard",
    "bexio_link/connection",
    "bexio_link/masterdata",
    "bexio_link/transfer",
    "bexio_link/books",
]
# Project-level catalogue: everything under src/aeroledger that is not an app (an app's strings are
# in its own catalogue). The apps are ignored by their path, so a directory missing from APPS still
# lands in the project's catalogue rather than in none; makemessages matches "--ignore=a/b/*"
# against the path below the project directory.
PROJECT_IGNORE = [*APPS, "locale"]
COMMON = ["--no-location", "--no-obsolete", "--no-wrap", "--ignore=tests/*", "--ignore=migrations/*"]


def django_admin(*args: str, cwd: Path) -> None:
    # Without settings, makemessages writes only to the locale/ directories below `cwd` (with
    # settings it would also consider LOCALE_PATHS), so it also works on a copy of the tree.
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    subprocess.run(
        [str(BIN / "django-admin"), *args], cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL
    )


def language_args(languages: list[str]) -> list[str]:
    return [arg for lang in languages for arg in ("-l", lang)]


def extract_app(app_dir: Path, languages: list[str] = LANGUAGES) -> None:
    (app_dir / "locale").mkdir(exist_ok=True)
    django_admin("makemessages", *language_args(languages), *COMMON, cwd=app_dir)


def extract_project(project_dir: Path = PROJECT, languages: list[str] = LANGUAGES) -> None:
    (project_dir / "locale").mkdir(exist_ok=True)
    ignores = [f"--ignore={name}/*" for name in PROJECT_IGNORE]
    django_admin("makemessages", *language_args(languages), *COMMON, *ignores, cwd=project_dir)


def compile_all(apps: list[str]) -> None:
    for app in [*apps, "."]:
        directory = PROJECT / app
        if (directory / "locale").is_dir():
            django_admin("compilemessages", cwd=directory)


def main(argv: list[str]) -> None:
    """`messages.py` does every app; `messages.py members billing` only those (and the project)."""
    apps = [a for a in APPS if a in argv or a.split("/")[-1] in argv] if argv else APPS
    for app in apps:
        directory = PROJECT / app
        if directory.is_dir():
            print(f"extract {app}", flush=True)
            extract_app(directory)
    print("extract project", flush=True)
    extract_project()
    compile_all(apps)


if __name__ == "__main__":
    main(sys.argv[1:])
