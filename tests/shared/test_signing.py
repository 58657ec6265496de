import base64
import datetime as dt

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
