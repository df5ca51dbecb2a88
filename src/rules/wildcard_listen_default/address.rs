//! Which values are wildcard (every-interface) addresses, and how strongly they
//! look like one. `"0.0.0.0:9100"` can only be a socket address; `"::"` is also
//! Rust's path separator, so it counts only where the context says "listen". Also
//! which lowered values may turn out to be one once the crate is known
//! ([`may_hold_wildcard`]), the filter that keeps extracted facts small.

use super::ListenParams;
use crate::facts::value::Value;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Calls that pass their argument on: conversions, and `Some`/`Ok`/`V4`/`V6` constructors.
pub(super) const TRANSPARENT_CALLS: &[&str] =
    &["from", "from_str", "parse", "to_string", "to_owned", "into", "V4", "V6", "Some", "Ok"];

/// How sure we are that a value is a wildcard listen address, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Strength {
    /// Ambiguous on its own: Go-style `":9100"`, bare `"::"`.
    Weak,
    /// An unspecified host: `"0.0.0.0"`, `"[::]"`, `Ipv4Addr::UNSPECIFIED`.
    Host,
    /// An unspecified host with a port: `"0.0.0.0:9100"`, `([0, 0, 0, 0], 3000)`.
    Socket,
}

/// A wildcard found in a string, with the loopback spelling to suggest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Classified {
    pub strength: Strength,
    pub go_style: bool,
    pub loopback: String,
}

/// Classifies a whole string as an address. Text that merely mentions an address
/// (`"listening on 0.0.0.0"`) and CIDR ranges (`"0.0.0.0/0"`) are not addresses.
pub fn classify_str(text: &str, extra_wildcards: &[String]) -> Option<Classified> {
    if text.trim().starts_with("/ip") {
        return classify_multiaddr(text.trim());
    }
    let parts = address_parts(text.trim())?;
    let (host, port) = (parts.host, parts.port);
    let socket_or_host = if port.is_some() { Strength::Socket } else { Strength::Host };
    if host.is_empty() {
        // Go-style `:9100`: no host means every interface.
        return port.map(|_| Classified { strength: Strength::Weak, go_style: true, loopback: parts.with("127.0.0.1") });
    }
    if extra_wildcards.iter().any(|w| w == host) {
        return Some(Classified { strength: socket_or_host, go_style: false, loopback: parts.with("127.0.0.1") });
    }
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return ip.is_unspecified().then(|| Classified {
            strength: socket_or_host,
            go_style: false,
            loopback: parts.with("127.0.0.1"),
        });
    }
    if let Ok(ip) = host.parse::<Ipv6Addr>() {
        if !ip.is_unspecified() {
            return None;
        }
        let strength = if parts.bracketed || host != "::" { socket_or_host } else { Strength::Weak };
        let loopback = if parts.bracketed { parts.with("[::1]") } else { parts.with("::1") };
        return Some(Classified { strength, go_style: false, loopback });
    }
    None
}

/// A libp2p multiaddress with a wildcard host: `/ip4/0.0.0.0/tcp/4001`,
/// `/ip6/::/udp/9000/quic-v1` (port 0, an ephemeral port, is not reported, like
/// `0.0.0.0:0`).
fn classify_multiaddr(text: &str) -> Option<Classified> {
    let mut parts = text.strip_prefix('/')?.split('/');
    let (proto, host) = (parts.next()?, parts.next()?);
    let wildcard = match proto {
        "ip4" => host.parse::<Ipv4Addr>().ok()?.is_unspecified(),
        "ip6" => host.parse::<Ipv6Addr>().ok()?.is_unspecified(),
        _ => return None,
    };
    let port = match (parts.next(), parts.next()) {
        (Some("tcp" | "udp"), Some(port)) => Some(port),
        _ => None,
    };
    if !wildcard || port == Some("0") {
        return None;
    }
    let loopback_host = if proto == "ip4" { "127.0.0.1" } else { "::1" };
    let loopback = format!("/{proto}/{loopback_host}{}", &text[proto.len() + host.len() + 2..]);
    let strength = if port.is_some() { Strength::Socket } else { Strength::Host };
    Some(Classified { strength, go_style: false, loopback })
}

/// An address split into its pieces: `scheme://`, the host (bracketed or not) and `:port`.
struct AddressParts<'s> {
    scheme: Option<&'s str>,
    host: &'s str,
    port: Option<&'s str>,
    bracketed: bool,
}

impl AddressParts<'_> {
    /// The same address with `loopback_host` for its host.
    fn with(&self, loopback_host: &str) -> String {
        let mut out = String::new();
        if let Some(sc) = self.scheme {
            out.push_str(sc);
            out.push_str("://");
        }
        out.push_str(loopback_host);
        if let Some(p) = self.port {
            out.push(':');
            out.push_str(p);
        }
        out
    }
}

/// The pieces of a trimmed string that is an address with a listening port (a
/// number, or a template placeholder), or none at all.
fn address_parts(s: &str) -> Option<AddressParts<'_>> {
    if s.is_empty() || s.chars().any(char::is_whitespace) {
        return None;
    }
    let (scheme, rest) = match s.find("://") {
        Some(i) if s[..i].chars().all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c)) => {
            let after = &s[i + 3..];
            (Some(&s[..i]), after.split('/').next().unwrap_or(""))
        }
        _ if s.contains('/') => return None,
        _ => (None, s),
    };
    let (host, port, bracketed) = split_host_port(rest)?;
    if port == Some("0") {
        // Port 0 asks for an ephemeral port: an outgoing (client) socket, not a listener.
        return None;
    }
    if let Some(p) = port {
        let placeholder = p.starts_with('{') || p.starts_with('$');
        if p.is_empty() || !(p.chars().all(|c| c.is_ascii_digit()) || placeholder) {
            return None;
        }
    }
    Some(AddressParts { scheme, host, port, bracketed })
}

