//! The AWS Security Hub controls each check covers, as AWS writes their
//! ids (`ECS.4`, `ELB.13`, `CloudWatch.16`). A finding carries the controls
//! its evidence is about: SEC-05 on `pidMode=host` is ECS.3, not ECS.4.

/// Every control a check can cover (SARIF rule properties, `review --list`).
pub fn of_check(id: &str) -> &'static [&'static str] {
    match id {
        "REL-14" => &["ELB.13"],
        "REL-17" => &["ELB.6"],
        "REL-18" => &["ECS.19"],
        "OPS-10" => &["ELB.5"],
        "SEC-12" => &["ELB.1", "ELB.4", "ELB.12"],
        "OPS-01" => &["ECS.12"],
        "OPS-02" => &["ECS.9"],
        "OPS-03" => &["CloudWatch.16"],
        "OPS-07" => &["CloudWatch.15", "CloudWatch.17"],
        "OPS-09" => &["ECS.13", "ECS.14", "ECS.15"],
        "SEC-01" => &["ECS.2", "ECS.16"],
        "SEC-02" => &["ECS.8"],
        "SEC-03" => &["ECS.5"],
        "SEC-04" => &["ECS.20"],
        "SEC-05" => &["ECS.3", "ECS.4", "ECS.17"],
        "SEC-07" => &["ECS.18"],
        "SEC-08" => &["ECR.1", "ECR.2", "ECR.3"],
        "SEC-11" => &["ECS.10"],
        _ => &[],
    }
}

/// The controls one finding covers, from its evidence where a check
/// covers several.
pub fn of_finding(id: &str, evidence: &[String]) -> Vec<&'static str> {
    let any = |needle: &str| evidence.iter().any(|e| e.contains(needle));
    let mut out: Vec<&'static str> = match id {
        "SEC-05" => [
            (any("pidMode=host"), "ECS.3"),
            (any("privileged=true"), "ECS.4"),
            (any("networkMode=host"), "ECS.17"),
        ]
        .into_iter()
        .filter_map(|(hit, c)| hit.then_some(c))
        .collect(),
        "SEC-02" => {
            // ECS.8 is about AWS credentials in the environment; other
            // secrets are SEC-02's own.
            let aws = [
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                "ECS_ENGINE_AUTH_DATA",
                "holds an AWS access key",
            ];
            if aws.iter().any(|k| any(k)) {
                vec!["ECS.8"]
            } else {
                vec![]
            }
        }
        "OPS-03" => {
            if any("retentionInDays") {
                vec!["CloudWatch.16"]
            } else {
                vec![]
            }
        }
        "OPS-07" => [
            (any("AlarmActions=[]"), "CloudWatch.15"),
            (any("ActionsEnabled=false"), "CloudWatch.17"),
        ]
        .into_iter()
        .filter_map(|(hit, c)| hit.then_some(c))
        .collect(),
        "OPS-09" => [
            (any("service "), "ECS.13"),
            (any("cluster "), "ECS.14"),
            (any("task definition "), "ECS.15"),
        ]
        .into_iter()
        .filter_map(|(hit, c)| hit.then_some(c))
        .collect(),
        "SEC-01" => [
            (any("awsvpcConfiguration"), "ECS.2"),
            (any("task set "), "ECS.16"),
        ]
        .into_iter()
        .filter_map(|(hit, c)| hit.then_some(c))
        .collect(),
        "SEC-12" => [
            (any("does not redirect to HTTPS"), "ELB.1"),
            (any("drop_invalid_header_fields"), "ELB.4"),
            (any("desync_mitigation_mode"), "ELB.12"),
        ]
        .into_iter()
        .filter_map(|(hit, c)| hit.then_some(c))
        .collect(),
        "SEC-08" => [
            (any("scanOnPush=false"), "ECR.1"),
            (any("imageTagMutability="), "ECR.2"),
            (any("no lifecycle policy"), "ECR.3"),
        ]
        .into_iter()
        .filter_map(|(hit, c)| hit.then_some(c))
        .collect(),
        _ => of_check(id).to_vec(),
    };
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_finding_covers_the_controls_its_evidence_is_about() {
        let ev = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(of_finding("SEC-05", &ev(&["pidMode=host"])), ["ECS.3"]);
        assert_eq!(
            of_finding(
                "SEC-05",
                &ev(&["container a privileged=true", "networkMode=host"])
            ),
            ["ECS.4", "ECS.17"]
        );
        assert!(of_finding("SEC-05", &ev(&["container a adds capabilities SYS_ADMIN"])).is_empty());
        assert_eq!(
            of_finding(
                "SEC-02",
                &ev(&[
                    "container a environment AWS_SECRET_ACCESS_KEY is set in plaintext (value withheld)"
                ])
            ),
            ["ECS.8"]
        );
        assert!(
            of_finding(
                "SEC-02",
                &ev(&["container a environment DB_PASSWORD is set in plaintext (value withheld)"])
            )
            .is_empty()
        );
        assert_eq!(
            of_finding(
                "OPS-03",
                &ev(&["log group /a retentionInDays=1 < policy minimum 30"])
            ),
            ["CloudWatch.16"]
        );
        assert!(
            of_finding(
                "OPS-03",
                &ev(&["log group /a kmsKeyId absent (no customer-managed key)"])
            )
            .is_empty()
        );
        assert_eq!(
            of_finding("OPS-07", &ev(&["alarm a ActionsEnabled=false"])),
            ["CloudWatch.17"]
        );
        assert!(of_finding("REL-01", &ev(&["x"])).is_empty());
    }

    #[test]
    fn control_ids_are_written_as_aws_writes_them() {
        for c in super::super::checks::CHECKS {
            for id in of_check(c.id) {
                let (service, n) = id.split_once('.').unwrap();
                assert!(
                    ["ECS", "ELB", "CloudWatch", "ECR", "GuardDuty"].contains(&service),
                    "{id}"
                );
                assert!(n.parse::<u32>().is_ok(), "{id}");
            }
        }
    }
}
