"""config/jobs.cfg as /cluster/backup reads and edits it."""

from __future__ import annotations

import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from respaldo.errors import ConfigError, InputError
from respaldo.jobs import jobscfg, state
from respaldo.jobs.jobscfg import JobExists, NoSuchJob
from respaldo.node import Node

T0 = 1715335200  # 2024-05-10 12:00 CEST

# As pve-manager writes it: a section per job, comment first, then schedule, then the rest
# in alphabetical order, a blank line after each section; a realm-sync job beside them.
PROXMOX_JOBS_CFG = """\
vzdump: backup-5b0e2ab4-d1c5
\tcomment Nightly%3A all but the test VMs
\tschedule 21:00
\tall 1
\tcompress zstd
\tenabled 1
\texclude 105,106
\tfleecing 1,storage=local-lvm
\tmailnotification failure
\tmailto admin@example.com
\tmode snapshot
\tnotes-template {{guestname}} on {{node}}
\tnotification-mode auto
\tperformance max-workers=8
\tprune-backups keep-daily=7,keep-last=3,keep-weekly=4
\trepeat-missed 1
\tstorage backups
\tzstd 0

realm-sync: realm-sync-ldap
\tschedule daily
\tenabled 1
\trealm ldap
\tscope both

vzdump: weekly-db
\tschedule sat 02:30
\tenabled 0
\texclude-path /var/cache
\texclude-path /tmp
\tpbs-change-detection-mode metadata
\tstorage backups
\tvmid 200,201

"""


@pytest.fixture
def node(tmp_path: Path) -> Node:
    return Node(tmp_path, "pve")


def write_cfg(node: Node, text: str) -> None:
    path = jobscfg.jobs_cfg_path(node)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def read_cfg(node: Node) -> str:
    return jobscfg.jobs_cfg_path(node).read_text()


# -- reading, round trip ----------------------------------------------------------------------


def test_a_file_proxmox_wrote_comes_back_byte_for_byte(node: Node) -> None:
    write_cfg(node, PROXMOX_JOBS_CFG)
    jobscfg.update_job(node, "weekly-db", {"storage": "backups"}, now=T0)
    jobscfg.update_job(node, "backup-5b0e2ab4-d1c5", {"mode": "snapshot"}, now=T0)
    assert read_cfg(node) == PROXMOX_JOBS_CFG


def test_an_edit_keeps_unknown_keys_and_other_sections(node: Node) -> None:
    write_cfg(
        node,
        "vzdump: a\n\tschedule 21:00\n\tvmid 100\n\tfuture-option x=1\n\n"
        + "realm-sync: r\n\tschedule daily\n\trealm ldap\n\n",
    )
    jobscfg.update_job(node, "a", {"comment": "hi"}, now=T0)
    assert read_cfg(node) == (
        "vzdump: a\n\tcomment hi\n\tschedule 21:00\n\tfuture-option x=1\n\tvmid 100\n\n"
        "realm-sync: r\n\tschedule daily\n\trealm ldap\n\n"
    )
    assert jobscfg.get_job(node, "a")["future-option"] == "x=1"


def test_jobs_as_the_api_returns_them(node: Node) -> None:
    write_cfg(node, PROXMOX_JOBS_CFG)
    berlin = ZoneInfo("Europe/Berlin")
    jobs = jobscfg.list_jobs(node, now=T0, zone=berlin)
    assert [job["id"] for job in jobs] == ["backup-5b0e2ab4-d1c5", "weekly-db"]
    nightly, weekly = jobs
    assert nightly == {
        "id": "backup-5b0e2ab4-d1c5",
        "type": "vzdump",
        "comment": "Nightly: all but the test VMs",
        "schedule": "21:00",
        "all": 1,
        "compress": "zstd",
        "enabled": 1,
        "exclude": "105,106",
        "fleecing": {"enabled": 1, "storage": "local-lvm"},
        "mailnotification": "failure",
        "mailto": "admin@example.com",
        "mode": "snapshot",
        "notes-template": "{{guestname}} on {{node}}",
        "notification-mode": "auto",
        "performance": {"max-workers": 8},
        "prune-backups": {"keep-daily": 7, "keep-last": 3, "keep-weekly": 4},
        "repeat-missed": 1,
        "storage": "backups",
        "zstd": 0,
        "next-run": 1715367600,  # 2024-05-10 21:00 CEST, counted from now
    }
    assert weekly["enabled"] == 0
    assert weekly["exclude-path"] == ["/var/cache", "/tmp"]
    assert weekly["next-run"] == 1715387400  # Saturday 2024-05-11 02:30 CEST
    assert jobscfg.get_job(node, "weekly-db") == {
        k: v for k, v in weekly.items() if k != "next-run"
    }


