"""Build the digest email (pure) and deliver it: write it as .eml or send it over SMTP (I/O).

The message is multipart/alternative: the plain-text digest, then the HTML digest with its CSS
inlined (mail clients drop <style> blocks). Headers are built through email.headerregistry, and
feed text reaches the subject only with line breaks folded away, so no feed can add a header.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from collections.abc import Sequence
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr
from pathlib import Path

import css_inline

from tracker.errors import MailError
from tracker.models import Digest
from tracker.render import Renderer, format_day, oneline
from tracker.site import write_atomic

#: How many topic names the subject line names.
SUBJECT_TOPICS = 3
SECURITY = ("ssl", "starttls", "none")


def subject_for(digest: Digest, prefix: str = "") -> str:
    """``[prefix ]<title> — Mon 27 Jan 2025: DeepSeek, NVIDIA``, on one line."""
    head = " ".join(part for part in (oneline(prefix), oneline(digest.title)) if part)
    when = format_day(digest.day, "short")
    subject = f"{head} — {when}" if head else when
    names = [oneline(s.topic.name) for s in digest.sections[:SUBJECT_TOPICS]]
    names = [name for name in names if name]
    return f"{subject}: {', '.join(names)}" if names else subject


def build_message(
    digest: Digest,
    renderer: Renderer,
    *,
    sender: str,
    recipients: Sequence[str],
    now: datetime,
    subject_prefix: str = "",
) -> EmailMessage:
    """The digest as a ready-to-send message: text/plain and CSS-inlined text/html parts."""
    from_addr = _address(sender, "sender")
    to_addrs = tuple(_address(r, "recipient") for r in recipients)
    if not to_addrs:
        raise MailError("cannot build digest email: no recipients")
    message = EmailMessage()
    message["Subject"] = subject_for(digest, subject_prefix)
    message["From"] = from_addr
    message["To"] = to_addrs
    message["Date"] = format_datetime(now)
    message["Message-ID"] = _message_id(digest, from_addr)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
    # Quoted-printable keeps mostly-ASCII text near its own size (base64 adds a third).
    message.set_content(renderer.digest_text(digest), cte="quoted-printable")
    html = _inline(renderer.digest_email_html(digest))
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    # A boundary derived from the content, not random: the same digest gives the same bytes.
    text = message.get_body(("plain",))
    seed = f"{message['Message-ID']}\n{text.get_content() if text else ''}\n{html}"
    message.set_boundary("=_tracker_" + hashlib.sha256(seed.encode("utf-8")).hexdigest()[:32])
    return message


def write_eml(message: EmailMessage, path: Path) -> None:
    """Write the message as an .eml file (CRLF line ends), atomically."""
    try:
        write_atomic(path, message.as_bytes(policy=SMTP))
    except OSError as e:
        raise MailError(f"cannot write email: {path}") from e


def send(
    message: EmailMessage,
    *,
    host: str,
    port: int,
    security: str,
    username: str = "",
    password: str = "",
    timeout: float = 30.0,
    tls_context: ssl.SSLContext | None = None,
) -> None:
    """Deliver the message; ``security`` is "ssl" (implicit TLS), "starttls" or "none".

    ``tls_context`` defaults to the system's trust store with hostname checks; pass one that
    trusts a private CA (the tests do, for their self-signed certificate).
    """
    if security not in SECURITY:
        raise ValueError(f"security must be one of {', '.join(SECURITY)}: {security!r}")
    try:
        with _connect(host, port, security, timeout, tls_context) as smtp:
            if username:
                smtp.login(username, password)
            refused = smtp.send_message(message)
    except smtplib.SMTPException as e:
        raise MailError(f"cannot send digest: {_reason(e)}") from e
    except OSError as e:  # refused, unreachable, timed out, TLS handshake failed
        raise MailError(f"cannot send digest: {e.strerror or e}") from e
    if refused:  # some recipients got it, these did not
        detail = "; ".join(
            f"{rcpt}: {_decode(code, text)}" for rcpt, (code, text) in refused.items()
        )
        raise MailError(f"cannot send digest to every recipient: {detail}")


def _connect(
    host: str, port: int, security: str, timeout: float, context: ssl.SSLContext | None
) -> smtplib.SMTP:
    context = context or ssl.create_default_context()
    if security == "ssl":
        return smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
    smtp = smtplib.SMTP(host, port, timeout=timeout)
    if security == "starttls":
        try:
            smtp.starttls(context=context)
        except BaseException:
            smtp.close()
            raise
    return smtp


def _inline(html: str) -> str:
    """The HTML with its <style> moved onto each element, minified where css-inline can."""
    try:  # minify_css drops the spaces in every style attribute: ~5 KB on a busy day
        return css_inline.inline(html, minify_css=True)
    except TypeError:  # an older css-inline without the option
        return css_inline.inline(html)


def _address(text: str, role: str) -> Address:
    """``Name <user@host>`` or ``user@host`` as an Address; anything else is refused."""
    if "\r" in text or "\n" in text:
        raise MailError(f"invalid {role} address: {text!r}")
    name, addr = parseaddr(text)
    if "@" not in addr:
        raise MailError(f"invalid {role} address: {text!r}")
    try:
        return Address(display_name=name, addr_spec=addr)
    except (ValueError, IndexError) as e:
        raise MailError(f"invalid {role} address: {text!r}") from e


def _message_id(digest: Digest, sender: Address) -> str:
    # One id per day and sender domain: a re-sent digest of the same day threads with itself.
    return f"<digest.{digest.day.isoformat()}@{sender.domain or 'tracker.invalid'}>"


def _reason(error: smtplib.SMTPException) -> str:
    """The server's own words, when it said anything."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{rcpt}: {_decode(code, text)}" for rcpt, (code, text) in error.recipients.items()
        )
    if isinstance(error, smtplib.SMTPResponseException):
        return _decode(error.smtp_code, error.smtp_error)
    return str(error) or type(error).__name__


def _decode(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {oneline(words)}"
