//! Request parameters as Icinga collects them: the JSON body is the
//! starting dictionary, then every URL query parameter is added as an
//! array of its values (`attrs=a&attrs=b`, `attrs[]=a`). Handlers read a
//! single value as the last element of such an array.

use serde_json::{Map, Value as Json};

#[derive(Debug, Default, Clone)]
pub struct Params(pub Map<String, Json>);

/// A parameter Icinga cannot convert to what it needs, or an object it
/// cannot make of them; the text is Icinga's ("Can't convert 'yes' to a
/// floating point number.", "Could not create comment.").
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct Unconvertible(pub String);

/// Icinga's words for a value it cannot take where it needs an object of
/// another kind: a scalar does not convert, the other composite is a bad
/// cast.
pub fn not_an_object(value: &Json) -> String {
    let kind = match value {
        Json::String(_) => "String",
        Json::Number(_) => "Number",
        Json::Bool(_) => "Boolean",
        Json::Null | Json::Array(_) | Json::Object(_) => return "std::bad_cast".into(),
    };
    format!("Cannot convert value of type '{kind}' to an object.")
}

/// Why the parameters could not be read.
#[derive(Debug)]
pub enum ParamsError {
    /// The body is not JSON, or not a JSON object.
    Body(String),
}

impl Params {
    pub fn parse(body: &[u8], query: Option<&str>) -> Result<Params, ParamsError> {
        // Only a body of no bytes is none; `null` is an empty one, and
        // anything else must be an object (Icinga's conversion errors).
        let mut map = if body.is_empty() {
            Map::new()
        } else {
            match serde_json::from_slice::<Json>(body) {
                Ok(Json::Object(m)) => m,
                Ok(Json::Null) => Map::new(),
                Ok(other) => {
                    return Err(ParamsError::Body(format!(
                        "Invalid request body: Error: {}\n",
                        not_an_object(&other)
                    )))
                }
                Err(e) => {
                    return Err(ParamsError::Body(format!(
                        "Invalid request body: Error: {e}\n"
                    )))
                }
            }
        };
        // A key in the URL replaces the body's value of that key.
        let mut from_url = std::collections::HashSet::new();
        for (key, value) in form_urlencoded(query.unwrap_or("")) {
            let key = key.strip_suffix("[]").unwrap_or(&key).to_string();
            let entry = map.remove(&key);
            let mut list = match entry {
                Some(Json::Array(a)) if from_url.contains(&key) => a,
                _ => Vec::new(),
            };
            from_url.insert(key.clone());
            list.push(Json::String(value));
            map.insert(key, Json::Array(list));
        }
        Ok(Params(map))
    }

    /// The value of `key`; for an array, its last element.
    pub fn last(&self, key: &str) -> Option<&Json> {
        match self.0.get(key)? {
            Json::Array(a) => a.last(),
            other => Some(other),
        }
    }

    pub fn string(&self, key: &str) -> Option<String> {
        self.last(key).and_then(|v| match v {
            Json::Null => None,
            Json::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        })
    }

    /// Truth as Icinga's `Convert::ToBool` has it: a non-empty string is
    /// true (`force=0` from a query string too). Icinga reads only `force`
    /// this way; every other yes/no parameter is a [`Params::switch`].
    pub fn flag(&self, key: &str) -> bool {
        match self.last(key) {
            None | Some(Json::Null) => false,
            Some(Json::Bool(b)) => *b,
            Some(Json::Number(n)) => n.as_f64().is_some_and(|n| n != 0.0),
            Some(Json::String(s)) => !s.is_empty(),
            Some(_) => true,
        }
    }

    /// The number in `key`, converted as Icinga converts a parameter
    /// (strictly: `"1"` and `"1e3"` are numbers, `" 1"` and `"yes"` are
    /// not; null and `""` are 0); `None` when the key is absent.
    pub fn numeric(&self, key: &str) -> Result<Option<f64>, Unconvertible> {
        let Some(value) = self.0.get(key) else {
            return Ok(None);
        };
        let value = match value {
            Json::Array(a) => match a.last() {
                Some(v) => v,
                None => return Ok(Some(0.0)),
            },
            other => other,
        };
        picket_lang::json::from_serde(value)
            .to_number()
            .map(Some)
            .map_err(Unconvertible)
    }

    /// A yes/no parameter as Icinga reads nearly all of them (`pretty`,
    /// `verbose`, `cascade`, `sticky`, ...): through its number, so `0` is
    /// false and `yes` is refused.
    pub fn switch(&self, key: &str) -> Result<bool, Unconvertible> {
        Ok(self.numeric(key)?.is_some_and(|n| n != 0.0))
    }