def test_a_job_without_enabled_is_enabled(node: Node) -> None:
    write_cfg(node, "vzdump: a\n\tschedule 21:00\n\tvmid 100\n")
    assert jobscfg.get_job(node, "a")["enabled"] == 1
    assert jobscfg.find_job(node, "a").enabled


def test_no_file_no_jobs(node: Node) -> None:
    assert jobscfg.list_jobs(node, now=T0) == []


def test_a_broken_file_names_the_line(node: Node) -> None:
    write_cfg(node, "vzdump: a\n\tschedule 21:00\nnot a line\n")
    with pytest.raises(ConfigError) as info:
        jobscfg.list_jobs(node)
    assert info.value.line == 3


def test_options_for_a_run(node: Node) -> None:
    write_cfg(node, PROXMOX_JOBS_CFG)
    assert jobscfg.find_job(node, "weekly-db").vzdump_options() == {
        "exclude-path": "/var/cache\0/tmp",
        "pbs-change-detection-mode": "metadata",
        "storage": "backups",
        "vmid": "200,201",
        "job-id": "weekly-db",
        "quiet": "1",
    }


# -- create -----------------------------------------------------------------------------------


def test_create_writes_proxmox_format_and_a_state(node: Node) -> None:
    job_id = jobscfg.create_job(
        node,
        {
            "id": "nightly",
            "schedule": "mon..fri 21:00",
            "vmid": "100,101",
            "storage": "local",
            "mode": "snapshot",
            "compress": "zstd",
            "prune-backups": "keep-last=3,keep-daily=7",
            "fleecing": "enabled=1,storage=local",
            "notes-template": "{{guestname}}",
            "comment": "100% of the DB: nightly",
            "repeat-missed": "true",
        },
        now=T0,
    )
    assert job_id == "nightly"
    assert read_cfg(node) == (
        "vzdump: nightly\n"
        "\tcomment 100%25 of the DB%3A nightly\n"
        "\tschedule mon..fri 21:00\n"
        "\tcompress zstd\n"
        "\tenabled 1\n"
        "\tfleecing 1,storage=local\n"
        "\tmode snapshot\n"
        "\tnotes-template {{guestname}}\n"
        "\tprune-backups keep-daily=7,keep-last=3\n"
        "\trepeat-missed 1\n"
        "\tstorage local\n"
        "\tvmid 100,101\n"
        "\n"
    )
    saved = state.read_state(node, "nightly")
    assert saved is not None
    assert (saved.state, saved.time) == (state.RunState.CREATED, T0)
    assert saved.config == {"enabled": 1, "schedule": "mon..fri 21:00"}
    assert jobscfg.get_job(node, "nightly")["comment"] == "100% of the DB: nightly"


def test_create_makes_an_id_like_the_gui(node: Node) -> None:
    job_id = jobscfg.create_job(node, {"schedule": "21:00", "all": "1"}, now=T0)
    assert job_id.startswith("backup-") and len(job_id) == len("backup-") + 13
    assert jobscfg.check_job_id(job_id) == job_id
    assert jobscfg.get_job(node, job_id)["all"] == 1


