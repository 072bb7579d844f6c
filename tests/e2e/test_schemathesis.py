"""schemathesis against the served OpenAPI document (``/api2/openapi.json``), logged in as
root@pam (ticket cookie and CSRF header): every operation is called with generated valid and
invalid parameters, a bounded number of examples each, and every answer must be no server
error and match the document (the success envelope with the method's ``returns``, or the
error envelope).

The server is the in-process one of the unit tier on a node in real files
(:mod:`tests.unit.apiworld`): methods that start a task get a recorded, finished task, so no
VM is ever started and no method has to be left out for needing QEMU. Path parameters are
drawn from the node's real objects half of the time (a VM, a storage, a backup, a user, a
task...) so that calls reach past "does not exist".

A 500 is Proxmox's answer for an object that does not exist or is in the way (clients match
on those words, ``../shared/proxmox-api.md`` A.0); such an answer passes, every other 5xx
fails.
"""

from __future__ import annotations

import re
import urllib.parse
from collections import Counter
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from schemathesis import CheckContext, GenerationMode, Response
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from respaldo.api import openapi
from respaldo.api.method import ApiMethod
from respaldo.api.methods import all_methods
from respaldo.config.schema import ParamType
from tests.unit.apiworld import (
    ARCHIVES,
    NODE,
    USERS,
    Template,
    World,
    backup_name,
    build_template,
    open_world,
)
from tests.webhookserver import Receiver, webhook_receiver

pytestmark = [pytest.mark.schemathesis, pytest.mark.timeout(300)]

#: Examples per operation and generation mode (the run stays near two minutes here).
MAX_EXAMPLES = 20
#: The words of Proxmox's 500 answers for an object that is missing or in the way.
PROXMOX_DIES = re.compile(
    r"does not exist|already exists|no such|is locked|is running|in use|still used|"
    r"cannot be deleted|protected"
)


#: Answers seen: status -> count, and the operations answered 200 at least once.
SEEN: Counter[int] = Counter()
DIES: Counter[str] = Counter()
SUCCEEDED: set[str] = set()
ROOT_COOKIE: dict[str, str] = {}


def proxmox_die_or_no_server_error(ctx: CheckContext, response: Response, case: Any) -> None:
    """No 5xx but Proxmox's 500 for a missing or conflicting object (never an internal
    error: an exception the server did not expect)."""
    SEEN[response.status_code] += 1
    if response.status_code == 200:
        SUCCEEDED.add(f"{case.method} {case.operation.path}")
    if response.status_code < 500:
        return
    message = str(response.json().get("message", ""))
    assert response.status_code == 500, f"{response.status_code}: {message}"
    assert not message.startswith("internal error"), message
    assert PROXMOX_DIES.search(message), f"500 that is no Proxmox die answer: {message}"
    DIES[re.sub(r"\d+|'[^']*'", "_", message.strip())] += 1


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as kept:
        yield kept


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Iterator[World]:
    top = tmp_path_factory.mktemp("schemathesis")
    template: Template = build_template(top / "template", receiver.url)
    with open_world(template, top / "data") as running:
        yield running


def _existing(world: World) -> dict[str, list[str]]:
    """Real values for path parameters, by name."""
    volumes = [
        f"{storage}:backup/{backup_name(vmid, stamp, ext)}"
        for storage, archives in ARCHIVES.items()
        for vmid, stamp, ext in archives
    ]
    return {
        "node": [NODE],
        "vmid": ["100", "101", "102"],
        "storage": ["local", "other"],
        "volume": volumes,
        "userid": [*USERS, "root@pam"],
        "tokenid": ["spare", "bare", "audit"],
        "groupid": ["ops"],
        "roleid": ["Backupper", "PVEAuditor"],
        "id": ["nightly"],
        "name": ["hook", "mail", "all", "spare"],
        "name:smtp": ["mail"],
        "name:webhook": ["hook", "spare"],
        "name:matchers": ["all"],
        "upid": list(world.template.tasks.values()),
    }


@pytest.fixture(scope="module")
def api_schema(world: World) -> Any:
    return load_schema(world)


