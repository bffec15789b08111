//! Which AWS profiles and regions the console reads (`:ctx`): the set, the
//! profiles a user's AWS files name, and the builder that starts a source
//! for a set. The console holds a [`FleetBuilder`] and calls it again on
//! every switch; tests inject their own.

use futures::future::BoxFuture;

use super::SourceHandle;

/// The commercial AWS regions (the `aws` partition), for the picker.
pub const COMMERCIAL_REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "mx-central-1",
    "sa-east-1",
];

/// The profiles × regions read together (every profile in every region).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContextSet {
    pub profiles: Vec<String>,
    pub regions: Vec<String>,
}

impl ContextSet {
    /// `prod,staging × us-east-1,us-west-2`, within `max` characters:
    /// in full when it fits, else each side's first name and how many
    /// more (`prod+1 × us-east-1+1`), else cut with `…`. Raw names: the
    /// caller sanitizes (profile names come from the user's files).
    pub fn label(&self, max: usize) -> String {
        let side = |v: &[String], short: bool| match (v, short) {
            ([], _) => "?".to_string(),
            ([one], _) => one.clone(),
            ([first, ..], true) => format!("{first}+{}", v.len() - 1),
            (all, false) => all.join(","),
        };
        let full = format!(
            "{} × {}",
            side(&self.profiles, false),
            side(&self.regions, false)
        );
        if full.chars().count() <= max {
            return full;
        }
        let short = format!(
            "{} × {}",
            side(&self.profiles, true),
            side(&self.regions, true)
        );
        if short.chars().count() <= max {
            return short;
        }
        let keep = max.saturating_sub(1);
        short.chars().take(keep).collect::<String>() + "…"
    }
}

/// A profile of the user's AWS config or credentials file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownProfile {
    pub name: String,
    /// Its `region`, when it names one.
    pub region: Option<String>,
}

/// What the picker offers: the profiles found and the regions (the
/// commercial ones, then any other a profile names).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Choices {
    pub profiles: Vec<String>,
    pub regions: Vec<String>,
    /// The AWS files could not be read or parsed (one line).
    pub error: Option<String>,
}

impl Choices {
    pub fn from_profiles(found: Result<Vec<KnownProfile>, String>) -> Choices {
        let (found, error) = match found {
            Ok(f) => (f, None),
            Err(e) => (Vec::new(), Some(e)),
        };
        let mut regions: Vec<String> = COMMERCIAL_REGIONS.iter().map(|r| r.to_string()).collect();
        for r in found.iter().filter_map(|p| p.region.as_ref()) {
            if !regions.contains(r) {
                regions.push(r.clone());
            }
        }
        Choices {
            profiles: found.into_iter().map(|p| p.name).collect(),
            regions,
            error,
        }
    }
}

/// Starts sources for a set of profiles and regions (the console's `:ctx`).
pub trait FleetBuilder: Send {
    /// The profiles of the AWS config and credentials files, read again on
    /// every call (a profile added meanwhile shows up).
    fn profiles(&self) -> Result<Vec<KnownProfile>, String>;
    /// Start a source reading `set`. A profile that fails does not fail
    /// the source: its reads show their errors, per profile.
    fn connect(&self, set: &ContextSet) -> BoxFuture<'static, SourceHandle>;
    /// Whether `set` can be connected now (one line why not): checked
    /// before [`FleetBuilder::connect`], which cannot fail, so that a switch
    /// that cannot work keeps the old set.
    fn check(&self, _set: &ContextSet) -> Result<(), String> {
        Ok(())
    }
    /// How a runbook journal names a source reading `set`.
    fn source_label(&self, set: &ContextSet) -> String;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(p: &[&str], r: &[&str]) -> ContextSet {
        ContextSet {
            profiles: p.iter().map(|s| s.to_string()).collect(),
            regions: r.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn the_label_shortens_to_fit() {
        let s = set(&["prod", "staging"], &["us-east-1", "us-west-2"]);
        assert_eq!(s.label(60), "prod,staging × us-east-1,us-west-2");
        assert_eq!(s.label(25), "prod+1 × us-east-1+1");
        assert_eq!(s.label(10), "prod+1 × …");
        assert_eq!(s.label(10).chars().count(), 10);
        assert_eq!(set(&["a"], &["r"]).label(0), "…");
        assert_eq!(set(&[], &[]).label(20), "? × ?");
    }

    #[test]
    fn regions_a_profile_names_are_offered_too() {
        let c = Choices::from_profiles(Ok(vec![
            KnownProfile {
                name: "prod".into(),
                region: Some("us-west-2".into()),
            },
            KnownProfile {
                name: "gov".into(),
                region: Some("us-gov-west-1".into()),
            },
        ]));
        assert_eq!(c.profiles, ["prod", "gov"]);
        assert_eq!(c.regions.len(), COMMERCIAL_REGIONS.len() + 1);
        assert_eq!(c.regions.last().map(String::as_str), Some("us-gov-west-1"));
        let bad = Choices::from_profiles(Err("config: bad".into()));
        assert!(bad.profiles.is_empty());
        assert_eq!(bad.error.as_deref(), Some("config: bad"));
    }
}