@pytest.mark.parametrize(
    ("starttime", "dow", "schedule"),
    [
        ("02:30", "sat,sun", "sat,sun 02:30"),
        ("2:30", None, "2:30"),
        ("21:00", "mon,tue,wed,thu,fri,sat,sun", "21:00"),
    ],
)
def test_deprecated_starttime_and_dow_become_a_schedule(
    node: Node, starttime: str, dow: str | None, schedule: str
) -> None:
    params = {"starttime": starttime, "all": "1"} | ({"dow": dow} if dow else {})
    job_id = jobscfg.create_job(node, params, now=T0)
    job = jobscfg.get_job(node, job_id)
    assert job["schedule"] == schedule
    assert "starttime" not in job and "dow" not in job


def test_exclude_implies_all(node: Node) -> None:
    job_id = jobscfg.create_job(node, {"schedule": "21:00", "exclude": "100"}, now=T0)
    assert jobscfg.get_job(node, job_id)["all"] == 1


def test_the_gui_all_selection_with_an_empty_exclude(node: Node) -> None:
    job_id = jobscfg.create_job(node, {"schedule": "21:00", "all": "1", "exclude": ""}, now=T0)
    assert "\texclude" not in read_cfg(node)
    assert jobscfg.get_job(node, job_id)["all"] == 1


@pytest.mark.parametrize(
    ("params", "name", "fragment"),
    [
        ({"schedule": "25:00", "all": "1"}, "schedule", "hour 25 is out of range"),
        ({"all": "1"}, "schedule", "neither 'starttime' nor 'schedule' were set"),
        ({"schedule": "21:00", "starttime": "21:00", "all": "1"}, "starttime", "cannot both"),
        ({"starttime": "21h", "all": "1"}, "starttime", "expected HH:MM"),
        ({"starttime": "21:00", "dow": "mon,thur", "all": "1"}, "dow", "invalid day 'thur'"),
        ({"schedule": "21:00"}, "vmid", "property is missing"),
        ({"schedule": "21:00", "vmid": "100", "all": "1"}, "all", "conflicts with option 'vmid'"),
        ({"schedule": "21:00", "vmid": "100", "pool": "p"}, "pool", "conflicts with option 'vmid'"),
        ({"schedule": "21:00", "vmid": "100,abc"}, "vmid", "'abc'"),
        ({"schedule": "21:00", "vmid": "99"}, "vmid", "must be between 100 and"),
        ({"schedule": "21:00", "all": "maybe"}, "all", "expected a boolean"),
        ({"schedule": "21:00", "all": "1", "ionice": "9"}, "ionice", "maximum value of 8"),
        ({"schedule": "21:00", "all": "1", "bwlimit": "-1"}, "bwlimit", "minimum value of 0"),
        ({"schedule": "21:00", "all": "1", "zstd": "two"}, "zstd", "type check ('integer')"),
        ({"schedule": "21:00", "all": "1", "mode": "live"}, "mode", "'snapshot, suspend, stop'"),
        ({"schedule": "21:00", "all": "1", "compress": "xz"}, "compress", "enumeration"),
        ({"schedule": "21:00", "all": "1", "storage": "Bad Store"}, "storage", "storage id"),
        ({"schedule": "21:00", "all": "1", "speed": "1"}, "speed", "not defined in schema"),
        ({"schedule": "21:00", "all": "1", "notes-template": "x"}, "storage", "requires"),
        (
            {"schedule": "21:00", "all": "1", "storage": "local", "notes-template": "{{owner}}"},
            "notes-template",
            "variable 'owner'",
        ),
        (
            {"schedule": "21:00", "all": "1", "prune-backups": "keep-all=1,keep-last=2"},
            "prune-backups",
            "keep-all cannot be set together",
        ),
        (
            {"schedule": "21:00", "all": "1", "prune-backups": "keep-lats=2"},
            "prune-backups",
            "unknown key 'keep-lats'",
        ),
        (
            {"schedule": "21:00", "all": "1", "prune-backups": "keep-last=-1"},
            "prune-backups",
            "keep-last: value must have a minimum value of 0",
        ),
        (
            {"schedule": "21:00", "all": "1", "fleecing": "1"},
            "fleecing",
            "'storage' parameter is required when 'enabled' is set",
        ),
        (
            {"schedule": "21:00", "all": "1", "performance": "max-workers=0"},
            "performance",
            "max-workers: value must have a minimum value of 1",
        ),
        ({"schedule": "21:00", "all": "1", "comment": "x" * 513}, "comment", "longer than 512"),
        ({"schedule": "21:00", "all": "1", "storage": "a\nb"}, "storage", "storage id"),
        ({"id": "1job", "schedule": "21:00", "all": "1"}, "id", "invalid configuration ID"),
    ],
)
def test_create_names_the_bad_parameter(
    node: Node, params: dict[str, str], name: str, fragment: str
) -> None:
    with pytest.raises(InputError) as info:
        jobscfg.create_job(node, params, now=T0)
    assert info.value.name == name
    assert fragment in str(info.value)
    assert not jobscfg.jobs_cfg_path(node).exists()