def load_schema(world: World) -> Any:
    """The served document as schemathesis reads it, logged in as root@pam, path parameters
    mapped to real objects half of the time."""
    document = requests.get(world.base + "/api2/openapi.json", timeout=30).json()
    ticket = world.access.authkeys.assemble_ticket("root@pam")
    config = schemathesis.Config.from_dict(
        {
            "base-url": world.base,
            "headers": {"CSRFPreventionToken": world.access.csrf.assemble("root@pam")},
            "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
            "phases": {"stateful": {"enabled": False}},
        }
    )
    schema = schemathesis.openapi.from_dict(document, config=config)
    ROOT_COOKIE["PVEAuthCookie"] = urllib.parse.quote(ticket, safe="")
    existing = _existing(world)

    @schema.hook
    def map_path_parameters(ctx: Any, path_parameters: dict[str, Any] | None) -> Any:
        """Half of the calls on a real object: the first path parameters take real values
        when the generated one is odd in length (a cheap coin hypothesis shrinks well)."""
        path = ctx.operation.path
        for key, value in (path_parameters or {}).items():
            kind = next((f"{key}:{k}" for k in ("smtp", "webhook", "matchers") if k in path), key)
            if key == "node":  # another node is a parameter error, and only that
                path_parameters[key] = NODE  # type: ignore[index]
            elif kind in existing and len(str(value)) % 2:
                choices = existing[kind]
                path_parameters[key] = choices[len(str(value)) % len(choices)]  # type: ignore[index]
        return path_parameters

    return schema


def test_the_served_document_is_the_declared_one(world: World) -> None:
    served = requests.get(world.base + "/api2/openapi.json", timeout=30).json()
    assert served == openapi.document(all_methods(), "/api2/json")


def modes(method: ApiMethod) -> list[GenerationMode]:
    """Valid cases always; invalid ones where a parameter can be invalid (a path parameter
    that is any text cannot: hypothesis would only search in vain)."""
    can_be_invalid = [
        param
        for param in method.params
        if param.name not in method.path_params
        or param.type is not ParamType.STRING
        or param.enum
        or param.pattern
    ]
    if can_be_invalid:
        return [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    return [GenerationMode.POSITIVE]


@pytest.mark.parametrize("method", all_methods(), ids=lambda m: f"{m.http} {m.path}")
def test_the_api_answers_as_documented(api_schema: Any, method: ApiMethod) -> None:
    operation = api_schema["/api2/json" + method.path][method.http]
    for mode in modes(method):
        run_mode(operation, mode, api_schema.hooks)


def run_mode(operation: Any, mode: GenerationMode, hooks: Any) -> None:
    """MAX_EXAMPLES cases of one operation in one generation mode, each checked."""
    strategy = operation.as_strategy(mode, hooks=hooks)

    @hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(case=strategy)
    def run(case: Any) -> None:
        # the document's security schemes make schemathesis invent credentials: every call
        # goes as root@pam instead (the ticket cookie; the CSRF header is the config's)
        case.headers.pop("Authorization", None)
        case.cookies = dict(ROOT_COOKIE)
        case.call_and_validate(
            checks=[
                proxmox_die_or_no_server_error,
                response_schema_conformance,
                status_code_conformance,
                content_type_conformance,
            ],
            timeout=30,
        )

    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        # nothing that can be invalid was found to make invalid
        assert mode is GenerationMode.NEGATIVE, "no valid case generated"


def test_the_run_reached_the_methods() -> None:
    """Most methods answered 200 to some generated call: the run got past validation and
    permissions into the handlers (run after the methods' tests, as pytest runs in order)."""
    print(f"schemathesis: answers by status {dict(sorted(SEEN.items()))}")
    print(f"schemathesis: {len(SUCCEEDED)} of {len(all_methods())} methods answered 200")
    print(f"schemathesis: Proxmox's 500 answers {dict(DIES)}")
    missed = sorted(
        f"{m.http} {m.path}"
        for m in all_methods()
        if f"{m.http} /api2/json{m.path}" not in SUCCEEDED
    )
    print(f"schemathesis: never 200: {missed}")
    assert len(SUCCEEDED) >= len(all_methods()) * 3 // 4, missed
