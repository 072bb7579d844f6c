"""One declaration per parameter: Proxmox's JSON schema for options and API parameters.

Proxmox declares every option once, in a JSON schema per API method (pve-common
``PVE/JSONSchema.pm``), and builds from it the CLI (``PVE/CLIHandler.pm``), the config-file
parsers and the API's validation. respaldo does the same: a :class:`Param` names an option as
Proxmox spells it (``prune-backups``, ``notes-template``), with its type, format, limits,
default and description; a :class:`Schema` is the parameter set of one command, API method or
config file. From a schema are built

- the checking of given values (:meth:`Schema.parse`: strings from a command line, a form or
  a config file, or JSON values, into typed values; every bad value named at once in a
  :class:`ParameterError`),
- the CLI's arguments (``respaldo.cli.schemaargs``),
- the API's validation and its OpenAPI document (:meth:`Schema.json_schema`).

Formats (``pve-vmid``, ``pve-storage-id``, ``prune-backups``...) are parsers registered by
name in :data:`FORMATS` with :func:`register_format`, as Proxmox's ``register_format``: the
basic ones in :mod:`respaldo.config.formats`, others by the module that owns them.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from respaldo.config.scalars import parse_boolean, parse_integer, parse_number
from respaldo.errors import InputError

#: A format's parser: the text (and the parameter's name, for its errors) to a typed value;
#: raises InputError naming the parameter.
FormatParser = Callable[[str, str], object]
#: A typed value back to the text Proxmox writes in its files (a property string in its order).
FormatPrinter = Callable[[Any], str]
#: A typed value to what the API returns for it (a property string as an object).
FormatJson = Callable[[Any], object]


@dataclass(frozen=True)
class Format:
    """A named value format: its parser, a short text for help and documentation, and
    optionally how a typed value is written back (``print``) and shown by the API
    (``json``); without them the text as given is kept and shown."""

    name: str
    parse: FormatParser
    typetext: str = ""
    print: FormatPrinter | None = None
    json: FormatJson | None = None


#: Every format known, by name.
FORMATS: dict[str, Format] = {}


def register_format(
    name: str,
    parse: FormatParser,
    typetext: str = "",
    print: FormatPrinter | None = None,
    json: FormatJson | None = None,
) -> Format:
    """Make ``name`` usable as a :attr:`Param.format`; a second registration replaces none."""
    if name in FORMATS:
        raise ValueError(f"format '{name}' is registered already")
    fmt = Format(name, parse, typetext, print, json)
    FORMATS[name] = fmt
    return fmt


class ParamType(enum.Enum):
    """The JSON schema types Proxmox's parameters use."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"


Value = str | int | float | bool


