"""`garrison outbox …`: the messages waiting to go out, sending them now, and fixing them."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from garrison.cli.runtime import CommandState, console, open_database, print_json, print_table
from garrison.core.clock import utc_now
from garrison.notify.delivery import Outcome, channel_names, count_due, deliver_due
from garrison.notify.models import OutboxMessage, Status
from garrison.notify.outbox import release, retry
from garrison.notify.queries import OutboxFilter, outbox_messages, status_counts

app = typer.Typer(
    help="Outbox: e-mails and webhook calls waiting to be sent, sent, failed or held.",
    no_args_is_help=True,
)
STATUS_NAMES = ", ".join(status.value for status in Status)
STATUS_HELP = f"Only messages in this status: {STATUS_NAMES}."


def _summary(message: OutboxMessage) -> dict[str, object]:
    return {
        "id": message.id,
        "channel": message.channel,
        "status": message.status,
        "to": message.destination,
        "subject": message.subject,
        "attempts": message.attempts,
        "next_attempt_at": message.next_attempt_at if message.status == Status.PENDING else None,
        "sent_at": message.sent_at,
        "last_error": message.last_error,
        "key": message.idempotency_key,
        "cause": "/".join(message.cause) if message.cause else None,
    }


def _checked_status(value: str | None) -> str | None:
    if value is not None and value not in {status.value for status in Status}:
        raise typer.BadParameter(f"{value!r} is not a status; use one of: {STATUS_NAMES}")
    return value


@app.command("list")
def list_command(
    status: Annotated[str | None, typer.Option(help=STATUS_HELP, callback=_checked_status)] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many, newest first.")] = 100,
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Messages newest first, with their status, attempts and last error."""
    with open_database() as database, database.session() as session:
        rows = [
            _summary(message)
            for message in outbox_messages(session, OutboxFilter(status=status), limit=limit)
        ]
        counts = status_counts(session)
    if json_output:
        print_json(rows)
        return
    print_table(
        "Outbox",
        ["id", "channel", "status", "to", "subject", "attempts", "next attempt", "sent", "error"],
        [
            [
                r["id"],
                r["channel"],
                r["status"],
                r["to"],
                r["subject"],
                r["attempts"],
                r["next_attempt_at"],
                r["sent_at"],
                r["last_error"],
            ]
            for r in rows
        ],
    )
    console.print(" · ".join(f"{name} {count}" for name, count in counts.items()))


@app.command("send")
def send_command(
    limit: Annotated[int, typer.Option(min=1, help="Send at most this many.")] = 1000,
    json_output: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Send every due message now (what the server's scheduler does every 30 seconds)."""
    settings = CommandState.settings()
    with open_database() as database:
        total = min(count_due(database, channel_names(settings), utc_now()), limit)
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            disable=json_output,
        ) as progress:
            task = progress.add_task("sending", total=total)

            def advance(outcome: Outcome) -> None:
                progress.update(task, advance=1, description=f"{outcome.channel} {outcome.key}")
                if outcome.error and not json_output:
                    progress.console.print(
                        f"  #{outcome.message_id} {outcome.status}: {outcome.error}"
                    )

            report = deliver_due(database, settings, limit=limit, on_outcome=advance)
        with database.session() as session:
            waiting = status_counts(session)
    summary = {
        "sent": report.sent,
        "retrying": report.retrying,
        "failed": report.failed,
        "email_off": report.email_off,
        "outbox": waiting,
    }
    if json_output:
        print_json(summary)
        return
    console.print(f"sent {report.sent} · to be retried {report.retrying} · failed {report.failed}")
    if report.email_off and waiting[Status.PENDING]:
        console.print(
            "[yellow]e-mail delivery is off (no GARRISON_SMTP_HOST): e-mails stay pending[/]"
        )
    if waiting[Status.HELD] or waiting[Status.FAILED]:
        console.print(
            f"held {waiting[Status.HELD]} · failed {waiting[Status.FAILED]}: "
            "see `garrison outbox list --status held` (or failed)"
        )


@app.command("retry")
def retry_command(
    message_id: Annotated[int, typer.Argument(help="The failed message's id.")],
) -> None:
    """Queue a failed message again, with a fresh set of attempts."""
    with open_database() as database, database.session() as session:
        message = retry(session, message_id)
        console.print(f"message {message.id} queued again")


@app.command("release")
def release_command(
    message_id: Annotated[int, typer.Argument(help="The held (or failed) e-mail's id.")],
    to: Annotated[list[str], typer.Option("--to", help="An address; repeat for several.")],
) -> None:
    """Give a held e-mail the addresses it lacked, and queue it."""
    with open_database() as database, database.session() as session:
        message = release(session, message_id, to)
        console.print(f"message {message.id} queued for {message.destination}")
