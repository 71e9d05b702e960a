"""tracker.mail: the digest email's headers and parts, .eml export, and delivery over real SMTP."""

from __future__ import annotations

import email
import email.policy
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session
from html_tags import tags_of

from tracker.errors import MailError
from tracker.mail import build_message, send, subject_for, write_eml
from tracker.models import Digest, Member, Story, Topic, TopicSection
from tracker.render import Renderer

DAY = date(2025, 1, 27)
NOW = datetime(2025, 1, 28, 6, 30, tzinfo=UTC)
XSS = "<script>alert(1)</script>"


# --- a small factory ----------------------------------------------------------------------


def topic(slug: str, name: str) -> Topic:
    return Topic(slug=slug, name=name, keywords=(name,))


def story(sid: str, headline: str, topics: tuple[str, ...] = ()) -> Story:
    published = datetime(2025, 1, 27, 9, tzinfo=UTC)
    members = (
        Member(f"{sid}1", headline, f"https://ars.example.com/{sid}", "Ars Technica", published),
        Member(
            f"{sid}2",
            headline,
            f"https://verge.example.com/{sid}",
            "The Verge",
            published + timedelta(hours=1),
        ),
    )
    return Story(
        id=sid,
        headline=headline,
        link=f"https://ars.example.com/{sid}",
        summary=f"About {sid}.",
        first_seen=published,
        last_seen=published + timedelta(hours=1),
        members=members,
        topics=topics,
    )


def digest(*topics: Topic, title: str = "Tech news digest") -> Digest:
    sections = tuple(
        TopicSection(t, (story(f"s-{t.slug}", f"{t.name} news {XSS}", (t.slug,)),), ())
        for t in topics
    )
    top = (story("other", "Something else entirely"),)
    return Digest(
        DAY, title, NOW, sections, top, n_entries=6, n_stories=len(topics) + 1, n_outlets=2
    )


DEEPSEEK, NVIDIA = topic("deepseek", "DeepSeek"), topic("nvidia", "NVIDIA")


@pytest.fixture
def renderer() -> Renderer:
    return Renderer(tz_name="Europe/London", base_url="https://news.example.org")


def message_of(renderer: Renderer, d: Digest | None = None, **kw: Any) -> EmailMessage:
    fields: dict[str, Any] = {
        "sender": "Tracker <digest@news.example.org>",
        "recipients": ["ann@example.com", "Bob Smith <bob@example.net>"],
        "now": NOW,
    }
    fields.update(kw)
    return build_message(d or digest(DEEPSEEK, NVIDIA), renderer, **fields)


# --- subject ------------------------------------------------------------------------------


def test_subject_names_the_day_and_top_topics() -> None:
    assert (
        subject_for(digest(DEEPSEEK, NVIDIA))
        == "Tech news digest — Mon 27 Jan 2025: DeepSeek, NVIDIA"
    )
    assert subject_for(digest()) == "Tech news digest — Mon 27 Jan 2025"
    assert (
        subject_for(digest(DEEPSEEK), "[news]")
        == "[news] Tech news digest — Mon 27 Jan 2025: DeepSeek"
    )


def test_subject_names_at_most_three_topics() -> None:
    many = [topic(f"t{i}", f"Topic {i}") for i in range(5)]
    assert subject_for(digest(*many)).endswith(": Topic 0, Topic 1, Topic 2")


def test_subject_has_no_line_breaks_even_when_feed_text_does() -> None:
    evil = topic("evil", "Evil\r\nBcc: victim@example.com")
    subject = subject_for(digest(evil, title="Digest\nX-Injected: 1"), "pre\rfix")
    assert "\r" not in subject and "\n" not in subject
    expected = "pre fix Digest X-Injected: 1 — Mon 27 Jan 2025: Evil Bcc: victim@example.com"
    assert subject == expected


# --- the message --------------------------------------------------------------------------


def test_message_headers(renderer: Renderer) -> None:
    msg = message_of(renderer)
    assert msg["Subject"] == "Tech news digest — Mon 27 Jan 2025: DeepSeek, NVIDIA"
    assert msg["From"] == "Tracker <digest@news.example.org>"
    assert msg["To"] == "ann@example.com, Bob Smith <bob@example.net>"
    assert msg["Date"] == "Tue, 28 Jan 2025 06:30:00 +0000"
    assert msg["Message-ID"] == "<digest.2025-01-27@news.example.org>"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert message_of(renderer)["Message-ID"] == msg["Message-ID"]  # deterministic


