"""Pages that only some roles may open: a viewer dependency that refuses the others (403)."""

from __future__ import annotations

from typing import Any

from fastapi import Depends

from garrison.auth.roles import Permission
from garrison.web.viewer import CurrentViewer, Viewer


def viewer_with(permission: Permission) -> Any:
    """`Annotated[Viewer, viewer_with(Permission.X)]`: the viewer, if they may do X anywhere."""

    def permitted(viewer: CurrentViewer) -> Viewer:
        viewer.principal.require(permission)
        return viewer

    return Depends(permitted)
