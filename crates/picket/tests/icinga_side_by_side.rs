//! Side by side with the real Icinga 2 (installed by `.ci/run`): the same
//! configuration must give the same `Instantiated` counts.
//!
//! - Debian's default `/etc/icinga2` tree with Icinga's own template library
//!   (`-I /usr/share/icinga2/include`);
//! - every entry of Icinga's template library at once (`hangman` too), so
//!   that each of its files is parsed and evaluated;
//! - Debian's default tree with Picket's own template library: it must
//!   validate, and instantiate as many CheckCommands as Icinga's does.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

const ICINGA_INCLUDE: &str = "/usr/share/icinga2/include";

fn icinga2() -> &'static str {
    let found = Command::new("icinga2").arg("--version").output().is_ok();
    assert!(
        found,
        "icinga2 is not installed: run .ci/run, or apt-get install icinga2 monitoring-plugins"
    );
    "icinga2"
}

fn picket() -> &'static str {
    env!("CARGO_BIN_EXE_picket")
}

/// Runtime paths in a scratch directory, so that neither daemon touches the
/// system's own.
fn defines(dir: &Path) -> Vec<String> {
    let d = dir.display();
    vec![
        format!("-DCacheDir={d}"),
        format!("-DDataDir={d}"),
        format!("-DLogDir={d}"),
        format!("-DSpoolDir={d}"),
        format!("-DInitRunDir={d}"),
        "-DRunAsUser=root".into(),
        "-DRunAsGroup=root".into(),
    ]
}

/// Runs `BIN daemon -C ARGS` and returns (success, counts, output).
fn validate(bin: &str, args: &[String]) -> (bool, BTreeMap<String, u64>, String) {
    let out = Command::new(bin)
        .arg("daemon")
        .arg("-C")
        .args(args)
        .output()
        .expect("run daemon -C");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut counts = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.split("information/ConfigItem: Instantiated ").nth(1) else {
            continue;
        };
        let mut parts = rest.trim_end_matches('.').splitn(2, ' ');
        let (Some(n), Some(word)) = (parts.next(), parts.next()) else {
            continue;
        };
        let n: u64 = n.parse().unwrap_or(0);
        counts.insert(word.to_string(), n);
    }
    (out.status.success(), counts, text)
}

fn same_counts(config: &Path, extra: &[String]) {
    let scratch = tempfile::tempdir().expect("tempdir");
    let mut args = vec!["-c".to_string(), config.display().to_string()];
    args.extend(extra.iter().cloned());
    args.extend(defines(scratch.path()));
    let (ok_i, icinga, out_i) = validate(icinga2(), &args);
    assert!(ok_i, "icinga2 rejected {}:\n{out_i}", config.display());
    let (ok_p, ours, out_p) = validate(picket(), &args);
    assert!(ok_p, "picket rejected {}:\n{out_p}", config.display());
    assert_eq!(
        ours, icinga,
        "Instantiated counts differ.\npicket:\n{out_p}\nicinga2:\n{out_i}"
    );
}

#[test]
fn debian_default_configuration_with_icingas_library() {
    same_counts(
        Path::new("/etc/icinga2/icinga2.conf"),
        &["-I".into(), ICINGA_INCLUDE.into()],
    );
}

#[test]
fn every_entry_of_icingas_template_library() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = dir.path().join("all.conf");
    // The constants Debian's constants.conf defines for the plugin paths.
    let mut text = String::from(
        "const PluginDir = \"/usr/lib/nagios/plugins\"\nconst ManubulonPluginDir = PluginDir\nconst PluginContribDir = PluginDir\n",
    );
    for entry in [
        "itl",
        "plugins",
        "plugins-contrib",
        "manubulon",
        "windows-plugins",
        "nscp",
        "hangman",
    ] {
        text.push_str(&format!("include <{entry}>\n"));
    }
    std::fs::write(&conf, text).expect("write config");
    same_counts(&conf, &["-I".into(), ICINGA_INCLUDE.into()]);
}

#[test]
fn debian_default_configuration_with_pickets_own_library() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let mut args = vec!["-c".to_string(), "/etc/icinga2/icinga2.conf".to_string()];
    args.extend(defines(scratch.path()));
    let (ok, ours, out) = validate(picket(), &args);
    assert!(
        ok,
        "picket rejected the default configuration with its own library:\n{out}"
    );
    let mut icinga_args = args.clone();
    icinga_args.extend(["-I".into(), ICINGA_INCLUDE.into()]);
    let (_, icinga, _) = validate(icinga2(), &icinga_args);
    assert_eq!(
        ours.get("CheckCommands"),
        icinga.get("CheckCommands"),
        "CheckCommand counts differ:\n{out}"
    );
}

