//! The request target as Icinga's URL parser accepts it. Icinga checks
//! every path segment, query key and query value against the characters
//! RFC 3986 allows there unencoded, and decodes each `%XX` strictly; a
//! target that fails either is an exception that escapes all handlers
//! (a bare 500). hyper lets through more than that (`"`, `{`, `|`, a
//! broken escape), so the check is made here, before any handler runs.

/// Characters allowed unencoded in a path segment (RFC 3986 `pchar`,
/// with `%` for escapes).
fn in_segment(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=:@".contains(&b)
}

/// Characters allowed unencoded in a query key or value.
fn in_query(b: u8) -> bool {
    in_segment(b) || b == b'/' || b == b'?'
}

/// Whether every `%` starts a two-digit hex escape.
fn escapes_are_whole(text: &[u8]) -> bool {
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'%' {
            let whole = text
                .get(i + 1..i + 3)
                .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit));
            if !whole {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

fn token_is_valid(token: &str, allowed: fn(u8) -> bool) -> bool {
    token.bytes().all(allowed) && escapes_are_whole(token.as_bytes())
}

/// Whether Icinga's parser takes `path` and `query` (both still encoded).
pub fn is_valid(path: &str, query: Option<&str>) -> bool {
    let segments_ok = path
        .split('/')
        .filter(|s| !s.is_empty())
        .all(|s| token_is_valid(s, in_segment));
    segments_ok && query.is_none_or(query_is_valid)
}

fn query_is_valid(query: &str) -> bool {
    query.split('&').filter(|t| !t.is_empty()).all(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if pair.starts_with('=') {
            return false;
        }
        // `[]` is allowed once, at the end of a key that has a name.
        let key = match key.find("[]") {
            None => key,
            Some(0) => return false,
            Some(at) if at + 2 == key.len() => &key[..at],
            Some(_) => return false,
        };
        token_is_valid(key, in_query) && token_is_valid(value, in_query)
    })
}

#[cfg(test)]
mod tests {
    use super::is_valid;

    #[test]
    fn what_icinga_accepts() {
        assert!(is_valid("/v1/objects/hosts", None));
        assert!(is_valid("/v1/objects/services/h%21s", Some("attrs=name")));
        assert!(is_valid("/v1//objects/", Some("attrs[]=a&&x=&y")));
        assert!(is_valid(
            "/v1/objects/hosts",
            Some("filter=a==%22b%22&x=1/2?3")
        ));
    }

    #[test]
    fn what_icinga_refuses() {
        assert!(!is_valid("/v1/objects/ho%zzsts", None));
        assert!(!is_valid("/v1/objects/hosts%4", None));
        assert!(!is_valid("/v1/objects/hosts", Some("attrs=%zz")));
        assert!(!is_valid("/v1/objects/hosts", Some("filter=\"a\"")));
        assert!(!is_valid("/v1/objects/hosts", Some("=x")));
        assert!(!is_valid("/v1/objects/hosts", Some("[]=x")));
        assert!(!is_valid("/v1/objects/hosts", Some("a[]b=x")));
        assert!(!is_valid("/v1/objects/{x}", None));
    }
}
