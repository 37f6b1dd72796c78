"""Where, when and with what a run ran: the run report's ``run`` section."""

from __future__ import annotations

from dataclasses import field

from ..values import Value, record

__all__ = ["GitInfo", "RunMeta", "ShardInfo"]


@record
class GitInfo(Value):
    """The commit the run tested."""

    commit: str | None = None
    branch: str | None = None
    dirty: bool | None = None
    #: the commit's committer time (ISO 8601; schema 2.4): the start of a change's lead time
    committed_at: str | None = None


@record
class ShardInfo(Value):
    """Which shard of a split run this report is."""

    index: int
    total: int
    #: "durations" (balanced by a previous run report) or "count"
    balanced_by: str
    tests: int


@record
class RunMeta(Value):
    """Where, when and with what the run ran: times, arguments, versions, platform, workers, commit."""

    started_at: str
    finished_at: str
    duration: float
    rootdir: str
    args: list[str]
    python: str
    pytest: str
    iotops: str
    platform: str
    workers: int
    git: GitInfo
    settings_sources: dict[str, str] = field(default_factory=dict)
    #: set on a partial report written by a shard (``--iotops-shard K/N``)
    shard: ShardInfo | None = None
    #: on a merged report: the partial reports it was made from
    merged_from: list[str] = field(default_factory=list)
