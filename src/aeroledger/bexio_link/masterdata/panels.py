"""What the master data adds to the club's pages (tenancy.hooks slots, registered in apps.py).

The member page shows the member's bexio contact: linked or not, how it was matched, when it was
last sent, a conflict or error in words, and where to deal with it (Bexio > Contacts).
"""

from django.template.loader import render_to_string

from .models import ContactLink


def member_panel(request, member, **_kwargs):
    organisation = member.organisation
    if not organisation.bexio_option:
        return None
    link = ContactLink.objects.filter(organisation=organisation, member=member).first()
    context = {"organisation": organisation, "member": member, "link": link}
    return render_to_string("bexio_masterdata/panels/member.html", context, request=request)
