//! What the `Platform*` constants say about the machine, worked out as
//! Icinga does: the distribution from `/etc/os-release`, the kernel from
//! what `uname` would print. Read once per process, since the answers do
//! not change while it runs.

use std::sync::OnceLock;

pub struct Platform {
    pub name: String,
    pub version: String,
    pub kernel: String,
    pub kernel_version: String,
}

pub fn platform() -> &'static Platform {
    static PLATFORM: OnceLock<Platform> = OnceLock::new();
    PLATFORM.get_or_init(|| {
        let (name, version) = std::fs::read_to_string("/etc/os-release")
            .map(|text| os_release(&text))
            .unwrap_or_else(|_| (unknown(), unknown()));
        Platform {
            name,
            version,
            kernel: kernel_fact("ostype"),
            kernel_version: kernel_fact("osrelease"),
        }
    })
}

fn unknown() -> String {
    "Unknown".to_string()
}

/// `uname -s` and `uname -r` without running it: the kernel publishes the
/// same strings under `/proc/sys/kernel`.
fn kernel_fact(name: &str) -> String {
    std::fs::read_to_string(format!("/proc/sys/kernel/{name}"))
        .map(|s| s.trim_end().to_string())
        .unwrap_or_default()
}

/// `NAME` and `VERSION` of an os-release file; the value is what lies
/// between its first and last double quote when it has any (so a quoted
/// value loses its quotes, as in Icinga), and missing keys read "Unknown".
fn os_release(text: &str) -> (String, String) {
    let mut name = unknown();
    let mut version = unknown();
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = match value.find('"') {
            Some(first) => &value[first + 1..],
            None => value,
        };
        let value = match value.rfind('"') {
            Some(last) => &value[..last],
            None => value,
        };
        match key {
            "NAME" => name = value.to_string(),
            "VERSION" => version = value.to_string(),
            _ => {}
        }
    }
    (name, version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_name_and_version_as_icinga_does() {
        let text = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\n\
                    VERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nID=debian\n";
        assert_eq!(
            os_release(text),
            ("Debian GNU/Linux".to_string(), "12 (bookworm)".to_string())
        );
        assert_eq!(
            os_release("NAME=Alpine\n"),
            ("Alpine".to_string(), "Unknown".to_string())
        );
    }
}
