//! `:ctx` on AWS: the profiles of the user's AWS files (read by aws-config's
//! own profile-file loader, so `AWS_CONFIG_FILE` and
//! `AWS_SHARED_CREDENTIALS_FILE` are honoured as the SDK honours them), and
//! the builder that starts a fleet for a set of profiles and regions the
//! way the console starts one for `--profile` × `--region`.

use std::path::{Component, Path, PathBuf};

use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_types::os_shim_internal::{Env, Fs};
use futures::future::BoxFuture;

use super::{AwsFleet, AwsOptions, Intervals};
use crate::source::SourceHandle;
use crate::source::context::{ContextSet, FleetBuilder, KnownProfile};

/// Start the console's AWS source for `opts` (every `--profile` in every
/// `--region`): connect each place, then spawn the pollers.
pub async fn start(opts: AwsOptions) -> SourceHandle {
    let fleet = AwsFleet::connect(opts).await;
    super::spawn(fleet, Intervals::default())
}

/// The AWS config and credentials files the SDK reads, named as it names
/// them: `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE`, else
/// `~/.aws/config` / `~/.aws/credentials`, a leading `~` being `HOME`.
pub fn profile_file_paths(env: &Env) -> [(EnvConfigFileKind, PathBuf); 2] {
    let home = env.get("HOME").ok();
    let path = |var: &str, default: &str| {
        let given = env.get(var).unwrap_or_else(|_| default.to_string());
        let p = Path::new(&given);
        let mut parts = p.components();
        match (parts.next(), &home) {
            (Some(Component::Normal(t)), Some(h)) if t == "~" => {
                let mut out = PathBuf::from(h);
                out.extend(parts);
                out
            }
            _ => p.to_path_buf(),
        }
    };
    [
        (
            EnvConfigFileKind::Config,
            path("AWS_CONFIG_FILE", "~/.aws/config"),
        ),
        (
            EnvConfigFileKind::Credentials,
            path("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"),
        ),
    ]
}

/// The AWS files, read with the guard every user file gets
/// ([`crate::files::read_text`]: a regular file, at most 4 MiB, UTF-8): a
/// FIFO, a device or an oversize file is one line naming the file instead
/// of a read that blocks forever or grows without bound (the SDK reads
/// them with a plain `std::fs::read`). A file that is not there is skipped.
/// The AWS config and credentials files' text (those that exist), or why
/// one could not be read.
pub type ProfileFiles = Result<Vec<(EnvConfigFileKind, String)>, String>;

pub fn read_profile_files(env: &Env) -> ProfileFiles {
    let mut out = Vec::new();
    for (kind, path) in profile_file_paths(env) {
        match crate::files::read_text(&path) {
            Ok(text) => out.push((kind, text)),
            Err(e) if e.is_not_found() => {}
            Err(e) => {
                let what = match kind {
                    EnvConfigFileKind::Config => "config",
                    EnvConfigFileKind::Credentials => "credentials",
                };
                return Err(format!("AWS {what} file {e}"));
            }
        }
    }
    Ok(out)
}

/// The profiles of the AWS config and credentials files, sorted by name,
/// with the region each names. The files are read once, through
/// [`read_profile_files`], and handed to aws-config's parser as text.
pub async fn list_profiles(env: &Env) -> Result<Vec<KnownProfile>, String> {
    let found = read_profile_files(env)?;
    if found.is_empty() {
        // No files, no profiles (the builder refuses an empty file set).
        return Ok(Vec::new());
    }
    let mut files = EnvConfigFiles::builder();
    for (kind, text) in found {
        files = files.with_contents(kind, text);
    }
    let set = aws_config::profile::load(&Fs::from_slice(&[]), env, &files.build(), None)
        .await
        .map_err(|e| format!("AWS config files: {e}"))?;
    let mut names: Vec<&str> = set.profiles().collect();
    // The set is a hash map: the order is made stable here.
    names.sort_unstable();
    Ok(names
        .into_iter()
        .map(|n| KnownProfile {
            name: n.to_string(),
            region: set
                .get_profile(n)
                .and_then(|p| p.get("region"))
                .map(str::to_string),
        })
        .collect())
}

/// The options of the set: the CLI's endpoint and clusters kept.
pub fn options_for(base: &AwsOptions, set: &ContextSet) -> AwsOptions {
    AwsOptions {
        profile: set.profiles.first().cloned(),
        profiles: set.profiles.clone(),
        region: set.regions.first().cloned(),
        regions: set.regions.clone(),
        ..base.clone()
    }
}

/// How a run's journal names an AWS source (a resume must match it).
pub fn source_label(o: &AwsOptions) -> String {
    format!(
        "aws:{}@{}{}",
        o.profile.as_deref().unwrap_or("default"),
        o.region.as_deref().unwrap_or("default-region"),
        o.endpoint_url
            .as_deref()
            .map(|u| format!(" ({u})"))
            .unwrap_or_default()
    )
}

/// The console's AWS fleet builder: the CLI's options (endpoint, clusters),
/// with the profiles and regions of the set chosen.
pub struct AwsContexts {
    pub base: AwsOptions,
}

impl FleetBuilder for AwsContexts {
    fn profiles(&self) -> Result<Vec<KnownProfile>, String> {
        // aws-config reads the files synchronously under its async API.
        futures::executor::block_on(list_profiles(&Env::real()))
    }

    fn check(&self, _set: &ContextSet) -> Result<(), String> {
        // The SDK's credential chain reads these files with a plain
        // `std::fs::read` as the source connects: a FIFO there would block
        // the console for good, so the switch is refused first.
        read_profile_files(&Env::real()).map(|_| ())
    }

