from django.template import Context, Template
from django.urls import reverse


def test_row_links_are_the_reversed_urls():
    template = Template(
        '{% load rows %}{% row_url "billing:invoice" "club" as url %}'
        "{% for pk in ids %}{{ url|with_id:pk }} {% endfor %}"
    )
    rendered = template.render(Context({"ids": [7, 10, 1234]})).split()
    assert rendered == [reverse("billing:invoice", args=["club", pk]) for pk in (7, 10, 1234)]
