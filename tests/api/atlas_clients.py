"""Atlas legacy organization invitations driven by real Digest clients: requests' HTTPDigestAuth
and httpx's DigestAuth. Prints one JSON object of what each step answered."""

import json
import os
import sys

import httpx
import requests
from requests.auth import HTTPDigestAuth

BASE, KEY, SECRET, ORG = (os.environ[k] for k in ("BASE", "KEY", "SECRET", "ORG"))
V = "application/vnd.atlas.2023-01-01+json"
HEADERS = {"Accept": V, "Content-Type": V}
INVITES = f"{BASE}/api/atlas/v2/orgs/{ORG}/invites"


def step(r):
    return {
        "status": r.status_code,
        "contentType": r.headers.get("content-type"),
        "body": r.json() if r.content else None,
    }


def lifecycle(send, who):
    out = {}
    created = send("POST", INVITES, json={"username": f"{who}@example.com", "roles": ["ORG_MEMBER"]})
    out["create"] = step(created)
    invitation_id = created.json()["id"]
    out["list"] = step(send("GET", INVITES, params={"username": f"{who}@example.com"}))
    out["get"] = step(send("GET", f"{INVITES}/{invitation_id}"))
    out["update"] = step(send("PATCH", f"{INVITES}/{invitation_id}", json={"roles": ["ORG_READ_ONLY"]}))
    out["delete"] = step(send("DELETE", f"{INVITES}/{invitation_id}"))
    out["get_after"] = step(send("GET", f"{INVITES}/{invitation_id}"))
    return out


def with_requests():
    s = requests.Session()
    s.auth = HTTPDigestAuth(KEY, SECRET)
    s.headers.update(HEADERS)
    return lambda method, url, **kw: s.request(method, url, **kw)


def with_httpx():
    c = httpx.Client(auth=httpx.DigestAuth(KEY, SECRET), headers=HEADERS)
    return lambda method, url, **kw: c.request(method, url, **kw)


def wrong_secret():
    r = requests.get(INVITES, auth=HTTPDigestAuth(KEY, "wrong"), headers=HEADERS)
    return {"status": r.status_code, "challenge": r.headers.get("www-authenticate")}


label = sys.argv[1]
print(json.dumps({
    "requests": lifecycle(with_requests(), f"requests-{label}"),
    "httpx": lifecycle(with_httpx(), f"httpx-{label}"),
    "wrong_secret": wrong_secret(),
}))