    fn connect(&self, set: &ContextSet) -> BoxFuture<'static, SourceHandle> {
        Box::pin(start(options_for(&self.base, set)))
    }

    fn source_label(&self, set: &ContextSet) -> String {
        source_label(&options_for(&self.base, set))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn profiles_come_from_both_files_named_by_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config");
        let credentials = dir.path().join("credentials");
        std::fs::write(
            &config,
            "[default]\nregion = us-east-1\n[profile prod]\nregion = eu-west-1\n\
             [profile staging]\nrole_arn = arn:aws:iam::210987654321:role/x\nsource_profile = prod\n",
        )
        .unwrap();
        std::fs::write(
            &credentials,
            "[prod]\naws_access_key_id = a\naws_secret_access_key = b\n[ci]\naws_access_key_id = c\naws_secret_access_key = d\n",
        )
        .unwrap();
        let env = Env::from_slice(&[
            ("AWS_CONFIG_FILE", config.to_str().unwrap()),
            ("AWS_SHARED_CREDENTIALS_FILE", credentials.to_str().unwrap()),
            ("HOME", "/nowhere"),
        ]);
        let got = list_profiles(&env).await.unwrap();
        let names: Vec<&str> = got.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["ci", "default", "prod", "staging"]);
        assert_eq!(got[2].region.as_deref(), Some("eu-west-1"));
        assert_eq!(got[0].region, None);
        // No files at all: no profiles, not an error.
        let home = dir.path().join("home");
        let none = list_profiles(&Env::from_slice(&[("HOME", home.to_str().unwrap())]))
            .await
            .unwrap();
        assert!(none.is_empty());
    }

    #[tokio::test]
    async fn the_default_files_are_under_home() {
        let dir = tempfile::tempdir().unwrap();
        let aws = dir.path().join(".aws");
        std::fs::create_dir(&aws).unwrap();
        std::fs::write(aws.join("config"), "[profile prod]\nregion = us-west-2\n").unwrap();
        std::fs::write(aws.join("credentials"), "[ci]\naws_access_key_id = c\n").unwrap();
        let home = dir.path().to_str().unwrap();
        let env = Env::from_slice(&[("HOME", home)]);
        let names: Vec<String> = list_profiles(&env)
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.name)
            .collect();
        assert_eq!(names, ["ci", "prod"]);
        // `~` in the variables is HOME, as the SDK has it.
        let env = Env::from_slice(&[("HOME", home), ("AWS_CONFIG_FILE", "~/.aws/credentials")]);
        let [(_, config), (_, credentials)] = profile_file_paths(&env);
        assert_eq!(config, aws.join("credentials"));
        assert_eq!(credentials, aws.join("credentials"));
    }

    /// Profile files are user files: a FIFO (which blocks a reader until a
    /// writer comes) or an oversize file is one line naming the file, at
    /// once, whichever of the two files it is.
    #[tokio::test]
    async fn a_fifo_or_an_oversize_profile_file_is_one_line_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("config.fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(status.success());
        let big = dir.path().join("credentials");
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(crate::files::MAX_FILE_BYTES + 1).unwrap();
        let fifo_s = fifo.to_str().unwrap();
        let big_s = big.to_str().unwrap();
        let home = dir.path().join("home");
        let home = home.to_str().unwrap();
        for (env, file, why) in [
            (
                vec![("HOME", home), ("AWS_CONFIG_FILE", fifo_s)],
                fifo_s,
                "not a regular file (a FIFO); refusing to read it",
            ),
            (
                vec![("HOME", home), ("AWS_SHARED_CREDENTIALS_FILE", big_s)],
                big_s,
                "over the 4194304-byte limit for this file",
            ),
        ] {
            let env = Env::from_slice(&env);
            let started = std::time::Instant::now();
            let e = list_profiles(&env).await.unwrap_err();
            assert!(
                started.elapsed() < std::time::Duration::from_secs(5),
                "no hang"
            );
            assert!(!e.contains('\n'), "one line: {e}");
            assert!(e.starts_with("AWS ") && e.contains(file), "{e}");
            assert!(e.ends_with(why), "{e}");
            assert_eq!(read_profile_files(&env).unwrap_err(), e);
        }
        // The switch is refused on the same line (the SDK would read them).
        let e = read_profile_files(&Env::from_slice(&[
            ("HOME", home),
            ("AWS_CONFIG_FILE", fifo_s),
        ]))
        .unwrap_err();
        assert_eq!(
            e,
            format!("AWS config file {fifo_s}: not a regular file (a FIFO); refusing to read it")
        );
    }

    #[test]
    fn the_set_keeps_the_cli_endpoint_and_clusters() {
        let base = AwsOptions {
            profile: Some("old".into()),
            profiles: vec!["old".into()],
            endpoint_url: Some("http://127.0.0.1:5000".into()),
            clusters: vec!["prod".into()],
            ..Default::default()
        };
        let set = ContextSet {
            profiles: vec!["a".into(), "b".into()],
            regions: vec!["us-west-2".into()],
        };
        let o = options_for(&base, &set);
        assert_eq!(o.profiles, ["a", "b"]);
        assert_eq!(o.profile.as_deref(), Some("a"));
        assert_eq!(o.regions, ["us-west-2"]);
        assert_eq!(o.region.as_deref(), Some("us-west-2"));
        assert_eq!(o.endpoint_url, base.endpoint_url);
        assert_eq!(o.clusters, ["prod"]);
        assert_eq!(source_label(&o), "aws:a@us-west-2 (http://127.0.0.1:5000)");
    }
}
