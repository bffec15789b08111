//! `:ctx` on AWS: the profiles of the user's AWS files (read by aws-config's
//! own profile-file loader, so `AWS_CONFIG_FILE` and
//! `AWS_SHARED_CREDENTIALS_FILE` are honoured as the SDK honours them), and
//! the builder that starts a fleet for a set of profiles and regions the
//! way the console starts one for `--profile` × `--region`.

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

/// The profiles of the AWS config and credentials files, in file order
/// (config first), with the region each names.
pub async fn list_profiles(
    fs: &aws_types::os_shim_internal::Fs,
    env: &aws_types::os_shim_internal::Env,
) -> Result<Vec<KnownProfile>, String> {
    let files = aws_runtime::env_config::file::EnvConfigFiles::default();
    let set = aws_config::profile::load(fs, env, &files, None)
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
        futures::executor::block_on(list_profiles(
            &aws_types::os_shim_internal::Fs::real(),
            &aws_types::os_shim_internal::Env::real(),
        ))
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
    use aws_types::os_shim_internal::{Env, Fs};

    #[tokio::test]
    async fn profiles_come_from_both_files_named_by_the_environment() {
        let fs = Fs::from_slice(&[
            (
                "/cfg/config",
                "[default]\nregion = us-east-1\n[profile prod]\nregion = eu-west-1\n\
                 [profile staging]\nrole_arn = arn:aws:iam::210987654321:role/x\nsource_profile = prod\n",
            ),
            (
                "/cfg/credentials",
                "[prod]\naws_access_key_id = a\naws_secret_access_key = b\n[ci]\naws_access_key_id = c\naws_secret_access_key = d\n",
            ),
        ]);
        let env = Env::from_slice(&[
            ("AWS_CONFIG_FILE", "/cfg/config"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/cfg/credentials"),
            ("HOME", "/nowhere"),
        ]);
        let got = list_profiles(&fs, &env).await.unwrap();
        let names: Vec<&str> = got.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["ci", "default", "prod", "staging"]);
        assert_eq!(got[2].region.as_deref(), Some("eu-west-1"));
        assert_eq!(got[0].region, None);
        // No files at all: no profiles, not an error.
        let none = list_profiles(&Fs::from_slice(&[]), &Env::from_slice(&[("HOME", "/x")]))
            .await
            .unwrap();
        assert!(none.is_empty());
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
