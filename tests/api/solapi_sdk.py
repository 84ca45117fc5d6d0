"""Drives usher with the official SOLAPI Python SDK's signer and fetcher (PyPI solapi 5.0.3).

Usage: solapi_sdk.py lifecycle | signup TOKEN   (env: BASE, KEY, SECRET, ORG)
Prints one JSON object with what each call returned (or the SDK exception it raised).
"""
import json
import os
import sys

import httpx
from solapi.lib.authenticator import Authenticator
from solapi.lib.fetcher import RequestMethod, default_fetcher

BASE, KEY, SECRET, ORG = (os.environ[k] for k in ("BASE", "KEY", "SECRET", "ORG"))
AUTH = {"api_key": KEY, "api_secret": SECRET}


def call(method, path, data=None):
    try:
        return {"ok": default_fetcher(AUTH, {"method": method, "url": BASE + path}, data)}
    except Exception as e:  # the SDK raises Exception(errorCode, errorMessage) on 4xx
        return {"error": list(e.args)}


def lifecycle():
    out = {}
    out["send"] = call(RequestMethod.POST, "/users/v1/invitations", {"email": "sdk-invitee@example.com", "role": "DEVELOPER"})
    out["list"] = call(RequestMethod.GET, f"/users/v1/accounts/{ORG}/invitations")
    inv = out["send"]["ok"]["invitationId"]
    out["cancel"] = call(RequestMethod.DELETE, f"/users/v1/invitations/{inv}")
    out["cancel_again"] = call(RequestMethod.DELETE, f"/users/v1/invitations/{inv}")
    out["list_after"] = call(RequestMethod.GET, f"/users/v1/accounts/{ORG}/invitations")
    out["send_second"] = call(RequestMethod.POST, "/users/v1/invitations", {"email": "sdk-joiner@example.com", "role": "MEMBER"})
    # The same header twice: the second use is a replay.
    header = Authenticator(KEY, SECRET).get_auth_info()
    out["header"] = header.split(" signature=")[0]
    first = httpx.get(BASE + "/users/v1/member", headers={"Authorization": header})
    second = httpx.get(BASE + "/users/v1/member", headers={"Authorization": header})
    out["replay"] = [first.status_code, second.status_code, second.json()]
    return out


def signup(token):
    body = {"password": "sdk passphrase 2026", "passwordConfirmation": "sdk passphrase 2026"}
    return {"signup": call(RequestMethod.POST, f"/users/v1/signup/invitations/{token}", body)}


if __name__ == "__main__":
    result = lifecycle() if sys.argv[1] == "lifecycle" else signup(sys.argv[2])
    print(json.dumps(result))
