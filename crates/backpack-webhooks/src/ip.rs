//! Optional source-IP allowlist, with Xsolla's published ranges as data, and client-IP resolution
//! (peer address, or a forwarding header set by trusted proxies).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use http::HeaderMap;
use http::header::HeaderName;
use ipnet::{IpNet, Ipv4Net};

const fn v4(a: u8, b: u8, c: u8, d: u8, prefix: u8) -> IpNet {
    IpNet::V4(Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), prefix))
}

/// Source ranges listed in Xsolla's webhook documentation (<https://developers.xsolla.com/webhooks/overview/>).
pub const XSOLLA_DOCUMENTED_RANGES: &[IpNet] = &[
    v4(185, 30, 20, 0, 24),
    v4(185, 30, 21, 0, 24),
    v4(185, 30, 23, 0, 24),
];

/// Source ranges in the official PHP SDK (`WebhookAuthenticator.php`, commit `4ac9b70b`,
/// 2025-10-31): the documented ones plus `185.30.22.0/24` and five single hosts (one of them,
/// `34.102.38.178`, is the documented sender of the Web Shop user-validation webhook).
pub const XSOLLA_SDK_RANGES: &[IpNet] = &[
    v4(185, 30, 20, 0, 24),
    v4(185, 30, 21, 0, 24),
    v4(185, 30, 22, 0, 24),
    v4(185, 30, 23, 0, 24),
    v4(34, 102, 38, 178, 32),
    v4(34, 94, 43, 207, 32),
    v4(35, 236, 73, 234, 32),
    v4(34, 94, 69, 44, 32),
    v4(34, 102, 22, 197, 32),
];

/// A set of allowed source networks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpAllowlist {
    nets: Vec<IpNet>,
}

impl IpAllowlist {
    /// An allowlist of these networks.
    pub fn new(nets: impl IntoIterator<Item = IpNet>) -> Self {
        Self {
            nets: nets.into_iter().collect(),
        }
    }

    /// Xsolla's ranges: the union of [`XSOLLA_DOCUMENTED_RANGES`] and [`XSOLLA_SDK_RANGES`]
    /// (the SDK list is newer and a superset). Xsolla has changed its ranges before; check the
    /// docs and extend with [`IpAllowlist::with`] if needed.
    pub fn xsolla() -> Self {
        let mut list = Self::new(XSOLLA_SDK_RANGES.iter().copied());
        for net in XSOLLA_DOCUMENTED_RANGES {
            if !list.nets.contains(net) {
                list.nets.push(*net);
            }
        }
        list
    }

    /// Adds networks.
    pub fn with(mut self, nets: impl IntoIterator<Item = IpNet>) -> Self {
        self.nets.extend(nets);
        self
    }

    /// The networks.
    pub fn nets(&self) -> &[IpNet] {
        &self.nets
    }

    /// Whether `ip` is allowed. IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`, seen on dual-stack
    /// listeners) are compared as IPv4.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.nets.iter().any(|net| net.contains(&ip))
    }
}

/// Where the client address comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientIpSource {
    /// The TCP peer address from axum's `ConnectInfo<SocketAddr>` (serve with
    /// `into_make_service_with_connect_info::<SocketAddr>()`). Without it, the allowlist refuses.
    #[default]
    Peer,
    /// A forwarding header such as `X-Forwarded-For` (comma-separated, one or several header
    /// lines), trusted only when the peer is one of `trusted_proxies`. The client is the
    /// right-most address that is not a trusted proxy. If the peer is not a trusted proxy, the
    /// peer itself is the client and the header is ignored.
    ForwardedHeader {
        /// Header name, e.g. `x-forwarded-for`.
        header: HeaderName,
        /// Proxies allowed to set it (use `0.0.0.0/0` and `::/0` only if nothing but the
        /// proxies can reach the service).
        trusted_proxies: Vec<IpNet>,
    },
}

impl ClientIpSource {
    /// `X-Forwarded-For`, trusted from these proxies.
    pub fn x_forwarded_for(trusted_proxies: impl IntoIterator<Item = IpNet>) -> Self {
        Self::ForwardedHeader {
            header: HeaderName::from_static("x-forwarded-for"),
            trusted_proxies: trusted_proxies.into_iter().collect(),
        }
    }

    /// The client address, or `None` if it cannot be determined (no peer address, or an
    /// unparsable forwarding entry): callers must then refuse.
    pub fn resolve(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer?.to_canonical();
        let (header, trusted) = match self {
            ClientIpSource::Peer => return Some(peer),
            ClientIpSource::ForwardedHeader {
                header,
                trusted_proxies,
            } => (header, trusted_proxies),
        };
        let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
        if !is_trusted(&peer) {
            return Some(peer);
        }
        let mut entries = Vec::new();
        for value in headers.get_all(header) {
            let text = value.to_str().ok()?;
            for part in text.split(',') {
                entries.push(parse_forwarded_entry(part.trim())?);
            }
        }
        let mut client = peer;
        for ip in entries.into_iter().rev() {
            client = ip;
            if !is_trusted(&ip) {
                break;
            }
        }
        Some(client)
    }
}

/// `1.2.3.4`, `2001:db8::1`, `1.2.3.4:5678` or `[2001:db8::1]:5678`.
fn parse_forwarded_entry(entry: &str) -> Option<IpAddr> {
    entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn xsolla_list() {
        let list = IpAllowlist::xsolla();
        assert!(list.contains(ip("185.30.20.7")));
        assert!(list.contains(ip("185.30.22.255")));
        assert!(list.contains(ip("::ffff:185.30.23.1")));
        assert!(list.contains(ip("34.102.38.178")));
        assert!(!list.contains(ip("34.102.38.179")));
        assert!(!list.contains(ip("185.30.24.1")));
        assert!(!list.contains(ip("127.0.0.1")));
        assert_eq!(list.nets().len(), 9);
    }

    #[test]
    fn forwarded_for_walks_from_the_right() {
        let src = ClientIpSource::x_forwarded_for(["10.0.0.0/8".parse().unwrap()]);
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("6.6.6.6, 185.30.20.1, 10.0.0.2"),
        );
        assert_eq!(
            src.resolve(Some(ip("10.0.0.1")), &headers),
            Some(ip("185.30.20.1"))
        );
        // Untrusted peer: header ignored.
        assert_eq!(
            src.resolve(Some(ip("7.7.7.7")), &headers),
            Some(ip("7.7.7.7"))
        );
        // No peer: unknown.
        assert_eq!(src.resolve(None, &headers), None);
        // Garbage entry: unknown.
        headers.insert("x-forwarded-for", HeaderValue::from_static("nonsense"));
        assert_eq!(src.resolve(Some(ip("10.0.0.1")), &headers), None);
        // Port forms.
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_static("[2001:db8::1]:443"),
        );
        assert_eq!(
            src.resolve(Some(ip("10.0.0.1")), &headers),
            Some(ip("2001:db8::1"))
        );
    }
}
