"""The store domains mlyard knows, by name.

Built-in domains are listed in :data:`BUILTINS` as dotted import targets (so that core
imports none of the capability packages); third-party packages add domains through the
``mlyard.stores`` entry-point group (``name = "package.module:SqlDomainClass"``), exactly as
algorithms are found (:mod:`mlyard.algorithms`). A built-in name cannot be replaced.
The name is the domain's key in the ``schema_versions`` table.
"""

from __future__ import annotations

import importlib
import re
from importlib.metadata import entry_points

from mlyard.core.stores.database import SqlDomain
from mlyard.errors import WorkspaceError

#: The entry-point group third-party store domains register under.
ENTRY_POINT_GROUP = "mlyard.stores"

#: Built-in domains, in migration order (jobs first: other domains refer to jobs).
BUILTINS: dict[str, str] = {
    "jobs": "mlyard.core.stores.jobs_sql:SqlJobStore",
    "models": "mlyard.core.stores.models_sql:SqlModelStore",
    "catalog": "mlyard.data.store_sql:SqlTableStore",
    "endpoints": "mlyard.serving.store_sql:SqlEndpointStore",
    "rules": "mlyard.training.rule_store_sql:SqlRuleStore",
    "trials": "mlyard.tuning.store_sql:SqlTrialStore",
    "tokens": "mlyard.serving.token_store_sql:SqlTokenStore",
}

_NAME = re.compile(r"[a-z][a-z0-9_]{0,127}")


def available_domains() -> dict[str, str]:
    """Name -> import target of every store domain mlyard can find: the built-ins, then
    those of installed packages' ``mlyard.stores`` entry points."""
    found = dict(BUILTINS)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep.value)
    return found


def load_domain(name: str, target: str) -> type[SqlDomain]:
    """The class ``target`` (``"package.module:Class"``) names, checked to be a
    :class:`SqlDomain`; :class:`WorkspaceError` otherwise."""
    if not _NAME.fullmatch(name):
        raise WorkspaceError(f"store domain name {name!r} is not a lower-case identifier")
    module, _, attr = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise WorkspaceError(f"cannot load store domain {name!r} from {target!r}: {exc}"
                             ) from exc
    if not (isinstance(cls, type) and issubclass(cls, SqlDomain)):
        raise WorkspaceError(f"store domain {name!r}: {target} is not a SqlDomain subclass")
    return cls
