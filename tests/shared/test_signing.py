import base64
import datetime as dt

import pytest

from shared.signing import SignatureError, Signer, Verifier

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
