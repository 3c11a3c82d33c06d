"""Every table of every domain, gathered for migrations and the schema-drift test."""

from garrison.attribution import models as attribution_models
from garrison.auth import models as auth_models
from garrison.core import audit
from garrison.core.model import Base
from garrison.intel import models as intel_models
from garrison.notify import models as notify_models
from garrison.orgs import models as orgs_models

metadata = Base.metadata

__all__ = [
    "attribution_models",
    "audit",
    "auth_models",
    "intel_models",
    "metadata",
    "notify_models",
    "orgs_models",
]
