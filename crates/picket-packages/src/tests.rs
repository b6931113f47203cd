use super::*;

fn files(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(p, t)| (p.to_string(), t.to_string()))
        .collect()
}

#[test]
fn names_are_single_path_components() {
    assert!(valid_name("director"));
    assert!(valid_name("p-1_x"));
    assert!(!valid_name(""));
    assert!(!valid_name("p 1!"));
    assert!(!valid_name(".."));
    assert!(!valid_name("a/b"));
}

#[test]
fn a_package_lists_its_stages_and_its_active_one() {
    let dir = tempfile::tempdir().unwrap();
    let packages = Packages::new(dir.path());
    packages.create("p1").unwrap();
    assert!(matches!(packages.create("p1"), Err(Error::PackageExists)));
    assert_eq!(
        packages.list(),
        vec![Package {
            name: "p1".into(),
            active_stage: String::new(),
            stages: vec![],
        }]
    );
    let a = packages
        .create_stage(
            "p1",
            &files(&[("zones.d/master/h.conf", "object Host \"h\" {}")]),
        )
        .unwrap();
    let b = packages.create_stage("p1", &[]).unwrap();
    packages.activate("p1", &a).unwrap();
    let listed = &packages.list()[0];
    assert_eq!(listed.active_stage, a);
    let mut both = vec![a.clone(), b.clone()];
    both.sort();
    assert_eq!(listed.stages, both);
    assert!(matches!(
        packages.delete_stage("p1", &a),
        Err(Error::ActiveStage)
    ));
    packages.delete_stage("p1", &b).unwrap();
    assert!(matches!(
        packages.delete_stage("p1", &b),
        Err(Error::NoStage)
    ));
    packages.delete("p1").unwrap();
    assert!(matches!(packages.delete("p1"), Err(Error::NoPackage)));
}

#[test]
fn a_stage_lists_files_before_directories_and_reads_only_inside() {
    let dir = tempfile::tempdir().unwrap();
    let packages = Packages::new(dir.path());
    packages.create("p1").unwrap();
    assert!(matches!(
        packages.create_stage("p1", &files(&[("conf.d/../../x.conf", "")])),
        Err(Error::DotDot)
    ));
    assert!(matches!(
        packages.create_stage("nopkg", &[]),
        Err(Error::NoPackage)
    ));
    let stage = packages
        .create_stage("p1", &files(&[("zones.d/master/h.conf", "text")]))
        .unwrap();
    packages
        .record_validation("p1", &stage, true, "log")
        .unwrap();
    let entries: Vec<(String, bool)> = packages
        .stage_entries("p1", &stage)
        .unwrap()
        .into_iter()
        .map(|e| (e.name, e.directory))
        .collect();
    let expected = [
        ("include.conf", false),
        ("startup.log", false),
        ("status", false),
        ("conf.d", true),
        ("zones.d", true),
        ("zones.d/master", true),
        ("zones.d/master/h.conf", false),
    ];
    let expected: Vec<(String, bool)> = expected.iter().map(|(n, d)| (n.to_string(), *d)).collect();
    assert_eq!(entries, expected);
    assert_eq!(packages.read("p1", &stage, "status").unwrap(), b"0");
    assert_eq!(
        packages
            .read("p1", &stage, "zones.d/master/h.conf")
            .unwrap(),
        b"text"
    );
    assert_eq!(
        packages.read("p1", &stage, "nope"),
        Err(FileError::NotFound)
    );
    assert_eq!(
        packages.read("p1", &stage, "zones.d"),
        Err(FileError::Unreadable)
    );
    assert_eq!(
        packages.read("p1", &stage, "../../etc/passwd"),
        Err(FileError::DotDot)
    );
    assert!(packages.stage_entries("p1", "nope").is_none());
}

#[test]
fn one_update_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let packages = Packages::new(dir.path());
    let guard = packages.begin_update().unwrap();
    assert!(packages.begin_update().is_none());
    drop(guard);
    assert!(packages.begin_update().is_some());
}

#[test]
fn the_api_package_exists_but_is_not_loaded_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let packages = Packages::new(dir.path());
    packages.ensure_api_package().unwrap();
    packages.ensure_api_package().unwrap();
    let listed = packages.list();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].stages, vec![listed[0].active_stage.clone()]);
    packages.create("p1").unwrap();
    let includes: Vec<String> = packages.includes().into_iter().map(|(n, _)| n).collect();
    assert_eq!(includes, vec!["p1".to_string()]);
    assert!(matches!(
        packages.delete(API_PACKAGE),
        Err(Error::ApiPackage)
    ));
}

#[test]
fn api_objects_are_declared_in_the_active_stage_of_the_api_package() {
    let dir = tempfile::tempdir().unwrap();
    let packages = Packages::new(dir.path());
    packages.ensure_api_package().unwrap();
    let stage = packages.active_stage(API_PACKAGE);
    assert!(!stage.is_empty());
    assert_eq!(
        packages.api_objects_dir(),
        format!("{}/_api/{stage}/conf.d", dir.path().display())
    );
    // Once made, the stage stays.
    packages.ensure_api_package().unwrap();
    assert_eq!(packages.active_stage(API_PACKAGE), stage);
}