def test_create_refuses_an_existing_id(node: Node) -> None:
    write_cfg(node, PROXMOX_JOBS_CFG)
    with pytest.raises(JobExists, match="Job 'weekly-db' already exists"):
        jobscfg.create_job(node, {"id": "weekly-db", "schedule": "21:00", "all": "1"}, now=T0)
    with pytest.raises(JobExists):  # ids are one namespace across section types
        jobscfg.create_job(node, {"id": "realm-sync-ldap", "schedule": "1:00", "all": "1"})
    assert read_cfg(node) == PROXMOX_JOBS_CFG


def test_concurrent_creates_all_land(node: Node) -> None:
    def create(index: int) -> None:
        jobscfg.create_job(node, {"id": f"job{index}", "schedule": "21:00", "all": "1"}, now=T0)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(str(job["id"]) for job in jobscfg.list_jobs(node, now=T0)) == [
        f"job{i}" for i in range(8)
    ]


# -- update: selection rules, delete ----------------------------------------------------------


def selection(node: Node, job_id: str) -> dict[str, object]:
    job = jobscfg.get_job(node, job_id)
    return {k: job[k] for k in ("vmid", "all", "exclude", "pool") if k in job}


@pytest.mark.parametrize(
    ("before", "change", "after"),
    [
        ({"all": "1", "exclude": "105"}, {"vmid": "100"}, {"vmid": "100"}),
        ({"pool": "prod"}, {"vmid": "100"}, {"vmid": "100"}),
        ({"vmid": "100"}, {"all": "1"}, {"all": 1}),
        ({"pool": "prod"}, {"all": "1"}, {"all": 1}),
        ({"vmid": "100"}, {"pool": "prod"}, {"pool": "prod"}),
        ({"all": "1", "exclude": "105"}, {"pool": "prod"}, {"pool": "prod"}),
        ({"all": "1"}, {"exclude": "105"}, {"all": 1, "exclude": "105"}),
    ],
)
def test_a_new_selection_replaces_the_old(
    node: Node, before: dict[str, str], change: dict[str, str], after: dict[str, object]
) -> None:
    job_id = jobscfg.create_job(node, {"schedule": "21:00", **before}, now=T0)
    jobscfg.update_job(node, job_id, change, now=T0)
    assert selection(node, job_id) == after


def test_exclude_on_a_vmid_job_conflicts(node: Node) -> None:
    job_id = jobscfg.create_job(node, {"schedule": "21:00", "vmid": "100"}, now=T0)
    with pytest.raises(InputError) as info:
        jobscfg.update_job(node, job_id, {"exclude": "101"}, now=T0)
    # Proxmox first makes an exclude imply all=1, and then names 'all' as the conflict.
    assert info.value.name == "all"
    assert "option conflicts with option 'vmid'" in str(info.value)


def test_the_gui_exclude_selection(node: Node) -> None:
    # "Exclude selected VMs" sends all=1 and the excluded VMIDs, and deletes vmid and pool.
    job_id = jobscfg.create_job(node, {"schedule": "21:00", "vmid": "100"}, now=T0)
    jobscfg.update_job(node, job_id, {"all": "1", "exclude": "101"}, delete="vmid,pool", now=T0)
    assert selection(node, job_id) == {"all": 1, "exclude": "101"}