    /// A yes/no parameter that is `default` when absent.
    pub fn switch_or(&self, key: &str, default: bool) -> Result<bool, Unconvertible> {
        Ok(self.numeric(key)?.map_or(default, |n| n != 0.0))
    }

    /// A list parameter (`attrs`, `joins`, `types`): an array, or a single
    /// value taken as a list of one.
    pub fn list(&self, key: &str) -> Vec<String> {
        match self.0.get(key) {
            None | Some(Json::Null) => Vec::new(),
            Some(Json::Array(a)) => a
                .iter()
                .map(|v| match v {
                    Json::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect(),
            Some(Json::String(s)) => vec![s.clone()],
            Some(other) => vec![other.to_string()],
        }
    }

    /// A list parameter that must be a list (or absent): Icinga refuses
    /// `"attrs": "name"` in a body, where the URL's `attrs=name` is one.
    pub fn strict_list(&self, key: &str) -> Result<Vec<String>, String> {
        match self.0.get(key) {
            None | Some(Json::Null | Json::Array(_)) => Ok(self.list(key)),
            Some(_) => Err(format!(
                "Invalid type for '{key}' attribute specified. Array type is required."
            )),
        }
    }

    pub fn get(&self, key: &str) -> Option<&Json> {
        self.0.get(key)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }
}

/// Query pairs: `%XX` is a byte. Unlike HTML forms, `+` stays a plus, as
/// Icinga reads it (`filter=a+b` adds).
pub fn form_urlencoded(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k, false), decode(v, false))
        })
        .collect()
}

/// Percent-decoding; invalid escapes are kept as they are.
pub fn decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_join_the_body_as_arrays() {
        let p = Params::parse(
            br#"{"filter":"true","attrs":"x"}"#,
            Some("attrs=a&attrs%5B%5D=b&pretty=1&name=h%21s%201&filter=1+1"),
        )
        .unwrap();
        assert_eq!(p.list("attrs"), vec!["a", "b"]);
        assert_eq!(p.string("filter").as_deref(), Some("1+1"));
        assert_eq!(p.string("name").as_deref(), Some("h!s 1"));
        assert_eq!(p.switch("pretty"), Ok(true));
        assert_eq!(p.switch("cascade"), Ok(false));
    }

    #[test]
    fn bad_bodies_are_refused() {
        assert!(Params::parse(b"{nope", None).is_err());
        assert!(Params::parse(b"[1]", None).is_err());
        // Only no bytes at all is no body (Icinga parses spaces).
        assert!(Params::parse(b"  ", None).is_err());
        assert!(Params::parse(b"", None).is_ok());
        assert!(Params::parse(b"null", None).is_ok());
        let p = Params::parse(br#"{"attrs":"name"}"#, None).unwrap();
        assert!(p.strict_list("attrs").is_err());
        assert!(p.strict_list("joins").unwrap().is_empty());
    }

    #[test]
    fn switches_go_through_icinga_numbers() {
        let p = Params::parse(
            br#"{"a":true,"b":"2","c":null,"d":[],"e":{"x":1},"f":"NaN"}"#,
            Some("g=0&h=yes&i=&j=1e0&k=%201&l=0x1&m=-0&n=inf"),
        )
        .unwrap();
        let yes = |k| p.switch(k);
        assert_eq!(yes("a"), Ok(true));
        assert_eq!(yes("b"), Ok(true));
        assert_eq!(yes("c"), Ok(false));
        assert_eq!(yes("d"), Ok(false));
        assert_eq!(yes("g"), Ok(false));
        assert_eq!(yes("i"), Ok(false));
        assert_eq!(yes("j"), Ok(true));
        assert_eq!(yes("m"), Ok(false));
        assert_eq!(yes("n"), Ok(true));
        assert_eq!(yes("f"), Ok(true));
        assert_eq!(yes("absent"), Ok(false));
        assert_eq!(p.switch_or("absent", true), Ok(true));
        assert_eq!(
            yes("h").unwrap_err().to_string(),
            "Can't convert 'yes' to a floating point number."
        );
        assert!(yes("k").is_err());
        assert!(yes("l").is_err());
        assert_eq!(
            yes("e").unwrap_err().to_string(),
            "Can't convert '{\n\tx = 1.000000\n}' to a floating point number."
        );
        // Only `force` is read with plain truth.
        assert!(p.flag("h"));
        assert!(p.flag("g"));
    }

    #[test]
    fn broken_escapes_stay() {
        assert_eq!(decode("100%", false), "100%");
        assert_eq!(decode("%4", false), "%4");
        assert_eq!(decode("%41", false), "A");
    }
}