@dataclass(frozen=True)
class Param:
    """One parameter, as Proxmox declares it.

    ``name`` is Proxmox's spelling; with ``indexed=N`` the parameter stands for the keys
    ``<name>0`` .. ``<name>N-1`` (Proxmox's ``scsi[n]``). ``format`` names a registered
    :class:`Format` whose parser gives the typed value (a list of VMIDs, a PruneOptions...);
    without one, the value is the plain type (str, int, float, bool). ``default`` is
    documentation and :meth:`Schema.defaults`; parsing never fills it in. ``requires`` names a
    parameter that must be given too. ``root_only`` marks what only ``root@pam`` may set.
    """

    name: str
    type: ParamType
    description: str
    format: str | None = None
    enum: tuple[str, ...] = ()
    minimum: int | float | None = None
    maximum: int | float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    default: Value | None = None
    optional: bool = True
    requires: str | None = None
    root_only: bool = False
    indexed: int = 0
    typetext: str | None = None
    deprecated: bool = False

    def keys(self) -> list[str]:
        """The option names this parameter stands for."""
        if not self.indexed:
            return [self.name]
        return [f"{self.name}{index}" for index in range(self.indexed)]

    def accepts(self, key: str) -> bool:
        if not self.indexed:
            return key == self.name
        suffix = key[len(self.name) :]
        return (
            key.startswith(self.name)
            and suffix.isascii()
            and suffix.isdigit()
            and (suffix == "0" or not suffix.startswith("0"))
            and int(suffix) < self.indexed
        )

    @property
    def display_name(self) -> str:
        return f"{self.name}[n]" if self.indexed else self.name

    def text(self) -> str:
        """A short type text for help: ``<integer 0..256>``, ``<snapshot | stop>``."""
        if self.typetext:
            return self.typetext
        if self.enum:
            return "<" + " | ".join(self.enum) + ">"
        if self.format and self.format in FORMATS and FORMATS[self.format].typetext:
            return FORMATS[self.format].typetext
        if self.type is ParamType.BOOLEAN:
            return "<boolean>"
        if self.minimum is not None or self.maximum is not None:
            low = "-N" if self.minimum is None else f"{self.minimum:g}"
            high = "N" if self.maximum is None else f"{self.maximum:g}"
            return f"<{self.type.value} {low}..{high}>"
        return f"<{self.type.value}>"

    # -- checking --------------------------------------------------------------------------

    def parse(self, value: object, key: str | None = None) -> object:
        """The typed value of ``value`` (a string as typed, or a JSON value).

        Raises InputError naming ``key`` (default: the parameter's name), the value, why it
        is refused and what would be valid.
        """
        key = key or self.name
        if self.type is ParamType.BOOLEAN:
            return self._boolean(key, value)
        if self.type is ParamType.INTEGER:
            if self.format is not None and not isinstance(value, bool):
                return self._formatted(key, str(value))
            return self._integer(key, value)
        if self.type is ParamType.NUMBER:
            return self._number(key, value)
        return self._string(key, value)

    def _boolean(self, key: str, value: object) -> bool:
        if isinstance(value, bool):
            return value
        flag = parse_boolean(str(value)) if isinstance(value, str | int) else None
        if flag is None:
            raise InputError(key, value, "expected a boolean: 0|1, no|yes, off|on, false|true")
        return flag

    def _bounds(self, key: str, value: object, number: float) -> None:
        """Proxmox's words (pve-common ``PVE/JSONSchema.pm`` ``check_type``)."""
        low, high = self.minimum, self.maximum
        if low is not None and number < low:
            raise InputError(key, value, f"value must have a minimum value of {low:g}")
        if high is not None and number > high:
            raise InputError(key, value, f"value must have a maximum value of {high:g}")

    def _integer(self, key: str, value: object) -> int:
        number: int | None
        if isinstance(value, bool):
            number = None
        elif isinstance(value, int):
            number = value
        else:
            number = parse_integer(value) if isinstance(value, str) else None
        if number is None:
            raise InputError(key, value, f"type check ('integer') failed - got '{value}'")
        self._bounds(key, value, number)
        return number

    def _number(self, key: str, value: object) -> float:
        number: float | None
        if isinstance(value, bool):
            number = None
        elif isinstance(value, int | float):
            number = float(value)
        else:
            number = parse_number(value) if isinstance(value, str) else None
        if number is None:
            raise InputError(key, value, f"type check ('number') failed - got '{value}'")
        self._bounds(key, value, number)
        return number

    def _string(self, key: str, value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise InputError(key, value, "expected a string")
        text = str(value)
        if self.max_length is not None and len(text) > self.max_length:
            raise InputError(key, text, f"longer than {self.max_length} characters")
        if self.min_length is not None and len(text) < self.min_length:
            raise InputError(key, text, f"shorter than {self.min_length} characters")
        if self.enum and text not in self.enum:
            choices = ", ".join(self.enum)
            raise InputError(
                key, text, f"value does not have a value in the enumeration '{choices}'"
            )
        if self.pattern is not None and not re.fullmatch(self.pattern, text):
            if self.typetext:
                raise InputError(key, text, f"expected {self.typetext} (pattern {self.pattern})")
            raise InputError(key, text, f"does not match the format {self.pattern}")
        if self.format is not None:
            return self._formatted(key, text)
        return text

    def _formatted(self, key: str, text: str) -> object:
        fmt = FORMATS.get(self.format or "")
        if fmt is None:
            raise InputError(key, text, f"unknown format '{self.format}' (a respaldo bug)")
        return fmt.parse(text, key)

    # -- writing and showing -----------------------------------------------------------------

    def canonical(self, text: str, key: str | None = None) -> str:
        """``text`` checked and as Proxmox writes it in a file: a boolean as ``1``/``0``, a
        number in decimal, a formatted value by its format's printer (a property string in
        Proxmox's order), anything else as given. Raises InputError as :meth:`parse`."""
        value = self.parse(text, key)
        fmt = FORMATS.get(self.format or "")
        if fmt is not None and fmt.print is not None:
            return fmt.print(value)
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, int | float):
            return str(value)
        return text

    def api_value(self, text: str, key: str | None = None) -> object:
        """``text`` (a file's value) as the API returns it: booleans as ``1``/``0``, numbers
        as numbers, a property string as an object (its format's ``json``), anything else
        as the text. Raises InputError as :meth:`parse`."""
        value = self.parse(text, key)
        fmt = FORMATS.get(self.format or "")
        if fmt is not None and fmt.json is not None:
            return fmt.json(value)
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int | float):
            return value
        return text

    # -- documents -------------------------------------------------------------------------

    def json_schema(self) -> dict[str, Any]:
        """This parameter as a JSON schema property (OpenAPI 3), Proxmox's keywords kept."""
        doc: dict[str, Any] = {"type": self.type.value, "description": self.description}
        if self.format:
            doc["x-format"] = self.format
        if self.enum:
            doc["enum"] = list(self.enum)
        if self.minimum is not None:
            doc["minimum"] = self.minimum
        if self.maximum is not None:
            doc["maximum"] = self.maximum
        if self.min_length is not None:
            doc["minLength"] = self.min_length
        if self.max_length is not None:
            doc["maxLength"] = self.max_length
        if self.pattern is not None:
            doc["pattern"] = self.pattern
        if self.default is not None:
            doc["default"] = self.default
        if self.deprecated:
            doc["deprecated"] = True
        return doc


