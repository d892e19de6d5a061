"""One masking function for every artifact: each registered secret is masked in its raw,
JSON (ASCII and UTF-8), URL (quote, quote_plus), form, HTML and base64 forms, with random
secrets made of every character that encodings treat specially. Secrets belong to a scope
(a run): they are forgotten when it ends."""

from __future__ import annotations

import base64
import html
import json
import os
import re
import threading
import zipfile
from urllib.parse import quote, quote_plus, urlencode

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from deskhand import masking, vault
from deskhand.logs import RunLog, read_events
from deskhand.web.browser import mask_trace

EXAMPLES = int(os.environ.get("MASKING_EXAMPLES", "300"))  # more: a longer hunt
SPECIAL = "&=+%/\"<> '\\\t\n#?;:,@!$*()[]{}|^`~"
NON_ASCII = "äéøßñçÅЖж中文🙂\xa0"
secret_text = st.text(
    alphabet=st.sampled_from("abcXYZ019" + SPECIAL + NON_ASCII), min_size=3, max_size=24
)
plain_text = st.text(alphabet="defghijklmnopqrstuvw .", max_size=30)  # no secret's letters


def form_body(secret: str) -> str:
    """As a browser posts a form: space as '+', everything but *-._ and alphanumerics %XX."""
    return "user=clerk&password=" + quote(secret, safe="*-._").replace("%20", "+")


ENCODINGS = {
    "raw": lambda s: s,
    "json ascii": lambda s: json.dumps(s),
    "json utf-8": lambda s: json.dumps(s, ensure_ascii=False),
    "json in json": lambda s: json.dumps(json.dumps({"password": s})),
    "quote": quote,
    "quote safe=''": lambda s: quote(s, safe=""),
    "quote lower-case hex": lambda s: re.sub("%[0-9A-F]{2}", lambda m: m[0].lower(), quote(s)),
    "quote_plus": quote_plus,
    "urlencode": lambda s: urlencode({"user": "clerk", "password": s}),
    "browser form": form_body,
    "form body in JSON": lambda s: json.dumps({"postData": form_body(s)}),
    "html.escape": html.escape,
    "html in json": lambda s: json.dumps(f'<input value="{html.escape(s)}">'),
    "numeric references": lambda s: "".join(f"&#{ord(c)};" for c in s),
}


def base64_leaks(text: str, secret: str) -> bool:
    """Whether any run of base64 characters in ``text`` decodes (at any alignment) to bytes
    that hold the secret."""
    wanted = secret.encode()
    for run in re.findall(r"[A-Za-z0-9+/\-_]{4,}", text):
        run = run.replace("-", "+").replace("_", "/")
        for start in range(4):
            chunk = run[start:]
            chunk = chunk[: len(chunk) - len(chunk) % 4]
            if wanted in base64.b64decode(chunk):
                return True
    return False


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(secret=secret_text, before=plain_text, after=plain_text)
def test_every_encoding_of_a_random_secret_is_masked(secret, before, after):
    assume(set(secret) != {"*"})  # a secret of asterisks looks like the mask itself
    with masking.scope():
        masking.register(secret)
        for name, encode in ENCODINGS.items():
            encoded = encode(secret)
            masked = masking.mask(before + encoded + after)
            assert encoded not in masked, name
            assert secret not in masked, name
            assert masked.startswith(before) and masked.endswith(after), name
            assert masking.MASK in masked, name
        if len(secret.encode()) < masking.BASE64_MIN_BYTES:
            return  # base64 of shorter ones is left alone (see deskhand.masking)
        for prefix in (b"", b"u", b"us", b"user:"):  # every alignment in a longer text
            for encode64 in (base64.b64encode, base64.urlsafe_b64encode):
                blob = encode64(prefix + secret.encode() + b"!").decode()
                masked = masking.mask(f"{before} Authorization: Basic {blob} {after}")
                assert not base64_leaks(masked, secret), (prefix, encode64)