#[test]
fn the_readme_example_validates_like_icinga() {
    // Picket with its own library, Icinga with its own: same counts.
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/local/icinga2.conf");
    same_counts(&example, &[]);
}

/// What `log(expr)` prints under `daemon -C` with `args`, and the
/// warnings about defines before it, for Picket and for Icinga.
fn logged_by_both(expr: &str, args: &[String]) -> [(String, Vec<String>); 2] {
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = dir.path().join("log.conf");
    std::fs::write(&conf, format!("log(LogInformation, \"logged\", {expr})\n"))
        .expect("write config");
    let mut all = vec!["-c".to_string(), conf.display().to_string()];
    all.extend(args.iter().cloned());
    [picket(), icinga2()].map(|bin| {
        let (_, _, out) = validate(bin, &all);
        let line = out
            .lines()
            .find_map(|l| l.split("information/logged: ").nth(1))
            .map(str::to_string)
            .unwrap_or_else(|| panic!("{bin} did not log {expr}:\n{out}"));
        let warnings = out
            .lines()
            .filter_map(|l| l.split("warning/icinga-app: ").nth(1))
            .map(str::to_string)
            .collect();
        (line, warnings)
    })
}

/// The `Platform*` constants describe this machine in the same words:
/// distribution name and version, kernel, kernel release, architecture.
#[test]
fn platform_constants_match_icingas() {
    let scratch = tempfile::tempdir().expect("tempdir");
    let [(ours, _), (icinga, _)] = logged_by_both(
        "[PlatformName, PlatformVersion, PlatformKernel, PlatformKernelVersion, \
         PlatformArchitecture].join(\"|\")",
        &defines(scratch.path()),
    );
    assert_eq!(ours, icinga);
    assert!(!ours.starts_with("Unknown|"), "{ours}");
}

/// The path constants after `-D`: a dotted name reaches
/// `System.Configuration`, the deprecated directories set those below
/// them, and the state, objects and pid files follow their directories
/// whatever was defined for them.
#[test]
fn path_constants_after_defines_match_icingas() {
    const PATHS: &str = "[LocalStateDir, SysconfDir, RunDir, DataDir, LogDir, CacheDir, SpoolDir, \
        ConfigDir, ZonesDir, InitRunDir, StatePath, ModAttrPath, ObjectsPath, VarsPath, PidPath]\
        .join(\" \")";
    let scratch = tempfile::tempdir().expect("tempdir");
    let mut args = defines(scratch.path());
    args.extend([
        "-DConfiguration.ConfigDir=/elsewhere".to_string(),
        "-DStatePath=/ignored".to_string(),
    ]);
    let [ours, icinga] = logged_by_both(PATHS, &args);
    assert_eq!(ours, icinga);
    assert!(ours.0.contains(" /elsewhere "), "{ours:?}");

    // Icinga writes its objects file under the derived cache directory.
    let var = scratch.path().join("var");
    std::fs::create_dir_all(var.join("cache/icinga2")).expect("mkdir");
    let args = vec![
        format!("-DLocalStateDir={}", var.display()),
        "-DSysconfDir=/sysconf".to_string(),
        format!("-DRunDir={}", scratch.path().display()),
        "-DRunAsUser=root".into(),
        "-DRunAsGroup=root".into(),
    ];
    let [ours, icinga] = logged_by_both(PATHS, &args);
    assert_eq!(ours, icinga);
    assert!(
        ours.0.contains("/var/lib/icinga2/icinga2.state"),
        "{ours:?}"
    );
    assert_eq!(ours.1.len(), 3, "{ours:?}");
}

