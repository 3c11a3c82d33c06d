"""The small rules of outgoing mail: addresses, the subject prefix, attachment names, the
Message-ID fixed by the key, and the backoff between attempts."""

from __future__ import annotations

from datetime import timedelta

import pytest

from garrison.notify.delivery import backoff
from garrison.notify.mail import (
    media_type_parts,
    message_id,
    parse_address,
    prefixed_subject,
    safe_filename,
)
from garrison.notify.outbox import InvalidMessage, checked_recipients


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("", "empty"),
        ("syt.sonlam.gov.vn", "not an e-mail address"),
        ("lan nguyen@syt.sonlam.gov.vn", "spaces"),
        ("lan@syt.sonlam.gov.vn\r\nBcc: x@y.z", "control characters"),
        ("lan@", "not an e-mail address"),
        ("Lan <lan@syt.sonlam.gov.vn>", "spaces"),
    ],
)
def test_bad_addresses_are_refused_with_a_reason(given: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_address(given)


def test_recipients_are_trimmed_and_deduplicated() -> None:
    assert checked_recipients([" lan@syt.sonlam.gov.vn", "LAN@syt.sonlam.gov.vn", "a@b.vn"]) == [
        "lan@syt.sonlam.gov.vn",
        "a@b.vn",
    ]
    with pytest.raises(InvalidMessage, match="recipient: 'khong-co-a-còng'"):
        checked_recipients(["khong-co-a-còng"])


def test_the_prefix_is_put_once_and_subjects_stay_on_one_line() -> None:
    assert prefixed_subject("Cảnh báo", "[TBSC]") == "[TBSC] Cảnh báo"
    assert prefixed_subject("[TBSC] Cảnh báo", "[TBSC]") == "[TBSC] Cảnh báo"
    assert prefixed_subject("Cảnh báo\r\n  mới", "") == "Cảnh báo mới"


def test_attachment_names_and_media_types() -> None:
    assert safe_filename("C:\\Users\\lan\\Danh sách IP.xlsx") == "Danh sách IP.xlsx"
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("\x00\n") == "attachment"
    assert media_type_parts("application/PDF") == ("application", "pdf")
    assert media_type_parts("text/plain\r\nX-Injected: 1") == ("application", "octet-stream")


def test_message_ids_are_fixed_by_the_key() -> None:
    first = message_id("notice:12", "canhbao@stttt.sonlam.gov.vn")
    assert first == message_id("notice:12", "canhbao@stttt.sonlam.gov.vn")
    assert first != message_id("notice:13", "canhbao@stttt.sonlam.gov.vn")
    assert first.startswith("<outbox.") and first.endswith("@stttt.sonlam.gov.vn>")
    assert message_id("x", "canhbao@sở.vn").endswith("@xn--s-lym.vn>")


def test_backoff_grows_then_stays() -> None:
    pauses = [backoff(attempts) for attempts in range(1, 9)]
    assert pauses[:4] == [timedelta(minutes=m) for m in (1, 5, 15, 60)]
    assert pauses[-1] == pauses[-2] == timedelta(hours=6)