@settings(max_examples=EXAMPLES // 4, deadline=None, database=None)
@given(secret=secret_text)
def test_bytes_and_nested_values_are_masked(secret):
    assume(set(secret) != {"*"})
    with masking.scope():
        masking.register(secret)
        data = b"\x00\xff binary " + form_body(secret).encode() + b"\x80 tail"
        masked = masking.mask(data)
        assert form_body(secret).encode() not in masked and masked.endswith(b"\x80 tail")
        value = {"error": f"refused {secret}", secret: [secret, (1, quote(secret))], "n": 3}
        masked = masking.mask(value)
        assert secret not in json.dumps(masked, ensure_ascii=False)
        assert masked["n"] == 3 and masked["error"] == "refused " + masking.MASK


def test_ordinary_text_is_left_alone():
    with masking.scope():
        masking.register('Pa55 w&rd="x"')
        text = 'Pa55 is a word; w&rd is "x"; a form: name=Pa55&rd=x; base64: UGE1NQ==\n'
        assert masking.mask(text) == text
        assert masking.mask(b"\x89PNG\r\n\x1a\n\x00") == b"\x89PNG\r\n\x1a\n\x00"


def test_secrets_belong_to_the_scope_that_registered_them():
    with masking.scope() as run_one:
        masking.register("first-run-secret")
        assert masking.mask("first-run-secret") == masking.MASK
    with masking.scope():
        # a second run does not know the first one's secret
        assert masking.mask("first-run-secret") == "first-run-secret"
        masking.register("second-run-secret")
    assert run_one.mask("second-run-secret") == "second-run-secret"
    # the process never learnt either of them
    assert masking.mask("first-run-secret second-run-secret") == (
        "first-run-secret second-run-secret"
    )
    # a command (an enclosing scope) knows what each of its runs found, until it ends
    with masking.scope() as command:
        with masking.scope():
            masking.register("first-run-secret")
        with masking.scope():
            masking.register("second-run-secret")
        masked = command.mask("first-run-secret second-run-secret")
        assert masked == f"{masking.MASK} {masking.MASK}"
    assert masking.mask("first-run-secret") == "first-run-secret"


def test_vault_get_registers_into_the_current_run_only(monkeypatch, tmp_path):
    monkeypatch.setenv(vault.env_name("scoped"), json.dumps({"username": "u", "token": "t0k-9"}))
    runs = []
    for n in range(2):
        log = RunLog(tmp_path / "logs", "scoped_bot")
        with log:
            if n == 0:
                vault.get("scoped")
            log.event("log", message="token t0k-9 / " + quote("t0k-9"))
        runs.append(read_events(log.dir)[-1]["message"])
    assert runs == [f"token {masking.MASK} / {masking.MASK}", "token t0k-9 / t0k-9"]
    assert masking.mask("t0k-9") == "t0k-9"


def test_a_run_masks_with_its_own_registry_in_other_threads(tmp_path):
    """Playwright calls back from another greenlet, the heartbeat is a thread: the run's
    log masks with the run's registry, whatever context the caller is in."""
    log = RunLog(tmp_path / "logs", "threaded")
    with log:
        masking.register("thread-secret-1")
        worker = threading.Thread(target=lambda: log.event("log", message="thread-secret-1"))
        worker.start()
        worker.join()
    assert read_events(log.dir)[-1]["message"] == masking.MASK


def test_trace_members_are_masked_text_and_binary(tmp_path):
    secret = 'Pä55 w&r=d+%/"<x>'
    trace = tmp_path / "trace.zip"
    png = b"\x89PNG\r\n\x1a\n" + secret.encode()  # a picture's bytes are left as they are
    with zipfile.ZipFile(trace, "w") as archive:
        archive.writestr("resources/abc.dat", form_body(secret).encode())
        archive.writestr("trace.network", json.dumps({"postData": form_body(secret)}))
        archive.writestr("trace.trace", json.dumps({"value": secret}, ensure_ascii=False))
        archive.writestr("resources/blob.bin", b"\xff\xfe" + secret.encode() + b"\x00")
        archive.writestr("resources/shot.png", png)
    with masking.scope():
        masking.register(secret)
        mask_trace(trace)
    with zipfile.ZipFile(trace) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    assert members["resources/shot.png"] == png
    for name, data in members.items():
        if name.endswith(".png"):
            continue
        for form in masking.forms(secret):
            assert form.encode() not in data, (name, form)
        assert masking.MASK.encode() in data
    assert trace.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("short", ["", "ab"])
def test_values_too_short_to_mask_are_not_registered(short):
    with masking.scope() as secrets:
        before = secrets.values()  # what outer scopes hold (another test's, on this worker)
        masking.register(short)
        assert secrets.values() == before