def test_delete_removes_options(node: Node) -> None:
    write_cfg(node, PROXMOX_JOBS_CFG)
    job_id = "backup-5b0e2ab4-d1c5"
    jobscfg.update_job(
        node, job_id, {}, delete=["comment", "repeat-missed", "prune-backups", "fleecing"]
    )
    job = jobscfg.get_job(node, job_id)
    for key in ("comment", "repeat-missed", "prune-backups", "fleecing"):
        assert key not in job
    assert job["storage"] == "backups"


@pytest.mark.parametrize("key", ["schedule", "enabled", "nonsense"])
def test_delete_refuses_what_cannot_be_deleted(node: Node, key: str) -> None:
    write_cfg(node, PROXMOX_JOBS_CFG)
    with pytest.raises(InputError) as info:
        jobscfg.update_job(node, "weekly-db", {}, delete=key)
    assert info.value.name == "delete" and f"unknown option '{key}'" in str(info.value)
    assert read_cfg(node) == PROXMOX_JOBS_CFG


def test_an_update_without_options_is_refused(node: Node) -> None:
    write_cfg(node, PROXMOX_JOBS_CFG)
    with pytest.raises(InputError, match="no options specified"):
        jobscfg.update_job(node, "weekly-db", {}, delete="")


def test_deleting_the_selection_is_refused(node: Node) -> None:
    write_cfg(node, PROXMOX_JOBS_CFG)
    with pytest.raises(InputError, match="property is missing"):
        jobscfg.update_job(node, "weekly-db", {}, delete="vmid")


def test_a_new_schedule_counts_from_the_change(node: Node) -> None:
    job_id = jobscfg.create_job(node, {"schedule": "21:00", "all": "1"}, now=T0)
    jobscfg.update_job(node, job_id, {"comment": "only a comment"}, now=T0 + 100)
    saved = state.read_state(node, job_id)
    assert saved is not None and saved.updated is None and saved.last_run() == T0
    jobscfg.update_job(node, job_id, {"schedule": "22:00"}, now=T0 + 200)
    saved = state.read_state(node, job_id)
    assert saved is not None and saved.last_run() == T0 + 200
    assert saved.config == {"enabled": 1, "schedule": "22:00"}
    jobscfg.update_job(node, job_id, {"enabled": "0"}, now=T0 + 300)
    saved = state.read_state(node, job_id)
    assert saved is not None and saved.last_run() == T0 + 300 and saved.config["enabled"] == 0


# -- unknown ids, delete ----------------------------------------------------------------------


def test_unknown_ids_are_parameter_errors(node: Node) -> None:
    write_cfg(node, PROXMOX_JOBS_CFG)
    for call in (
        lambda: jobscfg.get_job(node, "nope"),
        lambda: jobscfg.update_job(node, "nope", {"mode": "stop"}),
        lambda: jobscfg.delete_job(node, "nope"),
        lambda: jobscfg.get_job(node, "realm-sync-ldap"),  # not a backup job
    ):
        with pytest.raises(NoSuchJob) as info:
            call()
        assert info.value.name == "id"
        assert "No such job '" in str(info.value)


def test_delete_removes_the_job_and_its_state(node: Node) -> None:
    write_cfg(node, PROXMOX_JOBS_CFG)
    state.create_state(node, "weekly-db", {"schedule": "sat 02:30"}, T0)
    jobscfg.delete_job(node, "weekly-db")
    assert [job["id"] for job in jobscfg.list_jobs(node, now=T0)] == ["backup-5b0e2ab4-d1c5"]
    assert state.read_state(node, "weekly-db") is None
    assert "realm-sync: realm-sync-ldap" in read_cfg(node)


# -- the comment's encoding -------------------------------------------------------------------


def test_comment_encoding_is_pve_commons() -> None:
    text = "DB: 100% done\nsecond line, ünïcode"
    encoded = jobscfg.encode_comment(text)
    assert encoded == "DB%3A 100%25 done%0Asecond line, %C3%BCn%C3%AFcode"
    assert jobscfg.decode_comment(encoded) == text
