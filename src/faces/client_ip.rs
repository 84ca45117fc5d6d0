//! The client's address, for rate limits and the sessions list. Directly exposed, it is the TCP
//! peer. Behind `trusted_proxy_hops` proxies that each append the address they saw to
//! `X-Forwarded-For`, it is the entry the outermost of them appended: the entries to its left
//! were sent by the client and prove nothing.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;

use super::AppState;

pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        Ok(ClientIp(client_ip(
            peer,
            &parts.headers,
            app.trusted_proxy_hops,
        )))
    }
}

/// `hops` = 0: the peer. Otherwise the `hops`-th address from the right of `X-Forwarded-For`
/// (every header line, in order); the peer when the header has fewer entries (the request did
/// not come through the proxies) or that entry is not an address.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, hops: usize) -> IpAddr {
    if hops == 0 {
        return peer;
    }
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    entries
        .len()
        .checked_sub(hops)
        .and_then(|i| entries[i].parse().ok())
        .unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(lines: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for l in lines {
            h.append("x-forwarded-for", l.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_address_appended_by_the_outermost_trusted_proxy_is_the_client() {
        let peer: IpAddr = "10.0.0.2".parse().unwrap();
        let h = headers(&["1.1.1.1, 203.0.113.7", "10.0.0.1"]);
        assert_eq!(client_ip(peer, &h, 0), peer, "no proxies trusted");
        assert_eq!(client_ip(peer, &h, 1).to_string(), "10.0.0.1");
        assert_eq!(
            client_ip(peer, &h, 2).to_string(),
            "203.0.113.7",
            "the client-sent 1.1.1.1 is never believed"
        );
        assert_eq!(client_ip(peer, &h, 4), peer, "fewer entries than hops");
        assert_eq!(client_ip(peer, &headers(&["junk"]), 1), peer);
    }
}
