"""kubectl stand-in: talking to the API as kubectl does, through discovery and in its words.

kubectl knows no kinds of its own: it reads the server's discovery documents (`/api/v1`, `/apis`,
`/apis/<group>/<version>`) to map a kind to its resource and scope, and a typed name (`nodes`,
`no`, `deploy`, `deployments.apps`) to a resource. A kind the server does not serve (a CRD not
applied) is `no matches for kind "X" in version "Y"`. Server refusals print as
`Error from server (<reason>): <message>`, as kubectl's StandardErrorMessage does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .kubeclient import Reply

Api = Callable[..., Reply]
"""`api(method, path, body=None, content_type=None)`: one request to the kubeconfig's server."""


class KubectlError(Exception):
    """kubectl fails with this message (exit code 1); printed as `error: <message>`."""


class ServerError(KubectlError):
    """The server refused: printed as `Error from server (<reason>): <message>`."""

    def __init__(self, reply: Reply, context: str = "") -> None:
        reason = str(reply.body.get("reason") or "") if isinstance(reply.body, dict) else ""
        self.reason = reason or f"HTTP {reply.status}"
        super().__init__(f"Error from server ({self.reason}): {context}{reply.message}")


@dataclass(frozen=True)
class Mapping:
    """A served resource as discovery describes it."""

    group: str
    version: str
    resource: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()

    @property
    def base(self) -> str:
        """The path of its group version (`/api/v1`, `/apis/apps/v1`)."""
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    def path(self, namespace: str | None, name: str = "") -> str:
        """The REST path of the collection (or of one object when `name`)."""
        where = f"/namespaces/{namespace}" if self.namespaced and namespace else ""
        return f"{self.base}{where}/{self.resource}" + (f"/{name}" if name else "")

    @property
    def qualified(self) -> str:
        """`deployments.apps`, `nodes` (how kubectl names the resource in messages)."""
        return f"{self.resource}.{self.group}" if self.group else self.resource

    @property
    def singular(self) -> str:
        """`deployment.apps`, `node` (how kubectl prints `<type>/<name>`)."""
        kind = self.kind.lower()
        return f"{kind}.{self.group}" if self.group else kind


class Discovery:
    """The server's discovery documents, read once per command (as kubectl's cache does)."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self._versions: dict[str, list[Mapping]] = {}

    def version(self, api_version: str) -> list[Mapping]:
        """The resources of one group version ([] when not served)."""
        if api_version not in self._versions:
            group, _, version = api_version.rpartition("/")
            reply = self.api("GET", f"/apis/{group}/{version}" if group else f"/api/{version}")
            resources = reply.body.get("resources", []) if reply.status == 200 and isinstance(reply.body, dict) else []
            self._versions[api_version] = [
                Mapping(group, version, r["name"], r["kind"], bool(r["namespaced"]), tuple(r.get("shortNames") or ()))
                for r in resources
                if "/" not in r["name"]
            ]
        return self._versions[api_version]

    def everything(self) -> list[Mapping]:
        """Every served resource, the core group first, then each group's preferred version."""
        reply = self.api("GET", "/apis")
        groups = reply.body.get("groups", []) if reply.status == 200 and isinstance(reply.body, dict) else []
        versions = ["v1", *(g["preferredVersion"]["groupVersion"] for g in groups)]
        return [mapping for version in versions for mapping in self.version(version)]

    def kind(self, api_version: str, kind: str) -> Mapping | None:
        """The resource serving `kind` in `api_version` (None: no matches)."""
        return next((m for m in self.version(api_version) if m.kind == kind), None)

    def resource(self, typed: str) -> Mapping:
        """The resource a typed name means (`nodes`, `node`, `no`, `deployments.apps`)."""
        name, _, group = typed.lower().partition(".")
        for mapping in self.everything():
            names = {mapping.resource, mapping.kind.lower(), *mapping.short_names}
            if name in names and (not group or mapping.group == group):
                return mapping
        raise KubectlError(f'the server doesn\'t have a resource type "{typed}"')