class ParameterError(InputError):
    """Bad parameters: every refused one, by name (Proxmox's ``Parameter verification
    failed.`` with ``errors``). ``errors`` maps each name to its InputError; the message is
    theirs, joined."""

    def __init__(self, errors: Mapping[str, InputError]) -> None:
        first = next(iter(errors.values()))
        super().__init__(first.name, first.value, first.reason)
        self.errors = dict(errors)
        self.args = ("; ".join(str(err) for err in errors.values()),)

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Schema:
    """The parameters of one command, API method or config file.

    ``unknown_what`` names what an unknown key is in messages ("vzdump option").
    """

    params: tuple[Param, ...]
    description: str = ""
    unknown_what: str = "option"
    _by_name: dict[str, Param] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for param in self.params:
            if param.name in self._by_name:
                raise ValueError(f"parameter '{param.name}' declared twice")
            self._by_name[param.name] = param

    def __iter__(self) -> Iterator[Param]:
        return iter(self.params)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.find(key) is not None

    def find(self, key: str) -> Param | None:
        """The parameter that accepts ``key`` (``scsi1`` -> the ``scsi[n]`` parameter)."""
        param = self._by_name.get(key)
        if param is not None and not param.indexed:
            return param
        stem = key.rstrip("0123456789")
        param = self._by_name.get(stem)
        return param if param is not None and param.accepts(key) else None

    def get(self, name: str) -> Param:
        return self._by_name[name]

    def names(self) -> list[str]:
        return [param.name for param in self.params]

    def extend(self, *params: Param, description: str | None = None) -> Schema:
        """This schema with more parameters (each name new)."""
        return Schema(
            (*self.params, *params),
            self.description if description is None else description,
            self.unknown_what,
        )

    def only(self, *names: str) -> Schema:
        """The parameters named, in this schema's order."""
        missing = set(names) - set(self._by_name)
        if missing:
            raise KeyError(f"not in schema: {', '.join(sorted(missing))}")
        return Schema(tuple(p for p in self.params if p.name in names), self.description)

    def without(self, *names: str) -> Schema:
        return Schema(
            tuple(p for p in self.params if p.name not in names),
            self.description,
            self.unknown_what,
        )

    def overriding(self, **changes: dict[str, Any]) -> Schema:
        """This schema with some parameters changed (``overriding(vmid={"optional": False})``)."""
        params = tuple(
            replace(p, **changes[p.name]) if p.name in changes else p for p in self.params
        )
        return Schema(params, self.description, self.unknown_what)

    def api_value(self, key: str, text: str) -> object:
        """A file's value of ``key`` as the API shows it (:meth:`Param.api_value`); a key
        the schema does not know, or a value that does not parse (edited by hand), as the
        file has it."""
        param = self.find(key)
        if param is None:
            return text
        try:
            return param.api_value(text, key)
        except InputError:
            return text

    def defaults(self) -> dict[str, Value]:
        return {p.name: p.default for p in self.params if p.default is not None}

    # -- checking --------------------------------------------------------------------------

    def _unknown(self, key: str, value: object) -> InputError:
        valid = ", ".join(p.display_name for p in self.params)
        return InputError("option", key, f"unknown {self.unknown_what} (valid: {valid})")

    def parse(
        self,
        given: Mapping[str, object],
        *,
        partial: bool = False,
        unknown: Callable[[str, object], None] | None = None,
        requires: bool = True,
    ) -> dict[str, object]:
        """Check every given value; return ``{key: typed value}`` for those given.

        Every bad value is collected and raised at once as a ParameterError. A required
        parameter that is missing is an error unless ``partial``. An unknown key is an error,
        unless ``unknown`` is given: then it is called with the key and value instead (to warn,
        as Proxmox does for an unknown key in ``vzdump.conf``). ``requires=False`` skips the
        checks that a parameter's ``requires`` is given too (a config file of defaults).
        """
        result: dict[str, object] = {}
        errors: dict[str, InputError] = {}
        for key, value in given.items():
            param = self.find(key)
            if param is None:
                if unknown is None:
                    errors[key] = self._unknown(key, value)
                else:
                    unknown(key, value)
                continue
            try:
                result[key] = param.parse(value, key)
            except InputError as err:
                errors[key] = err
        for param in self.params:
            self._check_presence(param, given, result, errors, partial, requires)
        if errors:
            raise ParameterError(errors)
        return result

    @staticmethod
    def _check_presence(
        param: Param,
        given: Mapping[str, object],
        result: dict[str, object],
        errors: dict[str, InputError],
        partial: bool,
        requires: bool,
    ) -> None:
        """``requires`` and required parameters: recorded in ``errors``."""
        present = any(param.accepts(key) for key in result)
        needed = param.requires if requires else None
        if present and needed and needed not in result and needed not in errors:
            reason = f"missing property - '{param.name}' requires this property"
            errors.setdefault(needed, InputError(needed, None, reason))
        required = not partial and not param.optional and not param.indexed
        if required and param.name not in result and param.name not in errors:
            reason = "property is missing and it is not optional"
            errors[param.name] = InputError(param.name, None, reason)

    # -- documents -------------------------------------------------------------------------

    def json_schema(self) -> dict[str, Any]:
        """The parameters as one JSON schema object (OpenAPI 3 ``schema``).

        An indexed parameter becomes one property per key (``scsi0`` .. ``scsi30``), as
        Proxmox's API documents them.
        """
        properties: dict[str, Any] = {}
        required: list[str] = []
        for param in self.params:
            properties.update(dict.fromkeys(param.keys(), param.json_schema()))
            if not param.optional and not param.indexed:
                required.append(param.name)
        doc: dict[str, Any] = {
            "type": "object",
            "properties": properties,
            "additionalProperties": False,
        }
        if required:
            doc["required"] = required
        return doc


