import base64
import datetime as dt
import hashlib
import hmac

import pytest

from shared.signing import SignatureError, Signer, UrlSigner, Verifier

OLD = "whsec_" + base64.b64encode(b"old-secret-old-secret").decode()
NEW = "whsec_" + base64.b64encode(b"new-secret-new-secret").decode()
BODY = b'{"hello": "world"}'


class TestVerifier:
    def test_accepts_a_fresh_signature(self):
        headers = Signer(NEW).headers("msg_1", BODY)
        assert Verifier([NEW]).verify(BODY, headers) == "msg_1"

    def test_accepts_the_previous_secret_during_rotation(self):
        headers = Signer(OLD).headers("msg_2", BODY)
        assert Verifier([NEW, OLD]).verify(BODY, headers) == "msg_2"

    def test_rejects_another_secret(self):
        headers = Signer(OLD).headers("msg_3", BODY)
        with pytest.raises(SignatureError):
            Verifier([NEW]).verify(BODY, headers)

    def test_rejects_a_changed_body(self):
        headers = Signer(NEW).headers("msg_4", BODY)
        with pytest.raises(SignatureError):
            Verifier([NEW]).verify(b'{"hello": "mars"}', headers)

    @pytest.mark.parametrize("minutes", [-6, 6])
    def test_rejects_timestamps_beyond_five_minutes(self, minutes):
        when = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
        headers = Signer(NEW).headers("msg_5", BODY, now=when)
        with pytest.raises(SignatureError):
            Verifier([NEW]).verify(BODY, headers)

    def test_rejects_a_malformed_signature_header(self):
        headers = Signer(NEW).headers("msg_6", BODY) | {"webhook-signature": "garbage"}
        with pytest.raises(SignatureError):
            Verifier([NEW]).verify(BODY, headers)


class TestUrlSigner:
    NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)

    def test_a_link_works_until_it_expires(self):
        signer = UrlSigner(["key"])
        query = signer.query("/p", ttl=dt.timedelta(hours=1), now=self.NOW)
        expires = int(query["expires"])
        assert expires == int(self.NOW.timestamp()) + 3600
        signature = query["signature"]
        soon, late = (self.NOW + dt.timedelta(minutes=m) for m in (59, 61))
        assert signer.verify("/p", expires=expires, signature=signature, now=soon)
        assert not signer.verify("/p", expires=expires, signature=signature, now=late)

    def test_the_previous_key_still_verifies_during_rotation(self):
        query = UrlSigner(["old"]).query("/p", ttl=dt.timedelta(hours=1), now=self.NOW)
        expires, signature = int(query["expires"]), query["signature"]
        assert UrlSigner(["new", "old"]).verify(
            "/p", expires=expires, signature=signature, now=self.NOW
        )
        assert not UrlSigner(["new"]).verify(
            "/p", expires=expires, signature=signature, now=self.NOW
        )

    def test_the_signature_covers_path_and_expiry(self):
        signer = UrlSigner(["key"])
        query = signer.query("/p", ttl=dt.timedelta(hours=1), now=self.NOW)
        expires, signature = int(query["expires"]), query["signature"]
        assert not signer.verify(
            "/q", expires=expires, signature=signature, now=self.NOW
        )
        assert not signer.verify(
            "/p", expires=expires + 1, signature=signature, now=self.NOW
        )

    @pytest.mark.parametrize(
        ("expires", "signature"),
        [
            (2**40, "0" * 64),  # beyond any date-time
            (-1, "0" * 64),  # before 1970
            (2**40, "\U0001f3fb\U000f3852"),  # the bytes F1 9F 8F BB F0 B3 A1 92
            (None, "\u00e9" * 64),  # a non-ASCII signature of a hex MAC's length
            (None, ""),
        ],
    )
    def test_absurd_expiries_and_signatures_are_no_link(self, expires, signature):
        signer = UrlSigner(["key"])
        query = signer.query("/p", ttl=dt.timedelta(hours=1), now=self.NOW)
        expires = int(query["expires"]) if expires is None else expires
        assert not signer.verify(
            "/p", expires=expires, signature=signature, now=self.NOW
        )

    def test_a_link_signed_for_an_expiry_beyond_any_date_is_refused(self):
        # Such a link is never handed out; were its MAC made, it still opens nothing.
        signer = UrlSigner(["key"])
        expires = 2**40
        signature = hmac.new(b"key", b"/p\n1099511627776", hashlib.sha256).hexdigest()
        assert not signer.verify(
            "/p", expires=expires, signature=signature, now=self.NOW
        )