def test_message_has_a_text_and_an_inlined_html_part(renderer: Renderer) -> None:
    msg = message_of(renderer)
    assert msg.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in msg.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    plain = text.get_content()
    assert "DeepSeek news" in plain and "https://news.example.org/stories/s-deepseek.html" in plain
    body = html.get_content()
    assert "<style" not in body  # css_inline moved the rules into style attributes
    assert 'style="' in body
    assert "&lt;script&gt;" in body
    tags = tags_of(body)
    assert not {t for t, _ in tags} & {"script", "img", "svg", "link", "iframe"}
    assert 'href="https://news.example.org/stories/s-deepseek.html"' in body


def test_inlining_keeps_feed_text_inert(renderer: Renderer) -> None:
    # css_inline re-serialises the document: quotes in attributes must stay escaped.
    evil = topic("evil", 'x" onmouseover="alert(1)')
    html = message_of(renderer, digest(evil)).get_body(("html",))
    assert html is not None
    for _, attrs in tags_of(html.get_content()):
        assert not any(name.startswith("on") for name in attrs)


def test_header_injection_through_addresses_is_refused(renderer: Renderer) -> None:
    with pytest.raises(MailError, match="invalid sender"):
        message_of(renderer, sender="a@example.com\r\nBcc: victim@example.com")
    with pytest.raises(MailError, match="invalid recipient"):
        message_of(renderer, recipients=["not an address"])
    with pytest.raises(MailError, match="no recipients"):
        message_of(renderer, recipients=[])


def test_feed_text_cannot_add_headers(renderer: Renderer) -> None:
    evil = topic("evil", "Evil\r\nBcc: victim@example.com")
    raw = message_of(renderer, digest(evil)).as_bytes(policy=email.policy.SMTP)
    headers = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in headers


def test_write_eml_round_trips(renderer: Renderer, tmp_path: Path) -> None:
    path = tmp_path / "out" / "digest.eml"
    write_eml(message_of(renderer), path)
    raw = path.read_bytes()
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Message-ID"] == "<digest.2025-01-27@news.example.org>"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert list(path.parent.iterdir()) == [path]


