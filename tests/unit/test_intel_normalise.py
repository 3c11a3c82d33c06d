"""Canonical indicator values: the same thing written many ways is stored once."""

from __future__ import annotations

import pytest

from garrison.intel.normalise import (
    IndicatorKey,
    InvalidIndicator,
    guess_indicator,
    normalise,
    refang,
)
from garrison.intel.phones import normalise_phone
from garrison.intel.types import IndicatorType as T
from garrison.intel.types import Tlp

CANONICAL = [
    (T.IPV4, " 203.0.113.5 ", T.IPV4, "203.0.113.5"),
    (T.IPV4, "203[.]0[.]113[.]5", T.IPV4, "203.0.113.5"),
    (T.IPV4, "203.0.113.5/32", T.IPV4, "203.0.113.5"),
    (T.CIDR4, "203.0.113.77/24", T.CIDR4, "203.0.113.0/24"),
    (T.IPV6, "2001:0DB8:0000:0000:0000:0000:0000:0001", T.IPV6, "2001:db8::1"),
    (T.IPV6, "[2001:db8::1]", T.IPV6, "2001:db8::1"),
    (T.CIDR6, "2001:db8:abcd:12::1/48", T.CIDR6, "2001:db8:abcd::/48"),
    (T.DOMAIN, "Evil[.]Example(dot)VN.", T.DOMAIN, "evil.example.vn"),
    (T.DOMAIN, "*.bộ-y-tế.vn", T.DOMAIN, "xn--b-y-t-s61b7g.vn"),
    (T.DOMAIN, "tên-miền.việtnam.vn", T.DOMAIN, "xn--tn-min-iva0322d.xn--vitnam-jk8b.vn"),
    (T.URL, "hxxp://Evil[.]VN:80/a/../b/./c?x=%7e#frag", T.URL, "http://evil.vn/b/c?x=~"),
    (
        T.URL,
        "hxxps[:]//bộ-y-tế.vn/đăng-nhập",
        T.URL,
        "https://xn--b-y-t-s61b7g.vn/%C4%91%C4%83ng-nh%E1%BA%ADp",
    ),
    (T.URL, "evil.vn/login.php", T.URL, "http://evil.vn/login.php"),
    (T.URL, "HTTP://[2001:DB8::1]:8080/x", T.URL, "http://[2001:db8::1]:8080/x"),
    (T.URL, "https://user:pw@Host.VN:443", T.URL, "https://user:pw@host.vn/"),
    (T.EMAIL, "Phishing[at]Mail.Example.VN", T.EMAIL, "phishing@mail.example.vn"),
    (T.EMAIL, "mailto:a.b@vnpt.vn", T.EMAIL, "a.b@vnpt.vn"),
    (T.MD5, " D41D8CD98F00B204E9800998ECF8427E ", T.MD5, "d41d8cd98f00b204e9800998ecf8427e"),
    (
        T.SHA1,
        "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709",
        T.SHA1,
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    ),
    (T.ASN, "as 7552", T.ASN, "AS7552"),
    (T.ASN, "45899", T.ASN, "AS45899"),
    (T.BRANDNAME, "  vietcombank ", T.BRANDNAME, "VIETCOMBANK"),
    (T.PHONE, "0912.345.678", T.PHONE, "+84912345678"),
    (T.PHONE, "01695678945", T.PHONE, "+84395678945"),
    (T.FILENAME, "hóa đơn.exe", T.FILENAME, "hóa đơn.exe"),
]


@pytest.mark.parametrize(("kind", "raw", "out_kind", "value"), CANONICAL)
def test_canonical_forms(kind: T, raw: str, out_kind: T, value: str) -> None:
    assert normalise(kind, raw) == IndicatorKey(out_kind, value)
    assert normalise(out_kind, value) == IndicatorKey(out_kind, value)  # idempotent


INVALID = [
    (T.IPV4, "999.1.1.1", "not an IPv4 address"),
    (T.IPV4, "2001:db8::1", "is an IPv6 address"),
    (T.IPV6, "fe80::1%eth0", "zone id"),
    (T.CIDR4, "10.0.0.0/33", "not an IPv4 network"),
    (T.DOMAIN, "localhost", "at least one dot"),
    (T.DOMAIN, "-bad-.example.vn", "invalid label"),
    (T.DOMAIN, "example.123", "numeric label"),
    (T.URL, "http://exa mple.vn/", "contains spaces"),
    (T.URL, "http:///path", "no host"),
    (T.EMAIL, "no-at-sign.vn", "not an e-mail"),
    (T.MD5, "abc", "32 hex digits"),
    (T.SHA256, "z" * 64, "64 hex digits"),
    (T.ASN, "AS0", "not an AS number"),
    (T.BRANDNAME, "THIS-IS-TOO-LONG", "1-11"),
    (T.PHONE, "12", "phone number"),
    (T.FILENAME, "C:\\Windows\\evil.exe", "no path separators"),
]


@pytest.mark.parametrize(("kind", "raw", "reason"), INVALID)
def test_invalid_values_say_why(kind: T, raw: str, reason: str) -> None:
    with pytest.raises(InvalidIndicator, match=reason):
        normalise(kind, raw)


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        ("203.0.113.5", T.IPV4),
        ("203.0.113.0/24", T.CIDR4),
        ("2001:db8::1", T.IPV6),
        ("evil[.]vn", T.DOMAIN),
        ("hxxp://evil.vn/x", T.URL),
        ("a@b.vn", T.EMAIL),
        ("d41d8cd98f00b204e9800998ecf8427e", T.MD5),
        ("AS7552", T.ASN),
        ("+84 912 345 678", T.PHONE),
        ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", T.SHA256),
    ],
)
def test_guess_indicator(raw: str, kind: T) -> None:
    assert guess_indicator(raw).type is kind


def test_refang_variants() -> None:
    assert refang("hxxps[://]evil{.}vn[/]") == "https://evil.vn[/]"
    assert refang("fxp://files(.)evil.vn") == "ftp://files.evil.vn"
    assert refang("user [at] evil [dot] vn") == "user@evil.vn"
    assert refang("evil\\.vn") == "evil.vn"


def test_legacy_mobile_numbers_are_converted_and_flagged() -> None:
    assert normalise_phone("0168 123 4567").converted
    assert normalise_phone("0168 123 4567").e164 == "+84381234567"
    assert not normalise_phone("+84 213 387 6543").converted


def test_tlp_labels() -> None:
    assert Tlp.parse("TLP:WHITE") is Tlp.CLEAR
    assert Tlp.parse("tlp:amber+strict") is Tlp.AMBER_STRICT
    assert Tlp.RED.most_restrictive(Tlp.GREEN) is Tlp.RED
    with pytest.raises(ValueError, match=r"not a TLP 2\.0 label"):
        Tlp.parse("purple")
