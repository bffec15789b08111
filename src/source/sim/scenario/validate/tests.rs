use super::*;

#[test]
fn segments_split_keys_and_indices() {
    let s: Vec<String> = segments("load.curve[2][1]")
        .into_iter()
        .map(|s| match s {
            Seg::Key(k) => k.to_string(),
            Seg::Index(i) => format!("#{i}"),
        })
        .collect();
    assert_eq!(s, ["load", "curve", "#2", "#1"]);
}

#[test]
fn task_sizes() {
    for ok in ["256", "1024", " 512 ", "1 vCPU", "0.5 vCPU", "2 GB", "2GB"] {
        assert!(task_size_ok(ok), "{ok}");
    }
    for bad in ["", "0", "-1", "lots", "NaN vCPU", "inf GB", "1 TB", "0 GB"] {
        assert!(!task_size_ok(bad), "{bad}");
    }
}

const TWINS: &str = r#"[scenario]
name = "t"
account = "111122223333"

[[clusters]]
name = "prod"

[[clusters]]
name = "prod"
region = "us-west-2"

[[task_definitions]]
family = "api"
revision = 1
[[task_definitions.containers]]
name = "api"
image = "api:1"

[[services]]
cluster = "prod"
name = "api"
task_definition = "api:1"
desired = 1

[[services]]
cluster = "prod"
region = "us-west-2"
name = "api"
task_definition = "api:1"
desired = 1
"#;

fn error_of(text: &str) -> String {
    match Scenario::parse(text, "bad.toml") {
        Ok(_) => "ok".into(),
        Err(e) => e.to_string(),
    }
}

#[test]
fn twins_in_two_regions_are_two_clusters_and_two_services() {
    let sc = Scenario::parse(TWINS, "twins.toml").unwrap();
    let places: Vec<_> = sc
        .services
        .iter()
        .map(|s| sc.place_of(sc.cluster_of(s).unwrap()))
        .collect();
    assert_eq!(
        places,
        [
            ("111122223333".to_string(), "us-east-1".to_string()),
            ("111122223333".to_string(), "us-west-2".to_string()),
        ]
    );
    // The same cluster twice in one place is refused, with its line.
    let twice = TWINS.replacen("region = \"us-west-2\"\n", "", 1);
    assert!(
        error_of(&twice).starts_with("bad.toml:9: clusters[1].name: \"prod\" is defined twice"),
        "{}",
        error_of(&twice)
    );
    // A service in a place no cluster of its name is in.
    let nowhere = TWINS.replace(
        "region = \"us-west-2\"\nname = \"api\"",
        "region = \"eu-west-1\"\nname = \"api\"",
    );
    assert!(
        error_of(&nowhere).starts_with("bad.toml:27: services[1].region: no cluster \"prod\""),
        "{}",
        error_of(&nowhere)
    );
}

#[test]
fn accounts_are_twelve_digits_with_the_line_of_the_key() {
    let bad = TWINS.replace("account = \"111122223333\"", "account = \"1111\"");
    assert_eq!(
        error_of(&bad),
        "bad.toml:3: scenario.account: \"1111\" is not an AWS account id (12 digits)"
    );
    let bad = TWINS.replace(
        "region = \"us-west-2\"\n\n",
        "region = \"us-west-2\"\naccount = \"12345678901x\"\n\n",
    );
    assert_eq!(
        error_of(&bad),
        "bad.toml:11: clusters[1].account: \"12345678901x\" is not an AWS account id (12 digits)"
    );
    assert_eq!(error_of(TWINS), "ok");
}