def test_write_eml_failure_is_a_mail_error(renderer: Renderer, tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file, not a folder")
    with pytest.raises(MailError, match="cannot write email"):
        write_eml(message_of(renderer), tmp_path / "taken" / "digest.eml")


# --- over real SMTP -----------------------------------------------------------------------


@dataclass
class Recorder:
    """An aiosmtpd handler that keeps what it receives, or refuses it with ``reply``."""

    reply: str = "250 OK"
    received: list[Envelope] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        if self.reply.startswith("250"):
            self.received.append(envelope)
        return self.reply


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def accept_login(
    server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"s3cret"
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[tuple[Controller, Recorder]]:
    handler = Recorder()
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=free_port(),
        authenticator=accept_login,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


def test_send_delivers_both_parts(
    renderer: Renderer, smtp_server: tuple[Controller, Recorder]
) -> None:
    controller, handler = smtp_server
    send(message_of(renderer), host="127.0.0.1", port=controller.port, security="none", timeout=10)
    assert len(handler.received) == 1
    envelope = handler.received[0]
    assert envelope.mail_from == "digest@news.example.org"
    assert envelope.rcpt_tos == ["ann@example.com", "bob@example.net"]
    assert isinstance(envelope.content, bytes)
    got = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert [p.get_content_type() for p in got.iter_parts()] == ["text/plain", "text/html"]
    assert got["Subject"] == "Tech news digest — Mon 27 Jan 2025: DeepSeek, NVIDIA"


def test_send_logs_in_when_given_a_username(
    renderer: Renderer, smtp_server: tuple[Controller, Recorder]
) -> None:
    controller, handler = smtp_server
    send(
        message_of(renderer),
        host="127.0.0.1",
        port=controller.port,
        security="none",
        username="digest",
        password="s3cret",
        timeout=10,
    )
    assert len(handler.received) == 1
    with pytest.raises(MailError, match="535"):
        send(
            message_of(renderer),
            host="127.0.0.1",
            port=controller.port,
            security="none",
            username="digest",
            password="wrong",
            timeout=10,
        )


def test_a_refusing_server_is_a_mail_error_with_its_reason(
    renderer: Renderer, smtp_server: tuple[Controller, Recorder]
) -> None:
    controller, handler = smtp_server
    handler.reply = "550 5.7.1 message rejected as spam"
    with pytest.raises(
        MailError, match=r"cannot send digest: 550 5\.7\.1 message rejected as spam"
    ) as info:
        send(
            message_of(renderer),
            host="127.0.0.1",
            port=controller.port,
            security="none",
            timeout=10,
        )
    assert info.value.__cause__ is not None
    assert handler.received == []


def test_an_unreachable_server_is_a_mail_error(renderer: Renderer) -> None:
    with pytest.raises(MailError, match="cannot send digest") as info:
        send(message_of(renderer), host="127.0.0.1", port=free_port(), security="none", timeout=5)
    assert isinstance(info.value.__cause__, OSError)


def test_starttls_against_a_server_without_it_is_a_mail_error(
    renderer: Renderer, smtp_server: tuple[Controller, Recorder]
) -> None:
    controller, handler = smtp_server
    with pytest.raises(MailError, match=r"cannot send digest: .*STARTTLS"):
        send(
            message_of(renderer),
            host="127.0.0.1",
            port=controller.port,
            security="starttls",
            timeout=10,
        )
    assert handler.received == []


def test_unknown_security_is_a_bug_not_a_mail_error(renderer: Renderer) -> None:
    with pytest.raises(ValueError, match="security"):
        send(message_of(renderer), host="127.0.0.1", port=25, security="tls")


# --- issue 6: TLS, refused recipients, the CLI keeps the .eml -------------------------------


@dataclass
class Picky(Recorder):
    """Refuses any recipient whose address starts with "nobody"."""

    async def handle_RCPT(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address.startswith("nobody"):
            return f"550 5.1.1 <{address}>: recipient address rejected: user unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made now with the openssl command."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def tls_server(cert: tuple[Path, Path], handler: Recorder, **kw: Any) -> Controller:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*cert)
    return Controller(handler, hostname="127.0.0.1", port=free_port(), **{
        "tls_context" if kw.pop("starttls", False) else "ssl_context": context, **kw})  # fmt: skip


def trusting(cert: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(cert[0]))


def test_starttls_delivers_and_verifies_the_certificate(
    renderer: Renderer, certificate: tuple[Path, Path]
) -> None:
    handler = Recorder()
    controller = tls_server(
        certificate, handler, starttls=True, require_starttls=True,
        authenticator=accept_login,
    )  # fmt: skip
    controller.start()
    try:
        send(
            message_of(renderer), host="127.0.0.1", port=controller.port, security="starttls",
            username="digest", password="s3cret", timeout=10,
            tls_context=trusting(certificate),
        )  # fmt: skip
        assert len(handler.received) == 1
        # The system's trust store does not know the self-signed certificate: refused.
        with pytest.raises(MailError, match=r"cannot send digest: .*certificate"):
            send(
                message_of(renderer), host="127.0.0.1", port=controller.port,
                security="starttls", timeout=10,
            )  # fmt: skip
    finally:
        controller.stop()
    assert len(handler.received) == 1


def test_implicit_tls_delivers(renderer: Renderer, certificate: tuple[Path, Path]) -> None:
    handler = Recorder()
    controller = tls_server(certificate, handler)
    controller.start()
    try:
        send(
            message_of(renderer), host="127.0.0.1", port=controller.port, security="ssl",
            timeout=10, tls_context=trusting(certificate),
        )  # fmt: skip
    finally:
        controller.stop()
    [envelope] = handler.received
    assert isinstance(envelope.content, bytes)
    got = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert [p.get_content_type() for p in got.iter_parts()] == ["text/plain", "text/html"]


@pytest.fixture
def picky_server() -> Iterator[tuple[Controller, Picky]]:
    handler = Picky()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


def test_a_refused_recipient_is_named_with_the_servers_reason(
    renderer: Renderer, picky_server: tuple[Controller, Picky]
) -> None:
    controller, handler = picky_server
    with pytest.raises(MailError) as info:
        send(
            message_of(renderer, recipients=["nobody@example.com"]),
            host="127.0.0.1", port=controller.port, security="none", timeout=10,
        )  # fmt: skip
    assert str(info.value) == (
        "cannot send digest: nobody@example.com: 550 5.1.1 <nobody@example.com>: "
        "recipient address rejected: user unknown"
    )
    with pytest.raises(MailError, match=r"to every recipient: nobody@example\.com: 550"):
        send(
            message_of(renderer, recipients=["ann@example.com", "nobody@example.com"]),
            host="127.0.0.1", port=controller.port, security="none", timeout=10,
        )  # fmt: skip
    assert [e.rcpt_tos for e in handler.received] == [["ann@example.com"]]


def cli_config(tmp_path: Path, port: int, **email_extra: Any) -> Path:
    data = {
        "timezone": "UTC",
        "database": str(tmp_path / "tracker.db"),
        "feeds": [],
        "site": {"output_dir": str(tmp_path / "site"), "base_url": "https://news.example.org"},
        "email": {
            "sender": "digest@news.example.org",
            "recipients": ["nobody@example.com"],
            "smtp": {"host": "127.0.0.1", "port": port, "security": "none"},
            **email_extra,
        },
    }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_a_failed_send_exits_1_with_the_reason_and_keeps_the_eml(
    tmp_path: Path, picky_server: tuple[Controller, Picky]
) -> None:
    from click.testing import CliRunner

    from tracker.cli import cli

    controller, _ = picky_server
    config = cli_config(tmp_path, controller.port)
    out = tmp_path / "out" / "digest.eml"
    args = ["--config", str(config), "email", "--date", "2025-01-27"]
    result = CliRunner().invoke(cli, [*args, "--send", "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert "Error: cannot send digest: nobody@example.com: 550 5.1.1" in result.stderr
    assert f"the message is kept in {out}" in result.stderr
    kept = email.message_from_bytes(out.read_bytes(), policy=email.policy.default)
    assert [p.get_content_type() for p in kept.iter_parts()] == ["text/plain", "text/html"]
    # Without --out the message goes to email.out_dir (or the current folder) first.
    config = cli_config(tmp_path, controller.port, out_dir=str(tmp_path / "mail"))
    result = CliRunner().invoke(
        cli, ["--config", str(config), "email", "--date", "2025-01-27", "--send"]
    )
    assert result.exit_code == 1
    assert (tmp_path / "mail" / "digest-2025-01-27.eml").is_file()


def test_a_busy_day_stays_under_100_kb() -> None:
    # Shaped like the demo's busiest day (30 Jan 2025: 44 cards, a few stories covered by a
    # dozen outlets, one outlet filing 16 times), a bit heavier; Gmail clips past ~102 KB.
    def heavy(sid: str, outlets: int, topics: tuple[str, ...] = ()) -> Story:
        base = story(sid, f"A long enough headline about {sid} and what it means", topics)
        members = tuple(
            Member(
                f"{sid}-{o}-{n}", f"Article {n} on {sid}",
                f"https://www.outlet{o}.example.com/news/2025/01/30/{sid}-article-{n}-slug",
                f"Outlet {o}", base.first_seen + timedelta(minutes=n),
            )
            for o in range(outlets) for n in range(16 if o == 0 and outlets > 4 else 1)
        )  # fmt: skip
        return replace(base, members=members, summary="A summary sentence here. " * 10)

    topics = [topic(f"t{i}", f"Topic {i}") for i in range(5)]
    sections = tuple(
        TopicSection(t, tuple(heavy(f"{t.slug}s{n}", 14 if n == 0 else 3, (t.slug,))
                              for n in range(4)), ())
        for t in topics
    )  # fmt: skip
    top = tuple(heavy(f"top{n}", 2) for n in range(25))
    d = Digest(DAY, "Tech news digest", NOW, sections, top, 231, 208, 10)
    web = Renderer(tz_name="Europe/London", base_url="https://news.example.org")
    size = len(message_of(web, d).as_bytes(policy=email.policy.SMTP))
    assert 60_000 < size < 100_000, size
