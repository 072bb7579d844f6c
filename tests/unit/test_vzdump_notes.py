"""Notes templates rendered as pve-manager ``PVE/VZDump.pm`` renders them: each escape read
once, Proxmox's variables, Proxmox's refusals."""

from __future__ import annotations

import pytest

from respaldo.errors import InputError
from respaldo.services.vzdump.notes import STANDALONE, check_notes_template, render_notes


def render(template: str) -> str:
    return render_notes(template, cluster=STANDALONE, guestname="web", node="pve1", vmid=9304)


@pytest.mark.parametrize(
    ("template", "notes"),
    [
        # as typed between single quotes in a shell
        (r"path C:\\temp\\new | {{vmid}}\nsecond line", "path C:\\temp\\new | 9304\nsecond line"),
        (r"a\\nb", "a\\nb"),  # an escaped backslash, then a plain n: no line break
        (r"{{guestname}} on {{node}}\nsecond", "web on pve1\nsecond"),
        (r"back\\slash", "back\\slash"),
        (r"\\\n", "\\\n"),
        ("{{guestname}} on {{node}} in {{cluster}}", "web on pve1 in standalone node"),
        ("{{vmid}}{{vmid}}", "93049304"),
        (r"\\{{vmid}}", "\\9304"),
        ("{ {vmid} } {{ vmid }}", "{ {vmid} } {{ vmid }}"),  # no variables: kept as typed
    ],
)
def test_escapes_are_read_once_and_variables_replaced(template: str, notes: str) -> None:
    assert render(template) == notes


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        (r"C:\temp", r"found unknown: escape sequence '\t' at char 2"),
        ("{{foo}} and {{vmid}}", "found unknown: variable 'foo' at char 4"),
        (
            r"x\a {{guest}}",
            r"found unknown: escape sequence '\a' at char 1, variable 'guest' at char 8",
        ),
        ("line\nbreak", "contains a line feed"),
    ],
)
def test_proxmoxs_refusals(template: str, reason: str) -> None:
    with pytest.raises(InputError) as info:
        check_notes_template(template)
    assert info.value.reason == reason
    with pytest.raises(InputError):
        render(template)
