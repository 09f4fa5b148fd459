//! Shapes of values: e-mail addresses, environment variable names, URIs, `host:port`.

pub(super) fn is_email(s: &str) -> bool {
    s.split_once('@').is_some_and(|(user, domain)| {
        !user.is_empty() && domain.contains('.') && !s.contains(char::is_whitespace)
    })
}

pub(super) fn is_env_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

pub(super) fn is_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    let spiffe_ok = scheme != "spiffe"
        || rest
            .strip_prefix("//")
            .is_some_and(|r| !r.is_empty() && !r.starts_with('/'));
    scheme_ok && !rest.is_empty() && spiffe_ok && !s.contains(char::is_whitespace)
}

pub(super) fn is_host_port(s: &str) -> bool {
    let Some((host, port)) = s.rsplit_once(':') else {
        return false;
    };
    let host_ok =
        !host.is_empty() && (!host.contains(':') || (host.starts_with('[') && host.ends_with(']')));
    host_ok && port.parse::<u16>().is_ok_and(|p| p > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_uris_addresses_and_env_names() {
        assert!(is_uri("spiffe://acme.example/ns/prod/sa/api"));
        assert!(is_uri("urn:acme:service:billing"));
        assert!(!is_uri("spiffe:///no-domain"));
        assert!(!is_uri("payments-api"));
        assert!(is_host_port("api.example.com:443"));
        assert!(is_host_port("[::1]:8443"));
        assert!(!is_host_port("::1:8443"));
        assert!(!is_host_port("example.com"));
        assert!(!is_host_port("example.com:0"));
        assert!(is_env_name("SLACK_WEBHOOK_1"));
        assert!(!is_env_name("https://hooks.slack.com/x"));
        assert!(is_email("a@b.io"));
        assert!(!is_email("not-an-email"));
    }
}
