from django.template import Context, Template
from django.test import RequestFactory

from aeroledger.tenancy import hooks


def test_slot_renders_what_is_registered_and_nothing_else(monkeypatch):
    monkeypatch.setattr(hooks, "_slots", hooks.defaultdict(list))
    template = Template('{% load hooks %}[{% panels "demo" who=name %}]')
    request = RequestFactory().get("/")
    assert template.render(Context({"request": request, "name": "x"})) == "[]"

    hooks.register("demo", lambda request, who: f"<b>{who}</b>")
    hooks.register("demo", lambda request, who: None)  # nothing to show
    assert template.render(Context({"request": request, "name": "Bärtschi"})) == "[<b>Bärtschi</b>]"


def test_collect_first_and_double_registration(monkeypatch):
    monkeypatch.setattr(hooks, "_slots", hooks.defaultdict(list))

    def answer(n):
        return n * 2

    hooks.register("facts", answer)
    hooks.register("facts", answer)
    assert hooks.collect("facts", 2) == [4]
    assert hooks.first("facts", 3) == 6
    assert hooks.first("nothing", 3, default="none") == "none"
    assert hooks.registered("facts") and not hooks.registered("nothing")