/// What a configuration made of `text` prints under `daemon -C`: its log
/// lines, the error and where it was, without times.
fn outcome(bin: &str, text: &str) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = dir.path().join("outcome.conf");
    std::fs::write(&conf, text).expect("write config");
    let mut args = vec!["-c".to_string(), conf.display().to_string()];
    args.extend(defines(dir.path()));
    let (_, _, out) = validate(bin, &args);
    out.lines()
        .filter_map(|l| l.split_once("] ").map(|(_, rest)| rest).or(Some(l)))
        .filter(|l| {
            ["information/X: ", "critical/config: ", "Location: "]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .map(|l| l.replace(&dir.path().display().to_string(), "DIR"))
        .collect()
}

/// `System.Configuration` is an object of type `Configuration`, not a
/// namespace: its entries read by name, but it has no container methods,
/// unknown names and every assignment fail with Icinga's words (an
/// assignment without a location), and its string form is its type's. A
/// global constant hides one of its entries at the top of a file, not
/// inside an object.
#[test]
fn configuration_object_behaves_as_icingas() {
    let cases = [
        "log(LogInformation, \"X\", System.Configuration)",
        "log(LogInformation, \"X\", typeof(System.Configuration))",
        "log(LogInformation, \"X\", [len(System.Configuration), keys(System.Configuration)])",
        "log(LogInformation, \"X\", Json.encode({ a = System.Configuration }))",
        "log(LogInformation, \"X\", Configuration.ConfigDir + System.Configuration[\"DataDir\"])",
        "log(LogInformation, \"X\", System.Configuration.Nope)",
        "log(LogInformation, \"X\", System.Configuration.keys())",
        "log(LogInformation, \"X\", 1 in System.Configuration)",
        "DataDir = \"/elsewhere\"",
        "System.Configuration.Nope = 1",
        "const DataDir = \"/x\"\nlog(LogInformation, \"X\", DataDir)\n\
         object Host \"h\" { check_command = \"c\"; log(LogInformation, \"X\", DataDir) }\n\
         object CheckCommand \"c\" { command = [\"true\"] }",
    ];
    for case in cases {
        let ours = outcome(picket(), case);
        assert!(!ours.is_empty(), "picket printed nothing for {case}");
        assert_eq!(ours, outcome(icinga2(), case), "{case}");
    }
}

/// Where an error is placed: an expression built around one in
/// parentheses spans the parentheses, the one inside keeps its own place,
/// and a failed method lookup is placed at the whole call.
#[test]
fn error_locations_around_parentheses_and_calls_match_icingas() {
    for expr in [
        "(\"a\") - ({})",
        "-(\"a\")",
        "((5)).nope()",
        "(5)[1]",
        "(1) in 5",
        "[1, (2)].nope(1, 2)",
        "(x => x)(1).y",
        "\"abc\".nope()",
        "(true ? (1) : 2) - \"a\"",
        "(nope)",
    ] {
        let case = format!("log(LogInformation, \"X\", {expr})\n");
        let ours = outcome(picket(), &case);
        assert!(
            ours.len() == 2,
            "picket did not fail with a location: {ours:?}"
        );
        assert_eq!(ours, outcome(icinga2(), &case), "{expr}");
    }
}

/// Syntax errors where an item or the closing token may come: a token
/// that starts no item is reported with the closing token as what was
/// expected, at the top of a file, in blocks, dictionaries, arrays, calls
/// and `{{ }}`, also when the file ends there. After a whole expression
/// (in parentheses, a condition, a ternary) nothing is named, since an
/// operator could have come.
#[test]
fn syntax_errors_name_the_closing_token_as_icinga_does() {
    for text in [
        ")",
        "x = {{ ) }}",
        "x = {{\n",
        "if (true) { ) }",
        "x = { a = ) }",
        "x = [ )",
        "x = [1, )",
        "x = {a = 1, ) }",
        "object Host \"h\" { vars.a = 1; ) }",
        "x = f(1, ] )",
        "x = { = }",
        "x = [",
        "object Host \"h\" {",
        "function f() { return 1\n",
        "x = [1,",
        "x = {a = 1",
        "x = f(1,",
        "x = (a b)\n",
        "if (a b) {}\n",
        "for (x in y z) {}\n",
        "x = a ? b c\n",
        "if (a) { } else )\n",
        // Icinga's lexer ends every input with a line break of its own,
        // also inside brackets: some rules take it, others stop at it.
        "var",
        "x = 1 +",
        "x = (1",
        "x = (1\n",
        "x = f(",
        "x = f(1",
        "function f(a,",
        "function f(\n",
        "function f( ] ) {}\n",
    ] {
        let ours = outcome(picket(), text);
        assert!(
            ours.len() == 2,
            "picket did not fail with a location: {ours:?}"
        );
        assert_eq!(ours, outcome(icinga2(), text), "{text}");
    }
}
