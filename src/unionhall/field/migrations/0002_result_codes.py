"""The result codes every committee shares (VAN's usual canvass and phone results)."""

from django.db import migrations

CODES = [
    # code, label, channel, contact, final
    ("CV", "Canvassed (talked to the person)", "both", True, False),
    ("NH", "Not Home", "door", False, False),
    ("RF", "Refused", "both", True, True),
    ("MV", "Moved", "both", False, True),
    ("WN", "Wrong Number", "phone", False, True),
    ("DC", "Deceased", "both", False, True),
    ("IN", "Inaccessible", "door", False, False),
    ("LB", "Language Barrier", "both", False, False),
    ("CB", "Come Back / Call Back", "both", False, False),
    ("LM", "Left Message", "phone", False, False),
    ("NA", "No Answer", "phone", False, False),
    ("DS", "Disconnected", "phone", False, True),
    ("HO", "Hostile", "both", True, True),
]


def create(apps, schema_editor):
    ResultCode = apps.get_model("field", "ResultCode")
    for order, (code, label, channel, contact, final) in enumerate(CODES):
        ResultCode.objects.get_or_create(
            code=code, defaults={"label": label, "channel": channel, "contact": contact, "final": final,
                                 "order": order})


class Migration(migrations.Migration):
    dependencies = [("field", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
