"""`garrison attribute`: who owns what an imported list reported."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from sqlalchemy import select

from garrison.attribution.attribute import AttributionScope, attribute
from garrison.cli.runtime import console, errors, open_database, print_json, print_table
from garrison.orgs.models import Organisation


def attribute_command(
    run: Annotated[int | None, typer.Argument(help="An import run id.")] = None,
    source: Annotated[str | None, typer.Option(help="Every sighting of this source.")] = None,
    since: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Sightings seen since a day.")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Attribute an import run, a source or a time window to the owning organisations;
    unattributed rows are grouped by the network operator the list names."""
    if run is None and source is None and since is None:
        raise typer.BadParameter("give an import run id, --source or --since")
    scope = AttributionScope(run, source, since.replace(tzinfo=UTC) if since else None)
    with open_database() as database, database.session() as session:
        result = attribute(session, scope)
        names = dict(
            session.execute(
                select(Organisation.id, Organisation.name).where(
                    Organisation.id.in_(list(result.by_organisation))
                )
            ).all()
        )
    per_organisation = sorted(
        ((names.get(org, str(org)), len(items)) for org, items in result.by_organisation.items()),
        key=lambda row: (-row[1], row[0]),
    )
    summary = {
        "scope": scope.describe(),
        "organisations": len(result.by_organisation),
        "items": result.attributed_count,
        "unattributed": result.unattributed_count,
        "excluded": sum(result.excluded.values()),
        "per_organisation": [{"organisation": n, "items": c} for n, c in per_organisation],
        "unattributed_by_operator": {k: len(v) for k, v in sorted(result.unattributed.items())},
        "excluded_by_reason": dict(sorted(result.excluded.items())),
        "conflicts": [item.value for item in result.conflicts],
    }
    if json_output:
        print_json(summary)
        return
    print_table(
        f"Attribution of {scope.describe()}",
        ["organisations", "items", "unattributed", "excluded"],
        [
            [
                summary["organisations"],
                summary["items"],
                summary["unattributed"],
                summary["excluded"],
            ]
        ],
    )
    print_table("Per organisation", ["organisation", "items"], per_organisation)
    if result.unattributed:
        print_table(
            "Unattributed, by network operator",
            ["operator", "items"],
            [[k, len(v)] for k, v in sorted(result.unattributed.items())],
        )
    for reason, count in sorted(result.excluded.items()):
        console.print(f"excluded {count}: {reason}")
    for item in result.conflicts:
        errors.print(
            f"[yellow]conflict:[/] {item.value} is an asset of one organisation "
            "inside another's network; the asset's organisation was used"
        )
