"""`{% panels "slot" key=value ... %}`: the HTML that upper layers registered for a slot."""

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

from aeroledger.tenancy import hooks

register = template.Library()


@register.simple_tag(takes_context=True)
def panels(context, slot: str, **kwargs):
    request = context.get("request")
    parts = hooks.collect(slot, request, **kwargs)
    return format_html_join("", "{}", ((mark_safe(p),) for p in parts))  # noqa: S308 - rendered templates