/// An over-approximation of what `check` can turn into a wildcard: a literal that
/// classifies, four zero integers, `UNSPECIFIED`, a template, or a reference to a
/// constant or function that may resolve to one elsewhere in the crate.
pub fn may_hold_wildcard(value: &Value, params: &ListenParams) -> bool {
    let any = |vs: &[Value]| vs.iter().any(|v| may_hold_wildcard(v, params));
    match value {
        Value::Str { text, .. } => classify_str(text, &params.extra_wildcards).is_some(),
        Value::Int { .. } | Value::Opaque | Value::Field { .. } => false,
        Value::Path { .. } => true,
        Value::Call { callee, args, .. } => {
            // `Ok(…)`, `Some(…)`, `String::from(…)`: conversions and constructors pass
            // their arguments on (`Ok(())` ends most functions); `Ipv4Addr::from(0)` is one.
            let last = callee.last().map_or("", String::as_str);
            let owner = callee.len().checked_sub(2).map_or("", |i| callee[i].as_str());
            let passes_on = (TRANSPARENT_CALLS.contains(&last) || last.starts_with(char::is_uppercase))
                && !matches!(owner, "Ipv4Addr" | "Ipv6Addr");
            if passes_on { any(args) } else { !params.is_env_reader(&callee.join("::")) || any(args) }
        }
        Value::Method { receiver, args, .. } => may_hold_wildcard(receiver, params) || any(args),
        Value::Macro { name, args, .. } => name == "format" || name == "format_args" || name == "concat" || any(args),
        Value::Tuple { elems, .. } | Value::Array { elems, .. } => {
            elems.iter().all(|e| matches!(e, Value::Int { value: 0, .. })) && elems.len() == 4 || any(elems)
        }
        Value::Closure { body } => may_hold_wildcard(body, params),
        Value::Local { value, .. } => may_hold_wildcard(value, params),
        Value::Branches { arms } => any(arms),
    }
}

/// `host:port`, `[v6]:port`, `[v6]`, bare v6 (several colons), or a bare host.
fn split_host_port(s: &str) -> Option<(&str, Option<&str>, bool)> {
    if let Some(inner) = s.strip_prefix('[') {
        let close = inner.find(']')?;
        let host = &inner[..close];
        let after = &inner[close + 1..];
        return match after.strip_prefix(':') {
            Some(port) => Some((host, Some(port), true)),
            None if after.is_empty() => Some((host, None, true)),
            None => None,
        };
    }
    match s.matches(':').count() {
        0 => Some((s, None, false)),
        1 => {
            let (h, p) = s.split_once(':')?;
            Some((h, Some(p), false))
        }
        _ => Some((s, None, false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strength(s: &str) -> Option<Strength> {
        classify_str(s, &[]).map(|c| c.strength)
    }

    #[test]
    fn wildcard_spellings() {
        assert_eq!(strength("0.0.0.0"), Some(Strength::Host));
        assert_eq!(strength("0.0.0.0:9100"), Some(Strength::Socket));
        assert_eq!(strength(":9100"), Some(Strength::Weak));
        assert_eq!(strength("[::]"), Some(Strength::Host));
        assert_eq!(strength("[::]:8080"), Some(Strength::Socket));
        assert_eq!(strength("::"), Some(Strength::Weak));
        assert_eq!(strength("0:0:0:0:0:0:0:0"), Some(Strength::Host));
        // libp2p multiaddresses.
        assert_eq!(strength("/ip4/0.0.0.0/tcp/4001"), Some(Strength::Socket));
        assert_eq!(strength("/ip6/::/udp/9000/quic-v1"), Some(Strength::Socket));
        assert_eq!(classify_str("/ip4/0.0.0.0/tcp/4001", &[]).unwrap().loopback, "/ip4/127.0.0.1/tcp/4001");
        assert_eq!(strength("/ip4/0.0.0.0/tcp/0"), None);
        assert_eq!(strength("/ip4/10.0.0.1/tcp/4001"), None);
        assert_eq!(strength("/dns4/example.com/tcp/443"), None);
        assert_eq!(strength("http://0.0.0.0:8080/health"), Some(Strength::Socket));
        assert_eq!(strength("0.0.0.0:{port}"), Some(Strength::Socket));
        assert_eq!(classify_str("*:80", &["*".to_string()]).map(|c| c.strength), Some(Strength::Socket));
    }

    #[test]
    fn not_wildcards() {
        for s in [
            "127.0.0.1:9100",
            "localhost:9100",
            "[::1]:80",
            "::1",
            "0.0.0.0/0",
            "::/0",
            "listening on 0.0.0.0",
            "10.0.0.1",
            "0",
            ":",
            "a::b",
            "0.0.0.0:http",
            "",
            "std::io",
            "*:80",
        ] {
            assert_eq!(strength(s), None, "{s}");
        }
    }

    #[test]
    fn loopback_suggestions_keep_scheme_and_port() {
        let c = |s| classify_str(s, &[]).unwrap().loopback;
        assert_eq!(c("0.0.0.0:9100"), "127.0.0.1:9100");
        assert_eq!(c(":9100"), "127.0.0.1:9100");
        assert_eq!(c("[::]:80"), "[::1]:80");
        assert_eq!(c("http://0.0.0.0:8080"), "http://127.0.0.1:8080");
        assert!(classify_str(":9100", &[]).unwrap().go_style);
    }
}