def string(name: str, description: str, **kwargs: Any) -> Param:
    return Param(name, ParamType.STRING, description, **kwargs)


def integer(name: str, description: str, **kwargs: Any) -> Param:
    return Param(name, ParamType.INTEGER, description, **kwargs)


def number(name: str, description: str, **kwargs: Any) -> Param:
    return Param(name, ParamType.NUMBER, description, **kwargs)


def boolean(name: str, description: str, **kwargs: Any) -> Param:
    return Param(name, ParamType.BOOLEAN, description, **kwargs)


# -- property strings ---------------------------------------------------------------------------


def parse_property_string(
    text: str, key: str, schema: Schema, default_key: str | None = None
) -> dict[str, object]:
    """A property string (``keep-last=3,keep-daily=7``; ``1,storage=local`` with a default
    key) checked against ``schema``: ``{inner key: typed value}`` in the order given.

    As pve-common ``parse_property_string``: empty parts are skipped, a part without ``=``
    is the default key's value. Every error is an InputError named ``key`` with the whole
    text as its value and the inner key in the reason (``keep-last: value must have a
    minimum value of 0``).
    """
    result: dict[str, object] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        if not sep:
            if default_key is None:
                raise InputError(key, text, f"'{part}' has no 'key=' (expected key=value)")
            name, value = default_key, part
        param = schema.find(name)
        if param is None:
            valid = ", ".join(schema.names())
            raise InputError(key, text, f"unknown key '{name}' (valid: {valid})")
        if name in result:
            raise InputError(key, text, f"duplicate key '{name}'")
        try:
            result[name] = param.parse(value, name)
        except InputError as err:
            raise InputError(key, text, f"{name}: {err.reason}") from err
    for param in schema:
        if not param.optional and param.name not in result:
            raise InputError(key, text, f"{param.name}: property is missing and it is not optional")
    return result


def _plain(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def print_property_string(values: Mapping[str, object], default_key: str | None = None) -> str:
    """Typed values as pve-common ``print_property_string`` writes them: the default key's
    value first without ``key=``, then the other keys in alphabetical order."""
    keys = sorted(values, key=lambda name: (name != default_key, name))
    return ",".join(
        _plain(values[name]) if name == default_key else f"{name}={_plain(values[name])}"
        for name in keys
    )


def property_json(values: Mapping[str, object]) -> dict[str, object]:
    """Typed property-string values as the API returns them (booleans as ``1``/``0``)."""
    return {name: int(v) if isinstance(v, bool) else v for name, v in values.items()}
