"""Property-string formats: the sub-properties of a value like ``local:1,cache=none,ssd=1``.

Proxmox declares a property string as a hash of sub-properties, each with its own schema, one
of them the *default key* that may be given without ``key=`` (pve-common ``PVE/JSONSchema.pm``,
``parse_property_string``). A :class:`PropertyFormat` is that declaration here: the
sub-properties are :class:`~respaldo.config.schema.Param` objects of a
:class:`~respaldo.config.schema.Schema`, so each value is checked as any option is (by
:func:`~respaldo.config.schema.parse_property_string`); the format adds the aliases and dropped
keys of qemu-server's formats and a shape-only :meth:`PropertyFormat.split`.

Parsing follows ``parse_property_string``: parts are split at commas, blank parts are skipped,
a part without ``=`` is the default key's value (once, anywhere), aliases (``volume`` for
``file``) are resolved, a key that is neither declared nor dropped is refused, and a required
sub-property must be there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from respaldo.config.schema import Param, Schema, parse_property_string, register_format
from respaldo.errors import InputError


@dataclass(frozen=True)
class PropertyFormat:
    """A property-string format; ``name`` is Proxmox's (``pve-qm-efidisk``) when it has one.

    ``aliases`` maps an accepted key to the declared one; ``dropped`` are keys Proxmox reads
    and throws away (the drive geometry ``cyls``, ``heads``...).
    """

    name: str
    properties: Schema
    default_key: str | None = None
    aliases: Mapping[str, str] = field(default_factory=dict)
    dropped: frozenset[str] = frozenset()

    def split(self, text: str, what: str) -> dict[str, str]:
        """The raw ``key -> text`` of ``text`` (aliases resolved, dropped keys left out); only
        the shape is checked: duplicate keys, a second keyless part."""
        result: dict[str, str] = {}
        for part in text.split(","):
            if not part.strip():
                continue
            key, sep, value = part.partition("=")
            if not sep:
                if self.default_key is None:
                    raise InputError(what, text, f"'{part}' has no 'key=' (expected key=value)")
                key, value = self.default_key, part
            elif not value:
                raise InputError(what, text, f"'{key}' has no value")
            key = self.aliases.get(key, key)
            if key in self.dropped:
                continue
            if key in result:
                raise InputError(what, text, f"duplicate key '{key}' in property string")
            result[key] = value
        return result

    def parse(self, text: str, what: str) -> dict[str, object]:
        """``key -> typed value``; InputError naming ``what`` and the sub-property for any
        value the format refuses (unknown key, bad value, missing required one)."""
        raw = self.split(text, what)
        canonical = ",".join(f"{key}={value}" for key, value in raw.items())
        try:
            return parse_property_string(canonical, what, self.properties)
        except InputError as err:
            raise InputError(what, text, err.reason) from err

    def check(self, text: str, what: str) -> str:
        """``text`` itself once :meth:`parse` accepts it (a config keeps what was given)."""
        self.parse(text, what)
        return text

    def register(self, typetext: str = "") -> PropertyFormat:
        """Register as a named format of :mod:`respaldo.config.schema` (value kept as text)."""
        register_format(self.name, self.check, typetext)
        return self


def property_format(
    name: str,
    *properties: Param,
    default_key: str | None = None,
    aliases: Mapping[str, str] | None = None,
    dropped: frozenset[str] = frozenset(),
) -> PropertyFormat:
    return PropertyFormat(
        name, Schema(properties, unknown_what="property"), default_key, aliases or {}, dropped
    )
