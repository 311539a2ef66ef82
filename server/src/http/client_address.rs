//! [`ClientAddress`]: who is on the other end, for throttling sign-in per address and for
//! coalescing the audit of denials before sign-in.
//!
//! It is the TCP peer's address, except with `--behind-tls-proxy`: then every connection
//! comes from the proxy, and the client's address is the **last** entry of
//! `X-Forwarded-For`, the one the proxy itself appended (entries before it are whatever the
//! client sent, so they are never trusted). That is only sound when the server is reachable
//! through the proxy alone (bind it to loopback or a private interface): anyone who can
//! reach it directly could claim any address.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

use super::AppState;

/// The client's address, when known (it is not for requests made without a socket).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddress(pub Option<IpAddr>);

impl ClientAddress {
    /// The throttling key (see [`crate::directory::sessions::address_key`]).
    pub fn key(self) -> Option<String> {
        self.0.map(crate::directory::sessions::address_key)
    }
}

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self::of(parts, state.behind_tls_proxy))
    }
}

impl ClientAddress {
    /// The address of the request in `parts`.
    pub fn of(parts: &Parts, behind_tls_proxy: bool) -> Self {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip());
        if behind_tls_proxy && let Some(forwarded) = last_forwarded_hop(&parts.headers) {
            return Self(Some(forwarded));
        }
        Self(peer)
    }
}

/// The last address in the last `X-Forwarded-For` header (with or without a port).
fn last_forwarded_hop(headers: &axum::http::HeaderMap) -> Option<IpAddr> {
    let last = headers
        .get_all("x-forwarded-for")
        .iter()
        .next_back()?
        .to_str()
        .ok()?
        .rsplit(',')
        .next()?
        .trim();
    last.parse::<IpAddr>()
        .ok()
        .or_else(|| last.parse::<SocketAddr>().ok().map(|addr| addr.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    fn parts(forwarded: &[&str]) -> Parts {
        let mut request = Request::builder().uri("/api/session");
        for value in forwarded {
            request = request.header("x-forwarded-for", *value);
        }
        let (mut parts, ()) = request.body(()).expect("request").into_parts();
        parts
            .extensions
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 4000))));
        parts
    }

    #[test]
    fn only_the_proxy_s_own_hop_is_trusted_and_only_behind_a_proxy() {
        let spoofed = parts(&["6.6.6.6, 203.0.113.7"]);
        assert_eq!(
            ClientAddress::of(&spoofed, true).0,
            Some("203.0.113.7".parse().expect("ip"))
        );
        assert_eq!(
            ClientAddress::of(&spoofed, false).0,
            Some("127.0.0.1".parse().expect("ip")),
            "without a proxy the header is ignored"
        );
        let two_headers = parts(&["6.6.6.6", "198.51.100.2:5123"]);
        assert_eq!(
            ClientAddress::of(&two_headers, true).0,
            Some("198.51.100.2".parse().expect("ip"))
        );
        let garbage = parts(&["not an address"]);
        assert_eq!(
            ClientAddress::of(&garbage, true).0,
            Some("127.0.0.1".parse().expect("ip"))
        );
    }

    #[test]
    fn ipv6_clients_are_throttled_by_their_64() {
        let a = ClientAddress(Some("2001:db8:1:2::5".parse().expect("ip")));
        let b = ClientAddress(Some("2001:db8:1:2:ffff::9".parse().expect("ip")));
        assert_eq!(a.key(), b.key());
        assert_eq!(a.key().as_deref(), Some("2001:db8:1:2::/64"));
        let mapped = ClientAddress(Some("::ffff:192.0.2.1".parse().expect("ip")));
        assert_eq!(mapped.key().as_deref(), Some("192.0.2.1"));
    }
}
